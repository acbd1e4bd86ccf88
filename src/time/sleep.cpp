// sleep_for / sleep_until: the task parks on a waiter that an Asio steady_timer signals. The
// timer's state is shared with its handler, which may run after a cancelled sleeper has left;
// the handler only touches the waiter under the state's lock, and a leaving sleeper clears it
// under the same lock.
#include <boost/asio/steady_timer.hpp>
#include <grove/time.hpp>
#include <memory>
#include <mutex>

#include "cancel/cancel_tree.hpp"
#include "scheduler/runtime_core.hpp"
#include "task/park.hpp"
#include "task/task.hpp"

namespace grove {
namespace detail {
namespace {

struct sleep_state {
  explicit sleep_state(boost::asio::io_context& io) : timer(io) {}
  spin_lock lock;             // guards sleeper
  waiter* sleeper = nullptr;  // null once the sleeper left or was signalled
  boost::asio::steady_timer timer;
};

}  // namespace

clock::time_point deadline_after(clock::duration d) {
  const clock::time_point start = grove::now();
  if (d > clock::duration::zero() && start > clock::time_point::max() - d) {
    return clock::time_point::max();
  }
  if (d < clock::duration::zero() && start < clock::time_point::min() - d) {
    return clock::time_point::min();
  }
  return start + d;
}

}  // namespace detail

void sleep_until(clock::time_point deadline) {
  detail::task* self = detail::require_task("grove::sleep_until");
  if (detail::task_cancel_requested(self)) throw cancelled{};
  if (deadline <= grove::now()) {
    detail::yield_current(self);
    return;
  }
  auto state = std::make_shared<detail::sleep_state>(self->runtime->io());
  detail::waiter w;
  w.owner = self;
  state->lock.lock();
  state->sleeper = &w;
  state->timer.expires_at(deadline);
  state->timer.async_wait([state](const boost::system::error_code&) {
    std::lock_guard guard(state->lock);
    if (state->sleeper != nullptr) {
      detail::signal(*state->sleeper);
      state->sleeper = nullptr;
    }
  });
  const detail::wait_outcome outcome = detail::park(w, state->lock, {.what = "sleep"});
  if (outcome == detail::wait_outcome::cancelled) {
    {
      std::lock_guard guard(state->lock);
      state->sleeper = nullptr;
    }
    // The timer's handler now finds no sleeper; cancelling it only frees the io_context of a
    // pending wait, so it is batched onto the io thread.
    self->runtime->cancel_timer_soon(
        std::shared_ptr<boost::asio::steady_timer>(state, &state->timer));
    throw cancelled{};
  }
}

void sleep_for(clock::duration duration) { sleep_until(detail::deadline_after(duration)); }

}  // namespace grove
