// The consumer program of every consumer test (find_package, add_subdirectory, pkg-config):
// runs a task, and with GROVE_CONSUMER_EIGEN the Eigen adapters of grove::eigen too (with
// GROVE_CONSUMER_MPI, also grove::mpi::map_chunks on one rank).
#include <cstdio>
#include <grove/grove.hpp>
#include <grove/version.hpp>
#if defined(GROVE_CONSUMER_EIGEN)
#include <grove/eigen.hpp>
#endif
#if defined(GROVE_CONSUMER_MPI)
#include <grove/mpi.hpp>
#endif

static_assert(GROVE_VERSION >= 100, "grove 0.1 or later");

int main() {
#if defined(GROVE_CONSUMER_MPI)
  grove::mpi::environment mpi;  // one rank: run without mpiexec
#endif
  grove::runtime rt{grove::runtime_options{.workers = 2}};
  int v = rt.run([] { return 41 + 1; });
  const bool outside = !grove::in_task();
  bool eigen_ok = true;
#if defined(GROVE_CONSUMER_EIGEN)
  const Eigen::VectorXd ones = Eigen::VectorXd::Ones(1000);
  eigen_ok = rt.run([&] { return grove::eigen::parallel_sum(ones); }) == 1000.0;
#endif
#if defined(GROVE_CONSUMER_MPI)
  const auto sums = rt.run([&] {
    return grove::mpi::map_chunks(mpi.world(), ones, 4, [](const auto& s) { return s.sum(); });
  });
  eigen_ok = eigen_ok && sums.size() == 4 && sums[0] + sums[1] + sums[2] + sums[3] == 1000.0;
#endif
  std::printf("grove consumer %d.%d.%d: run returned %d; in_task() after run: %s; eigen: %s\n",
              GROVE_VERSION_MAJOR, GROVE_VERSION_MINOR, GROVE_VERSION_PATCH, v,
              outside ? "false" : "true", eigen_ok ? "ok" : "wrong");
  return v == 42 && outside && eigen_ok ? 0 : 1;
}
