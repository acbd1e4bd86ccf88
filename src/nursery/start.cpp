// nursery::start and task_status::started(): the handshake between start()'s caller and the
// task it starts (docs/reference.md §2): the task runs shielded behind a gate of its own until
// started() moves it under the nursery's scopes, and its failure before that goes to the caller.
#include <grove/errors.hpp>
#include <mutex>

#include "cancel/cancel_tree.hpp"
#include "nursery/nursery_core.hpp"
#include "scheduler/runtime_core.hpp"
#include "task/task.hpp"

namespace grove::detail {

// The task's side of the start() handshake: under the handshake's lock, so that the caller,
// which takes the lock after waking, cannot return before the task has let go of it.
void finish_handshake(start_wait& wait, start_wait::result outcome, std::exception_ptr error) {
  std::lock_guard guard(wait.lock);
  wait.outcome = outcome;
  wait.error = std::move(error);
  signal(*wait.caller);  // false if a canceller decided that park first: it wakes the caller
}

void start_checkpoint() {
  task* self = require_task("grove::nursery::start");
  if (task_cancel_requested(self)) throw cancelled{};
}

namespace {

// Caller holds wait.lock. The caller's scopes were cancelled: so is the task, while it still
// runs under them (cancel_tree.cpp, step 7). Idempotent.
void forward_locked(start_wait& wait) noexcept {
  if (wait.outcome == start_wait::result::pending) cancel_node_now(*wait.gate);
}

void forward_start_cancellation(void* context) noexcept {
  auto& wait = *static_cast<start_wait*>(context);
  std::lock_guard guard(wait.lock);
  forward_locked(wait);
}

}  // namespace

void run_start(nursery_core& n, task_header* header, start_handshake& handshake) {
  task* self = require_task("grove::nursery::start");
  task* t = as_task(header);
  cancel_node* gate = nullptr;
  try {
    gate = new cancel_node;
  } catch (...) {
    discard_task(header);
    throw;
  }
  // Shielded until started(): the nursery's cancellation does not reach the task yet.
  attach_node(*gate, &n.node(), n.runtime);
  gate->shielded.store(true, std::memory_order_relaxed);
  t->start_gate = gate;

  start_wait wait;
  wait.gate = gate;
  wait.child = t;
  begin_wait(wait.first_park, self);
  wait.forwarder = {forward_start_cancellation, &wait, self, nullptr};
  handshake.state = &wait;
  t->pending_start = &wait;
  attach_child(n, t, gate);

  std::unique_lock guard(wait.lock);
  n.runtime->schedule(t);
  if (wait.outcome == start_wait::result::pending) {
    // Cancellable in our scopes: a canceller that decides this park forwards to the gate before
    // waking us (set before park() registers us, cleared after it unregistered us).
    self->cancel_forward = &wait.forwarder;
    const wait_outcome first =
        park(wait.first_park, guard, {.cancellable = true, .what = "grove::nursery::start"});
    self->cancel_forward = nullptr;
    guard.lock();
    if (first == wait_outcome::cancelled && wait.outcome == start_wait::result::pending) {
      // Our scopes were cancelled before the task started: it sees that cancellation too (a
      // canceller may have forwarded it already), and we wait for its answer, which is usually
      // its `cancelled`, rethrown below.
      forward_locked(wait);
      begin_wait(wait.second_park, self);  // under wait.lock, where the task finds it
      wait.caller = &wait.second_park;
      park(wait.second_park, guard, {.cancellable = false, .what = "grove::nursery::start"});
      guard.lock();
    }
  }
  const bool failed = wait.outcome == start_wait::result::failed;
  std::exception_ptr error = std::move(wait.error);
  guard.unlock();
  if (failed) std::rethrow_exception(std::move(error));
}

void signal_started(start_handshake* handshake) {
  auto* wait = static_cast<start_wait*>(handshake->state);
  task* t = wait->child;
  cancel_node& gate = *t->start_gate;
  t->pending_start = nullptr;
  {
    std::lock_guard guard(wait->lock);
    // The task leaves the caller's scopes: a cancellation forwarded from them stays behind.
    gate.cancelled.store(false, std::memory_order_seq_cst);
    wait->outcome = start_wait::result::started;
    signal(*wait->caller);
  }  // start() may return from here on; `wait` dies with its frame
  // From now on the task lives under the nursery's scopes: lowering the gate's shield delivers a
  // nursery cancellation that came meanwhile (cancel_tree.cpp, step 5).
  gate.shielded.store(false, std::memory_order_seq_cst);
  deliver_if_cancelled(gate);
  invalidate_cancel_cache(t);
}

}  // namespace grove::detail
