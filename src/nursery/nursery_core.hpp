// A nursery's private state, how its children finish, and how start() meets its task.
//
// The live count is one atomic word: the number of unfinished children, plus a bit the owner sets
// when it parks to join. Spawning is a relaxed increment; no lock is taken on the spawn path.
//
// Join protocol:
//   1. The owner runs its own not-yet-stolen children inline while it can (nursery.cpp).
//   2. count == 0 -> done. Else the owner stores join_waiter, becomes `parking`, and sets the
//      waiting bit with a compare-exchange that fails if the count reached 0 meanwhile (then it
//      does not park: nobody has seen the waiter).
//   3. A finishing child decrements the word (acq_rel); the one that takes it from
//      (waiting | 1) to (waiting | 0) signals join_waiter. No other child touches the nursery
//      after its decrement: the owner may return and destroy it at any moment.
// An error is recorded and the nursery's scope cancelled *before* the decrement, so the owner
// cannot return while a child is still cancelling through the nursery's node.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <exception>
#include <grove/cancel.hpp>
#include <grove/detail/spin_lock.hpp>
#include <grove/nursery.hpp>
#include <semaphore>
#include <vector>

#include "cancel/cancel_tree.hpp"
#include "task/park.hpp"

namespace grove::detail {

struct task;
class runtime_core;

struct nursery_core {
  explicit nursery_core(task* opener);
  nursery_core(const nursery_core&) = delete;
  nursery_core& operator=(const nursery_core&) = delete;

  scope_node& node() noexcept { return scope.node_; }
  void record_error(std::exception_ptr error) noexcept;
  void child_finished(task* child, bool was_cancelled) noexcept;

  static constexpr std::uint64_t owner_waiting = std::uint64_t{1} << 63;
  static constexpr std::uint64_t count_mask = owner_waiting - 1;
  std::size_t live_children() const noexcept {
    return static_cast<std::size_t>(live.load(std::memory_order_relaxed) & count_mask);
  }

  grove::cancel_scope scope;
  std::atomic<std::uint64_t> live{0};      // unfinished children | owner_waiting
  waiter* join_waiter = nullptr;           // published by the owner's CAS on `live`
  std::atomic<bool> saw_cancelled{false};  // some child raised `cancelled`
  spin_lock lock;                          // guards the listed children and errors
  task* first_child = nullptr;             // listed children (see task::listed)
  std::vector<std::exception_ptr> errors;  // in order of occurrence
  nursery_owned* owned = nullptr;          // guarded by lock: nursery::emplace objects
  task* owner;
  nursery_core* enclosing = nullptr;  // the owner's next outer open nursery
  runtime_core* runtime;
  nursery facade;
};

// Where run() waits for its root task.
struct root_wait {
  std::binary_semaphore done{0};
  std::exception_ptr error;
};

// Where start() waits for started() or the task's end (the handshake). The task writes the
// outcome and signals the caller under `lock`, and the caller takes `lock` after every wake-up
// before it reads the outcome, so the task is done with this record (on the caller's stack)
// before the caller can return.
struct start_wait {
  enum class result : unsigned char { pending, started, failed };
  spin_lock lock;
  waiter first_park;             // the caller's cancellable park in its own scopes
  waiter second_park;            // after its cancellation went on to the task: the rest of the wait
  waiter* caller = &first_park;  // guarded by lock: the park the task signals
  result outcome = result::pending;  // guarded by lock
  std::exception_ptr error;          // guarded by lock
  cancel_node* gate = nullptr;       // the task's start gate
  task* child = nullptr;
  cancel_forwarder forwarder;  // the caller's, while it parks (cancel_tree.cpp, step 7)
};

// Lists `t` in its nursery's children (if it is a child and not listed yet), so that
// dump_task_tree shows it. Called by the task itself when it first runs on its own fiber or parks.
void make_visible_in_nursery(task* t);
// Completion of a child task (called from complete_task).
void complete_child(task* t, std::exception_ptr error, bool was_cancelled) noexcept;
// Completion of a root task (runtime.cpp).
void complete_root(task* t, std::exception_ptr error) noexcept;

}  // namespace grove::detail
