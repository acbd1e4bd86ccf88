// Eigen adapters (docs/reference.md §8), namespace grove::eigen: numpy-style array_split into
// views, and chunked parallel map and sum on grove's nurseries. Eigen stays single-threaded inside
// tasks; the parallelism is grove's. The only grove header that includes Eigen.
#pragma once

#include <Eigen/Core>
#include <cstddef>
#include <grove/algorithm.hpp>
#include <grove/errors.hpp>
#include <grove/nursery.hpp>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

namespace grove::eigen {

namespace detail {

// numpy.array_split's sizes: the first size % n segments are one longer.
inline std::pair<Eigen::Index, Eigen::Index> segment_bounds(Eigen::Index size, std::size_t n,
                                                            std::size_t k) {
  const auto parts = static_cast<Eigen::Index>(n);
  const auto index = static_cast<Eigen::Index>(k);
  const Eigen::Index base = size / parts;
  const Eigen::Index longer = size % parts;
  const Eigen::Index start = index * base + std::min(index, longer);
  return {start, base + (index < longer ? 1 : 0)};
}

// Contiguous coefficients for a 1-D expression, whole rows for a matrix (numpy's axis 0).
template <class X>
auto slice(X& x, Eigen::Index start, Eigen::Index length) {
  using plain = std::remove_const_t<X>;
  if constexpr (plain::IsVectorAtCompileTime) {
    return x.segment(start, length);
  } else {
    return x.middleRows(start, length);
  }
}

template <class X>
Eigen::Index extent(const X& x) {
  if constexpr (X::IsVectorAtCompileTime) {
    return x.size();
  } else {
    return x.rows();
  }
}

template <class X>
auto split(X& x, std::size_t n) {
  if (n == 0) throw usage_error("grove::eigen::array_split: n must be at least 1");
  using block = decltype(slice(x, 0, 0));
  std::vector<block> parts;
  parts.reserve(n);
  const Eigen::Index size = extent(x);
  for (std::size_t k = 0; k < n; ++k) {
    const auto [start, length] = segment_bounds(size, n, k);
    parts.push_back(slice(x, start, length));
  }
  return parts;
}

// Whether x's coefficients are one contiguous array in memory (a plain matrix or vector of
// either storage order, a Map of one, a contiguous block): then a reduction may walk the memory
// instead of the rows, which for a column-major matrix are strided.
template <class X>
bool contiguous(const X& x) {
  if constexpr ((int(X::Flags) & Eigen::DirectAccessBit) != 0) {
    if (x.innerStride() != 1) return false;
    return X::IsVectorAtCompileTime || x.outerSize() <= 1 || x.outerStride() == x.innerSize();
  } else {
    return false;
  }
}

// The pieces of a parallel reduction over `length` units: at least 16 Ki coefficients each
// (per-piece overhead stays far below memory time), and about 8 per worker.
inline Eigen::Index reduction_grain(Eigen::Index length, Eigen::Index coefficients_per_unit) {
  const Eigen::Index grain = std::max<Eigen::Index>(
      1, (Eigen::Index{1} << 14) / std::max<Eigen::Index>(1, coefficients_per_unit));
  return std::max<Eigen::Index>(
      grain, length / (static_cast<Eigen::Index>(grove::detail::current_worker_count()) * 8));
}

}  // namespace detail

// n contiguous segments whose sizes differ by at most one, like numpy.array_split; n larger than
// the size gives empty trailing segments. Writable views of non-const input.
template <class D>
auto array_split(Eigen::DenseBase<D>& x, std::size_t n) {
  return detail::split(x.derived(), n);
}

template <class D>
auto array_split(const Eigen::DenseBase<D>& x, std::size_t n) {
  return detail::split(x.derived(), n);
}

// f(segment) for each of the n segments of array_split(x, n), in parallel; the results in chunk
// order (void when f returns void).
template <class D, class F>
auto map_chunks(const Eigen::DenseBase<D>& x, std::size_t n, F&& f) {
  grove::detail::algorithm_checkpoint("grove::eigen::map_chunks");
  auto parts = array_split(x, n);
  using segment = typename decltype(parts)::value_type;
  using result = std::invoke_result_t<F&, const segment&>;
  if constexpr (std::is_void_v<result>) {
    open_nursery([&](nursery& nurse) {
      for (const segment& part : parts) nurse.start_soon([&f, &part] { f(part); });
    });
  } else {
    std::vector<std::optional<result>> slots(parts.size());
    open_nursery([&](nursery& nurse) {
      for (std::size_t k = 0; k < parts.size(); ++k) {
        nurse.start_soon([&f, &parts, &slots, k] { slots[k].emplace(f(parts[k])); });
      }
    });
    std::vector<result> results;
    results.reserve(slots.size());
    for (auto& slot : slots) results.push_back(std::move(*slot));
    return results;
  }
}

// The sum of all coefficients, in parallel pieces each summed with Eigen's vectorised sum; within
// floating-point tolerance of x.sum(). Contiguous storage (any plain matrix, whatever its
// storage order) is summed as one flat array, so a column-major matrix costs no more than a
// vector; other expressions are summed by blocks of rows.
template <class D>
typename D::Scalar parallel_sum(const Eigen::DenseBase<D>& x) {
  grove::detail::algorithm_checkpoint("grove::eigen::parallel_sum");
  using scalar = typename D::Scalar;
  const D& whole = x.derived();
  auto add = [](scalar a, scalar b) { return a + b; };
  if (detail::contiguous(whole)) {
    const Eigen::Map<const Eigen::Array<scalar, Eigen::Dynamic, 1>> flat(whole.data(),
                                                                         whole.size());
    return parallel_reduce(
        Eigen::Index{0}, flat.size(), scalar(0),
        [&](Eigen::Index b, Eigen::Index e) { return flat.segment(b, e - b).sum(); }, add,
        detail::reduction_grain(flat.size(), 1));
  }
  const Eigen::Index length = detail::extent(whole);
  const Eigen::Index per_unit = D::IsVectorAtCompileTime ? 1 : whole.cols();
  return parallel_reduce(
      Eigen::Index{0}, length, scalar(0),
      [&](Eigen::Index b, Eigen::Index e) { return detail::slice(whole, b, e - b).sum(); }, add,
      detail::reduction_grain(length, per_unit));
}

}  // namespace grove::eigen
