// A nursery's private state, how its children finish, and how start() meets its task.
//
// The live count is split so that the common case, an owner spawning children and running them
// inline at its join, takes no atomic read-modify-write (a locked instruction costs ~8 ns, a
// sixth of a fork-join task):
//   - owner_spawned / owner_inline_finished: children the owner spawned / ran inline to their end.
//     Only the owner writes them (load + store, no RMW). Other threads (child_count(), a dump)
//     read all three in the order and under the sequence lock that live_children() describes.
//   - live: one atomic word, 2 × (children spawned by other tasks − children that finished other
//     than inline on the owner), plus bit 0, set while the owner parks to join. It may go below
//     zero (two's complement; bit 0 is never borrowed from, as every step is ±2) until the owner
//     folds its own counts in.
// The sum of the three is exact at every moment the owner reads it: every increment of `live`
// precedes its matching decrement, and the owner's own fields are its own.
//
// Join protocol:
//   1. The owner runs its own not-yet-stolen children inline while it can (nursery.cpp).
//   2. The owner folds its counts into `live` (one RMW per park, not per child); count == 0 ->
//      done. Else it stores join_waiter, becomes `parking`, and sets the waiting bit with a
//      compare-exchange that fails if the count reached 0 meanwhile (then it does not park:
//      nobody has seen the waiter).
//   3. A child that finishes other than inline decrements the word (acq_rel); the one that takes
//      it from (waiting | 1 child) to (waiting | 0) signals join_waiter. No other child touches
//      the nursery after its decrement: the owner may return and destroy it at any moment.
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

  static constexpr std::uint64_t owner_waiting = 1;
  static constexpr std::uint64_t one_child = 2;
  // The signed child count held in a value of `live`.
  static std::int64_t count_in(std::uint64_t word) noexcept {
    return static_cast<std::int64_t>(word) >> 1;
  }
  // Unfinished children, exact; only the owner calls this (its own fields are stable then).
  std::size_t owner_live_children() const noexcept {
    return clamp(count_in(live.load(std::memory_order_acquire)) +
                 owner_spawned.load(std::memory_order_relaxed) -
                 owner_inline_finished.load(std::memory_order_relaxed));
  }
  // Unfinished children as seen from any thread (child_count(), dumps): never fewer than the
  // children unfinished throughout the call, so a child asking counts at least itself.
  std::size_t live_children() const noexcept;
  // The owner's own counts (see the header); only the owner calls these. release: a reader that
  // sees a child's inline finish also sees the spawn that preceded it (see live_children()).
  static void bump(std::atomic<std::int64_t>& owner_count) noexcept {
    owner_count.store(owner_count.load(std::memory_order_relaxed) + 1, std::memory_order_release);
  }
  void fold_owner_counts() noexcept;
  static std::size_t clamp(std::int64_t count) noexcept {
    return count > 0 ? static_cast<std::size_t>(count) : 0;
  }

  grove::cancel_scope scope;
  std::atomic<std::uint64_t> live{0};  // 2 × (other-spawned − finished not inline) | waiting
  std::atomic<std::int64_t> owner_spawned{0};
  std::atomic<std::int64_t> owner_inline_finished{0};
  std::atomic<std::uint64_t> folds{0};     // odd while the owner folds its counts into `live`
  waiter* join_waiter = nullptr;           // published by the owner's CAS on `live`
  std::atomic<bool> saw_cancelled{false};  // some child raised `cancelled`
  // Set once nursery::cancel_scope() handed the scope object out: from then on another thread
  // may cancel or re-deadline the node while the owner leaves it (cancel_tree.cpp, step 9).
  std::atomic<bool> scope_handed_out{false};
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
// dump_task_tree shows it, with the inline parents it runs on the stack of. Called by a thread
// that owns `t` (see task::listed): the task itself when it first runs on its own fiber or
// parks, and during a dump, its spawner, its inline runner, or the dump itself.
void make_visible_in_nursery(task* t);
// Makes `t` a child of `n` (counted, in the cancel tree under `scope_parent`: the nursery's node,
// or a start gate), before it is scheduled.
void attach_child(nursery_core& n, task* t, cancel_node* scope_parent);
// The task's side of the start() handshake (start.cpp): its outcome, handed to the caller.
void finish_handshake(start_wait& wait, start_wait::result outcome, std::exception_ptr error);
// Completion of a child task (called from complete_task).
void complete_child(task* t, std::exception_ptr error, bool was_cancelled) noexcept;
// Completion of a root task (runtime.cpp).
void complete_root(task* t, std::exception_ptr error) noexcept;

}  // namespace grove::detail
