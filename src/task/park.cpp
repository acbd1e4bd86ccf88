// The one parking primitive; see park.hpp for the protocol.
#include "task/park.hpp"

#include "cancel/cancel_tree.hpp"
#include "fiber/fiber_context.hpp"
#include "nursery/nursery_core.hpp"
#include "scheduler/runtime_core.hpp"
#include "scheduler/worker.hpp"
#include "task/task.hpp"

namespace grove::detail {

namespace {

// Steps 3 and 4 for a non-cancellable park, and the bookkeeping both kinds share.
void switch_out_parked(task* self) {
  if (worker* here = worker::current()) {
    worker_counters::bump(here->counters().parks);
    if (trace_buffer* trace = here->trace()) [[unlikely]] {
      trace->record(trace_event::make(trace_kind::park, self->id, trace_clock_ticks(), 0,
                                      self->parked_on.load(std::memory_order_relaxed)));
    }
    // A task handed a resource by this one waits in the run-next slot (a mutex passed on
    // just before this park): switch straight to it, one context jump instead of two.
    if (task* next = here->take_direct_park_target()) {
      switch_directly(current_fiber(), self, next->fiber,
                      [](task* parked) { worker::current()->commit_parked(parked); });
      set_current_task(self);
      return;
    }
  }
  suspend_fiber(current_fiber(), switch_reason::parked, self);
  set_current_task(self);
}

void enter_parking(task* self, waiter& w, const char* what) {
  // A parked task must be findable by dump_task_tree.
  make_visible_in_nursery(self);
  self->current_waiter = &w;
  self->parked_on.store(what, std::memory_order_relaxed);
  transition_to_parking(*self);
}

void leave_parking(task* self) {
  self->current_waiter = nullptr;
  self->parked_on.store(nullptr, std::memory_order_relaxed);
}

}  // namespace

wait_outcome park_unless_done(waiter& w, const char* what, bool (*publish)(void*), void* context) {
  task* self = current_task();
  begin_wait(w, self);  // findable only once publish() succeeds
  enter_parking(self, w, what);
  if (!publish(context)) {
    abandon_parking(*self);
    leave_parking(self);
    return wait_outcome::signalled;
  }
  switch_out_parked(self);
  leave_parking(self);
  return wait_decision_of(*self);
}

wait_outcome park(waiter& w, std::unique_lock<spin_lock>& guard, park_options options) {
  task* self = current_task();
  enter_parking(self, w, options.what);  // step 1

  // Step 2.
  if (options.cancellable && !register_parked(self)) {
    if (decide_wait(*self, wait_outcome::cancelled)) {
      // Nobody else can have seen the decision: no waker will touch the task.
      unregister_parked(self);
      abandon_parking(*self);
      if (w.list != nullptr) w.list->remove(w);
      guard.unlock();
      leave_parking(self);
      return wait_outcome::cancelled;
    }
    // A canceller decided first and will wake us (the worker re-queues us at once).
  }

  // Step 3.
  guard.unlock();
  switch_out_parked(self);

  // Step 4. We may be on another thread now (switch_out_parked re-established the task).
  if (options.cancellable) unregister_parked(self);
  leave_parking(self);
  const wait_outcome outcome = wait_decision_of(*self);
  if (outcome == wait_outcome::cancelled) {
    // Always under the guard: a waker holding it may still be looking at this waiter (it lost
    // the decision to the canceller); taking the guard waits for it to let go before the waiter,
    // on this stack, dies with the frame.
    guard.lock();
    if (w.list != nullptr) w.list->remove(w);
    guard.unlock();
  }
  return outcome;
}

void wake(task* t, bool to_run_next) noexcept {
  runtime_core& runtime = *t->runtime;
  if (runtime.tracer() != nullptr) [[unlikely]] {
    try {
      runtime.record_trace(trace_event::make(trace_kind::wake, t->id, trace_clock_ticks()));
    } catch (...) {
    }
  }
  // A task still parking is re-queued by its worker when it commits (commit_park fails).
  if (!transition_on_wake(*t)) return;
  if (to_run_next) {
    runtime.schedule_next(t);
  } else {
    runtime.schedule(t);
  }
}

bool signal(waiter& w) noexcept {
  task* owner = w.owner;
  if (!decide_signalled(w)) return false;
  wake(owner);
  return true;
}

// Decide first, unlink only the waiters we win: a cancelled waiter is left for its owner to
// remove under the same lock, which it takes before it leaves (so a waker holding that lock may
// still touch it, as signal_all does).
waiter* take_first_live(wait_list& list) noexcept {
  for (waiter* w = list.front(); w != nullptr; w = w->next) {
    if (decide_signalled(*w)) {
      list.remove(*w);
      return w;
    }
  }
  return nullptr;
}

bool signal_first(wait_list& list) noexcept {
  waiter* w = take_first_live(list);
  if (w == nullptr) return false;
  wake(w->owner);
  return true;
}

// Writes no winner's waiter: the chain is detached whole, and a signalled owner never reads its
// links again (park() unlinks only on `cancelled`). Setting an event that 100 000 tasks wait on
// reads their stacks' waiters but writes only their records (decision, state), which lie close
// together; a first write to each of 100 000 cold stack pages costs microseconds apiece on some
// virtual machines (docs/architecture.md, Cancel). A waiter whose cancellation won is linked
// back, for its owner to remove under the lock the caller holds.
void signal_all(wait_list& list) noexcept {
  waiter* w = list.detach_all();
  while (w != nullptr) {
    waiter* next = w->next;  // read first: once woken, w's owner may destroy it
    if (decide_signalled(*w)) {
      wake(w->owner);  // w is alive until its owner runs, which only this wake allows
    } else {
      list.push_back(*w);
    }
    w = next;
  }
}

void seeded_extra_yield(task* t) {
  if (!t->runtime->options().schedule_seed) return;  // the common case: one load and a branch
  worker* here = worker::current();
  if (here != nullptr && here->seeded_chance(2)) yield_current(t);
}

void yield_current(task* t) {
  if (worker* here = worker::current(); here != nullptr) {
    // Nothing else waits for this worker: going round the scheduler would only come back here.
    if (here->has_nothing_else_to_run()) return;
    // The next task would come from the yield queue: switch to it directly, one context jump
    // instead of two; this task goes to the back of the queue once it is saved.
    if (task* next = here->take_direct_yield_target()) {
      switch_directly(current_fiber(), t, next->fiber, [](task* yielded) {
        transition_to_ready(*yielded);
        worker::current()->push_yielded(yielded);
      });
      set_current_task(t);
      return;
    }
  }
  suspend_fiber(current_fiber(), switch_reason::yielded, t);
  set_current_task(t);
}

}  // namespace grove::detail
