// THE parking primitive. Every blocking operation in grove (joining a nursery, start(), sleep,
// event, mutex, semaphore, channel, Asio completions) suspends through park(), and every wake-up
// goes through the decision of a wait: whoever moves it from `pending` decides the park, exactly
// once. A resource hand-off (signal) and a cancellation therefore race in exactly one place,
// the compare-exchange of decide_wait (task.hpp) on the owner's decision word; the loser does
// nothing. A waiter is bound to its task's next wait with begin_wait before it is findable.
//
// Protocol of one park (the caller holds `guard`, the lock of the structure in which the waiter
// is findable, e.g. an event's wait list):
//   1. task.state = parking (the waiter was bound to the task with begin_wait).
//   2. A cancellable park registers the task in its innermost cancel node (cancel_tree.cpp) and
//      re-checks the scope chain; if already cancelled it decides `cancelled` itself and returns
//      without switching.
//   3. guard is released; the fiber switches to its worker, which commits parking -> parked
//      (or finds the task already woken and re-queues it).
//   4. Resumed: the task leaves the cancel node; if cancelled, it leaves the wait list under
//      guard. The outcome is returned.
// Waking (wake()) is idempotent and callable from any thread; it is only ever called by the
// thread that decided a wait, so a wake never leaks into a later park.
#pragma once

#include <grove/detail/spin_lock.hpp>
#include <grove/detail/wait_list.hpp>
#include <mutex>

namespace grove::detail {

struct task;

struct park_options {
  bool cancellable = true;
  const char* what = "?";  // shown by dump_task_tree: "parked on <what>"
};

// Parks the current task on `w` (see the protocol above). `guard` owns the lock under which w is
// findable; park releases it (and returns with it released), so that every exit path of the
// caller, a throw included, leaves the lock as RAII says.
wait_outcome park(waiter& w, std::unique_lock<spin_lock>& guard, park_options options);

// The same park for a wait decided through a lock-free word instead of a locked list (the
// nursery join): the task is `parking` before `publish` makes the waiter findable; `publish`
// returns false when there is nothing to wait for (then nobody has seen the waiter and the task
// does not switch). Not cancellable.
wait_outcome park_unless_done(waiter& w, const char* what, bool (*publish)(void* context),
                              void* context);

// Makes the owner of a decided waiter runnable. Any thread. `to_run_next`: the waker handed it
// a resource it will use at once (a mutex); on the waker's worker it runs next.
void wake(task* t, bool to_run_next = false) noexcept;

// Decides `signalled` for w and wakes its owner; false if w was already decided (cancelled).
// Does not touch w after waking (the owner may return and destroy it at once).
bool signal(waiter& w) noexcept;

// Decides `signalled` for the longest waiter of `list` whose cancellation has not won, and
// unlinks it; null if there is none. The caller holds the list's lock, may then hand the waiter
// its resource (the owner cannot run before it is woken), and must wake w->owner last.
// Cancelled waiters stay linked until their owners unlink them under the lock: no waker writes
// to a waiter it did not win, except signal_all, which links its losers back under that lock.
waiter* take_first_live(wait_list& list) noexcept;
// take_first_live + wake; false if no live waiter. The caller holds the list's lock.
bool signal_first(wait_list& list) noexcept;
// Wakes every live waiter of `list` and empties it, without writing to the waiters it wins;
// those whose cancellation won are linked back, for their owners to unlink under the lock.
// The caller holds the list's lock.
void signal_all(wait_list& list) noexcept;

// Suspends the current task and puts it at the back of its worker's run queue.
void yield_current(task* t);
// runtime_options::schedule_seed: at a checkpoint that need not wait, yields now and then (a
// seeded coin flip), so that a seed explores interleavings the program's own waits do not force.
// Without a seed: nothing.
void seeded_extra_yield(task* t);

}  // namespace grove::detail
