// What the scheduler records when runtime_options::trace_path is set: fixed-size events in a
// buffer per worker (written only by its owner: no lock, no allocation) and one shared buffer,
// under a lock, for threads that are not workers (run() callers, the io thread's wake-ups).
// A full buffer drops new events and counts them; the count goes into the trace file.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <typeinfo>

namespace grove::detail {

enum class trace_kind : std::uint8_t {
  slice,      // a task ran on this track from start_ns to end_ns
  spawn,      // a task was created (its life begins; flow from here to its first run)
  first_run,  // a task runs for the first time (the spawn flow ends here)
  complete,   // a task finished (its life ends)
  steal,      // this track took task `task` from track `other`'s deque
  park,       // task `task` suspended to wait on `text`
  wake,       // task `task` was made ready again
  cancel,     // a cancel scope was cancelled
};

struct trace_event {
  std::int64_t start_ns;
  std::int64_t end_ns;  // slices only
  std::uint64_t task;
  std::uint64_t other;                  // spawn: the parent task (0: none); steal: victim track
  const char* text;                     // spawn: the task's name; park: what it waits on
  const std::type_info* callable_type;  // spawn: the task's callable, when it has no name
  trace_kind kind;
};

inline std::int64_t trace_clock_ns() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

class trace_buffer {
 public:
  explicit trace_buffer(std::size_t capacity)
      : events_(new trace_event[capacity]), capacity_(capacity) {}

  void record(const trace_event& e) noexcept {
    if (size_ < capacity_) {
      events_[size_++] = e;
    } else {
      ++dropped_;
    }
  }
  // A copy of a task's name that lives as long as the trace (the task may not). Allocates: only
  // named tasks, only while tracing.
  const char* keep_name(std::string_view name) { return names_.emplace_back(name).c_str(); }

  const trace_event* begin() const noexcept { return events_.get(); }
  const trace_event* end() const noexcept { return events_.get() + size_; }
  std::uint64_t dropped() const noexcept { return dropped_; }

 private:
  std::unique_ptr<trace_event[]> events_;  // default-initialised: pages are touched as used
  std::size_t capacity_;
  std::size_t size_ = 0;
  std::uint64_t dropped_ = 0;
  std::deque<std::string> names_;
};

// The shared buffer of the threads that are not workers.
struct locked_trace_buffer {
  explicit locked_trace_buffer(std::size_t capacity) : buffer(capacity) {}
  std::mutex mutex;
  trace_buffer buffer;  // guarded by mutex
};

}  // namespace grove::detail
