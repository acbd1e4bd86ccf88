// grove::mutex: a task-owned lock with direct FIFO hand-off.
//
// The state word holds the holder's task id shifted left by one (ids are unique in the process
// and never reused, so a task allocated where a finished holder was is not taken for it) and a
// contended bit:
//   0                free; lock() takes it with one compare-exchange
//   id << 1          held, nobody queued; unlock() frees it with one compare-exchange
//   id << 1 | 1      held, tasks may be queued; unlock() takes lock_ and hands over
// Lockers set the contended bit under lock_, just before queueing, so an unlock() whose
// compare-exchange fails because of the bit finds them queued once it gets lock_. While the bit
// is set, the word changes only under lock_ (the fast paths only move it from 0 or from a bare
// holder), which lets the hand-off store the new holder with a plain store. The bit may stay
// set with nobody queued (the waiter was cancelled); that costs one slow unlock, which clears it.
//
// Before queueing, a locker on a runtime with more than one worker spins briefly while the
// mutex is held and nobody is queued: the holder is most likely running on another worker and
// about to unlock (critical sections are short), and taking the freed word costs one cache-line
// transfer where parking costs a park, a wake and a reschedule on every acquisition (a convoy:
// with FIFO hand-off each unlock would pass the mutex to a parked task that must first be
// scheduled). Spinning never overtakes a queued waiter: once the contended bit is set, unlock()
// hands over and the word never reads 0, so a spinner stops and queues behind the others.
#include <grove/errors.hpp>
#include <grove/sync.hpp>
#include <mutex>

#include "scheduler/runtime_core.hpp"
#include "scheduler/worker.hpp"
#include "sync/blocking_call.hpp"

namespace grove {
namespace {

constexpr std::uintptr_t contended_bit = 1;
// How long a locker spins before queueing, in pause instructions (a few microseconds: longer
// than a typical critical section plus the line transfer, far shorter than a park and a wake).
constexpr unsigned spin_limit = 64;

std::uintptr_t word_of(const detail::task* t) noexcept {
  return static_cast<std::uintptr_t>(t->id) << 1;
}

// Spinning pays only while the holder runs on another worker and this worker has nothing else
// to do: a task ready here (the one we just handed the mutex to, say) would wait for the spin.
bool worth_spinning(const detail::task* self) noexcept {
  if (self->runtime->worker_count() < 2) return false;
  const detail::worker* here = detail::worker::current();
  return here != nullptr && here->has_nothing_else_to_run();
}

}  // namespace

bool mutex::held_by(const detail::task* self) const noexcept {
  // relaxed: only `self` itself can make the holder part equal to `self`.
  return (state_.load(std::memory_order_relaxed) & ~contended_bit) == word_of(self);
}

void mutex::lock() {
  detail::task* self = detail::require_task("grove::mutex::lock");
  if (held_by(self)) {
    throw usage_error(
        "grove::mutex::lock: the calling task already holds this mutex (it is not recursive)");
  }
  if (detail::task_cancel_requested(self)) throw cancelled{};
  detail::seeded_extra_yield(self);
  lock_as(self, true);
}

bool mutex::try_lock() {
  detail::task* self = detail::require_task("grove::mutex::try_lock");
  if (held_by(self)) {
    throw usage_error("grove::mutex::try_lock: the calling task already holds this mutex");
  }
  std::uintptr_t expected = 0;
  // acquire: pairs with the release that freed or handed over the mutex in unlock_as().
  if (!state_.compare_exchange_strong(expected, word_of(self), std::memory_order_acquire,
                                      std::memory_order_relaxed)) {
    return false;
  }
  ++self->held_locks;
  return true;
}

void mutex::unlock() {
  detail::task* self = detail::require_task("grove::mutex::unlock");
  if (!held_by(self)) {
    throw usage_error("grove::mutex::unlock: the calling task does not hold this mutex");
  }
  unlock_as(self);
}

void mutex::lock_as(detail::task* self, bool cancellable) {
  std::uintptr_t expected = 0;
  // acquire: pairs with the release in unlock_as().
  if (state_.compare_exchange_strong(expected, word_of(self), std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
    ++self->held_locks;
    return;
  }
  const bool may_spin = worth_spinning(self);
  if (may_spin && spin_until_free(self)) return;
  std::unique_lock guard(lock_);
  std::uintptr_t s = state_.load(std::memory_order_relaxed);
  for (;;) {
    if (s == 0) {
      if (state_.compare_exchange_weak(s, word_of(self), std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        ++self->held_locks;
        return;
      }
    } else if ((s & contended_bit) != 0) {
      break;
    } else if (state_.compare_exchange_weak(s, s | contended_bit, std::memory_order_relaxed,
                                            std::memory_order_relaxed)) {
      // relaxed: the unlocker that sees the bit reads the queue under lock_, which we hold.
      break;
    }
  }
  detail::waiter w;
  detail::begin_wait(w, self);
  waiters_.push_back(w);
  if (may_spin && spin_in_queue(w, guard)) {
    ++self->held_locks;
    return;
  }
  self->waiting_for_holder.store(s >> 1, std::memory_order_relaxed);
  const detail::wait_outcome outcome =
      detail::park(w, guard, {.cancellable = cancellable, .what = "grove::mutex::lock"});
  self->waiting_for_holder.store(0, std::memory_order_relaxed);
  if (outcome == detail::wait_outcome::cancelled) throw cancelled{};
  // Signalled: unlock_as() made us the holder before waking us.
  ++self->held_locks;
}

bool mutex::spin_until_free(detail::task* self) noexcept {
  for (unsigned i = 0; i < spin_limit; ++i) {
    detail::spin_pause();
    std::uintptr_t s = state_.load(std::memory_order_relaxed);
    if ((s & contended_bit) != 0) return false;  // others are queued: join them, in order
    // acquire: pairs with the release in unlock_as().
    if (s == 0 && state_.compare_exchange_weak(s, word_of(self), std::memory_order_acquire,
                                               std::memory_order_relaxed)) {
      ++self->held_locks;
      return true;
    }
  }
  return false;
}

// Queued, the locker spins on its waiter before parking: an unlock() that hands over to it
// while it spins costs no wake-up and no reschedule (wake() leaves a running task alone), so
// two tasks on two workers pass the mutex back and forth in FIFO order without parking.
bool mutex::spin_in_queue(detail::waiter& w, std::unique_lock<detail::spin_lock>& guard) {
  guard.unlock();
  for (unsigned i = 0; i < spin_limit; ++i) {
    detail::spin_pause();
    if (detail::wait_decision_of(*w.owner) != detail::wait_outcome::pending) break;
  }
  // The unlocker decides, hands over and wakes under lock_: once we hold it again, it has let
  // go of `w` (on this stack) and of this task, and its decision is visible (acquire).
  guard.lock();
  if (detail::wait_decision_of(*w.owner) == detail::wait_outcome::pending) return false;
  guard.unlock();
  return true;
}

void mutex::unlock_as(detail::task* self) noexcept {
  --self->held_locks;
  std::uintptr_t expected = word_of(self);
  // release: pairs with the acquire of the next lock()/try_lock(), publishing the critical
  // section's writes.
  if (state_.compare_exchange_strong(expected, 0, std::memory_order_release,
                                     std::memory_order_relaxed)) {
    return;
  }
  std::lock_guard guard(lock_);
  // One decision: a waiter whose cancellation won is skipped, so the mutex is never handed to
  // a task that has left.
  if (detail::waiter* w = detail::take_first_live(waiters_)) {
    detail::task* next = w->owner;
    // release: the new holder's reads of the critical section's data (it also synchronises
    // through its wake-up).
    state_.store(word_of(next) | (waiters_.empty() ? 0 : contended_bit), std::memory_order_release);
    // A parked new holder runs next on this worker (its run-next slot): the unlocker usually
    // parks soon after, locking again, and then switches straight to it (no steal, no convoy).
    // A spinning one is left alone (wake() does nothing to a running task).
    detail::wake(next, /*to_run_next=*/true);
    return;
  }
  state_.store(0, std::memory_order_release);
}

}  // namespace grove
