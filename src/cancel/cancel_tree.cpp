// The cancellation tree.
//
// Upward: every node points at its enclosing node (`parent`), so "is this task cancelled?" is
// a walk from its innermost node to the root, stopping after a shielded node. Entering a scope
// or opening a nursery costs no lock: nothing is registered downward.
//
// Downward links exist only for parked tasks: register_parked() links the task's innermost node
// into its parent's child list, that one into its parent's, up to the first node already linked
// (top-down, so a linked node always has a linked chain above it), and finally the task into its
// node's parked list. cancel() sets the flag, then walks its subtree, each node under its own
// lock, skipping shielded children, and decides `cancelled` for every parked task it finds.
//
// Why a parked task is never missed: for each node X on the task's chain, the parker's last
// action under X's lock (linking a child or itself) either precedes the canceller's visit of X
// under the same lock (the canceller sees the link), or follows it, in which case the
// canceller's flag store, made before its visit, happens-before the parker's final re-check of
// the chain, which then sees the flag and does not park. Lock order is always parent before child.
//
// Checkpoints avoid the walk with a global generation counter bumped by every cancel(): a task
// that found its chain clean at generation g need not look again until the counter moves.
#include "cancel/cancel_tree.hpp"

#include <grove/errors.hpp>
#include <string>

#include "task/park.hpp"
#include "task/task.hpp"
#include "time/deadline_timer.hpp"

namespace grove::detail {
namespace {

// Starts at 1 so that a task's cache value 0 means "never checked".
std::atomic<std::uint64_t> cancel_generation{1};

bool deadline_passed(const cancel_node& node) noexcept {
  const std::int64_t ticks = node.deadline_ticks.load(std::memory_order_acquire);
  if (ticks == INT64_MAX) return false;
  return grove::now().time_since_epoch().count() >= ticks;
}

void link_chain(cancel_node* x) {
  cancel_node* p = x->parent;
  if (p == nullptr) return;
  {
    std::lock_guard guard(p->lock);
    if (x->linked) return;
  }
  link_chain(p);  // top-down: the parent's chain first
  std::lock_guard guard(p->lock);
  if (x->linked) return;
  x->prev_sibling = nullptr;
  x->next_sibling = p->first_child;
  if (p->first_child != nullptr) p->first_child->prev_sibling = x;
  p->first_child = x;
  x->linked = true;
}

void unlink_from_parent(cancel_node& node) noexcept {
  cancel_node* p = node.parent;
  if (p == nullptr || !node.linked) return;
  std::lock_guard guard(p->lock);
  if (node.prev_sibling != nullptr) {
    node.prev_sibling->next_sibling = node.next_sibling;
  } else {
    p->first_child = node.next_sibling;
  }
  if (node.next_sibling != nullptr) node.next_sibling->prev_sibling = node.prev_sibling;
  node.prev_sibling = node.next_sibling = nullptr;
  node.linked = false;
}

// Caller holds node.lock.
void deliver_locked(cancel_node& node) noexcept {
  for (task* t = node.first_parked; t != nullptr; t = t->next_parked) {
    waiter* w = t->current_waiter;
    if (w != nullptr && w->transition_to_cancelled()) wake(t);
  }
  for (cancel_node* c = node.first_child; c != nullptr; c = c->next_sibling) {
    if (c->shielded.load(std::memory_order_acquire)) continue;
    std::lock_guard guard(c->lock);
    deliver_locked(*c);
  }
}

}  // namespace

bool node_cancelled(const cancel_node& node) noexcept {
  return node.cancelled.load(std::memory_order_acquire) || deadline_passed(node);
}

bool chain_cancelled(const cancel_node* node) noexcept {
  for (const cancel_node* x = node; x != nullptr; x = x->parent) {
    if (node_cancelled(*x)) return true;
    if (x->shielded.load(std::memory_order_acquire)) return false;
  }
  return false;
}

bool absorbs(const cancel_node& node) noexcept {
  if (!node_cancelled(node)) return false;
  if (node.shielded.load(std::memory_order_acquire)) return true;
  return !chain_cancelled(node.parent);
}

bool task_cancel_requested(task* t) noexcept {
  // acquire: pairs with the release increment in cancel_node_now(), made after the flag store.
  const std::uint64_t generation = cancel_generation.load(std::memory_order_acquire);
  if (t->checked_generation == generation) return false;
  if (chain_cancelled(t->current_scope)) return true;
  // Deadlines pass without a cancel() until their timer fires; the timer then bumps the
  // generation. Until a deadline exists in the chain, caching is exact.
  t->checked_generation = generation;
  return false;
}

void invalidate_cancel_cache(task* t) noexcept { t->checked_generation = 0; }

bool register_parked(task* t) {
  cancel_node* node = t->current_scope;
  link_chain(node);
  {
    std::lock_guard guard(node->lock);
    t->prev_parked = nullptr;
    t->next_parked = node->first_parked;
    if (node->first_parked != nullptr) node->first_parked->prev_parked = t;
    node->first_parked = t;
    t->parked_in = node;
  }
  return !chain_cancelled(node);
}

void unregister_parked(task* t) noexcept {
  cancel_node* node = t->parked_in;
  if (node == nullptr) return;
  std::lock_guard guard(node->lock);
  if (t->prev_parked != nullptr) {
    t->prev_parked->next_parked = t->next_parked;
  } else {
    node->first_parked = t->next_parked;
  }
  if (t->next_parked != nullptr) t->next_parked->prev_parked = t->prev_parked;
  t->prev_parked = t->next_parked = nullptr;
  t->parked_in = nullptr;
}

void enter_node(cancel_node& node, task* t, const char* what) {
  {
    std::lock_guard guard(node.lock);
    if (node.state.load(std::memory_order_relaxed) != cancel_node::phase::unentered) {
      throw usage_error(std::string(what) +
                        ": this cancel scope was entered before; a scope object can be "
                        "entered only once");
    }
    node.parent = t->current_scope;
    node.runtime = t->runtime;
    node.state.store(cancel_node::phase::running, std::memory_order_release);
  }
  t->current_scope = &node;
  invalidate_cancel_cache(t);
  arm_deadline(node);
}

void leave_node(cancel_node& node, task* t) noexcept {
  disarm_deadline(node);
  {
    std::lock_guard guard(node.lock);
    // Freeze: a deadline that passed while running counts as cancel_called() from now on.
    if (deadline_passed(node)) node.cancelled.store(true, std::memory_order_release);
    node.state.store(cancel_node::phase::finished, std::memory_order_release);
  }
  unlink_from_parent(node);
  if (t != nullptr) {
    t->current_scope = node.parent;
    invalidate_cancel_cache(t);
  }
}

void leave_task_node(cancel_node& node) noexcept { unlink_from_parent(node); }

void reparent_node(cancel_node& node, cancel_node* new_parent) noexcept {
  unlink_from_parent(node);
  {
    std::lock_guard guard(node.lock);
    node.parent = new_parent;
  }
  // A task parked below `node` cannot exist here (started() runs in the task itself), but
  // nested nodes of the task may be linked: relink the chain under the new parent.
  if (node.first_child != nullptr || node.first_parked != nullptr) link_chain(&node);
  cancel_generation.fetch_add(1, std::memory_order_acq_rel);
}

void deliver_if_cancelled(cancel_node& node) noexcept {
  cancel_generation.fetch_add(1, std::memory_order_acq_rel);
  if (!chain_cancelled(&node)) return;
  std::lock_guard guard(node.lock);
  if (node.state.load(std::memory_order_relaxed) == cancel_node::phase::running) {
    deliver_locked(node);
  }
}

void cancel_node_now(cancel_node& node) noexcept {
  std::lock_guard guard(node.lock);
  if (node.state.load(std::memory_order_relaxed) == cancel_node::phase::finished) return;
  if (node.cancelled.exchange(true, std::memory_order_acq_rel)) return;
  // release: a checkpoint that sees the new generation sees the flag.
  cancel_generation.fetch_add(1, std::memory_order_acq_rel);
  // A shield keeps outer cancellations out, not the node's own: deliver below it too.
  if (node.state.load(std::memory_order_relaxed) == cancel_node::phase::running) {
    deliver_locked(node);
  }
}

}  // namespace grove::detail
