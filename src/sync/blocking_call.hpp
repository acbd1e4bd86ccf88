// What every waiting call of sync/ and channel/ shares: its entry (it needs a task and is a
// checkpoint, docs/reference.md §10 rules 4 and 5) and its park (a cancelled park throws). The waker's side
// of a hand-off is take_first_live / signal_first / signal_all in task/park.hpp.
#pragma once

#include <grove/cancel.hpp>

#include "cancel/cancel_tree.hpp"
#include "task/park.hpp"
#include "task/task.hpp"

namespace grove::detail {

// usage_error outside a task; `cancelled` in a cancelled task, before the call takes effect.
inline task* enter_blocking_call(const char* what) {
  task* self = require_task(what);
  if (task_cancel_requested(self)) throw cancelled{};
  seeded_extra_yield(self);
  return self;
}

// The caller has linked `w` in a list guarded by the lock `guard` owns. Releases `guard`.
// Returns once a waker decided `w` (signalled); throws `cancelled` if the task's cancellation
// decided it first (park() has then unlinked it).
inline void park_or_throw(waiter& w, std::unique_lock<spin_lock>& guard, const char* what) {
  if (park(w, guard, {.cancellable = true, .what = what}) == wait_outcome::cancelled) {
    throw cancelled{};
  }
}

}  // namespace grove::detail
