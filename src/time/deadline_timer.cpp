// Scope deadlines on Asio timers; see deadline_timer.hpp.
#include "time/deadline_timer.hpp"

#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <mutex>

#include "cancel/cancel_tree.hpp"
#include "scheduler/runtime_core.hpp"

namespace grove::detail {

struct deadline_timer {
  // Shared with the pending handler, which may run after the node has left (then it finds
  // `node` null) or even after the node's memory is gone (it only touches this state).
  struct shared_state {
    explicit shared_state(boost::asio::io_context& io, cancel_node* n) : node(n), timer(io) {}
    std::mutex mutex;   // guards node and every use of timer
    cancel_node* node;  // null once the node has left
    boost::asio::steady_timer timer;
  };
  std::shared_ptr<shared_state> state;
};

namespace {

clock::time_point deadline_of(const cancel_node& node) noexcept {
  return clock::time_point(clock::duration(node.deadline_ticks.load(std::memory_order_acquire)));
}

void wait_for_deadline(const std::shared_ptr<deadline_timer::shared_state>& state,
                       clock::time_point when) {
  // Caller holds state->mutex. Re-arming cancels the previous wait (its handler sees
  // operation_aborted).
  state->timer.expires_at(when);
  state->timer.async_wait([state](const boost::system::error_code& error) {
    std::lock_guard guard(state->mutex);
    if (error || state->node == nullptr) return;
    // A handler that fired just before a set_deadline() to a later time is stale.
    if (!node_cancelled(*state->node)) return;
    cancel_node_now(*state->node);
  });
}

}  // namespace

void arm_deadline(cancel_node& node) { rearm_deadline(node); }

void rearm_deadline(cancel_node& node) {
  if (node.deadline_ticks.load(std::memory_order_acquire) == INT64_MAX) return;
  std::shared_ptr<deadline_timer::shared_state> state;
  {
    std::lock_guard guard(node.lock);
    if (node.state.load(std::memory_order_relaxed) != cancel_node::phase::running) return;
    deadline_timer* timer = node.timer.load(std::memory_order_relaxed);
    if (timer == nullptr) {
      timer = new deadline_timer{
          std::make_shared<deadline_timer::shared_state>(node.runtime->io(), &node)};
      // release: pairs with the acquire in disarm_deadline().
      node.timer.store(timer, std::memory_order_release);
    }
    state = timer->state;
  }
  if (node_cancelled(node)) {  // already past: cancel synchronously, no timer needed
    cancel_node_now(node);
    return;
  }
  std::lock_guard guard(state->mutex);
  if (state->node == nullptr) return;  // left meanwhile
  wait_for_deadline(state, deadline_of(node));
}

void disarm_deadline(cancel_node& node) noexcept {
  deadline_timer* timer = node.timer.load(std::memory_order_acquire);
  if (timer == nullptr) return;
  std::lock_guard guard(timer->state->mutex);
  timer->state->node = nullptr;
  timer->state->timer.cancel();
}

void destroy_deadline(cancel_node& node) noexcept {
  delete node.timer.exchange(nullptr, std::memory_order_acq_rel);
}

}  // namespace grove::detail
