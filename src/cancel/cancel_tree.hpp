// The internal cancellation tree (trio's CancelStatus tree). See cancel_tree.cpp for the
// protocol between tasks that park, cancel() from any thread, deadlines and scope exit.
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

// A parked task whose cancellation must be passed on before it is woken: a start() caller, whose
// cancel scopes the task it starts runs under (step 7 of the protocol). The canceller that
// decides the park calls forward(context) once it holds no lock of the tree, then wakes `owner`.
struct cancel_forwarder {
  void (*forward)(void* context) = nullptr;
  void* context = nullptr;
  task* owner = nullptr;
  cancel_forwarder* next_deferred = nullptr;  // the canceller's list, while it is deferred
};

// Scope lifetime: enter (usage_error if entered before) and leave (after leave_node returns,
// nothing refers to the node: no timer, no other thread's set_deadline, no parent list).
void enter_node(scope_node& node, task* t, const char* what);
void leave_node(scope_node& node, task* t) noexcept;
// The same for a node no other thread can reach but through its parent's child list or its
// owner's joined children (a nursery's node whose scope object never left the nursery; step 9 of
// the protocol): neither takes the node's lock.
void enter_private_node(scope_node& node, task* t) noexcept;
void leave_private_node(scope_node& node, task* t) noexcept;
// A node that was running without a scope object (a task's own node, a start gate) leaves its
// parent's child list, if a park ever linked it.
void leave_task_node(cancel_node& node) noexcept;
// Makes `node` a running node under `parent`, before any other thread can reach it.
void attach_node(cancel_node& node, cancel_node* parent, runtime_core* runtime) noexcept;

// Cancels `node` (idempotent; no-op unless running) and wakes every task parked below it that
// no shield protects. Any thread.
void cancel_node_now(cancel_node& node) noexcept;
// After a shield was lowered: wakes the tasks below `node` if its chain is now cancelled.
void deliver_if_cancelled(cancel_node& node) noexcept;
// After deadline_ticks changed, or on entry: puts the node's deadline in its runtime's timer
// queue (or takes it out), or cancels at once if it has passed. Any thread; no-op unless running.
void sync_deadline(scope_node& node) noexcept;

}  // namespace grove::detail
