// grove::condition_variable: a FIFO of tasks waiting for a notify, each of which re-acquires
// its mutex before returning (or before throwing `cancelled`).
//
// wait() queues itself on lock_ before it unlocks the mutex, and notifiers take lock_, so a
// notify that follows the unlock always finds the waiter: no lost wake-up. Lock order: the
// condition variable's lock_, then the mutex's lock_ (inside unlock_as); nothing takes them the
// other way round.
#include <grove/errors.hpp>
#include <grove/sync.hpp>
#include <mutex>

#include "sync/blocking_call.hpp"

namespace grove {

void condition_variable::wait(std::unique_lock<mutex>& lock) {
  detail::task* self = detail::require_task("grove::condition_variable::wait");
  mutex* m = lock.mutex();
  if (m == nullptr || !lock.owns_lock() || !m->held_by(self)) {
    throw usage_error(
        "grove::condition_variable::wait: the lock must own a mutex held by the calling task");
  }
  // The mutex is still held here, as rule 5 asks of a cancelled wait.
  if (detail::task_cancel_requested(self)) throw cancelled{};

  detail::waiter w;
  detail::begin_wait(w, self);
  std::unique_lock guard(lock_);
  waiters_.push_back(w);
  m->unlock_as(self);
  const detail::wait_outcome outcome =
      detail::park(w, guard, {.cancellable = true, .what = "grove::condition_variable::wait"});
  // Not cancellable: whatever happened, the caller gets its mutex back before we return or
  // throw; cancellation is delivered right after, below.
  m->lock_as(self, false);
  if (outcome == detail::wait_outcome::cancelled) throw cancelled{};
}

void condition_variable::notify_one() noexcept {
  std::lock_guard guard(lock_);
  detail::signal_first(waiters_);
}

void condition_variable::notify_all() noexcept {
  std::lock_guard guard(lock_);
  detail::signal_all(waiters_);
}

}  // namespace grove
