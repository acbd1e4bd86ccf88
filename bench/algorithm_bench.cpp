// Data-parallel algorithms at 2 workers: grove::eigen::parallel_sum over 2^27 doubles vs a plain
// 1- and 2-thread sum (GB/s); grove::parallel_for/parallel_reduce over a uniform saxpy and over
// rows of growing cost vs oneTBB and OpenMP; the seed's ten 1000x1000 Eigen products vs oneTBB.
#include <benchmark/benchmark.h>
#include <omp.h>
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/parallel_reduce.h>
#include <tbb/task_arena.h>

#include <Eigen/Dense>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <grove/algorithm.hpp>
#include <grove/eigen.hpp>
#include <grove/nursery.hpp>
#include <grove/runtime.hpp>
#include <thread>
#include <vector>

#include "bench_util.hpp"

namespace {

using steady = std::chrono::steady_clock;
constexpr int workers = 2;

// Times `once` per iteration, and tells Google Benchmark that time (the benchmarks use
// UseManualTime, so the check below is not counted), after one untimed warm-up call (a fresh grove
// runtime's first run starts its threads and maps fiber stacks, ~3 ms; TBB's and OpenMP's threads
// may have started in an earlier benchmark); `check(result)` false stops with an error. Returns
// total ns.
template <class Once, class Check>
double timed_loop(benchmark::State& state, Once&& once, Check&& check) {
  if (!check(once())) {
    state.SkipWithError("wrong result");
    return 0;
  }
  double total_ns = 0;
  for (auto _ : state) {
    const auto start = steady::now();
    auto r = once();
    const double ns = bench::ns_since(start);
    state.SetIterationTime(ns / 1e9);
    total_ns += ns;
    benchmark::DoNotOptimize(r);
    if (!check(r)) {
      state.SkipWithError("wrong result");
      break;
    }
  }
  return total_ns;
}

double per_iteration(benchmark::State& state, double total) {
  return total / static_cast<double>(state.iterations());
}

// ---- (a) sum of 2^27 doubles (1 GiB) ----

constexpr Eigen::Index sum_length = Eigen::Index{1} << 27;
constexpr double sum_bytes = static_cast<double>(sum_length) * sizeof(double);
// v[i] = (i % 1024) / 2: not constant (no page holds the same bytes as another within 8 KiB),
// and every partial sum is a multiple of 0.5 below 2^36, so exact in any order.
constexpr double sum_expected = static_cast<double>(sum_length / 1024) * (1023.0 * 1024 / 2) / 2;

const Eigen::VectorXd& big_vector() {
  static const Eigen::VectorXd v = [] {
    Eigen::VectorXd r(sum_length);
    for (Eigen::Index i = 0; i < sum_length; ++i) r[i] = static_cast<double>(i % 1024) / 2;
    return r;
  }();
  return v;
}

// The peer's loop: 8 independent accumulators, which GCC turns into 4 SSE2 vector adds per
// 8 doubles (one accumulator chain would cap a core at ~10 GB/s on the add latency).
double plain_sum(const double* p, std::size_t n) {
  double acc[8] = {};
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    for (int k = 0; k < 8; ++k) acc[k] += p[i + static_cast<std::size_t>(k)];
  }
  double s = 0;
  for (; i < n; ++i) s += p[i];
  for (double a : acc) s += a;
  return s;
}

void report_bandwidth(benchmark::State& state, double total_ns) {
  state.counters["GB_per_s"] = sum_bytes / per_iteration(state, total_ns);  // bytes per ns
}

auto sum_is_exact = [](double s) { return s == sum_expected; };

void BM_sum_plain_1thread(benchmark::State& state) {
  const Eigen::VectorXd& v = big_vector();
  const double total = timed_loop(
      state, [&] { return plain_sum(v.data(), static_cast<std::size_t>(v.size())); }, sum_is_exact);
  report_bandwidth(state, total);
}

// Two std::threads started fresh every iteration (tens of us of the ~35 ms), each summing a half.
void BM_sum_plain_2threads(benchmark::State& state) {
  const Eigen::VectorXd& v = big_vector();
  const auto half = static_cast<std::size_t>(v.size()) / 2;
  const double total = timed_loop(
      state,
      [&] {
        double low = 0;
        double high = 0;
        std::thread t0([&] { low = plain_sum(v.data(), half); });
        std::thread t1(
            [&] { high = plain_sum(v.data() + half, static_cast<std::size_t>(v.size()) - half); });
        t0.join();
        t1.join();
        return low + high;
      },
      sum_is_exact);
  report_bandwidth(state, total);
}

// The same two halves on two threads kept in a pool: they sleep on a futex (C++20 atomic wait)
// between sums, as grove's workers park, and the calling thread waits for both.
class sum_pair_pool {
 public:
  sum_pair_pool() {
    for (int k = 0; k < 2; ++k) threads_[k] = std::thread([this, k] { loop(k); });
  }
  ~sum_pair_pool() {
    stop_ = true;
    generation_.fetch_add(1);
    generation_.notify_all();
    for (auto& t : threads_) t.join();
  }
  double sum(const double* data, std::size_t n) {
    data_ = data;
    n_ = n;
    pending_.store(2);
    generation_.fetch_add(1);
    generation_.notify_all();
    for (int p = pending_.load(); p != 0; p = pending_.load()) pending_.wait(p);
    return parts_[0] + parts_[1];
  }

 private:
  void loop(int k) {
    unsigned seen = 0;
    for (;;) {
      generation_.wait(seen);
      seen = generation_.load();
      if (stop_) return;
      const std::size_t half = n_ / 2;
      parts_[k] = k == 0 ? plain_sum(data_, half) : plain_sum(data_ + half, n_ - half);
      if (pending_.fetch_sub(1) == 1) pending_.notify_one();
    }
  }

  std::thread threads_[2];
  std::atomic<unsigned> generation_{0};
  std::atomic<int> pending_{0};
  const double* data_ = nullptr;
  std::size_t n_ = 0;
  double parts_[2] = {};
  bool stop_ = false;  // written before a generation bump, read after one
};

void BM_sum_plain_2threads_pool(benchmark::State& state) {
  const Eigen::VectorXd& v = big_vector();
  sum_pair_pool pool;
  const double total = timed_loop(
      state, [&] { return pool.sum(v.data(), static_cast<std::size_t>(v.size())); }, sum_is_exact);
  report_bandwidth(state, total);
}

void BM_sum_grove_parallel_sum(benchmark::State& state) {
  const Eigen::VectorXd& v = big_vector();
  grove::runtime rt({.workers = workers});
  const double total = timed_loop(
      state, [&] { return rt.run([&] { return grove::eigen::parallel_sum(v); }); }, sum_is_exact);
  report_bandwidth(state, total);
}

// parallel_sum of a 4000 x 4000 matrix in each storage order, against Eigen's m.sum() and a
// 2-thread plain sum of the same memory (a pool, as above). Column-major row blocks are strided;
// parallel_sum sums contiguous storage flat, so both orders should run at memory speed.
constexpr Eigen::Index matrix_side = 4000;
constexpr double matrix_bytes = static_cast<double>(matrix_side * matrix_side) * sizeof(double);
auto matrix_sum_is_exact = [](double s) { return s == 0.5 * matrix_side * matrix_side; };
using row_major_matrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

const Eigen::MatrixXd& column_major_matrix() {
  static const Eigen::MatrixXd m = Eigen::MatrixXd::Constant(matrix_side, matrix_side, 0.5);
  return m;
}
const row_major_matrix& row_major() {
  static const row_major_matrix m = row_major_matrix::Constant(matrix_side, matrix_side, 0.5);
  return m;
}

void report_matrix_bandwidth(benchmark::State& state, double total_ns) {
  state.counters["GB_per_s"] = matrix_bytes / per_iteration(state, total_ns);
}

void BM_matrix_sum_eigen_1thread(benchmark::State& state) {
  const Eigen::MatrixXd& m = column_major_matrix();
  report_matrix_bandwidth(state, timed_loop(
                                     state, [&] { return m.sum(); }, matrix_sum_is_exact));
}

void BM_matrix_sum_plain_2threads_pool(benchmark::State& state) {
  const Eigen::MatrixXd& m = column_major_matrix();
  sum_pair_pool pool;
  report_matrix_bandwidth(
      state, timed_loop(
                 state, [&] { return pool.sum(m.data(), static_cast<std::size_t>(m.size())); },
                 matrix_sum_is_exact));
}

void BM_matrix_sum_grove_column_major(benchmark::State& state) {
  const Eigen::MatrixXd& m = column_major_matrix();
  grove::runtime rt({.workers = workers});
  report_matrix_bandwidth(
      state, timed_loop(
                 state, [&] { return rt.run([&] { return grove::eigen::parallel_sum(m); }); },
                 matrix_sum_is_exact));
}

void BM_matrix_sum_grove_row_major(benchmark::State& state) {
  const row_major_matrix& m = row_major();
  grove::runtime rt({.workers = workers});
  report_matrix_bandwidth(
      state, timed_loop(
                 state, [&] { return rt.run([&] { return grove::eigen::parallel_sum(m); }); },
                 matrix_sum_is_exact));
}

// For scale: Eigen's own single-threaded sum() (what each grove piece runs).
void BM_sum_eigen_1thread(benchmark::State& state) {
  const Eigen::VectorXd& v = big_vector();
  const double total = timed_loop(
      state, [&] { return v.sum(); }, sum_is_exact);
  report_bandwidth(state, total);
}

// ---- (b) parallel_for / parallel_reduce ----

// Uniform: y[i] = a * x[i] + y[i] over 10^7 floats (one pass per iteration).
constexpr int saxpy_n = 10'000'000;
constexpr float saxpy_a = 0.5f;

struct saxpy_data {
  std::vector<float> x;
  std::vector<float> y = std::vector<float>(saxpy_n, 0.0f);
  saxpy_data() : x(saxpy_n) {
    for (int i = 0; i < saxpy_n; ++i) x[static_cast<std::size_t>(i)] = static_cast<float>(i % 64);
  }
};

template <class Run>
void measure_saxpy(benchmark::State& state, Run&& run) {
  saxpy_data d;
  float* y = d.y.data();
  const float* x = d.x.data();
  auto body = [=](int i) { y[i] = saxpy_a * x[i] + y[i]; };
  long passes = 0;
  const double total = timed_loop(
      state,
      [&] {
        run(body);
        return ++passes;
      },
      [](long) { return true; });
  // Every pass adds x[i] / 2 to y[i] (exact in float: at most 31.5 per pass, 100s of passes).
  for (int i = 0; i < saxpy_n; i += 4099) {
    const auto k = static_cast<std::size_t>(i);
    if (d.y[k] != saxpy_a * d.x[k] * static_cast<float>(passes)) {
      state.SkipWithError("wrong result");
      break;
    }
  }
  state.counters["ms_per_pass"] = per_iteration(state, total) / 1e6;
  state.counters["GB_per_s"] = 3.0 * sizeof(float) * saxpy_n / per_iteration(state, total);
}

void BM_saxpy_serial(benchmark::State& state) {
  measure_saxpy(state, [](auto& body) {
    for (int i = 0; i < saxpy_n; ++i) body(i);
  });
}

void BM_saxpy_grove(benchmark::State& state) {
  grove::runtime rt({.workers = workers});
  measure_saxpy(state, [&](auto& body) { rt.run([&] { grove::parallel_for(0, saxpy_n, body); }); });
}

void BM_saxpy_tbb(benchmark::State& state) {
  tbb::task_arena arena(workers);
  measure_saxpy(state,
                [&](auto& body) { arena.execute([&] { tbb::parallel_for(0, saxpy_n, body); }); });
}

void BM_saxpy_openmp_static(benchmark::State& state) {
  measure_saxpy(state, [](auto& body) {
#pragma omp parallel for schedule(static) num_threads(workers)
    for (int i = 0; i < saxpy_n; ++i) body(i);
  });
}

// Rows of growing cost: row i costs i steps of a dependent multiply-xor chain (~1.1 ns each),
// so the last rows cost rows times the first; total ~rows^2/2 steps.
constexpr int rows = 12'000;

std::uint64_t row_value(int i) {
  auto h = static_cast<std::uint64_t>(i);
  for (int j = 0; j < i; ++j) h = (h ^ static_cast<std::uint64_t>(j)) * 0x9E3779B97F4A7C15ull;
  return h;
}

const std::vector<std::uint64_t>& reference_rows() {
  static const std::vector<std::uint64_t> ref = [] {
    std::vector<std::uint64_t> r(rows);
    for (int i = 0; i < rows; ++i) r[static_cast<std::size_t>(i)] = row_value(i);
    return r;
  }();
  return ref;
}

std::uint64_t reference_total() {
  std::uint64_t s = 0;
  for (std::uint64_t v : reference_rows()) s += v;
  return s;
}

template <class Run>
void measure_rows_for(benchmark::State& state, Run&& run) {
  std::vector<std::uint64_t> out(rows);
  std::uint64_t* o = out.data();
  auto body = [o](int i) { o[i] = row_value(i); };
  const std::vector<std::uint64_t>& ref = reference_rows();
  const double total = timed_loop(
      state,
      [&] {
        std::fill(out.begin(), out.end(), 0);
        run(body);
        return 0;
      },
      [&](int) { return out == ref; });
  state.counters["ms_per_loop"] = per_iteration(state, total) / 1e6;
}

void BM_rows_for_serial(benchmark::State& state) {
  measure_rows_for(state, [](auto& body) {
    for (int i = 0; i < rows; ++i) body(i);
  });
}

void BM_rows_for_grove(benchmark::State& state) {
  grove::runtime rt({.workers = workers});
  measure_rows_for(state, [&](auto& body) { rt.run([&] { grove::parallel_for(0, rows, body); }); });
}

void BM_rows_for_tbb(benchmark::State& state) {
  tbb::task_arena arena(workers);
  measure_rows_for(state,
                   [&](auto& body) { arena.execute([&] { tbb::parallel_for(0, rows, body); }); });
}

void BM_rows_for_openmp_static(benchmark::State& state) {
  measure_rows_for(state, [](auto& body) {
#pragma omp parallel for schedule(static) num_threads(workers)
    for (int i = 0; i < rows; ++i) body(i);
  });
}

void BM_rows_for_openmp_dynamic(benchmark::State& state) {
  measure_rows_for(state, [](auto& body) {
#pragma omp parallel for schedule(dynamic) num_threads(workers)
    for (int i = 0; i < rows; ++i) body(i);
  });
}

std::uint64_t rows_sum(int first, int last) {
  std::uint64_t s = 0;
  for (int i = first; i < last; ++i) s += row_value(i);
  return s;
}

template <class Run>
void measure_rows_reduce(benchmark::State& state, Run&& run) {
  const std::uint64_t expected = reference_total();
  const double total =
      timed_loop(state, run, [expected](std::uint64_t s) { return s == expected; });
  state.counters["ms_per_loop"] = per_iteration(state, total) / 1e6;
}

void BM_rows_reduce_serial(benchmark::State& state) {
  measure_rows_reduce(state, [] { return rows_sum(0, rows); });
}

void BM_rows_reduce_grove(benchmark::State& state) {
  grove::runtime rt({.workers = workers});
  measure_rows_reduce(state, [&] {
    return rt.run(
        [] { return grove::parallel_reduce(0, rows, std::uint64_t{0}, rows_sum, std::plus<>()); });
  });
}

void BM_rows_reduce_tbb(benchmark::State& state) {
  tbb::task_arena arena(workers);
  measure_rows_reduce(state, [&] {
    return arena.execute([] {
      return tbb::parallel_reduce(
          tbb::blocked_range<int>(0, rows), std::uint64_t{0},
          [](const tbb::blocked_range<int>& r, std::uint64_t init) {
            return init + rows_sum(r.begin(), r.end());
          },
          std::plus<>());
    });
  });
}

void BM_rows_reduce_openmp_dynamic(benchmark::State& state) {
  measure_rows_reduce(state, [] {
    std::uint64_t s = 0;
#pragma omp parallel for schedule(dynamic) reduction(+ : s) num_threads(workers)
    for (int i = 0; i < rows; ++i) s += row_value(i);
    return s;
  });
}

// ---- (c) the seed's matmul: 10 x (1000x1000 * 1000x1000), Eigen single-threaded ----

constexpr int products = 10;
constexpr Eigen::Index matrix_size = 1000;

struct matmul_data {
  Eigen::MatrixXd a;
  Eigen::MatrixXd b;
  double checksum;
  matmul_data() {
    Eigen::setNbThreads(1);  // one core per product: the parallelism is the scheduler's
    std::srand(1);
    a = Eigen::MatrixXd::Random(matrix_size, matrix_size);
    b = Eigen::MatrixXd::Random(matrix_size, matrix_size);
    const Eigen::MatrixXd c = a * b;
    checksum = c.sum();
  }
};

const matmul_data& matrices() {
  static const matmul_data d;
  return d;
}

template <class Run>
void measure_matmul_products(benchmark::State& state, Run&& run) {
  const matmul_data& d = matrices();
  Eigen::setNbThreads(1);
  std::vector<Eigen::MatrixXd> results(products, Eigen::MatrixXd::Zero(matrix_size, matrix_size));
  double total_ns = 0;
  for (auto _ : state) {
    for (auto& c : results) c.setZero();
    const auto start = steady::now();
    run(d, results);
    const double ns = bench::ns_since(start);
    state.SetIterationTime(ns / 1e9);  // manual time: only the products count
    total_ns += ns;
    bool ok = true;
    for (const auto& c : results) ok = ok && c.sum() == d.checksum;
    if (!ok) {
      state.SkipWithError("results differ from the sequential product");
      break;
    }
  }
  state.counters["ms_per_product"] = per_iteration(state, total_ns) / 1e6 / products;
}

void BM_matmul_sequential(benchmark::State& state) {
  measure_matmul_products(state, [](const matmul_data& d, std::vector<Eigen::MatrixXd>& results) {
    for (auto& c : results) c.noalias() = d.a * d.b;
  });
}

void BM_matmul_grove(benchmark::State& state) {
  grove::runtime rt({.workers = workers});
  measure_matmul_products(state, [&](const matmul_data& d, std::vector<Eigen::MatrixXd>& results) {
    rt.run([&] {
      grove::open_nursery([&](grove::nursery& n) {
        for (auto& c : results) n.start_soon([&d, &c] { c.noalias() = d.a * d.b; });
      });
    });
  });
}

void BM_matmul_tbb(benchmark::State& state) {
  tbb::task_arena arena(workers);
  measure_matmul_products(state, [&](const matmul_data& d, std::vector<Eigen::MatrixXd>& results) {
    arena.execute([&] {
      tbb::parallel_for(std::size_t{0}, results.size(),
                        [&](std::size_t k) { results[k].noalias() = d.a * d.b; });
    });
  });
}

}  // namespace

// Sum: manual GB/s counter (bytes / real time per iteration).
BENCHMARK(BM_sum_plain_1thread)->Iterations(10)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_sum_eigen_1thread)->Iterations(10)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_sum_plain_2threads)->Iterations(10)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_sum_plain_2threads_pool)
    ->Iterations(10)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_sum_grove_parallel_sum)
    ->Iterations(10)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_matrix_sum_eigen_1thread)
    ->Iterations(20)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_matrix_sum_plain_2threads_pool)
    ->Iterations(20)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_matrix_sum_grove_column_major)
    ->Iterations(20)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_matrix_sum_grove_row_major)
    ->Iterations(20)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_saxpy_serial)->Iterations(50)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_saxpy_grove)->Iterations(50)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_saxpy_tbb)->Iterations(50)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_saxpy_openmp_static)->Iterations(50)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_rows_for_serial)->Iterations(5)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_rows_for_grove)->Iterations(10)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_rows_for_tbb)->Iterations(10)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_rows_for_openmp_static)
    ->Iterations(10)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_rows_for_openmp_dynamic)
    ->Iterations(10)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_rows_reduce_serial)->Iterations(5)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_rows_reduce_grove)->Iterations(10)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_rows_reduce_tbb)->Iterations(10)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_rows_reduce_openmp_dynamic)
    ->Iterations(10)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
// Matmul: the time column covers the ten products only (zeroing and checking are paused).
BENCHMARK(BM_matmul_sequential)->Iterations(2)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_matmul_grove)->Iterations(2)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_matmul_tbb)->Iterations(2)->UseManualTime()->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
