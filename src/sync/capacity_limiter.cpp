// grove::capacity_limiter: tokens borrowed by tasks, with FIFO hand-off to waiting tasks.
// Everything happens under lock_: borrowing must record the borrower, which a lock-free counter
// cannot do, and the critical sections are a few pointer moves.
//
// Invariant at every unlock: borrowed < total implies that no live waiter is queued (a waiter
// only queues when borrowed >= total, and every operation that makes room hands it over before
// unlocking). Hence acquire() may take a free token without looking at the queue and still
// serve waiters first-in first-out.
#include <algorithm>
#include <grove/errors.hpp>
#include <grove/sync.hpp>
#include <mutex>
#include <string>

#include "sync/blocking_call.hpp"

namespace grove {
namespace {

std::size_t checked_total(std::size_t tokens, const char* what) {
  if (tokens == 0)
    throw usage_error(std::string(what) + ": the total number of tokens must be > 0");
  return tokens;
}

// Holders are task ids: never reused, so a task allocated where a finished holder was is not
// taken for it.
bool holds(const std::vector<std::uint64_t>& holders, const detail::task* t) noexcept {
  return std::find(holders.begin(), holders.end(), t->id) != holders.end();
}

void reject_second_borrow(const std::vector<std::uint64_t>& holders, const detail::task* t,
                          const char* what) {
  if (holds(holders, t)) {
    throw usage_error(std::string(what) +
                      ": the calling task already holds a token of this capacity_limiter");
  }
}

std::size_t queued_count(const detail::wait_list& list) noexcept {
  std::size_t n = 0;
  for (const detail::waiter* w = list.front(); w != nullptr; w = w->next) ++n;
  return n;
}

}  // namespace

capacity_limiter::capacity_limiter(std::size_t tokens)
    : total_(checked_total(tokens, "grove::capacity_limiter")) {}

void capacity_limiter::acquire() {
  detail::task* self = detail::require_task("grove::capacity_limiter::acquire");
  detail::seeded_extra_yield(self);
  std::unique_lock guard(lock_);
  reject_second_borrow(holders_, self, "grove::capacity_limiter::acquire");
  if (detail::task_cancel_requested(self)) throw cancelled{};
  const std::size_t borrowed = borrowed_.load(std::memory_order_relaxed);
  if (borrowed < total_.load(std::memory_order_relaxed)) {
    holders_.push_back(self->id);  // may throw bad_alloc: nothing was taken yet
    borrowed_.store(borrowed + 1, std::memory_order_relaxed);
    ++self->held_locks;
    return;
  }
  detail::waiter w;
  detail::begin_wait(w, self);
  waiters_.push_back(w);
  self->waiting_for_holder.store(holders_.empty() ? 0 : holders_.front(),
                                 std::memory_order_relaxed);
  struct clear_on_exit {
    detail::task* t;
    ~clear_on_exit() { t->waiting_for_holder.store(0, std::memory_order_relaxed); }
  } clear{self};
  detail::park_or_throw(w, guard, "grove::capacity_limiter::acquire");
  // Signalled: the waker recorded us as a holder and counted the token.
  ++self->held_locks;
}

bool capacity_limiter::try_acquire() {
  detail::task* self = detail::require_task("grove::capacity_limiter::try_acquire");
  std::lock_guard guard(lock_);
  reject_second_borrow(holders_, self, "grove::capacity_limiter::try_acquire");
  const std::size_t borrowed = borrowed_.load(std::memory_order_relaxed);
  if (borrowed >= total_.load(std::memory_order_relaxed)) return false;
  holders_.push_back(self->id);
  borrowed_.store(borrowed + 1, std::memory_order_relaxed);
  ++self->held_locks;
  return true;
}

void capacity_limiter::release() {
  detail::task* self = detail::require_task("grove::capacity_limiter::release");
  std::lock_guard guard(lock_);
  auto mine = std::find(holders_.begin(), holders_.end(), self->id);
  if (mine == holders_.end()) {
    throw usage_error(
        "grove::capacity_limiter::release: the calling task does not hold a token of this "
        "capacity_limiter");
  }
  --self->held_locks;
  const std::size_t borrowed = borrowed_.load(std::memory_order_relaxed);
  // Giving ours back makes room only if borrowed - 1 < total (the total may have been lowered).
  if (borrowed <= total_.load(std::memory_order_relaxed)) {
    // A cancelled waiter is skipped: the token goes to the next live one.
    if (detail::waiter* w = detail::take_first_live(waiters_)) {
      // The token changes hands in place: no allocation, borrowed unchanged.
      detail::task* next = w->owner;
      *mine = next->id;
      detail::wake(next);
      return;
    }
  }
  *mine = holders_.back();
  holders_.pop_back();
  borrowed_.store(borrowed - 1, std::memory_order_relaxed);
}

void capacity_limiter::set_total_tokens(std::size_t tokens) {
  checked_total(tokens, "grove::capacity_limiter::set_total_tokens");
  std::lock_guard guard(lock_);
  std::size_t borrowed = borrowed_.load(std::memory_order_relaxed);
  // Reserve room for every hand-off below before changing anything, so that an allocation
  // failure leaves the limiter as it was and no decided waiter is left without its record.
  if (tokens > borrowed) {
    holders_.reserve(holders_.size() + std::min(tokens - borrowed, queued_count(waiters_)));
  }
  total_.store(tokens, std::memory_order_relaxed);
  while (borrowed < tokens) {
    detail::waiter* w = detail::take_first_live(waiters_);
    if (w == nullptr) break;
    detail::task* next = w->owner;
    holders_.push_back(next->id);  // within the reserved capacity
    borrowed_.store(++borrowed, std::memory_order_relaxed);
    detail::wake(next);
  }
}

}  // namespace grove
