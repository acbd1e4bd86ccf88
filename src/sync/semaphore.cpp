// grove::semaphore: a counter with lock-free fast paths and direct FIFO token hand-off.
//
// state_ = value << 1 | waiting. Transitions:
//   try_acquire / acquire fast path   value >= 1: compare-exchange value -> value - 1
//   release fast path                 waiting clear: compare-exchange value -> value + 1
//   acquire slow path (under lock_)   0 -> waiting, then queue and park
//   release slow path (under lock_)   waiting (re-read under lock_: another release may have
//                                     served the last waiter meanwhile): hand the token to the
//                                     first live waiter (waiting stays set if more are
//                                     queued), or, when every queued waiter was cancelled,
//                                     waiting -> value 1
// The waiting bit is only ever set on a zero value and, while set, changes only under lock_, so
// a released token can never sit in the counter while a live task waits: waiters are served in
// FIFO order and nobody barges past them.
#include <grove/errors.hpp>
#include <grove/sync.hpp>
#include <mutex>

#include "sync/blocking_call.hpp"

namespace grove {
namespace {

constexpr std::size_t waiting_bit = 1;
constexpr std::size_t one_token = 2;

std::size_t checked_initial(std::size_t initial) {
  if (initial > semaphore::max_value()) {
    throw usage_error("grove::semaphore: the initial value exceeds semaphore::max_value()");
  }
  return initial << 1;
}

}  // namespace

semaphore::semaphore(std::size_t initial) : state_(checked_initial(initial)) {}

bool semaphore::try_acquire() noexcept {
  std::size_t s = state_.load(std::memory_order_relaxed);
  while (s >= one_token) {
    // acquire: pairs with the release in release(), so what the releaser wrote before giving
    // the token back is visible to the taker.
    if (state_.compare_exchange_weak(s, s - one_token, std::memory_order_acquire,
                                     std::memory_order_relaxed)) {
      return true;
    }
  }
  return false;
}

void semaphore::acquire() {
  detail::task* self = detail::enter_blocking_call("grove::semaphore::acquire");
  if (try_acquire()) return;
  std::unique_lock guard(lock_);
  std::size_t s = state_.load(std::memory_order_relaxed);
  for (;;) {
    if (s >= one_token) {
      if (state_.compare_exchange_weak(s, s - one_token, std::memory_order_acquire,
                                       std::memory_order_relaxed)) {
        return;
      }
    } else if (s == waiting_bit) {
      break;
    } else if (state_.compare_exchange_weak(s, waiting_bit, std::memory_order_relaxed,
                                            std::memory_order_relaxed)) {
      // relaxed: a releaser that sees the bit reads the queue under lock_, which we hold.
      break;
    }
  }
  detail::waiter w;
  detail::begin_wait(w, self);
  waiters_.push_back(w);
  detail::park_or_throw(w, guard, "grove::semaphore::acquire");
  // Signalled: release() handed its token to us.
}

void semaphore::release() {
  std::size_t s = state_.load(std::memory_order_relaxed);
  for (;;) {
    if ((s & waiting_bit) == 0) {
      if ((s >> 1) == max_value()) {
        throw usage_error("grove::semaphore::release: the value would exceed max_value()");
      }
      // release: pairs with the acquire of the compare-exchange that takes this token.
      if (state_.compare_exchange_weak(s, s + one_token, std::memory_order_release,
                                       std::memory_order_relaxed)) {
        return;
      }
      continue;
    }
    std::lock_guard guard(lock_);
    // Re-read under lock_: another release may have served the last waiter (and cleared the
    // bit) between our load and here. Once we hold lock_ with the bit set, state_ is stable.
    s = state_.load(std::memory_order_relaxed);
    if ((s & waiting_bit) == 0) continue;
    // A cancelled waiter is skipped: the token goes to the next live one.
    if (detail::waiter* w = detail::take_first_live(waiters_)) {
      detail::task* next = w->owner;
      if (waiters_.empty()) state_.store(0, std::memory_order_release);
      detail::wake(next);
      return;
    }
    state_.store(one_token, std::memory_order_release);
    return;
  }
}

}  // namespace grove
