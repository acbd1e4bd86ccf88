// Channel and mutex throughput: one producer task sending 1 000 000 ints to one consumer task
// through grove::open_channel<int>(0 / 1 / 64 / unbounded) vs Boost.Fiber's unbuffered/buffered
// channels; 4 tasks taking a grove::mutex vs boost::fibers::mutex. 1 and 2 workers/threads.
#include <benchmark/benchmark.h>

#include <boost/fiber/all.hpp>
#include <chrono>
#include <cstdint>
#include <grove/channel.hpp>
#include <grove/nursery.hpp>
#include <grove/runtime.hpp>
#include <grove/sync.hpp>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "bench_util.hpp"

namespace {

using steady = std::chrono::steady_clock;

constexpr int items = 1'000'000;  // per channel transfer
constexpr long items_sum = static_cast<long>(items) * (items - 1) / 2;
constexpr int mutex_tasks = 4;           // contended: tasks sharing one mutex
constexpr int locks_per_task = 250'000;  // contended: 4 x 250 000 lock/unlock pairs
constexpr int uncontended_locks = 1'000'000;

// Arg encoding of grove::unbounded.
constexpr std::int64_t arg_unbounded = -1;
std::size_t grove_capacity(std::int64_t arg) {
  return arg == arg_unbounded ? grove::unbounded : static_cast<std::size_t>(arg);
}
// Boost.Fiber's buffered_channel(n) needs a power of two n >= 2 and holds n - 1 values, so
// grove's capacity 1 maps to 2 and 64 to 64 (63 usable), and "unbounded" to 2^20 (more than
// the 1 000 000 items: it never fills). Capacity 0 is boost::fibers::unbuffered_channel.
std::size_t boost_capacity(std::int64_t arg) {
  if (arg == arg_unbounded) return std::size_t{1} << 20;
  return arg <= 1 ? 2 : static_cast<std::size_t>(arg);
}

// What a forked Boost.Fiber run sends back.
struct timed {
  double ns;
  long check;
};

void report_rate(benchmark::State& state, double total_ns, double ops_per_iteration,
                 const char* per_op_name) {
  const double ops = ops_per_iteration * static_cast<double>(state.iterations());
  state.SetItemsProcessed(static_cast<std::int64_t>(ops));
  state.counters[per_op_name] = total_ns / ops;
}

// ---- grove ----

// One producer task sends 0..items-1 and closes; one consumer task receives to the end.
long grove_transfer(std::size_t capacity) {
  auto [tx, rx] = grove::open_channel<int>(capacity);
  long sum = 0;
  grove::open_nursery([&](grove::nursery& n) {
    n.start_soon([&tx = tx] {
      for (int i = 0; i < items; ++i) tx.send(i);
      tx.close();
    });
    n.start_soon([&rx = rx, &sum] {
      for (int v : rx) sum += v;
    });
  });
  return sum;
}

// Counters from the runtime's statistics since `before` (taken after the warm-up run).
void grove_report_stats(benchmark::State& state, const grove::runtime& rt,
                        const grove::runtime_stats& before) {
  const grove::runtime_stats s = rt.stats();
  const double iters = static_cast<double>(state.iterations());
  state.counters["parks_per_iter"] = static_cast<double>(s.parks - before.parks) / iters;
  state.counters["steals_per_iter"] = static_cast<double>(s.steals - before.steals) / iters;
}

// Args: {capacity (-1 = unbounded), workers}.
void BM_channel_grove(benchmark::State& state) {
  const std::size_t capacity = grove_capacity(state.range(0));
  grove::runtime rt({.workers = static_cast<unsigned>(state.range(1))});
  // Untimed warm-up: a fresh runtime's first run starts its threads and maps fiber stacks.
  rt.run([&] { return grove_transfer(capacity); });
  const grove::runtime_stats before = rt.stats();
  double total_ns = 0;
  for (auto _ : state) {
    const auto start = steady::now();
    const long sum = rt.run([&] { return grove_transfer(capacity); });
    total_ns += bench::ns_since(start);
    if (sum != items_sum) {
      state.SkipWithError("wrong sum");
      return;
    }
  }
  report_rate(state, total_ns, items, "ns_per_item");
  grove_report_stats(state, rt, before);
}

// One task locking and unlocking `count` times.
void BM_mutex_uncontended_grove(benchmark::State& state) {
  grove::runtime rt({.workers = 1});
  rt.run([] {});  // untimed warm-up
  double total_ns = 0;
  for (auto _ : state) {
    grove::mutex m;
    long counter = 0;
    total_ns += rt.run([&] {
      const auto start = steady::now();
      for (int i = 0; i < uncontended_locks; ++i) {
        m.lock();
        ++counter;
        m.unlock();
      }
      return bench::ns_since(start);
    });
    benchmark::DoNotOptimize(counter);
  }
  report_rate(state, total_ns, uncontended_locks, "ns_per_lock");
}

// Arg: workers. mutex_tasks tasks, each locking/unlocking locks_per_task times around ++counter.
long grove_contended_run(grove::runtime& rt) {
  grove::mutex m;
  long counter = 0;
  rt.run([&] {
    grove::open_nursery([&](grove::nursery& n) {
      for (int t = 0; t < mutex_tasks; ++t) {
        n.start_soon([&] {
          for (int i = 0; i < locks_per_task; ++i) {
            m.lock();
            ++counter;
            m.unlock();
          }
        });
      }
    });
  });
  return counter;
}

void BM_mutex_contended_grove(benchmark::State& state) {
  grove::runtime rt({.workers = static_cast<unsigned>(state.range(0))});
  grove_contended_run(rt);  // untimed warm-up
  const grove::runtime_stats before = rt.stats();
  double total_ns = 0;
  for (auto _ : state) {
    const auto start = steady::now();
    const long counter = grove_contended_run(rt);
    total_ns += bench::ns_since(start);
    if (counter != static_cast<long>(mutex_tasks) * locks_per_task) {
      state.SkipWithError("lost update");
      return;
    }
  }
  report_rate(state, total_ns, static_cast<double>(mutex_tasks) * locks_per_task, "ns_per_lock");
  grove_report_stats(state, rt, before);
}

// ---- Boost.Fiber ----

// Producer and consumer fibers on the calling thread's scheduler; returns the checksum.
template <class Channel>
long boost_transfer(Channel& ch) {
  long sum = 0;
  boost::fibers::fiber producer([&ch] {
    for (int i = 0; i < items; ++i) ch.push(i);
    ch.close();
  });
  boost::fibers::fiber consumer([&ch, &sum] {
    int v = 0;
    while (ch.pop(v) == boost::fibers::channel_op_status::success) sum += v;
  });
  producer.join();
  consumer.join();
  return sum;
}

timed boost_channel_run(std::int64_t capacity_arg) {
  const auto start = steady::now();
  long sum = 0;
  if (capacity_arg == 0) {
    boost::fibers::unbuffered_channel<int> ch;
    sum = boost_transfer(ch);
  } else {
    boost::fibers::buffered_channel<int> ch(boost_capacity(capacity_arg));
    sum = boost_transfer(ch);
  }
  return {bench::ns_since(start), sum};
}

timed boost_mutex_contended_run() {
  boost::fibers::mutex m;
  long counter = 0;
  const auto start = steady::now();
  std::vector<boost::fibers::fiber> fibers;
  for (int t = 0; t < mutex_tasks; ++t) {
    fibers.emplace_back([&] {
      for (int i = 0; i < locks_per_task; ++i) {
        m.lock();
        ++counter;
        m.unlock();
      }
    });
  }
  for (auto& f : fibers) f.join();
  return {bench::ns_since(start), counter};
}

// Runs `body` on a fresh thread (default round-robin scheduler), so this thread's Boost.Fiber
// scheduler is left untouched.
template <class Body>
timed on_fresh_thread(Body body) {
  timed r{};
  std::thread([&] { r = body(); }).join();
  return r;
}

// Runs `body` on thread 0 of a 2-thread Boost.Fiber work_stealing pool (thread 1's main fiber
// only waits, so its scheduler steals the fibers that `body` launches). work_stealing keeps
// process-wide static state and cannot be set up twice per process: call this in a forked child.
template <class Body>
timed on_work_stealing_pair(Body body) {
  boost::fibers::mutex mutex;
  boost::fibers::condition_variable cv;
  bool done = false;
  std::thread helper([&] {
    boost::fibers::use_scheduling_algorithm<boost::fibers::algo::work_stealing>(2);
    std::unique_lock lock(mutex);
    cv.wait(lock, [&] { return done; });
  });
  timed r{};
  std::thread main([&] {
    boost::fibers::use_scheduling_algorithm<boost::fibers::algo::work_stealing>(2);
    r = body();
    {
      std::unique_lock lock(mutex);
      done = true;
    }
    cv.notify_all();
  });
  main.join();
  helper.join();
  return r;
}

// threads 1: in this process on a fresh thread; threads 2: in a forked child (manual time).
template <class Body>
void measure_boost(benchmark::State& state, unsigned threads, long expected, double ops,
                   const char* per_op_name, Body body) {
  double total_ns = 0;
  for (auto _ : state) {
    std::optional<timed> r;
    if (threads == 1) {
      r = on_fresh_thread(body);
    } else {
      r = bench::run_forked([&] { return on_work_stealing_pair(body); });
    }
    if (!r || r->check != expected) {
      state.SkipWithError(!r ? "the child process failed" : "wrong result");
      return;
    }
    state.SetIterationTime(r->ns / 1e9);
    total_ns += r->ns;
  }
  report_rate(state, total_ns, ops, per_op_name);
}

// Args: {capacity (-1 = unbounded), threads}.
void BM_channel_boost_fiber(benchmark::State& state) {
  const std::int64_t capacity = state.range(0);
  state.counters["boost_capacity"] =
      capacity == 0 ? 0.0 : static_cast<double>(boost_capacity(capacity));
  measure_boost(state, static_cast<unsigned>(state.range(1)), items_sum, items, "ns_per_item",
                [capacity] { return boost_channel_run(capacity); });
}

void BM_mutex_uncontended_boost_fiber(benchmark::State& state) {
  measure_boost(state, 1, uncontended_locks, uncontended_locks, "ns_per_lock", [] {
    boost::fibers::mutex m;
    long counter = 0;
    timed r{};
    boost::fibers::fiber([&] {
      const auto start = steady::now();
      for (int i = 0; i < uncontended_locks; ++i) {
        m.lock();
        ++counter;
        m.unlock();
      }
      r = {bench::ns_since(start), counter};
    }).join();
    return r;
  });
}

// Arg: threads.
void BM_mutex_contended_boost_fiber(benchmark::State& state) {
  measure_boost(state, static_cast<unsigned>(state.range(0)),
                static_cast<long>(mutex_tasks) * locks_per_task,
                static_cast<double>(mutex_tasks) * locks_per_task, "ns_per_lock",
                [] { return boost_mutex_contended_run(); });
}

void channel_args(benchmark::internal::Benchmark* b) {
  for (std::int64_t workers : {1, 2}) {
    for (std::int64_t capacity :
         {std::int64_t{0}, std::int64_t{1}, std::int64_t{64}, arg_unbounded}) {
      b->Args({capacity, workers});
    }
  }
}

}  // namespace

// Items/s is the `items_per_second` column. Boost.Fiber with 2 threads runs in forked children
// and reports the time measured there (manual time); so do its 1-thread rows, for uniformity.
BENCHMARK(BM_channel_grove)
    ->Apply(channel_args)
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_channel_boost_fiber)
    ->Apply(channel_args)
    ->Iterations(3)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_mutex_uncontended_grove)->Iterations(5)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_mutex_uncontended_boost_fiber)
    ->Iterations(5)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_mutex_contended_grove)
    ->Arg(1)
    ->Arg(2)
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_mutex_contended_boost_fiber)
    ->Arg(1)
    ->Arg(2)
    ->Iterations(3)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
