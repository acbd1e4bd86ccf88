// The one parking primitive; see park.hpp for the protocol.
#include "task/park.hpp"

#include "cancel/cancel_tree.hpp"
#include "fiber/fiber_context.hpp"
#include "scheduler/runtime_core.hpp"
#include "scheduler/worker.hpp"
#include "task/task.hpp"

namespace grove::detail {

wait_outcome park(waiter& w, spin_lock& guard, park_options options) {
  task* self = current_task();
  w.owner = self;
  self->current_waiter = &w;
  self->parked_on.store(options.what, std::memory_order_relaxed);
  // Step 1. relaxed: the wakers that can see this task read its state after taking a lock
  // we release below (guard, or the cancel node's lock), which orders this store before them.
  self->state.store(run_state::parking, std::memory_order_relaxed);

  // Step 2.
  if (options.cancellable && !register_parked(self)) {
    if (w.transition_to_cancelled()) {
      // Nobody else can have seen the decision: no waker will touch the task.
      unregister_parked(self);
      self->state.store(run_state::running, std::memory_order_relaxed);
      if (w.list != nullptr) w.list->remove(w);
      guard.unlock();
      self->current_waiter = nullptr;
      self->parked_on.store(nullptr, std::memory_order_relaxed);
      return wait_outcome::cancelled;
    }
    // A canceller decided first and will wake us (the worker re-queues us at once).
  }

  // Step 3.
  guard.unlock();
  if (worker* here = worker::current()) worker_counters::bump(here->counters().parks);
  suspend_fiber(current_fiber(), switch_reason::parked, self);

  // Step 4. We may be on another thread now; re-establish the current task.
  set_current_task(self);
  if (options.cancellable) unregister_parked(self);
  self->current_waiter = nullptr;
  self->parked_on.store(nullptr, std::memory_order_relaxed);
  const wait_outcome outcome = w.outcome.load(std::memory_order_acquire);
  if (outcome == wait_outcome::cancelled && w.list != nullptr) {
    guard.lock();
    if (w.list != nullptr) w.list->remove(w);
    guard.unlock();
  }
  return outcome;
}

void wake(task* t) noexcept {
  run_state s = t->state.load(std::memory_order_acquire);
  for (;;) {
    if (s == run_state::parking) {
      // The worker has not committed the park yet; it will see this and re-queue the task.
      if (t->state.compare_exchange_weak(s, run_state::woken_while_parking,
                                         std::memory_order_acq_rel, std::memory_order_acquire)) {
        return;
      }
    } else if (s == run_state::parked) {
      // acq_rel: acquire pairs with the worker's release in its commit, so the saved
      // continuation is visible to whoever resumes the task after schedule_woken().
      if (t->state.compare_exchange_weak(s, run_state::ready, std::memory_order_acq_rel,
                                         std::memory_order_acquire)) {
        t->runtime->schedule_woken(t);
        return;
      }
    } else {
      return;  // running, ready or already woken: nothing to do
    }
  }
}

bool signal(waiter& w) noexcept {
  task* owner = w.owner;
  if (!w.transition_to_signalled()) return false;
  wake(owner);
  return true;
}

bool signal_first(wait_list& list) noexcept {
  while (waiter* w = list.pop_front()) {
    if (signal(*w)) return true;
  }
  return false;
}

void yield_current(task* t) {
  suspend_fiber(current_fiber(), switch_reason::yielded, t);
  set_current_task(t);
}

}  // namespace grove::detail
