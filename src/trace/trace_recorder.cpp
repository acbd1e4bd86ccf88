// Writing the trace file: Chrome trace-event JSON ({"traceEvents": [...]}), which Perfetto and
// chrome://tracing open. Tracks (tid): one per worker, "worker N", and one more for the threads
// that are not workers. The events:
//   slice      "X" on the worker's track, named after the task (its task_name, else its
//              callable's type); an inline child's slice nests inside its parent's
//   spawn      async "b" (the task's life, cat "task", id = task id) + flow "s" (cat "spawn")
//   first_run  flow "f" (binds to the enclosing slice: the arrow spawn -> first run)
//   complete   async "e"
//   steal      flow "s" on the victim's track and "f" on the thief's (cat "steal")
//   park, wake, cancel: instant "i" events on the track where they happened
// A task whose spawn or completion was dropped (full buffer) has neither async event, so every
// "b" has its "e"; otherData.dropped_events counts what was lost.
#include "trace/trace_recorder.hpp"

#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <ostream>
#include <system_error>
#include <unordered_map>
#include <unordered_set>

#include "trace/json_text.hpp"
#include "trace/type_names.hpp"

namespace grove::detail {
namespace {
std::int64_t steady_nanoseconds() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

trace_recorder::trace_recorder(const std::string& path, unsigned workers,
                               std::size_t events_per_buffer)
    : path_(path),
      origin_ticks_(trace_clock_ticks()),
      origin_ns_(steady_nanoseconds()),
      outside_(events_per_buffer) {
  errno = 0;
  file_.open(path, std::ios::out | std::ios::trunc);
  if (!file_.is_open()) {
    throw std::system_error(errno != 0 ? errno : EIO, std::generic_category(),
                            "grove: cannot open the trace file " + path);
  }
  workers_.reserve(workers);
  for (unsigned i = 0; i < workers; ++i) {
    workers_.push_back(std::make_unique<trace_buffer>(events_per_buffer));
  }
}

trace_recorder::~trace_recorder() = default;

void trace_recorder::record_outside(const trace_event& e) {
  std::lock_guard guard(outside_.mutex);
  outside_.buffer.record(e);
}

const char* trace_recorder::keep_name_outside(std::string_view name) {
  std::lock_guard guard(outside_.mutex);
  return outside_.buffer.keep_name(name);
}

namespace {

// Ticks of trace_clock_ticks() to microseconds since the trace began, from two readings of
// both clocks (the runtime's start and its shutdown).
struct tick_scale {
  std::int64_t origin_ticks;
  double microseconds_per_tick;

  double since_origin(std::int64_t ticks) const noexcept {
    return static_cast<double>(ticks - origin_ticks) * microseconds_per_tick;
  }
  double length(std::int64_t from, std::int64_t to) const noexcept {
    return static_cast<double>(to - from) * microseconds_per_tick;
  }
};

class trace_writer {
 public:
  trace_writer(std::ostream& out, tick_scale scale) : out_(out), scale_(scale) {}

  // Pass 1: names and which tasks have both ends of their life in the trace.
  void learn(const trace_buffer& buffer) {
    for (const trace_event& e : buffer) {
      if (e.kind() == trace_kind::spawn) {
        std::string name;
        if (e.label == nullptr) {
          name = e.value == 0 ? "root task" : "task";
        } else if ((e.flags() & trace_event::label_is_type) != 0) {
          name = readable_type_name(*static_cast<const std::type_info*>(e.label));
        } else {
          name = static_cast<const char*>(e.label);
        }
        names_[e.task()] = std::move(name);
      } else if (e.kind() == trace_kind::complete) {
        completed_.insert(e.task());
      }
    }
  }

  void metadata(int track, const std::string& name) {
    separator();
    out_ << R"({"ph":"M","name":"thread_name","pid":1,"tid":)" << track << R"(,"args":{"name":)";
    write_json_string(out_, name);
    out_ << "}}";
  }

  // Pass 2: the events of one track.
  void events(const trace_buffer& buffer, int track) {
    for (const trace_event& e : buffer) event(e, track);
  }

  void close(std::uint64_t dropped) {
    out_ << "\n],\"displayTimeUnit\":\"ns\",\"otherData\":{\"dropped_events\":" << dropped
         << "}}\n";
  }

 private:
  void separator() {
    out_ << (first_ ? "\n" : ",\n");
    first_ = false;
  }
  void microseconds(double value) {
    char text[32];
    std::snprintf(text, sizeof text, "%.3f", value);
    out_ << text;
  }
  void head(const char* phase, std::int64_t track, std::int64_t at) {
    separator();
    out_ << R"({"ph":")" << phase << R"(","pid":1,"tid":)" << track << R"(,"ts":)";
    microseconds(scale_.since_origin(at));
  }
  void name_of(std::uint64_t task) {
    const auto found = names_.find(task);
    out_ << R"(,"name":)";
    write_json_string(out_, found != names_.end() ? found->second : std::string("task"));
  }
  bool whole_life(std::uint64_t task) const {
    return names_.count(task) != 0 && completed_.count(task) != 0;
  }
  void spawn_flow_end(std::uint64_t task, std::int64_t track, std::int64_t at) {
    head("f", track, at);
    out_ << R"(,"name":"spawn","cat":"spawn","bp":"e","id":)" << task << "}";
  }

  void event(const trace_event& e, int track) {
    const std::uint64_t task = e.task();
    switch (e.kind()) {
      case trace_kind::slice:
        head("X", track, e.at);
        out_ << R"(,"dur":)";
        microseconds(scale_.length(e.at, e.value));
        name_of(task);
        out_ << R"(,"cat":"task","args":{"task":)" << task << "}}";
        if ((e.flags() & trace_event::first_run) != 0) spawn_flow_end(task, track, e.at);
        return;
      case trace_kind::first_run:
        spawn_flow_end(task, e.value, e.at);
        return;
      case trace_kind::spawn:
        if (whole_life(task)) {
          head("b", track, e.at);
          name_of(task);
          out_ << R"(,"cat":"task","id":)" << task << R"(,"args":{"parent":)" << e.value << "}}";
        }
        head("s", track, e.at);
        out_ << R"(,"name":"spawn","cat":"spawn","id":)" << task << "}";
        return;
      case trace_kind::complete:
        if (whole_life(task)) {
          head("e", track, e.at);
          name_of(task);
          out_ << R"(,"cat":"task","id":)" << task << "}";
        }
        return;
      case trace_kind::steal: {
        const std::uint64_t flow = ++steals_;
        head("s", e.value, e.at);
        out_ << R"(,"name":"steal","cat":"steal","id":)" << flow << R"(,"args":{"task":)" << task
             << "}}";
        head("f", track, e.at);
        out_ << R"(,"name":"steal","cat":"steal","bp":"e","id":)" << flow << "}";
        return;
      }
      case trace_kind::park:
        head("i", track, e.at);
        out_ << R"(,"s":"t","cat":"park","name":)";
        write_json_string(out_, std::string("park: ") +
                                    (e.label != nullptr ? static_cast<const char*>(e.label) : "?"));
        out_ << R"(,"args":{"task":)" << task << "}}";
        return;
      case trace_kind::wake:
        head("i", track, e.at);
        out_ << R"(,"s":"t","cat":"wake","name":"wake","args":{"task":)" << task << "}}";
        return;
      case trace_kind::cancel:
        head("i", track, e.at);
        out_ << R"(,"s":"t","cat":"cancel","name":"cancel"})";
        return;
    }
  }

  std::ostream& out_;
  tick_scale scale_;
  bool first_ = true;
  std::uint64_t steals_ = 0;
  std::unordered_map<std::uint64_t, std::string> names_;
  std::unordered_set<std::uint64_t> completed_;
};

}  // namespace

void trace_recorder::write_file() noexcept {
  try {
    std::ostream& out = file_;
    out << "{\"traceEvents\":[";
    const std::int64_t end_ticks = trace_clock_ticks();
    const std::int64_t end_ns = steady_nanoseconds();
    const double per_tick = end_ticks > origin_ticks_
                                ? static_cast<double>(end_ns - origin_ns_) /
                                      static_cast<double>(end_ticks - origin_ticks_) / 1000.0
                                : 0.001;
    trace_writer writer(out, tick_scale{origin_ticks_, per_tick});
    for (const auto& buffer : workers_) writer.learn(*buffer);
    writer.learn(outside_.buffer);
    const int outside_track = static_cast<int>(workers_.size());
    for (int i = 0; i < outside_track; ++i) writer.metadata(i, "worker " + std::to_string(i));
    writer.metadata(outside_track, "outside the workers");
    std::uint64_t dropped = outside_.buffer.dropped();
    for (int i = 0; i < outside_track; ++i) {
      writer.events(*workers_[static_cast<std::size_t>(i)], i);
      dropped += workers_[static_cast<std::size_t>(i)]->dropped();
    }
    writer.events(outside_.buffer, outside_track);
    writer.close(dropped);
    out.flush();
    if (!out) std::fprintf(stderr, "grove: writing the trace file %s failed\n", path_.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "grove: writing the trace file %s failed: %s\n", path_.c_str(), e.what());
  }
}

}  // namespace grove::detail
