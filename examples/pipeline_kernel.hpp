// The work of one chunk in the seed's trio pipeline, `np.sum(np.random.rand(N, N) * chunk)`,
// without materialising the N x len(chunk) random matrix: it is generated as it is consumed,
// from a generator seeded by (seed, chunk index), so a chunk's result is the same whichever
// worker computes it and in whatever order — a parallel run matches a serial one exactly.
//
// The generator is splitmix64, which is counter-based: value e of a stream is a fixed mix of
// seed + (e + 1) * golden_gamma, independent of the values before it. So the kernel computes 16
// values at once in two AVX-512 registers where the target has AVX-512DQ (64-bit multiplies
// and conversions to double), and one at a time elsewhere, into 16 running sums added in one
// fixed order: the values are bit for bit those of random_stream, and the result depends on
// no worker count or schedule. What bounds it is the generator (two 64-bit multiplies per
// value): see docs/benchmarks.md.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <cstring>

namespace pipeline {

inline constexpr std::uint64_t golden_gamma = 0x9E3779B97F4A7C15ULL;

// splitmix64's output function, for one 64-bit word or a vector of them (the kernel's SIMD
// form below), and its mapping to [0, 1) (53 random bits, like numpy's rand).
template <class Words>
[[gnu::always_inline]] inline Words splitmix64_mix(Words z) noexcept {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}
inline double unit_from_bits(std::uint64_t z) noexcept {
  return static_cast<double>(z >> 11) * 0x1.0p-53;
}
// Value k (from 0) of the stream whose state is `state`: what random_stream(state) returns on
// its (k + 1)-th call.
inline double stream_value(std::uint64_t state, std::uint64_t k) noexcept {
  return unit_from_bits(splitmix64_mix(state + golden_gamma * (k + 1)));
}

// The sequential form: value e is unit_from_bits(splitmix64_mix(seed + (e + 1) * golden_gamma)).
class random_stream {
 public:
  explicit random_stream(std::uint64_t seed) : state_(seed) {}
  double next_unit() noexcept {  // uniform in [0, 1), like numpy.random.rand
    return unit_from_bits(splitmix64_mix(state_ += golden_gamma));
  }

 private:
  std::uint64_t state_;
};

inline std::uint64_t chunk_seed(std::uint64_t seed, std::size_t chunk_index) {
  return seed * 0x100000001B3ULL + golden_gamma * (chunk_index + 1);
}

// The kernel keeps 16 running sums: value j of a row goes into sum j mod 16 (the row's last
// columns % 16 values into a 17th, the tail), and the sums are added in index order at the end.
// That order is the result's definition; the two forms below both follow it, so they return
// the same bits (tests/eigen_test.cpp).
inline constexpr int sums = 16;

#if defined(__AVX512DQ__)
namespace simd {

// GCC and Clang vector types: eight 64-bit lanes, one AVX-512 register.
inline constexpr int lanes = 8;
using u64s = std::uint64_t __attribute__((vector_size(8 * lanes)));
using f64s = double __attribute__((vector_size(8 * lanes)));

[[gnu::always_inline]] inline f64s unit_from_bits(u64s z) noexcept {
  return __builtin_convertvector(z >> 11, f64s) * 0x1.0p-53;
}

}  // namespace simd

// Sums `columns` values of one row into `sum` (the row's stream state is row_start): two 8-lane
// vectors per step, sums 0-7 and 8-15.
inline void add_row(const double* x, std::int64_t columns, std::uint64_t row_start,
                    double (&sum)[sums]) noexcept {
  using simd::f64s;
  using simd::lanes;
  using simd::u64s;
  u64s counters;
  for (int l = 0; l < lanes; ++l) counters[l] = row_start + golden_gamma * (l + 1);
  const u64s step = u64s{} + golden_gamma * lanes;
  f64s vector_sum[2];
  std::memcpy(&vector_sum, sum, sizeof vector_sum);
  for (std::int64_t j = 0; j + sums <= columns; j += sums) {
    for (int half = 0; half < 2; ++half) {
      f64s column_values;
      std::memcpy(&column_values, x + j + half * lanes, sizeof column_values);
      vector_sum[half] += simd::unit_from_bits(splitmix64_mix(counters)) * column_values;
      counters += step;
    }
  }
  std::memcpy(sum, &vector_sum, sizeof vector_sum);
}
#else
// Without AVX-512's 64-bit multiply and conversion, the compiler's emulation of the vector form
// is slower than plain scalar code (1.9 against 1.0 ns per value with AVX2): the same sums, one
// value at a time.
inline void add_row(const double* x, std::int64_t columns, std::uint64_t row_start,
                    double (&sum)[sums]) noexcept {
  for (std::int64_t j = 0; j + sums <= columns; j += sums) {
    for (int l = 0; l < sums; ++l) {
      sum[l] += stream_value(row_start, static_cast<std::uint64_t>(j + l)) * x[j + l];
    }
  }
}
#endif

// sum_{i < rows, j} R[i, j] * chunk[j] with R ~ U[0, 1) the chunk's stream in row-major order.
template <class Chunk>
double chunk_result(const Chunk& chunk, Eigen::Index rows, std::uint64_t seed,
                    std::size_t chunk_index) {
  const Eigen::ArrayXd values = chunk.array();  // contiguous, whatever the chunk's expression
  const double* x = values.data();
  const std::int64_t columns = values.size();
  const std::int64_t blocked = columns - columns % sums;
  double sum[sums] = {};
  double tail_sum = 0.0;
  std::uint64_t row_start = chunk_seed(seed, chunk_index);  // the stream's state before row i
  for (Eigen::Index i = 0; i < rows; ++i) {
    add_row(x, columns, row_start, sum);
    for (std::int64_t j = blocked; j < columns; ++j) {
      tail_sum += stream_value(row_start, static_cast<std::uint64_t>(j)) * x[j];
    }
    row_start += golden_gamma * static_cast<std::uint64_t>(columns);
  }
  double total = 0.0;
  for (const double s : sum) total += s;
  return total + tail_sum;
}

}  // namespace pipeline
