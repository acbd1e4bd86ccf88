// The seed article's trio pipeline across MPI ranks with grove::mpi: the chunks of
// np.array_split(data, C) are dealt to the ranks in blocks, each rank computes its block with all
// of its workers, and every rank gets every chunk's result, in chunk order. The total is the one
// chunked_pipeline prints for the same flags, whatever the number of ranks:
//
//   mpirun -np 2 build/release/examples/mpi_pipeline --n 4000 --chunks 16
//   build/release/examples/mpi_pipeline --n 4000 --chunks 16      (one rank, without mpirun)
//
// Rank 0 prints, for every rank, the chunks it computed and how long its share took, then the
// results and the total.
#include <atomic>
#include <boost/mpi/collectives.hpp>
#include <chrono>
#include <cstdio>
#include <grove/eigen.hpp>
#include <grove/grove.hpp>
#include <grove/mpi.hpp>
#include <vector>

#include "example_support.hpp"
#include "pipeline_flags.hpp"
#include "pipeline_kernel.hpp"

namespace {

pipeline::flags parse(int argc, char** argv) {
  pipeline::flags s;
  CLI::App app{
      "The seed article's trio pipeline across MPI ranks: each of C chunks computes "
      "sum(rand(N, len(chunk)) * chunk), the chunks dealt to the ranks in blocks.",
      "mpi_pipeline"};
  pipeline::add_flags(app, s, "grove workers per rank (0: the CPUs it may use)");
  example::parse_or_exit(app, argc, argv);
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  grove::mpi::environment mpi(argc, argv);
  const pipeline::flags s = parse(argc, argv);
  const boost::mpi::communicator& world = mpi.world();

  const Eigen::ArrayXd data = pipeline::make_data(s);  // the same on every rank

  grove::runtime rt{grove::runtime_options{.workers = s.workers}};
  std::atomic<long> computed{0};
  std::atomic<double> last_done{0};
  const auto start = std::chrono::steady_clock::now();
  const std::vector<double> results = rt.run([&] {
    return grove::mpi::map_chunks(
        world, data, static_cast<std::size_t>(s.chunks), [&](const auto& chunk, std::size_t k) {
          grove::checkpoint();  // the seed's `await trio.sleep(0)`
          const double r = pipeline::chunk_result(chunk, s.n, s.seed, k);
          ++computed;
          const double now =
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          double seen = last_done.load();
          while (seen < now && !last_done.compare_exchange_weak(seen, now)) {
          }
          return r;
        });
  });
  const double call_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  // Each rank's share: its chunks, and the time from the call until its last chunk finished.
  std::vector<long> chunks_of;
  std::vector<double> seconds_of;
  boost::mpi::gather(world, computed.load(), chunks_of, 0);
  boost::mpi::gather(world, last_done.load(), seconds_of, 0);
  if (world.rank() != 0) return 0;
  std::printf("grove mpi pipeline: %ld chunks over %d ranks, %u workers each\n", s.chunks,
              world.size(), rt.worker_count());
  for (std::size_t r = 0; r < chunks_of.size(); ++r) {
    std::printf("  rank %zu: %ld chunks, %.3f s\n", r, chunks_of[r], seconds_of[r]);
  }
  double total = 0.0;
  for (std::size_t k = 0; k < results.size(); ++k) {
    std::printf("  chunk %zu: %.6f\n", k, results[k]);
    total += results[k];
  }
  std::printf("total: %.6f\n", total);
  std::printf("time: %.3f s on %d ranks\n", call_seconds, world.size());
  return 0;
}
