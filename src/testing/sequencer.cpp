// testing::sequencer: waiters park, each on its position, through grove's one parking primitive;
// finishing a position wakes the waiter of the next one.
#include <grove/errors.hpp>
#include <grove/testing.hpp>
#include <mutex>
#include <string>

#include "cancel/cancel_tree.hpp"
#include "task/park.hpp"
#include "task/task.hpp"

namespace grove::testing {
namespace {

broken_resource_error broken() {
  return broken_resource_error(
      "grove::testing::sequencer: broken, a task waiting for its turn was cancelled");
}

}  // namespace

sequencer::guard sequencer::operator()(std::size_t position) {
  detail::task* self = detail::require_task("grove::testing::sequencer");
  if (detail::task_cancel_requested(self)) throw cancelled{};
  std::unique_lock lock(lock_);
  if (broken_) throw broken();
  if (position >= claimed_.size()) claimed_.resize(position + 1, false);
  if (claimed_[position]) {
    throw usage_error("grove::testing::sequencer: position " + std::to_string(position) +
                      " was used before (each position once)");
  }
  claimed_[position] = true;
  if (next_ == position) return guard(this, position);
  detail::waiter w;
  detail::begin_wait(w, self);
  w.slot = &position;
  waiters_.push_back(w);
  if (detail::park(w, lock, {.cancellable = true, .what = "grove::testing::sequencer"}) ==
      detail::wait_outcome::cancelled) {
    // This position will never run its block: no later one can ever have its turn.
    lock.lock();
    broken_ = true;
    detail::signal_all(waiters_);
    throw cancelled{};
  }
  lock.lock();
  if (broken_) throw broken();
  return guard(this, position);
}

void sequencer::finish(std::size_t position) noexcept {
  std::lock_guard lock(lock_);
  next_ = position + 1;
  for (detail::waiter* w = waiters_.front(); w != nullptr; w = w->next) {
    if (*static_cast<const std::size_t*>(w->slot) == next_ && detail::decide_signalled(*w)) {
      detail::task* owner = w->owner;
      waiters_.remove(*w);
      detail::wake(owner);
      return;
    }
  }
}

}  // namespace grove::testing
