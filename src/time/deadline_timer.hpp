// Deadlines of cancel scopes fire through Boost.Asio steady_timers driven by the runtime's
// io_context, never by polling. A running node with a finite deadline owns one timer; its
// handler cancels the node. Lock order: the timer's mutex, then the node's lock.
#pragma once

#include <grove/detail/cancel_node.hpp>

namespace grove::detail {

// On entering a node: arms its timer, or cancels it at once if the deadline has passed.
void arm_deadline(cancel_node& node);
// After set_deadline() on a running node: re-arms (or cancels at once).
void rearm_deadline(cancel_node& node);
// On leaving a node: the timer will not fire into it any more.
void disarm_deadline(cancel_node& node) noexcept;
// When the node's memory goes away.
void destroy_deadline(cancel_node& node) noexcept;

}  // namespace grove::detail
