// The collective protocol behind grove::mpi::map_chunks.
//
//   1. Agreement: an all-gather of (parts, length); any difference is usage_error on every rank
//      (each rank sees the same gathered values, so each decides the same).
//   2. Every rank posts one receive per peer for that peer's control message (tag 32700): its
//      outcome, `ok`, `failed` (with the message), `cancelled` (its own cancel scope) or
//      `stopped` (a peer's outcome stopped it). Every rank sends exactly one control message to
//      every peer per call, whatever happens, so the receives of one call never see the
//      messages of the next (MPI keeps each pair's messages in order) and no rank waits for a
//      message that will not come.
//   3. Watcher tasks wait on those receives; a control message other than `ok` cancels this
//      rank's compute scope. A chunk that throws sends `failed` to every peer at once, from the
//      chunk's task (failure_hook), so the peers stop while this rank's own chunks wind down.
//   4. When every control message is in, every rank knows every outcome and decides alike:
//      failures -> exception_group of remote_error (rank order); else a rank's own cancellation
//      -> `cancelled` there and remote_error(cancelled) elsewhere; else an all-gather of the
//      results, in chunk order (blocks of chunks are dealt in rank order).
// Every wait parks the task (grove::mpi::wait); none is interrupted, so an enclosing
// cancellation cannot strand a message.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstring>
#include <grove/cancel.hpp>
#include <grove/errors.hpp>
#include <grove/mpi.hpp>
#include <grove/nursery.hpp>
#include <grove/runtime.hpp>
#include <string>
#include <vector>

namespace grove::mpi::detail {
namespace {

constexpr int control_tag = 32700;

enum class outcome : std::int32_t { ok, failed, cancelled, stopped };

struct control_message {
  outcome what = outcome::ok;
  char text[500] = {};
};

std::string describe(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const std::exception& e) {
    return e.what();
  } catch (...) {
    return "an exception not derived from std::exception";
  }
}

void check_agreement(MPI_Comm comm, int size, std::size_t parts, std::size_t length) {
  const std::uint64_t mine[2] = {parts, length};
  std::vector<std::uint64_t> all(2 * static_cast<std::size_t>(size));
  MPI_Request request;
  MPI_Iallgather(mine, 2, MPI_UINT64_T, all.data(), 2, MPI_UINT64_T, comm, &request);
  wait(request);
  for (int r = 0; r < size; ++r) {
    const std::uint64_t* theirs = &all[2 * static_cast<std::size_t>(r)];
    if (theirs[0] != all[0] || theirs[1] != all[1]) {
      throw grove::usage_error("grove::mpi::map_chunks: the ranks disagree: rank 0 has " +
                               std::to_string(all[1]) + " rows in " + std::to_string(all[0]) +
                               " parts, rank " + std::to_string(r) + " has " +
                               std::to_string(theirs[1]) + " in " + std::to_string(theirs[0]));
    }
  }
}

// This rank's sends: one control message to every peer, once.
struct control_sender : failure_hook {
  MPI_Comm comm;
  int rank;
  int size;
  control_message message;
  std::vector<MPI_Request> requests;
  std::atomic<bool> sent{false};

  control_sender(MPI_Comm c, int r, int s)
      : failure_hook{&on_chunk_failure}, comm(c), rank(r), size(s) {
    requests.assign(static_cast<std::size_t>(s), MPI_REQUEST_NULL);
  }

  void send(outcome what, const std::string& text) noexcept {
    if (sent.exchange(true)) return;
    message.what = what;
    std::strncpy(message.text, text.c_str(), sizeof message.text - 1);
    for (int peer = 0; peer < size; ++peer) {
      if (peer == rank) continue;
      MPI_Isend(&message, sizeof message, MPI_BYTE, peer, control_tag, comm,
                &requests[static_cast<std::size_t>(peer)]);
    }
  }

  static void on_chunk_failure(failure_hook& self, std::exception_ptr error) noexcept {
    std::string text;
    try {
      text = describe(error);
    } catch (...) {
      // Out of memory for the text: the outcome still goes out.
    }
    static_cast<control_sender&>(self).send(outcome::failed, text);
  }

  void wait_all() {
    for (MPI_Request& r : requests) {
      if (r != MPI_REQUEST_NULL) wait(r);
    }
  }
};

}  // namespace

void distributed_map(const boost::mpi::communicator& communicator, std::size_t parts,
                     std::size_t length, std::size_t result_size, chunk_work work,
                     void* all_results) {
  // Not a checkpoint on entry, unlike the local algorithms: a rank that left before the first
  // collective would hang the others. A cancelled rank takes part and reports `cancelled`.
  if (!grove::in_task()) {
    throw grove::usage_error("grove::mpi::map_chunks: needs a task (call it inside runtime::run)");
  }
  MPI_Comm comm = communicator;
  const int rank = communicator.rank();
  const int size = communicator.size();
  check_agreement(comm, size, parts, length);

  // This rank's block of chunks.
  const auto block_start = [&](int r) {
    return parts * static_cast<std::size_t>(r) / static_cast<std::size_t>(size);
  };
  const std::size_t first = block_start(rank);
  const std::size_t last = block_start(rank + 1);

  std::vector<control_message> received(static_cast<std::size_t>(size));
  std::vector<MPI_Request> receives(static_cast<std::size_t>(size), MPI_REQUEST_NULL);
  for (int peer = 0; peer < size; ++peer) {
    if (peer == rank) continue;
    MPI_Irecv(&received[static_cast<std::size_t>(peer)], sizeof(control_message), MPI_BYTE, peer,
              control_tag, comm, &receives[static_cast<std::size_t>(peer)]);
  }
  control_sender sender(comm, rank, size);
  std::vector<unsigned char> mine((last - first) * result_size);
  outcome my_outcome = outcome::ok;
  std::exception_ptr my_error;
  std::string my_text;  // my_error's message

  grove::cancel_scope compute_scope;
  grove::open_nursery([&](grove::nursery& watchers) {
    for (int peer = 0; peer < size; ++peer) {
      if (peer == rank) continue;
      watchers.start_soon([&, peer] {
        wait(receives[static_cast<std::size_t>(peer)]);
        if (received[static_cast<std::size_t>(peer)].what != outcome::ok) compute_scope.cancel();
      });
    }
    try {
      compute_scope.run([&] { work.compute(work.context, first, last, mine.data(), sender); });
      if (compute_scope.cancelled_caught()) my_outcome = outcome::stopped;
    } catch (const grove::cancelled&) {
      my_outcome = outcome::cancelled;
    } catch (...) {
      my_outcome = outcome::failed;
      my_error = std::current_exception();
      my_text = describe(my_error);
    }
    sender.send(my_outcome, my_text);
    sender.wait_all();
  });

  // Every outcome is known here, the same on every rank.
  received[static_cast<std::size_t>(rank)].what = my_outcome;
  std::vector<std::exception_ptr> failures;
  std::vector<std::exception_ptr> cancellations;
  for (int r = 0; r < size; ++r) {
    const control_message& m = received[static_cast<std::size_t>(r)];
    const std::string text = r == rank ? my_text : std::string(m.text);
    if (m.what == outcome::failed) {
      failures.push_back(std::make_exception_ptr(
          remote_error(r, text, false, r == rank ? my_error : std::exception_ptr())));
    } else if (m.what == outcome::cancelled) {
      cancellations.push_back(std::make_exception_ptr(remote_error(r, "cancelled", true)));
    }
  }
  if (!failures.empty()) throw grove::exception_group(std::move(failures));
  if (my_outcome == outcome::cancelled) {
    grove::checkpoint();  // raises this task's cancellation, which stopped the chunks
    throw grove::cancelled{};
  }
  if (!cancellations.empty()) throw grove::exception_group(std::move(cancellations));

  std::vector<int> counts(static_cast<std::size_t>(size));
  std::vector<int> offsets(static_cast<std::size_t>(size));
  for (int r = 0; r < size; ++r) {
    counts[static_cast<std::size_t>(r)] =
        static_cast<int>((block_start(r + 1) - block_start(r)) * result_size);
    offsets[static_cast<std::size_t>(r)] = static_cast<int>(block_start(r) * result_size);
  }
  MPI_Request gather;
  MPI_Iallgatherv(mine.data(), counts[static_cast<std::size_t>(rank)], MPI_BYTE, all_results,
                  counts.data(), offsets.data(), MPI_BYTE, comm, &gather);
  wait(gather);
}

}  // namespace grove::mpi::detail
