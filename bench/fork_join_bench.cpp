// Fine-grained fork-join: fib(n) where every call spawns one child and joins it. grove nurseries
// vs oneTBB task_group vs OpenMP tasks, at 1 and 2 workers, in one process, so the ns-per-task
// ratios are meaningful. The irregular trees (nqueens, UTS) are in irregular_bench.cpp.
#include <benchmark/benchmark.h>
#include <omp.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include <chrono>
#include <grove/cancel.hpp>
#include <grove/nursery.hpp>
#include <grove/runtime.hpp>
#include <memory>

#include "bench_util.hpp"

namespace {

using steady = std::chrono::steady_clock;

// Spawns made by fib(n): one per call with n >= 2, i.e. F(n+1) - 1.
long spawns_of_fib(int n) {
  long a = 0, b = 1;  // F(0), F(1)
  for (int i = 0; i < n + 1; ++i) {
    const long c = a + b;
    a = b;
    b = c;
  }
  return a - 1;  // a == F(n+1)
}

long serial_fib(int n) { return n < 2 ? n : serial_fib(n - 1) + serial_fib(n - 2); }

long grove_fib(int n) {
  if (n < 2) return n;
  long a = 0;
  long b = 0;
  grove::open_nursery([&](grove::nursery& nursery) {
    nursery.start_soon([&] { a = grove_fib(n - 1); });
    b = grove_fib(n - 2);
  });
  return a + b;
}

long tbb_fib(int n) {
  if (n < 2) return n;
  long a = 0;
  long b = 0;
  tbb::task_group g;
  g.run([&] { a = tbb_fib(n - 1); });
  b = tbb_fib(n - 2);
  g.wait();
  return a + b;
}

long omp_fib(int n) {
  if (n < 2) return n;
  long a = 0;
  long b = 0;
#pragma omp task shared(a) firstprivate(n)
  a = omp_fib(n - 1);
  b = omp_fib(n - 2);
#pragma omp taskwait
  return a + b;
}

void BM_fib_serial(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  bench::measure_tasks(state, spawns_of_fib(n), serial_fib(n), [&] { return serial_fib(n); });
}

void BM_fib_grove(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const auto workers = static_cast<unsigned>(state.range(1));
  grove::runtime rt({.workers = workers});
  bench::measure_tasks(state, spawns_of_fib(n), serial_fib(n),
                       [&] { return rt.run([&] { return grove_fib(n); }); });
  const grove::runtime_stats s = rt.stats();
  state.counters["steals"] = static_cast<double>(s.steals);
  state.counters["inlined_pct"] =
      100.0 * static_cast<double>(s.tasks_inlined) / static_cast<double>(s.tasks_spawned);
}

// The cost of seeded scheduling (runtime_options::schedule_seed, for tests): the same fib with a
// seed; range(2) 0 runs without one, in the same process, for the ratio.
void BM_fib_grove_schedule_seed(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const auto workers = static_cast<unsigned>(state.range(1));
  grove::runtime_options options{.workers = workers};
  if (state.range(2) != 0) options.schedule_seed = 12345;
  grove::runtime rt(options);
  bench::measure_tasks(state, spawns_of_fib(n), serial_fib(n),
                       [&] { return rt.run([&] { return grove_fib(n); }); });
  const grove::runtime_stats s = rt.stats();
  state.counters["inlined_pct"] =
      100.0 * static_cast<double>(s.tasks_inlined) / static_cast<double>(s.tasks_spawned);
}

// Tracing's cost: fib with runtime_options::trace_path set against the same fib untraced
// (range(2): 0 off, 1 on), each iteration on a fresh runtime sized to keep every event of one
// run. The trace goes to /dev/null; writing it happens at shutdown, outside the timed run.
void BM_fib_grove_trace(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const auto workers = static_cast<unsigned>(state.range(1));
  const bool traced = state.range(2) != 0;
  const long tasks = spawns_of_fib(n);
  double total_ns = 0;
  for (auto _ : state) {
    grove::runtime_options options{.workers = workers};
    if (traced) {
      options.trace_path = "/dev/null";
      // Per task: spawn, first run, slice, completion, plus parks, wakes and steals.
      options.trace_events_per_thread = static_cast<std::size_t>(tasks) * 5 + 4096;
    }
    auto rt = std::make_unique<grove::runtime>(options);
    const auto start = steady::now();
    const long r = rt->run([&] { return grove_fib(n); });
    const double ns = bench::ns_since(start);
    state.SetIterationTime(ns / 1e9);
    total_ns += ns;
    if (r != serial_fib(n)) {
      state.SkipWithError("wrong result");
      break;
    }
    state.PauseTiming();
    rt.reset();  // writes the trace
    state.ResumeTiming();
  }
  state.counters["ns_per_task"] =
      total_ns / (static_cast<double>(state.iterations()) * static_cast<double>(tasks));
}

void BM_fib_tbb(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  tbb::task_arena arena(static_cast<int>(state.range(1)));
  bench::measure_tasks(state, spawns_of_fib(n), serial_fib(n),
                       [&] { return arena.execute([&] { return tbb_fib(n); }); });
}

void BM_fib_openmp(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  omp_set_num_threads(static_cast<int>(state.range(1)));
  bench::measure_tasks(state, spawns_of_fib(n), serial_fib(n), [&] {
    long r = 0;
#pragma omp parallel
#pragma omp single
    r = omp_fib(n);
    return r;
  });
}

}  // namespace

// Args: {n, workers}. Fixed iteration counts keep the suite short on 2 cores.
BENCHMARK(BM_fib_serial)->Args({30})->Iterations(5)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_fib_grove)
    ->Args({30, 1})
    ->Args({30, 2})
    ->Iterations(5)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_fib_grove_trace)
    ->Args({30, 2, 0})
    ->Args({30, 2, 1})
    ->Iterations(3)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_fib_tbb)
    ->Args({30, 1})
    ->Args({30, 2})
    ->Iterations(5)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_fib_openmp)
    ->Args({30, 1})
    ->Args({30, 2})
    ->Iterations(2)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_fib_grove)
    ->Args({32, 1})
    ->Args({32, 2})
    ->Iterations(3)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_fib_tbb)
    ->Args({32, 1})
    ->Args({32, 2})
    ->Iterations(3)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_fib_grove_schedule_seed)
    ->Args({25, 1, 0})
    ->Args({25, 1, 1})
    ->Args({25, 2, 0})
    ->Args({25, 2, 1})
    ->Iterations(10)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
