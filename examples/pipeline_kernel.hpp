// The work of one chunk in the seed's trio pipeline, `np.sum(np.random.rand(N, N) * chunk)`,
// without materialising the N x len(chunk) random matrix: its rows are generated one at a time
// from a generator seeded by (seed, chunk index), so a chunk's result is the same whichever
// worker computes it and in whatever order — a parallel run matches a serial one exactly.
#pragma once

#include <Eigen/Core>
#include <cstdint>

namespace pipeline {

// splitmix64: tiny, fast and statistically fine for a workload generator.
class random_stream {
 public:
  explicit random_stream(std::uint64_t seed) : state_(seed) {}
  double next_unit() noexcept {  // uniform in [0, 1), like numpy.random.rand
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return static_cast<double>(z >> 11) * 0x1.0p-53;
  }

 private:
  std::uint64_t state_;
};

inline std::uint64_t chunk_seed(std::uint64_t seed, std::size_t chunk_index) {
  return seed * 0x100000001B3ULL + 0x9E3779B97F4A7C15ULL * (chunk_index + 1);
}

// sum_{i < rows, j} R[i, j] * chunk[j] with R ~ U[0, 1) streamed row by row.
template <class Chunk>
double chunk_result(const Chunk& chunk, Eigen::Index rows, std::uint64_t seed,
                    std::size_t chunk_index) {
  random_stream random(chunk_seed(seed, chunk_index));
  const Eigen::Index columns = chunk.size();
  Eigen::ArrayXd row(columns);
  const Eigen::ArrayXd values = chunk.array();
  double total = 0.0;
  for (Eigen::Index i = 0; i < rows; ++i) {
    for (Eigen::Index j = 0; j < columns; ++j) row[j] = random.next_unit();
    total += (row * values).sum();
  }
  return total;
}

}  // namespace pipeline
