// The public face of cancellation: cancel_scope's out-of-line members, checkpoint() and
// cancel_requested(). The machinery is in cancel_tree.cpp.
#include <grove/cancel.hpp>
#include <grove/errors.hpp>

#include "cancel/cancel_tree.hpp"
#include "task/park.hpp"
#include "task/task.hpp"

namespace grove {
namespace detail {

bool run_in_scope(scope_node& node, callback_ref body, const char* what) {
  task* self = require_task(what);
  enter_node(node, self, what);
  try {
    body();
  } catch (const cancelled&) {
    const bool absorbed = absorbs(node);
    leave_node(node, self);
    if (!absorbed) throw;
    node.caught = true;
    return false;
  } catch (...) {
    leave_node(node, self);
    throw;
  }
  leave_node(node, self);
  return true;
}

void cancel_node_cancel(cancel_node& node) noexcept { cancel_node_now(node); }

void cancel_node_set_deadline(scope_node& node, clock::time_point deadline) {
  node.deadline_ticks.store(deadline.time_since_epoch().count(), std::memory_order_release);
  sync_deadline(node);
}

void cancel_node_set_shield(cancel_node& node, bool shield) {
  // seq_cst: pairs with the canceller's shield load (cancel_tree.cpp, step 5).
  const bool was = node.shielded.exchange(shield, std::memory_order_seq_cst);
  // Lowering a shield can expose tasks below to an outer cancellation (a no-op unless running).
  if (was && !shield) deliver_if_cancelled(node);
}

bool cancel_node_cancel_called(const cancel_node& node) noexcept {
  if (node.cancelled.load(std::memory_order_acquire)) return true;
  // A finished scope's answer was frozen when it left.
  return node.state.load(std::memory_order_acquire) != cancel_node::phase::finished &&
         node_cancelled(node);
}

}  // namespace detail

void checkpoint() {
  detail::task* self = detail::require_task("grove::checkpoint");
  if (detail::task_cancel_requested(self)) throw cancelled{};
  detail::yield_current(self);
}

bool cancel_requested() noexcept {
  detail::task* self = detail::current_task();
  return self != nullptr && detail::task_cancel_requested(self);
}

}  // namespace grove
