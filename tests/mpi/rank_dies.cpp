// A rank that dies inside map_chunks: rank 1 aborts in its chunk while the others wait for it.
// Run by check_rank_dies.py under mpiexec, which must end the whole job with an error naming
// rank 1; no rank may print a result (nothing reports partial results as complete).
#include <Eigen/Core>
#include <cstdio>
#include <cstdlib>
#include <grove/grove.hpp>
#include <grove/mpi.hpp>

int main(int argc, char** argv) {
  grove::mpi::environment mpi(argc, argv);
  grove::runtime rt{grove::runtime_options{.workers = 2}};
  const Eigen::ArrayXd data = Eigen::ArrayXd::Ones(64);
  const auto sums = rt.run([&] {
    return grove::mpi::map_chunks(mpi.world(), data, 8, [&](const auto& s) {
      if (mpi.world().rank() == 1) std::abort();
      for (int i = 0; i < 1000; ++i) grove::checkpoint();
      return s.sum();
    });
  });
  std::printf("rank %d: complete, %zu results\n", mpi.world().rank(), sums.size());
  return 0;
}
