// grove::mpi, the optional scale-out component (link grove::mpi): MPI from grove tasks, where
// a task waiting on a request parks and one progress thread per process tests the requests, and
// map_chunks across the ranks of a communicator with grove's error and cancellation semantics.
// Reference: docs/mpi.md.
#pragma once

#include <mpi.h>

#include <boost/mpi/communicator.hpp>
#include <boost/mpi/environment.hpp>
#include <boost/mpi/request.hpp>
#include <boost/mpi/status.hpp>
#include <cstddef>
#include <exception>
#include <grove/cancel.hpp>
#include <grove/detail/export.hpp>
#include <grove/eigen.hpp>
#include <grove/nursery.hpp>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace grove::mpi {

// MPI for a grove program: initialises MPI at MPI_THREAD_MULTIPLE (grove's workers and its
// progress thread all call MPI) and starts the progress thread; the destructor stops that thread,
// then finalises MPI. One per process, created before any other grove::mpi call. A library that
// provides less than MPI_THREAD_MULTIPLE is a usage_error, naming the level it gave.
class GROVE_API environment {
 public:
  environment(int& argc, char**& argv);
  environment();
  ~environment();
  environment(const environment&) = delete;
  environment& operator=(const environment&) = delete;

  const boost::mpi::communicator& world() const noexcept { return world_; }

 private:
  void start();
  std::optional<boost::mpi::environment> mpi_;
  boost::mpi::communicator world_;
};

// Parks the calling task until `request` completes (the progress thread tests it), freeing its
// worker meanwhile. Needs a task (usage_error outside one). Not a checkpoint and not interrupted
// by cancellation: an MPI operation cannot be withdrawn reliably, so the wait always sees it
// through, and a pending cancellation is raised at the task's next checkpoint.
GROVE_API MPI_Status wait(MPI_Request& request);
GROVE_API boost::mpi::status wait(boost::mpi::request& request);

// One rank's failure (or cancellation) in a distributed call, as every rank reports it.
class GROVE_API remote_error : public std::runtime_error {
 public:
  remote_error(int rank, const std::string& message, bool cancelled,
               std::exception_ptr original = nullptr);
  int rank() const noexcept { return rank_; }
  // The rank's own cancel scope cancelled the call there (message "cancelled").
  bool cancelled() const noexcept { return cancelled_; }
  // On the failing rank itself: the exception its chunk raised; null on the others.
  std::exception_ptr original() const noexcept { return original_; }

 private:
  int rank_;
  bool cancelled_;
  std::exception_ptr original_;
};

namespace detail {

// What map_chunks hands to the protocol (src/mpi/distributed_map.cpp): how to compute this
// rank's chunks [first, last) into `out` (an array of last - first results), and a hook a
// failing chunk calls at once, so that the other ranks hear of the failure before this rank's
// other chunks wind down.
struct chunk_work {
  void (*compute)(void* context, std::size_t first, std::size_t last, void* out,
                  struct failure_hook& hook);
  void* context;
};
struct failure_hook {
  void (*report)(failure_hook& self, std::exception_ptr error) noexcept;
  void chunk_failed(std::exception_ptr error) noexcept { report(*this, std::move(error)); }
};

// The collective protocol: checks that every rank agrees on `parts` and `length`, computes this
// rank's share, and leaves every chunk's result (result_size bytes each) in `all_results`, in
// chunk order, on every rank; or raises the same error on every rank.
GROVE_API void distributed_map(const boost::mpi::communicator& comm, std::size_t parts,
                               std::size_t length, std::size_t result_size, chunk_work work,
                               void* all_results);

}  // namespace detail

// numpy.array_split(x, parts) over the global data (every rank holds x, the same on each), then
// chunk k computed on one rank, f(segment) or f(segment, k), in parallel with this rank's
// workers. Returns every chunk's result in chunk order on every rank: the same values as
// grove::eigen::map_chunks(x, parts, f) in one process, whatever the number of ranks. Chunks are
// dealt in contiguous blocks (rank r gets chunks [r·parts/size, (r+1)·parts/size)). Results must
// be trivially copyable (they travel as bytes). A collective: every rank of `comm` calls it, in
// the same order as its other grove::mpi collectives on `comm`, with the same parts and length
// (otherwise usage_error on every rank). It uses tag 32700 of `comm`.
// Errors: a chunk that throws cancels the work on every rank, and every rank raises one
// exception_group of remote_error, one per failing rank (in rank order, with its message). A
// cancel scope around the call on one rank cancels it everywhere: that rank raises `cancelled`,
// the others an exception_group of one remote_error with cancelled() true. No rank returns early.
template <class D, class F>
auto map_chunks(const boost::mpi::communicator& comm, const Eigen::DenseBase<D>& x,
                std::size_t parts, F&& f) {
  auto segments = grove::eigen::array_split(x, parts);
  using segment_list = decltype(segments);
  using segment = typename segment_list::value_type;
  constexpr bool indexed = std::is_invocable_v<F&, const segment&, std::size_t>;
  static_assert(indexed || std::is_invocable_v<F&, const segment&>,
                "grove::mpi::map_chunks: f must be callable as f(segment) or f(segment, k)");
  using call_result =
      std::conditional_t<indexed, std::invoke_result<F&, const segment&, std::size_t>,
                         std::invoke_result<F&, const segment&>>;
  using result = typename call_result::type;
  static_assert(std::is_trivially_copyable_v<result> && !std::is_void_v<result>,
                "grove::mpi::map_chunks: results travel between ranks as bytes: f must return a "
                "trivially copyable value");
  struct context_type {
    F& f;
    segment_list& chunks;
  } context{f, segments};
  const auto compute = [](void* raw, std::size_t first, std::size_t last, void* out,
                          detail::failure_hook& hook) {
    auto& c = *static_cast<context_type*>(raw);
    auto* results = static_cast<result*>(out);
    open_nursery([&](nursery& n) {
      for (std::size_t k = first; k < last; ++k) {
        n.start_soon([&c, &hook, results, first, k] {
          try {
            if constexpr (indexed) {
              results[k - first] = c.f(c.chunks[k], k);
            } else {
              results[k - first] = c.f(c.chunks[k]);
            }
          } catch (const grove::cancelled&) {
            throw;  // stopped, not failed
          } catch (...) {
            hook.chunk_failed(std::current_exception());
            throw;
          }
        });
      }
    });
  };
  std::vector<result> all(parts);
  // array_split's length: coefficients of a vector, rows of a matrix.
  const auto length = static_cast<std::size_t>(D::IsVectorAtCompileTime ? x.size() : x.rows());
  detail::distributed_map(comm, parts, length, sizeof(result), {compute, &context}, all.data());
  return all;
}

}  // namespace grove::mpi
