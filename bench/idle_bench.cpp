// Idle cost: process CPU time (getrusage) burnt during 1 s in which a pool has no work, after it
// has just run some. Target: a grove runtime with default workers uses <= 1 ms per second
// (workers park on a futex). Peers: a oneTBB arena, Boost.Fiber work_stealing, an OpenMP team.
//
// Every measurement runs in a forked child of a process that starts no thread itself: a pool
// left behind by an earlier measurement (oneTBB's and libgomp's outlive their arena or region)
// would otherwise be counted in the next one, and fork() from a process with other threads is
// not safe (bench::run_forked).
#include <benchmark/benchmark.h>
#include <omp.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <atomic>
#include <boost/fiber/all.hpp>
#include <chrono>
#include <grove/cancel.hpp>
#include <grove/nursery.hpp>
#include <grove/runtime.hpp>
#include <thread>
#include <vector>

#include "bench_util.hpp"

namespace {

constexpr auto idle_period = std::chrono::seconds(1);

// Sleeps the calling (non-pool) thread for idle_period and returns the process CPU ms used.
// Measured from right after the pool's last work, so any spin-down before parking counts.
double cpu_ms_while_idle() {
  const double before = bench::process_cpu_ms();
  std::this_thread::sleep_for(idle_period);
  return bench::process_cpu_ms() - before;
}

struct idle_result {
  double cpu_ms;
  unsigned threads;
};

// Runs `measure` (returning an idle_result) in a forked child and reports it.
template <class Measure>
void report_forked(benchmark::State& state, Measure&& measure) {
  for (auto _ : state) {
    const auto r = bench::run_forked(measure);
    if (!r) {
      state.SkipWithError("the child process failed");
      return;
    }
    state.counters["cpu_ms_per_s"] = r->cpu_ms;
    state.counters["pool_threads"] = r->threads;
  }
}

void BM_idle_grove(benchmark::State& state) {
  report_forked(state, [] {
    grove::runtime rt;  // default workers: the CPUs of the affinity mask
    // Give every worker something to do first, so none is still starting up.
    rt.run([] {
      grove::open_nursery([](grove::nursery& n) {
        for (int i = 0; i < 1000; ++i) n.start_soon([] { benchmark::ClobberMemory(); });
      });
    });
    return idle_result{cpu_ms_while_idle(), rt.worker_count()};
  });
}

void BM_idle_tbb(benchmark::State& state) {
  report_forked(state, [] {
    tbb::task_arena arena;  // default concurrency
    arena.execute([] { tbb::parallel_for(0, 100000, [](int i) { benchmark::DoNotOptimize(i); }); });
    return idle_result{cpu_ms_while_idle(), static_cast<unsigned>(arena.max_concurrency())};
  });
}

// Boost.Fiber work_stealing over all CPUs (fresh threads, so this thread's scheduler is
// untouched); each thread's main fiber waits on a fiber condition variable, so the schedulers are
// idle. (work_stealing keeps process-wide static state: one setup per process, which the fork
// gives too.)
idle_result boost_fiber_idle(unsigned threads) {
  boost::fibers::mutex mutex;
  boost::fibers::condition_variable cv;
  bool done = false;
  std::atomic<unsigned> ready{0};
  std::vector<std::thread> pool;
  for (unsigned i = 0; i < threads; ++i) {
    pool.emplace_back([&] {
      boost::fibers::use_scheduling_algorithm<boost::fibers::algo::work_stealing>(threads);
      ready.fetch_add(1);
      std::unique_lock lock(mutex);
      cv.wait(lock, [&] { return done; });
    });
  }
  while (ready.load() < threads) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const idle_result result{cpu_ms_while_idle(), threads};
  {
    std::unique_lock lock(mutex);
    done = true;
  }
  cv.notify_all();
  for (auto& t : pool) t.join();
  return result;
}

void BM_idle_boost_fiber_work_stealing(benchmark::State& state) {
  const unsigned threads = std::max(2u, std::thread::hardware_concurrency());
  report_forked(state, [threads] { return boost_fiber_idle(threads); });
}

// An OpenMP team after a parallel region (libgomp's default wait policy).
void BM_idle_openmp(benchmark::State& state) {
  report_forked(state, [] {
    int sum = 0;
#pragma omp parallel reduction(+ : sum)
    sum += omp_get_thread_num();
    benchmark::DoNotOptimize(sum);
    return idle_result{cpu_ms_while_idle(), static_cast<unsigned>(omp_get_max_threads())};
  });
}

}  // namespace

BENCHMARK(BM_idle_grove)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_idle_tbb)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_idle_boost_fiber_work_stealing)
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_idle_openmp)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
