// grove::event: a flag set once, plus the list of tasks parked until it is.
#include <grove/sync.hpp>
#include <mutex>

#include "sync/blocking_call.hpp"

namespace grove {

void event::set() noexcept {
  // acquire: pairs with the release store below, made by an earlier set().
  if (set_.load(std::memory_order_acquire)) return;
  std::lock_guard guard(lock_);
  // release: pairs with the acquire in is_set()/wait(), so the setter's earlier writes are
  // visible to a task that finds the flag set without parking.
  set_.store(true, std::memory_order_release);
  detail::signal_all(waiters_);
}

void event::wait() {
  detail::task* self = detail::enter_blocking_call("grove::event::wait");
  if (set_.load(std::memory_order_acquire)) return;
  std::unique_lock guard(lock_);
  // Re-checked under lock_: a set() either ran before (we see the flag) or will find us queued.
  if (set_.load(std::memory_order_relaxed)) return;
  detail::waiter w;
  detail::begin_wait(w, self);
  waiters_.push_back(w);
  detail::park_or_throw(w, guard, "grove::event::wait");
}

}  // namespace grove
