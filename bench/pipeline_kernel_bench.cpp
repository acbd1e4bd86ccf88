// The seed pipeline's chunk kernel (examples/pipeline_kernel.hpp) on one core, against what
// bounds it: the same splitmix64 values only summed (the generator alone) and a multiply-add
// over values already in memory (the arithmetic and the loads alone); and the row-by-row scalar
// form the kernel replaced. Figures are nanoseconds per matrix element (ns_per_element).
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <chrono>
#include <cstdint>
#include <cstring>

#include "../examples/pipeline_kernel.hpp"

namespace {

constexpr Eigen::Index side = 4000;  // a 4000 x 4000 chunk: 16 M values, 32 KiB of chunk data

const Eigen::ArrayXd& chunk_values() {
  static const Eigen::ArrayXd values = [] {
    pipeline::random_stream random(7);
    Eigen::ArrayXd v(side);
    for (Eigen::Index j = 0; j < side; ++j) v[j] = random.next_unit();
    return v;
  }();
  return values;
}

// Runs `once` per iteration and reports its time per matrix element.
template <class F>
void measure(benchmark::State& state, F once) {
  double total_ns = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    once();
    const double ns =
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
    state.SetIterationTime(ns * 1e-9);
    total_ns += ns;
  }
  const double elements = static_cast<double>(side) * static_cast<double>(side);
  state.counters["ns_per_element"] = total_ns / static_cast<double>(state.iterations()) / elements;
}

void BM_pipeline_kernel(benchmark::State& state) {
  const Eigen::ArrayXd& values = chunk_values();
  measure(state, [&] { benchmark::DoNotOptimize(pipeline::chunk_result(values, side, 2024, 0)); });
}

// The form before: one row of values drawn from random_stream into a buffer, then Eigen's
// (row * chunk).sum().
void BM_pipeline_kernel_row_by_row(benchmark::State& state) {
  const Eigen::ArrayXd& values = chunk_values();
  measure(state, [&] {
    pipeline::random_stream random(pipeline::chunk_seed(2024, 0));
    Eigen::ArrayXd row(side);
    double total = 0.0;
    for (Eigen::Index i = 0; i < side; ++i) {
      for (Eigen::Index j = 0; j < side; ++j) row[j] = random.next_unit();
      total += (row * values).sum();
    }
    benchmark::DoNotOptimize(total);
  });
}

// The generator alone: the kernel's 16 sums of the same values, without the chunk (no loads, no
// multiplies by it), in the form the kernel takes on this target.
void BM_generator_only(benchmark::State& state) {
  measure(state, [&] {
    double sum[pipeline::sums] = {};
#if defined(__AVX512DQ__)
    using namespace pipeline::simd;
    u64s counters;
    for (int l = 0; l < lanes; ++l) counters[l] = pipeline::golden_gamma * (l + 1);
    const u64s step = u64s{} + pipeline::golden_gamma * lanes;
    f64s vector_sum[2] = {};
    for (Eigen::Index k = 0; k < side * side; k += pipeline::sums) {
      for (int half = 0; half < 2; ++half) {
        vector_sum[half] += unit_from_bits(pipeline::splitmix64_mix(counters));
        counters += step;
      }
    }
    std::memcpy(sum, &vector_sum, sizeof vector_sum);
#else
    for (Eigen::Index k = 0; k < side * side; k += pipeline::sums) {
      for (int l = 0; l < pipeline::sums; ++l) {
        sum[l] += pipeline::stream_value(0, static_cast<std::uint64_t>(k + l));
      }
    }
#endif
    benchmark::DoNotOptimize(sum);
  });
}

// The multiply-adds and the chunk's loads alone: each row multiplies the chunk by one value.
// Four times the kernel's accumulators, so that this measures the multiply-adds' throughput and
// not the latency of one chain of them (on a core with 4-cycle FMAs, one vector of accumulators
// would read twice the kernel's own time and bound nothing).
void BM_multiply_add_only(benchmark::State& state) {
  const double* x = chunk_values().data();
  constexpr int lanes = 4 * pipeline::sums;
  measure(state, [&] {
    double sum[lanes] = {};
    double row_value = 0.5;
    for (Eigen::Index i = 0; i < side; ++i) {
      for (Eigen::Index j = 0; j + lanes <= side; j += lanes) {
        for (int l = 0; l < lanes; ++l) sum[l] += row_value * x[j + l];
      }
      row_value += 1e-9;
    }
    benchmark::DoNotOptimize(sum);
  });
}

}  // namespace

BENCHMARK(BM_pipeline_kernel)->UseManualTime()->Unit(benchmark::kMillisecond)->MinTime(0.5);
BENCHMARK(BM_pipeline_kernel_row_by_row)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->MinTime(0.5);
BENCHMARK(BM_generator_only)->UseManualTime()->Unit(benchmark::kMillisecond)->MinTime(0.5);
BENCHMARK(BM_multiply_add_only)->UseManualTime()->Unit(benchmark::kMillisecond)->MinTime(0.5);
BENCHMARK_MAIN();
