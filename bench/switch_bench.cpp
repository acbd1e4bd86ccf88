// Switch cost: two grove tasks ping-ponging with checkpoint() on a 1-worker runtime vs a raw
// boost::context::fiber resume round trip vs two Boost.Fiber fibers ping-ponging with yield();
// plus the cost of cancel_requested() and of an uncancelled checkpoint() in a lone task.
#include <benchmark/benchmark.h>

#include <atomic>
#include <boost/context/fiber.hpp>
#include <boost/fiber/all.hpp>
#include <chrono>
#include <grove/cancel.hpp>
#include <grove/nursery.hpp>
#include <grove/runtime.hpp>

#include "bench_util.hpp"

namespace {

using steady = std::chrono::steady_clock;

// One iteration = one checkpoint by each of the two tasks (two switches between them).
void BM_grove_checkpoint_pingpong(benchmark::State& state) {
  grove::runtime rt({.workers = 1});
  double total_ns = 0;
  rt.run([&] {
    bool done = false;  // one worker: both tasks run on the same thread
    grove::open_nursery([&](grove::nursery& n) {
      n.start_soon([&] {
        while (!done) grove::checkpoint();
      });
      grove::checkpoint();  // let the partner start before timing
      const auto start = steady::now();
      for (auto _ : state) grove::checkpoint();
      total_ns = bench::ns_since(start);
      done = true;
    });
  });
  state.counters["ns_per_switch"] = total_ns / (2.0 * static_cast<double>(state.iterations()));
  state.counters["context_switches"] = static_cast<double>(rt.stats().context_switches);
}

// One iteration = resume into the fiber and back.
void BM_raw_boost_context_roundtrip(benchmark::State& state) {
  namespace ctx = boost::context;
  bool done = false;
  ctx::fiber f{[&done](ctx::fiber&& back) {
    while (!done) back = std::move(back).resume();
    return std::move(back);
  }};
  const auto start = steady::now();
  for (auto _ : state) f = std::move(f).resume();
  const double total_ns = bench::ns_since(start);
  done = true;
  f = std::move(f).resume();  // the fiber returns: f is empty now
  state.counters["ns_per_switch"] = total_ns / static_cast<double>(state.iterations());
}

// One iteration = one yield by each of two fibers (default round-robin scheduler, one thread).
// Runs on its own thread so that this thread's Boost.Fiber scheduler is left untouched.
void BM_boost_fiber_yield_pingpong(benchmark::State& state) {
  double total_ns = 0;
  std::thread([&] {
    bool done = false;
    boost::fibers::fiber partner([&] {
      while (!done) boost::this_fiber::yield();
    });
    boost::this_fiber::yield();
    const auto start = steady::now();
    for (auto _ : state) boost::this_fiber::yield();
    total_ns = bench::ns_since(start);
    done = true;
    partner.join();
  }).join();
  state.counters["ns_per_switch"] = total_ns / (2.0 * static_cast<double>(state.iterations()));
}

// A lone task polling cancel_requested() (nothing cancelled).
void BM_grove_cancel_requested(benchmark::State& state) {
  grove::runtime rt({.workers = 1});
  double total_ns = 0;
  rt.run([&] {
    const auto start = steady::now();
    for (auto _ : state) benchmark::DoNotOptimize(grove::cancel_requested());
    total_ns = bench::ns_since(start);
  });
  state.counters["ns_per_op"] = total_ns / static_cast<double>(state.iterations());
}

// A lone task calling checkpoint() (nothing cancelled): yields to the worker, which resumes it.
void BM_grove_checkpoint_alone(benchmark::State& state) {
  grove::runtime rt({.workers = 1});
  double total_ns = 0;
  rt.run([&] {
    const auto start = steady::now();
    for (auto _ : state) grove::checkpoint();
    total_ns = bench::ns_since(start);
  });
  state.counters["ns_per_op"] = total_ns / static_cast<double>(state.iterations());
}

// For scale: cancel_requested() inside a cancel_scope nested 8 deep.
void BM_grove_cancel_requested_nested(benchmark::State& state) {
  grove::runtime rt({.workers = 1});
  double total_ns = 0;
  rt.run([&] {
    auto nest = [&](auto&& self, int depth) -> void {
      if (depth == 0) {
        const auto start = steady::now();
        for (auto _ : state) benchmark::DoNotOptimize(grove::cancel_requested());
        total_ns = bench::ns_since(start);
        return;
      }
      grove::cancel_scope scope;
      scope.run([&] { self(self, depth - 1); });
    };
    nest(nest, 8);
  });
  state.counters["ns_per_op"] = total_ns / static_cast<double>(state.iterations());
}

}  // namespace

BENCHMARK(BM_grove_checkpoint_pingpong)->Iterations(2'000'000)->UseRealTime();
BENCHMARK(BM_raw_boost_context_roundtrip)->Iterations(10'000'000)->UseRealTime();
BENCHMARK(BM_boost_fiber_yield_pingpong)->Iterations(2'000'000)->UseRealTime();
BENCHMARK(BM_grove_cancel_requested)->Iterations(50'000'000)->UseRealTime();
BENCHMARK(BM_grove_cancel_requested_nested)->Iterations(50'000'000)->UseRealTime();
BENCHMARK(BM_grove_checkpoint_alone)->Iterations(2'000'000)->UseRealTime();

BENCHMARK_MAIN();
