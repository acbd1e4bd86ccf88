// sleep_for / sleep_until: the task parks on a waiter queued in its runtime's timer_queue, which
// signals it at the deadline (see time/timer_queue.hpp for the protocol).
#include <grove/time.hpp>
#include <mutex>

#include "cancel/cancel_tree.hpp"
#include "scheduler/runtime_core.hpp"
#include "task/park.hpp"
#include "task/task.hpp"
#include "time/timer_queue.hpp"

namespace grove {
namespace detail {

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
  bool was_cancelled = false;
  {
    detail::timer_queue& timers = self->runtime->timers();
    detail::waiter w;
    detail::begin_wait(w, self);
    detail::timer_entry queued;
    queued.context = &w;
    queued.fire_under_lock = true;
    // A sleeper whose cancellation won is left to wake through its canceller.
    queued.fire = [](detail::timer_entry& e) {
      detail::signal(*static_cast<detail::waiter*>(e.context));
    };
    std::unique_lock guard(timers.lock());
    timers.schedule_locked(queued, deadline);
    if (detail::park(w, guard, {.what = "sleep"}) == detail::wait_outcome::cancelled) {
      guard.lock();
      timers.erase_locked(queued);
      was_cancelled = true;
    }
  }
  // Thrown once the locals above are gone: an exception that leaves a frame with no cleanup to
  // run costs the unwinder one pass less (cancelling 100 000 sleepers is mostly unwinding).
  if (was_cancelled) throw cancelled{};
}

void sleep_for(clock::duration duration) {
  detail::require_task("grove::sleep_for");  // names the call the user made
  sleep_until(detail::deadline_after(duration));
}

}  // namespace grove
