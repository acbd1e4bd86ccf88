// grove::mpi across the ranks of MPI_COMM_WORLD (ctest runs this under mpiexec with 1, 2 and 4
// ranks): waits that park, map_chunks equal to the single-process result, a failure on one
// rank raised on every rank, a cancellation on one rank reaching every rank, and ranks that
// disagree. Every rank runs every test case, in the same order (they are collectives).
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <boost/mpi/collectives.hpp>
#include <chrono>
#include <cstdint>
#include <grove/eigen.hpp>
#include <grove/grove.hpp>
#include <grove/mpi.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

const boost::mpi::communicator& world() {
  static const boost::mpi::communicator comm;
  return comm;
}

// The same data on every rank, from a fixed seed (splitmix64).
Eigen::ArrayXd seeded_data(Eigen::Index size, std::uint64_t seed) {
  Eigen::ArrayXd data(size);
  for (Eigen::Index i = 0; i < size; ++i) {
    std::uint64_t z = seed + static_cast<std::uint64_t>(i + 1) * 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    data[i] = static_cast<double>((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
  }
  return data;
}

std::int64_t now_ns() {
  // steady_clock is CLOCK_MONOTONIC: the ranks of one host share it.
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The chunk of a failing rank raises this; every other chunk runs until it is cancelled.
void spin_until_cancelled() {
  for (;;) grove::checkpoint();
}

}  // namespace

TEST_CASE("a task waiting on an MPI request parks: its worker runs the task that completes it") {
  grove::runtime rt{grove::runtime_options{.workers = 1}};
  const int rank = world().rank();
  const int received = rt.run([&] {
    int value = -1;
    grove::open_nursery([&](grove::nursery& n) {
      n.start_soon([&] {
        MPI_Request request;
        MPI_Irecv(&value, 1, MPI_INT, rank, 7, world(), &request);
        grove::mpi::wait(request);  // one worker: a blocking wait would never let the send run
      });
      n.start_soon([&] {
        int sent = 40 + rank;
        boost::mpi::request request = world().isend(rank, 7, sent);
        grove::mpi::wait(request);
      });
    });
    return value;
  });
  CHECK(received == 40 + rank);
  CHECK_THROWS_AS(
      [] {
        MPI_Request request = MPI_REQUEST_NULL;
        grove::mpi::wait(request);
      }(),
      grove::usage_error);
}

TEST_CASE("map_chunks across the ranks equals map_chunks in one process") {
  grove::runtime rt{grove::runtime_options{.workers = 2}};
  const Eigen::ArrayXd data = seeded_data(10007, 2024);
  for (std::size_t parts : {1, 3, 8, 16}) {
    CAPTURE(parts);
    const auto weighted = [](const auto& segment, std::size_t k) {
      return (segment * static_cast<double>(k + 1)).sum();
    };
    const auto local = rt.run([&] {
      return grove::eigen::map_chunks(data, parts, [&](const auto& s) { return s.sum(); });
    });
    const auto distributed = rt.run([&] {
      return grove::mpi::map_chunks(world(), data, parts, [](const auto& s) { return s.sum(); });
    });
    CHECK(distributed == local);  // the same doubles, bit for bit: the same sums per chunk
    const auto indexed =
        rt.run([&] { return grove::mpi::map_chunks(world(), data, parts, weighted); });
    REQUIRE(indexed.size() == parts);
    const auto segments = grove::eigen::array_split(data, parts);
    for (std::size_t k = 0; k < parts; ++k) CHECK(indexed[k] == weighted(segments[k], k));
  }
}

TEST_CASE("a chunk that fails on rank 1 cancels every rank, and every rank raises its error") {
  grove::runtime rt{grove::runtime_options{.workers = 2}};
  const int size = world().size();
  const int failing = std::min(1, size - 1);
  const std::size_t parts = 8;
  const std::size_t failing_chunk = parts * static_cast<std::size_t>(failing) / size;
  const Eigen::ArrayXd data = seeded_data(800, 7);
  bool raised = false;
  std::int64_t thrown_at = 0;
  rt.run([&] {
    try {
      grove::mpi::map_chunks(world(), data, parts, [&](const auto&, std::size_t k) -> double {
        if (k == failing_chunk) {
          thrown_at = now_ns();
          throw std::runtime_error("chunk failed on purpose");
        }
        spin_until_cancelled();  // only the failure, through every rank, ends these
        return 0;
      });
    } catch (const grove::exception_group& group) {
      raised = true;
      REQUIRE(group.exceptions().size() == 1);
      try {
        std::rethrow_exception(group.exceptions().front());
      } catch (const grove::mpi::remote_error& e) {
        CHECK(e.rank() == failing);
        CHECK_FALSE(e.cancelled());
        CHECK(std::string(e.what()) ==
              "rank " + std::to_string(failing) + ": chunk failed on purpose");
        CHECK((e.original() != nullptr) == (world().rank() == failing));
      }
    }
  });
  CHECK(raised);
  // From the throw to the last rank's return (a shared clock on one host). The measured figure
  // is a few milliseconds (docs/benchmarks.md); the bound here only has to catch a cancellation
  // that waits for something else, and must not flake on a loaded machine.
  std::int64_t last_return = 0;
  std::int64_t throw_time = 0;
  boost::mpi::all_reduce(world(), now_ns(), last_return, boost::mpi::maximum<std::int64_t>());
  boost::mpi::all_reduce(world(), thrown_at, throw_time, boost::mpi::maximum<std::int64_t>());
  CHECK(last_return - throw_time < std::int64_t{5'000'000'000});
}

TEST_CASE("chunks failing on every rank: one remote_error per rank, in rank order") {
  grove::runtime rt{grove::runtime_options{.workers = 2}};
  const int size = world().size();
  const Eigen::ArrayXd data = seeded_data(800, 5);
  std::vector<int> ranks;
  rt.run([&] {
    try {
      grove::mpi::map_chunks(world(), data, static_cast<std::size_t>(size),
                             [](const auto&, std::size_t k) -> double {
                               throw std::runtime_error("chunk " + std::to_string(k));
                             });
    } catch (const grove::exception_group& group) {
      for (const std::exception_ptr& e : group.exceptions()) {
        try {
          std::rethrow_exception(e);
        } catch (const grove::mpi::remote_error& r) {
          ranks.push_back(r.rank());
          CHECK(std::string(r.what()) ==
                "rank " + std::to_string(r.rank()) + ": chunk " + std::to_string(r.rank()));
        }
      }
    }
  });
  std::vector<int> expected(static_cast<std::size_t>(size));
  for (int r = 0; r < size; ++r) expected[static_cast<std::size_t>(r)] = r;
  CHECK(ranks == expected);
}

TEST_CASE("a cancel scope around the call on rank 0 cancels it on every rank") {
  grove::runtime rt{grove::runtime_options{.workers = 2}};
  const Eigen::ArrayXd data = seeded_data(400, 11);
  const int rank = world().rank();
  bool caught_here = false;
  bool raised_elsewhere = false;
  rt.run([&] {
    grove::cancel_scope scope;
    grove::event running;
    grove::open_nursery([&](grove::nursery& n) {
      if (rank == 0) {
        n.start_soon([&] {
          running.wait();
          scope.cancel();
        });
      }
      try {
        scope.run([&] {
          grove::mpi::map_chunks(world(), data, 4, [&](const auto&) -> double {
            running.set();
            spin_until_cancelled();
            return 0;
          });
        });
      } catch (const grove::exception_group& group) {
        REQUIRE(group.exceptions().size() == 1);
        try {
          std::rethrow_exception(group.exceptions().front());
        } catch (const grove::mpi::remote_error& e) {
          raised_elsewhere = e.rank() == 0 && e.cancelled();
        }
      }
      caught_here = scope.cancelled_caught();
    });
  });
  CHECK(caught_here == (rank == 0));
  CHECK(raised_elsewhere == (rank != 0));
}

TEST_CASE("ranks that disagree on the parts or the length get usage_error on every rank") {
  grove::runtime rt{grove::runtime_options{.workers = 2}};
  const Eigen::ArrayXd data = seeded_data(100, 3);
  const int rank = world().rank();
  const std::size_t parts = world().size() == 1 ? 4 : 4 + static_cast<std::size_t>(rank);
  bool usage = false;
  rt.run([&] {
    try {
      grove::mpi::map_chunks(world(), data, parts, [](const auto& s) { return s.sum(); });
    } catch (const grove::usage_error& e) {
      usage = std::string(e.what()).find("the ranks disagree") != std::string::npos;
    }
  });
  CHECK(usage == (world().size() > 1));
  // The same for the length of the data.
  const Eigen::ArrayXd longer = seeded_data(100 + rank, 3);
  bool usage_for_length = false;
  rt.run([&] {
    try {
      grove::mpi::map_chunks(world(), longer, 4, [](const auto& s) { return s.sum(); });
    } catch (const grove::usage_error& e) {
      usage_for_length = std::string(e.what()).find("the ranks disagree") != std::string::npos;
    }
  });
  CHECK(usage_for_length == (world().size() > 1));
  // Not left in a state that breaks the next call: the same call with agreement works.
  const auto sums = rt.run([&] {
    return grove::mpi::map_chunks(world(), data, 4, [](const auto& s) { return s.sum(); });
  });
  CHECK(sums.size() == 4);
}

int main(int argc, char** argv) {
  grove::mpi::environment mpi(argc, argv);
  doctest::Context context(argc, argv);
  // Every rank prints its own report; only rank 0's summary is kept unless a rank fails.
  if (mpi.world().rank() != 0) context.setOption("minimal", true);
  const int failed = context.run();
  // One verdict for the job: a failure on any rank fails every rank's exit status.
  int any = 0;
  MPI_Allreduce(&failed, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return any;
}
