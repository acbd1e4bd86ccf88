// The internal cancellation tree (trio's CancelStatus tree). See cancel_tree.cpp for the
// protocol between a task that parks and a cancel() that must wake it.
#pragma once

#include <grove/detail/cancel_node.hpp>
#include <grove/runtime.hpp>

namespace grove::detail {

struct task;

// Whether code whose innermost scope is `node` is cancelled: some node on the chain up to the
// root (or to the first shielded node, inclusive) is cancelled or past its deadline.
bool chain_cancelled(const cancel_node* node) noexcept;
// Whether this node itself is cancelled (cancel() called, or its deadline has passed).
bool node_cancelled(const cancel_node& node) noexcept;
// Whether a `cancelled` unwinding to `node` is absorbed there: node is cancelled and no
// enclosing node it is not shielded from is (the outermost cancelled scope absorbs).
bool absorbs(const cancel_node& node) noexcept;

// The checkpoint test, cached per task by a global cancellation generation.
bool task_cancel_requested(task* t) noexcept;
// Forget the cache (after the task's scope chain changed).
void invalidate_cancel_cache(task* t) noexcept;

// Park side: link the task where cancel() can find it; false if the chain is cancelled already.
bool register_parked(task* t);
void unregister_parked(task* t) noexcept;

// Scope lifetime: enter (usage_error if entered before) and leave (unlink, disarm the timer).
void enter_node(cancel_node& node, task* t, const char* what);
void leave_node(cancel_node& node, task* t) noexcept;
// A finished task's own node leaves its parent's child list (if a park ever linked it).
void leave_task_node(cancel_node& node) noexcept;
// Re-points a running node at a new parent (task_status::started()).
void reparent_node(cancel_node& node, cancel_node* new_parent) noexcept;

// Cancels `node` (idempotent; no-op once finished) and wakes every task parked below it that
// no shield protects.
void cancel_node_now(cancel_node& node) noexcept;
// After a shield was lowered: wakes the tasks below `node` if its chain is now cancelled.
void deliver_if_cancelled(cancel_node& node) noexcept;

}  // namespace grove::detail
