// The trace file (runtime_options::trace_path): Chrome trace-event JSON that Perfetto opens,
// with well-formed slices, paired async events, flows, instants and a count of what was dropped.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json/src.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <grove/grove.hpp>
#include <map>
#include <set>
#include <string>
#include <system_error>
#include <vector>

namespace {

namespace json = boost::json;

std::string temporary_path() {
  char name[] = "/tmp/grove_trace_XXXXXX";
  const int fd = ::mkstemp(name);
  ::close(fd);
  return std::string(name);
}

json::value read_trace(const std::string& path) {
  std::ifstream in(path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::remove(path.c_str());
  return json::parse(text);
}

std::string phase(const json::value& e) { return std::string(e.at("ph").as_string()); }
std::string category(const json::value& e) {
  const auto* cat = e.as_object().if_contains("cat");
  return cat != nullptr ? std::string(cat->as_string()) : std::string();
}
double number(const json::value& v) { return v.is_double() ? v.as_double() : double(v.as_int64()); }

struct slice {
  double start;
  double end;
};

// Slices on one track may nest but never overlap partially.
bool well_nested(std::vector<slice> slices) {
  constexpr double rounding = 0.002;  // µs: ts and dur are each printed to the nanosecond
  std::sort(slices.begin(), slices.end(), [](const slice& a, const slice& b) {
    return a.start < b.start || (a.start == b.start && a.end > b.end);
  });
  std::vector<double> open_ends;
  for (const slice& s : slices) {
    while (!open_ends.empty() && open_ends.back() <= s.start + rounding) open_ends.pop_back();
    if (!open_ends.empty() && s.end > open_ends.back() + rounding) return false;
    open_ends.push_back(s.end);
  }
  return true;
}

long fib(int n) {
  if (n < 2) return n;
  long a = 0, b = 0;
  grove::open_nursery([&](grove::nursery& nursery) {
    nursery.start_soon(grove::task_name{"fib"}, [&a, n] { a = fib(n - 1); });
    b = fib(n - 2);
  });
  return a + b;
}

}  // namespace

TEST_CASE("a trace has a track per worker, nested slices, paired lifetimes, flows and instants") {
  const std::string path = temporary_path();
  grove::runtime_stats stats;
  {
    grove::runtime rt{grove::runtime_options{.workers = 2, .trace_path = path}};
    rt.run([] {
      CHECK(fib(14) == 377);
      grove::open_nursery([](grove::nursery& n) {
        for (int i = 0; i < 8; ++i) {
          n.start_soon(grove::task_name{"sleeper"},
                       [] { grove::sleep_for(std::chrono::microseconds(200)); });
        }
        n.start_soon([] {
          grove::move_on_after(std::chrono::milliseconds(1),
                               [] { grove::sleep_for(std::chrono::hours(1)); });
        });
        grove::cancel_scope scope;
        scope.run([&] { scope.cancel(); });
      });
    });
    stats = rt.stats();
  }
  const json::value trace = read_trace(path);
  const json::array& events = trace.at("traceEvents").as_array();
  CHECK(trace.at("otherData").at("dropped_events").as_int64() == 0);

  std::set<std::int64_t> named_tracks;
  std::map<std::int64_t, std::vector<slice>> slices_by_track;
  std::map<std::int64_t, int> async_balance;
  std::set<std::int64_t> spawn_flow_starts, spawn_flow_ends;
  std::size_t slices = 0, steal_starts = 0, steal_ends = 0, parks = 0, wakes = 0, cancels = 0;
  std::size_t fib_slices = 0;
  for (const json::value& e : events) {
    const std::string ph = phase(e);
    if (ph == "M") {
      named_tracks.insert(e.at("tid").as_int64());
      continue;
    }
    CHECK(e.at("pid").as_int64() == 1);
    const std::int64_t track = e.at("tid").as_int64();
    if (ph == "X") {
      ++slices;
      const double start = number(e.at("ts"));
      const double duration = number(e.at("dur"));
      CHECK(duration >= 0);
      slices_by_track[track].push_back({start, start + duration});
      if (e.at("name").as_string() == "fib") ++fib_slices;
    } else if (ph == "b") {
      ++async_balance[e.at("id").as_int64()];
    } else if (ph == "e") {
      --async_balance[e.at("id").as_int64()];
    } else if (ph == "s" && category(e) == "spawn") {
      spawn_flow_starts.insert(e.at("id").as_int64());
    } else if (ph == "f" && category(e) == "spawn") {
      spawn_flow_ends.insert(e.at("id").as_int64());
    } else if (ph == "s" && category(e) == "steal") {
      ++steal_starts;
    } else if (ph == "f" && category(e) == "steal") {
      ++steal_ends;
    } else if (ph == "i") {
      const std::string cat = category(e);
      parks += cat == "park";
      wakes += cat == "wake";
      cancels += cat == "cancel";
    }
  }
  // Two worker tracks and the track of the threads outside the workers.
  CHECK(named_tracks == std::set<std::int64_t>{0, 1, 2});
  for (const auto& [track, on_track] : slices_by_track) {
    INFO("track " << track);
    CHECK(track < 2);  // only workers run tasks
    CHECK(well_nested(on_track));
  }
  CHECK(slices >= stats.tasks_completed);
  CHECK(fib_slices > 0);
  CHECK(async_balance.size() == stats.tasks_spawned);  // every task's life, begun and ended
  for (const auto& [id, balance] : async_balance) CHECK(balance == 0);
  // Every task that ran got its spawn arrow: spawned, then run for the first time.
  CHECK(spawn_flow_ends.size() == stats.tasks_spawned);
  CHECK(std::includes(spawn_flow_starts.begin(), spawn_flow_starts.end(), spawn_flow_ends.begin(),
                      spawn_flow_ends.end()));
  CHECK(steal_starts == stats.steals);
  CHECK(steal_ends == stats.steals);
  CHECK(parks >= 9);  // the sleepers and the one cut short
  CHECK(wakes >= 9);
  CHECK(cancels >= 2);  // the deadline's and the explicit one
}

TEST_CASE("a full buffer drops events, counts them, and still writes a well-formed trace") {
  const std::string path = temporary_path();
  {
    grove::runtime rt{
        grove::runtime_options{.workers = 2, .trace_path = path, .trace_events_per_thread = 64}};
    rt.run([] { CHECK(fib(16) == 987); });
  }
  const json::value trace = read_trace(path);
  CHECK(trace.at("otherData").at("dropped_events").as_int64() > 0);
  std::map<std::int64_t, int> async_balance;
  std::size_t recorded = 0;
  for (const json::value& e : trace.at("traceEvents").as_array()) {
    const std::string ph = phase(e);
    if (ph == "b") ++async_balance[e.at("id").as_int64()];
    if (ph == "e") --async_balance[e.at("id").as_int64()];
    if (ph != "M") ++recorded;
  }
  CHECK(recorded > 0);
  for (const auto& [id, balance] : async_balance) CHECK(balance == 0);
}

TEST_CASE("an unwritable trace path fails the runtime's constructor with system_error") {
  const std::string path = "/nonexistent-grove-directory/trace.json";
  try {
    grove::runtime rt{grove::runtime_options{.workers = 1, .trace_path = path}};
    FAIL("the runtime was created");
  } catch (const std::system_error& e) {
    CHECK(std::string(e.what()).find(path) != std::string::npos);
    CHECK(e.code() == std::errc::no_such_file_or_directory);
  }
}
