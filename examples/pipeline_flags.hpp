// The seed pipeline's flags and data, shared by chunked_pipeline and mpi_pipeline: the same
// flags give the same data, the same chunks and the same total in both programs.
#pragma once

#include <Eigen/Core>

#include "example_support.hpp"
#include "pipeline_kernel.hpp"

namespace pipeline {

struct flags {
  long n = 10000;  // the seed's rand(10000, 10000); also each chunk's length
  long chunks = 8;
  unsigned workers = 0;  // 0: every CPU this process may use
  unsigned long long seed = 2024;
};

// --n, --chunks, --workers (described by `workers_help`) and --seed.
inline void add_flags(CLI::App& app, flags& f, const char* workers_help) {
  app.add_option("--n", f.n, "each chunk's random matrix is N x len(chunk); data has N*C values")
      ->check(example::positive_integer())
      ->capture_default_str();
  app.add_option("--chunks", f.chunks, "number of chunks, as np.array_split(data, C)")
      ->check(example::positive_integer())
      ->capture_default_str();
  app.add_option("--workers", f.workers, workers_help)
      ->check(example::non_negative_integer())
      ->capture_default_str();
  app.add_option("--seed", f.seed, "random seed")
      ->check(example::non_negative_integer())
      ->capture_default_str();
}

// The data: N·C values uniform in [0, 1) from the seed, as numpy.random.rand(N * C).
inline Eigen::ArrayXd make_data(const flags& f) {
  random_stream random(f.seed);
  Eigen::ArrayXd data(f.n * f.chunks);
  for (Eigen::Index i = 0; i < data.size(); ++i) data[i] = random.next_unit();
  return data;
}

}  // namespace pipeline
