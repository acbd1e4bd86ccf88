// The Eigen adapters (docs/reference.md §8) and the chunked pipeline example's kernel.
#include <doctest/doctest.h>

#include <cmath>
#include <grove/eigen.hpp>
#include <grove/grove.hpp>

#include "../examples/pipeline_kernel.hpp"
#include "support/runtime_fixture.hpp"

using grove_test::run_on;

namespace {
// numpy.array_split's sizes, written out independently.
std::vector<Eigen::Index> numpy_sizes(Eigen::Index size, std::size_t n) {
  std::vector<Eigen::Index> sizes;
  const auto parts = static_cast<Eigen::Index>(n);
  for (Eigen::Index k = 0; k < parts; ++k)
    sizes.push_back(size / parts + (k < size % parts ? 1 : 0));
  return sizes;
}
}  // namespace

TEST_CASE("array_split sizes follow numpy's rule: 10 into 3 is 4, 3, 3") {
  Eigen::VectorXd v = Eigen::VectorXd::LinSpaced(10, 0, 9);
  auto parts = grove::eigen::array_split(v, 3);
  REQUIRE(parts.size() == 3);
  CHECK(parts[0].size() == 4);
  CHECK(parts[1].size() == 3);
  CHECK(parts[2].size() == 3);
  CHECK(parts[1][0] == 4.0);
}

TEST_CASE("array_split sizes match numpy for many sizes and counts, with empty trailing segments") {
  int mismatches = 0;
  for (Eigen::Index size = 0; size < 40; ++size) {
    Eigen::ArrayXd x = Eigen::ArrayXd::Zero(size);
    for (std::size_t n = 1; n < 50; ++n) {
      auto parts = grove::eigen::array_split(x, n);
      const auto expected = numpy_sizes(size, n);
      if (parts.size() != n) ++mismatches;
      Eigen::Index covered = 0;
      for (std::size_t k = 0; k < n; ++k) {
        if (parts[k].size() != expected[k]) ++mismatches;
        covered += parts[k].size();
      }
      if (covered != size) ++mismatches;
    }
  }
  CHECK(mismatches == 0);
}

TEST_CASE("array_split gives writable views of non-const input") {
  Eigen::VectorXd v = Eigen::VectorXd::Zero(7);
  auto parts = grove::eigen::array_split(v, 2);
  parts[1].setConstant(5.0);
  CHECK(v[3] == 0.0);
  CHECK(v[4] == 5.0);
  CHECK(v[6] == 5.0);
}

TEST_CASE("array_split of a matrix gives blocks of whole rows, whatever the storage order") {
  Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> m(5, 3);
  m.setZero();
  auto parts = grove::eigen::array_split(m, 2);
  CHECK(parts[0].rows() == 3);
  CHECK(parts[1].rows() == 2);
  CHECK(parts[0].cols() == 3);
  const Eigen::MatrixXd c = Eigen::MatrixXd::Ones(4, 2);
  auto const_parts = grove::eigen::array_split(c, 4);
  CHECK(const_parts[3].rows() == 1);
  CHECK(const_parts[3].sum() == 2.0);
}

TEST_CASE("array_split with n = 0 is usage_error") {
  Eigen::VectorXd v(3);
  CHECK_THROWS_AS(grove::eigen::array_split(v, 0), grove::usage_error);
}

TEST_CASE("map_chunks returns results in chunk order") {
  run_on(2, [] {
    Eigen::VectorXd v = Eigen::VectorXd::LinSpaced(100, 1, 100);
    auto sums = grove::eigen::map_chunks(v, 7, [](const auto& segment) { return segment.sum(); });
    REQUIRE(sums.size() == 7);
    auto parts = grove::eigen::array_split(v, 7);
    for (std::size_t k = 0; k < 7; ++k) CHECK(sums[k] == parts[k].sum());
  });
}

TEST_CASE("parallel_sum is within floating-point tolerance of the serial sum") {
  run_on(2, [] {
    Eigen::VectorXd v = Eigen::VectorXd::Random(1 << 20);
    const double expected = v.sum();
    CHECK(std::abs(grove::eigen::parallel_sum(v) - expected) <= 1e-9 * (1 << 20));
    Eigen::MatrixXf m = Eigen::MatrixXf::Ones(300, 7);
    CHECK(grove::eigen::parallel_sum(m) == doctest::Approx(2100.0));
    Eigen::VectorXd empty(0);
    CHECK(grove::eigen::parallel_sum(empty) == 0.0);
  });
}

TEST_CASE("map_chunks and parallel_sum need a task") {
  Eigen::VectorXd v = Eigen::VectorXd::Ones(4);
  CHECK_THROWS_AS(grove::eigen::parallel_sum(v), grove::usage_error);
  CHECK_THROWS_AS(grove::eigen::map_chunks(v, 2, [](const auto& s) { return s.sum(); }),
                  grove::usage_error);
}

TEST_CASE("the pipeline example's chunk results match a serial run with the same seed") {
  const Eigen::Index n = 64;
  Eigen::ArrayXd data = Eigen::ArrayXd::LinSpaced(n * 8, 0.0, 1.0);
  std::vector<double> serial;
  auto parts = grove::eigen::array_split(data, 8);
  for (std::size_t k = 0; k < parts.size(); ++k) {
    serial.push_back(pipeline::chunk_result(parts[k], n, 7, k));
  }
  const auto parallel = run_on(2, [&] {
    std::vector<double> out(8);
    grove::open_nursery([&](grove::nursery& nursery) {
      for (std::size_t k = 0; k < 8; ++k) {
        nursery.start_soon([&, k] { out[k] = pipeline::chunk_result(parts[k], n, 7, k); });
      }
    });
    return out;
  });
  CHECK(parallel == serial);
  // And the kernel is the seed's formula: sum over a random matrix times the chunk.
  pipeline::random_stream random(pipeline::chunk_seed(7, 0));
  double direct = 0.0;
  for (Eigen::Index i = 0; i < n; ++i) {
    for (Eigen::Index j = 0; j < parts[0].size(); ++j) direct += random.next_unit() * parts[0][j];
  }
  CHECK(serial[0] == doctest::Approx(direct).epsilon(1e-12));
}

TEST_CASE("the pipeline kernel's vectorised generator yields random_stream's values bit for bit") {
  // A one-hot chunk picks one column of the random matrix: with two rows the kernel returns
  // R[0, j] + R[1, j] exactly (every other product is 0), in the SIMD blocks and the row tail.
  const Eigen::Index columns = 37;  // two 16-value blocks and a tail of 5
  std::vector<double> stream_values;
  pipeline::random_stream random(pipeline::chunk_seed(3, 5));
  for (Eigen::Index k = 0; k < 2 * columns; ++k) stream_values.push_back(random.next_unit());
  for (Eigen::Index j = 0; j < columns; ++j) {
    Eigen::ArrayXd one_hot = Eigen::ArrayXd::Zero(columns);
    one_hot[j] = 1.0;
    const double expected = stream_values[static_cast<std::size_t>(j)] +
                            stream_values[static_cast<std::size_t>(columns + j)];
    CHECK(pipeline::chunk_result(one_hot, 2, 3, 5) == expected);
  }
}

TEST_CASE("parallel_sum sums contiguous storage flat, whatever the storage order") {
  using row_major = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::MatrixXd column_major = Eigen::MatrixXd::Random(300, 200);
  const row_major rows = column_major;
  CHECK(grove::eigen::detail::contiguous(column_major));
  CHECK(grove::eigen::detail::contiguous(rows));
  CHECK(grove::eigen::detail::contiguous(column_major.col(3)));        // one column: contiguous
  CHECK_FALSE(grove::eigen::detail::contiguous(column_major.row(3)));  // strided
  CHECK_FALSE(grove::eigen::detail::contiguous(column_major.block(10, 10, 50, 50)));
  grove_test::run_on(2, [&] {
    const double expected = column_major.sum();
    CHECK(grove::eigen::parallel_sum(column_major) == doctest::Approx(expected).epsilon(1e-12));
    CHECK(grove::eigen::parallel_sum(rows) == doctest::Approx(expected).epsilon(1e-12));
    // Not contiguous: summed by blocks of rows.
    const auto block = column_major.block(10, 10, 50, 50);
    CHECK(grove::eigen::parallel_sum(block) == doctest::Approx(block.sum()).epsilon(1e-12));
    CHECK(grove::eigen::parallel_sum(column_major.row(7)) ==
          doctest::Approx(column_major.row(7).sum()).epsilon(1e-12));
  });
}
