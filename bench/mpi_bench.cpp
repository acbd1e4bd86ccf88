// grove::mpi's costs, under mpiexec (any number of ranks, one run each): what the distributed
// path adds per call and per chunk over the local grove::eigen::map_chunks in the same process,
// and how long a failure on the last rank takes to end the call on every rank. Not a Google
// Benchmark: every rank must take part in every repetition, in the same order.
//
//   mpiexec -n 1 build/release/bench/mpi_bench
//   mpiexec -n 2 --oversubscribe build/release/bench/mpi_bench
#include <algorithm>
#include <boost/mpi/collectives.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <grove/eigen.hpp>
#include <grove/grove.hpp>
#include <grove/mpi.hpp>
#include <stdexcept>
#include <vector>

namespace {

using clock_type = std::chrono::steady_clock;  // CLOCK_MONOTONIC: shared by the ranks of a host

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now().time_since_epoch())
      .count();
}

// Seconds per call of `call`, the median of `repeats` (after one warm-up).
template <class F>
double seconds_per_call(grove::runtime& rt, const boost::mpi::communicator& world, int repeats,
                        F&& call) {
  std::vector<double> times;
  for (int i = 0; i <= repeats; ++i) {
    world.barrier();
    const auto start = clock_type::now();
    rt.run(call);
    const double s = std::chrono::duration<double>(clock_type::now() - start).count();
    if (i != 0) times.push_back(s);
  }
  return median(times);
}

}  // namespace

int main(int argc, char** argv) {
  grove::mpi::environment mpi(argc, argv);
  const boost::mpi::communicator& world = mpi.world();
  grove::runtime rt;
  const bool report = world.rank() == 0;
  if (report) {
    std::printf("grove::mpi costs: %d ranks, %u workers each\n", world.size(), rt.worker_count());
  }

  // 1. Overhead: trivial chunks (a sum of 16 values), so the protocol is all there is.
  const Eigen::ArrayXd data = Eigen::ArrayXd::LinSpaced(16 * 256, 0, 1);
  const auto chunk_sum = [](const auto& s) { return s.sum(); };
  if (report)
    std::printf("%8s %14s %14s %10s %16s\n", "chunks", "local us", "mpi us", "ratio",
                "mpi us per chunk");
  for (std::size_t parts : {16, 64, 256}) {
    const double local = seconds_per_call(
        rt, world, 50, [&] { return grove::eigen::map_chunks(data, parts, chunk_sum); });
    const double distributed = seconds_per_call(
        rt, world, 50, [&] { return grove::mpi::map_chunks(world, data, parts, chunk_sum); });
    if (report) {
      std::printf("%8zu %14.1f %14.1f %10.2f %16.2f\n", parts, local * 1e6, distributed * 1e6,
                  distributed / local, distributed * 1e6 / static_cast<double>(parts));
    }
  }

  // 2. Cancellation across ranks: the last rank's first chunk throws; every other chunk
  // checkpoints until it is cancelled. Latency: from the throw to the last rank's return.
  const int failing = world.size() - 1;
  std::vector<double> latencies;
  for (int i = 0; i < 21; ++i) {
    world.barrier();
    std::int64_t thrown_at = 0;
    rt.run([&] {
      try {
        grove::mpi::map_chunks(world, data, 8, [&](const auto&, std::size_t k) -> double {
          if (world.rank() == failing &&
              k == 8 * static_cast<std::size_t>(failing) / world.size()) {
            thrown_at = now_ns();
            throw std::runtime_error("stop");
          }
          for (;;) grove::checkpoint();
        });
      } catch (const grove::exception_group&) {
      }
    });
    const std::int64_t returned_at = now_ns();
    std::int64_t last_return = 0;
    std::int64_t throw_time = 0;
    boost::mpi::all_reduce(world, returned_at, last_return, boost::mpi::maximum<std::int64_t>());
    boost::mpi::all_reduce(world, thrown_at, throw_time, boost::mpi::maximum<std::int64_t>());
    if (i != 0) latencies.push_back(static_cast<double>(last_return - throw_time) / 1e6);
  }
  if (report) {
    std::printf(
        "cancel across ranks (throw on rank %d -> every rank returned): median %.2f ms, "
        "max %.2f ms over %zu runs\n",
        failing, median(latencies), *std::max_element(latencies.begin(), latencies.end()),
        latencies.size());
  }
  return 0;
}
