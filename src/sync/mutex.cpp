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
#include <grove/errors.hpp>
#include <grove/sync.hpp>
#include <mutex>

#include "sync/blocking_call.hpp"

namespace grove {
namespace {

constexpr std::uintptr_t contended_bit = 1;

std::uintptr_t word_of(const detail::task* t) noexcept {
  return static_cast<std::uintptr_t>(t->id) << 1;
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
  w.owner = self;
  waiters_.push_back(w);
  self->waiting_for_holder.store(s >> 1, std::memory_order_relaxed);
  const detail::wait_outcome outcome =
      detail::park(w, guard, {.cancellable = cancellable, .what = "grove::mutex::lock"});
  self->waiting_for_holder.store(0, std::memory_order_relaxed);
  if (outcome == detail::wait_outcome::cancelled) throw cancelled{};
  // Signalled: unlock_as() made us the holder before waking us.
  ++self->held_locks;
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
    detail::wake(next);
    return;
  }
  state_.store(0, std::memory_order_release);
}

}  // namespace grove
