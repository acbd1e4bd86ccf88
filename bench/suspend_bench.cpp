// Many suspended tasks: 100 000 grove tasks parked on one grove::event, then set(): time from
// set() to the nursery's return and peak RSS; and cancelling a nursery of 100 000 tasks sleeping
// for an hour. Peer: 100 000 Boost.Fiber fibers on a condition_variable, then notify_all().
// Every measurement runs in a forked child, so its peak RSS (VmHWM) and threads are its own.
// The floor under the cancel row: a plain throw and catch of grove::cancelled through one
// frame, as each cancelled sleeper does once (from sleep_until to its task's entry).
#include <benchmark/benchmark.h>

#include <atomic>
#include <boost/fiber/all.hpp>
#include <chrono>
#include <grove/cancel.hpp>
#include <grove/nursery.hpp>
#include <grove/runtime.hpp>
#include <grove/sync.hpp>
#include <grove/time.hpp>
#include <memory>
#include <mutex>
#include <vector>

#include "bench_util.hpp"

namespace {

using steady = std::chrono::steady_clock;
constexpr int task_count = 100'000;

struct outcome {
  double release_to_join_ms;  // set()/cancel()/notify_all() -> every task joined
  double release_call_ms;     // inside set()/cancel() itself (the wait list or cancel-tree walk)
  double all_parked_ms;       // spawn of the first task -> every task parked
  double peak_rss_mib;        // VmHWM of the child
  double base_rss_mib;        // RSS before the runtime was built
};

// Waits (as a grove task) until `arrived` reaches task_count, then a little longer so that the
// last arrivals have completed their park.
void wait_for_arrivals(const std::atomic<int>& arrived) {
  while (arrived.load(std::memory_order_acquire) < task_count) {
    grove::sleep_for(std::chrono::milliseconds(1));
  }
  grove::sleep_for(std::chrono::milliseconds(20));
}

// Spawns task_count tasks that each run park() (after counting themselves in), waits until all
// are parked, then calls release(nursery) and times the nursery's join. One skeleton for every
// grove row, so the rows differ only in how tasks wait and are released.
template <class Park, class Release>
outcome grove_park_and_release(unsigned workers, Park park, Release release) {
  bench::reset_peak_rss();
  outcome o{};
  o.base_rss_mib = bench::rss_mib();
  {
    grove::runtime rt({.workers = workers});
    std::atomic<int> arrived{0};
    rt.run([&] {
      steady::time_point released;
      grove::open_nursery([&](grove::nursery& n) {
        const auto start = steady::now();
        for (int i = 0; i < task_count; ++i) {
          n.start_soon([&] {
            arrived.fetch_add(1, std::memory_order_release);
            park();
          });
        }
        wait_for_arrivals(arrived);
        o.all_parked_ms = bench::ns_since(start) / 1e6 - 20;
        released = steady::now();
        release(n);
        o.release_call_ms = bench::ns_since(released) / 1e6;
      });
      o.release_to_join_ms = bench::ns_since(released) / 1e6;
    });
  }
  o.peak_rss_mib = bench::peak_rss_mib();
  return o;
}

outcome grove_event(unsigned workers) {
  grove::event ready;
  return grove_park_and_release(
      workers, [&] { ready.wait(); }, [&](grove::nursery&) { ready.set(); });
}

outcome grove_cancel_sleepers(unsigned workers) {
  return grove_park_and_release(
      workers, [] { grove::sleep_for(std::chrono::hours(1)); },
      [](grove::nursery& n) { n.cancel_scope().cancel(); });
}

// Boost.Fiber, one thread, default round-robin scheduler; pooled: pooled_fixedsize_stack.
outcome boost_fiber_cv(bool pooled) {
  bench::reset_peak_rss();
  outcome o{};
  o.base_rss_mib = bench::rss_mib();
  {
    boost::fibers::mutex mutex;
    boost::fibers::condition_variable cv;
    bool go = false;
    int arrived = 0;
    auto body = [&] {
      std::unique_lock lock(mutex);
      ++arrived;
      cv.wait(lock, [&] { return go; });
    };
    std::vector<boost::fibers::fiber> fibers;
    fibers.reserve(task_count);
    const auto start = steady::now();
    if (pooled) {
      boost::fibers::pooled_fixedsize_stack stacks;
      for (int i = 0; i < task_count; ++i) fibers.emplace_back(std::allocator_arg, stacks, body);
      while (arrived < task_count) boost::this_fiber::yield();
      o.all_parked_ms = bench::ns_since(start) / 1e6;
      const auto released = steady::now();
      {
        std::unique_lock lock(mutex);
        go = true;
      }
      cv.notify_all();
      o.release_call_ms = bench::ns_since(released) / 1e6;
      for (auto& f : fibers) f.join();
      o.release_to_join_ms = bench::ns_since(released) / 1e6;
      fibers.clear();
    } else {
      for (int i = 0; i < task_count; ++i) fibers.emplace_back(body);
      while (arrived < task_count) boost::this_fiber::yield();
      o.all_parked_ms = bench::ns_since(start) / 1e6;
      const auto released = steady::now();
      {
        std::unique_lock lock(mutex);
        go = true;
      }
      cv.notify_all();
      o.release_call_ms = bench::ns_since(released) / 1e6;
      for (auto& f : fibers) f.join();
      o.release_to_join_ms = bench::ns_since(released) / 1e6;
    }
  }
  o.peak_rss_mib = bench::peak_rss_mib();
  return o;
}

template <class F>
void measure(benchmark::State& state, F&& child) {
  for (auto _ : state) {
    const auto r = bench::run_forked(child);
    if (!r) {
      state.SkipWithError("the child process failed");
      return;
    }
    state.SetIterationTime(r->release_to_join_ms / 1e3);
    state.counters["release_to_join_ms"] = r->release_to_join_ms;
    state.counters["release_call_ms"] = r->release_call_ms;
    state.counters["all_parked_ms"] = r->all_parked_ms;
    state.counters["peak_rss_MiB"] = r->peak_rss_mib;
    state.counters["KiB_per_task"] = (r->peak_rss_mib - r->base_rss_mib) * 1024.0 / task_count;
    state.counters["us_per_task"] = r->release_to_join_ms * 1e3 / task_count;
  }
}

void BM_grove_event_100k(benchmark::State& state) {
  const auto workers = static_cast<unsigned>(state.range(0));
  measure(state, [workers] { return grove_event(workers); });
}

void BM_grove_cancel_sleeping_100k(benchmark::State& state) {
  const auto workers = static_cast<unsigned>(state.range(0));
  measure(state, [workers] { return grove_cancel_sleepers(workers); });
}

void BM_boost_fiber_cv_100k(benchmark::State& state) {
  const bool pooled = state.range(0) != 0;
  measure(state, [pooled] { return boost_fiber_cv(pooled); });
}

// The frames a cancelled sleeper unwinds: the throwing call and the frame that catches.
[[gnu::noinline]] void throw_cancelled(int round) {
  if (round >= 0) throw grove::cancelled{};
}
[[gnu::noinline]] int call_that_throws(int round) {
  throw_cancelled(round);
  return round;
}

void BM_throw_catch_cancelled(benchmark::State& state) {
  int caught = 0;
  for (auto _ : state) {
    try {
      benchmark::DoNotOptimize(call_that_throws(caught));
    } catch (const grove::cancelled&) {
      ++caught;
    }
  }
  if (caught != static_cast<int>(state.iterations())) state.SkipWithError("a throw was lost");
  state.counters["us_per_throw"] =
      benchmark::Counter(static_cast<double>(state.iterations()) * 1e-6,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

}  // namespace

// Time = manual: release (set/cancel/notify_all) to the last join, measured in the child.
BENCHMARK(BM_grove_event_100k)
    ->Arg(1)
    ->Arg(2)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_grove_cancel_sleeping_100k)
    ->Arg(1)
    ->Arg(2)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
// Arg: 0 = default fixedsize_stack, 1 = pooled_fixedsize_stack.
BENCHMARK(BM_boost_fiber_cv_100k)
    ->Arg(0)
    ->Arg(1)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK(BM_throw_catch_cancelled)->Iterations(100'000)->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
