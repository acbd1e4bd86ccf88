// foreign_completion: a park woken by a thread that is not a grove worker (see the header).
//
// Two waiters, because a wait is decided once: `first_` is the cancellable park; when the
// task's cancellation decides it, a wait that must still see the completion (use_fiber: the
// Asio handler always runs) parks again, uncancellably, on `after_cancel_`. complete() signals
// whichever waiter is current under lock_, and every wait takes lock_ once more after it is
// woken, so the completing thread has let go of *this before the task can destroy it.
#include <grove/detail/foreign_completion.hpp>
#include <mutex>

#include "sync/blocking_call.hpp"

namespace grove::detail {

foreign_completion::foreign_completion(const char* what) : what_(what) {
  enter_blocking_call(what);
}

bool foreign_completion::park_until_complete(waiter& w, bool cancellable) {
  std::unique_lock guard(lock_, std::adopt_lock);
  begin_wait(w, current_task());  // under lock_, where complete() finds it
  current_ = &w;
  const wait_outcome outcome = park(w, guard, {.cancellable = cancellable, .what = what_});
  guard.lock();
  // Decided: a complete() from now on must not find `w`, whose decision is the task's word
  // (task.hpp, begin_wait), which the task's next wait (in request_stop, say) would reuse.
  current_ = nullptr;
  guard.release();  // the caller owns lock_ again
  return outcome == wait_outcome::signalled;
}

void foreign_completion::wait_uncancellable() {
  std::lock_guard guard(lock_);
  if (!done_) park_until_complete(first_, false);
}

bool foreign_completion::wait_cancelling(void (*request_stop)(void*), void* context) {
  std::unique_lock guard(lock_);
  if (done_ || park_until_complete(first_, true)) return false;
  // Cancelled. complete() may have come meanwhile (it found first_ decided and woke nobody).
  if (!done_) {
    guard.unlock();
    request_stop(context);
    guard.lock();
    if (!done_) park_until_complete(after_cancel_, false);
  }
  return true;
}

bool foreign_completion::wait_or_abandon() {
  std::lock_guard guard(lock_);
  if (done_ || park_until_complete(first_, true)) return true;
  if (done_) return true;  // finished while the cancellation was being decided: keep the result
  abandoned_ = true;
  return false;
}

void foreign_completion::complete() noexcept {
  std::lock_guard guard(lock_);
  done_ = true;
  if (!abandoned_ && current_ != nullptr) signal(*current_);
}

}  // namespace grove::detail
