// The internal propagation node behind every cancel scope (trio's CancelStatus). The user's
// cancel_scope owns one; nurseries and tasks own one each, and a task started with
// nursery::start() owns a second, its start gate. Nodes form a tree through `parent` (the
// enclosing scope in the task's dynamic context); the downward links (children, parked tasks)
// are created lazily, only when a task parks, so entering a scope costs no lock. The protocol
// is at the top of src/cancel/cancel_tree.cpp.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <grove/detail/spin_lock.hpp>
#include <grove/detail/timer_entry.hpp>

namespace grove::detail {

struct task;
class runtime_core;

struct cancel_node {
  enum class phase : std::uint8_t { unentered, running, finished };

  cancel_node() = default;
  cancel_node(const cancel_node&) = delete;
  cancel_node& operator=(const cancel_node&) = delete;

  // Set by cancel() (or the deadline timer) and never cleared, except on a start gate when its
  // task calls started() (cancel_tree.cpp, step 7). Readers walk the chain of `parent`s.
  std::atomic<bool> cancelled{false};
  std::atomic<bool> shielded{false};
  // steady_clock ticks; max() = no deadline. Any thread may store it (set_deadline).
  std::atomic<std::int64_t> deadline_ticks{INT64_MAX};
  // Changed only under `lock`; atomic so that getters and fast paths may read it without.
  std::atomic<phase> state{phase::unentered};
  // True once this scope absorbed its own cancellation. Written by the owning task only.
  bool caught = false;

  // The enclosing node. Written once, by the owner before the node becomes reachable from any
  // other thread (entering a scope, attaching a task); never changed while it runs.
  cancel_node* parent = nullptr;
  // The runtime whose timer queue holds this node's deadline; set with `parent`.
  runtime_core* runtime = nullptr;

  // Guards first_child, first_parked, state changes, the sibling links and `linked` of this
  // node's children, and a scope_node's deadline_syncs.
  spin_lock lock;
  cancel_node* first_child = nullptr;
  task* first_parked = nullptr;  // tasks parked cancellably whose innermost scope is this node
  // Guarded by parent->lock: membership in parent's child list.
  cancel_node* next_sibling = nullptr;
  cancel_node* prev_sibling = nullptr;
  bool linked = false;
};

// The node of a cancel_scope (a nursery's too): the only nodes that can have a deadline, and so
// the only ones that carry its timer entry. Tasks' own nodes and start gates, one per task,
// stay small.
struct scope_node : cancel_node {
  // Guarded by lock: set_deadline() calls between their check that the node runs and the end of
  // their timer-queue update; leaving waits for them (cancel_tree.cpp, step 8).
  int deadline_syncs = 0;
  // Whether a sync ever queued the deadline; written by syncs while pinned, read by the leave
  // once no sync is in flight.
  bool deadline_armed = false;
  // The deadline's place in the runtime's timer queue (guarded by the queue's lock).
  timer_entry deadline_entry;
};

}  // namespace grove::detail
