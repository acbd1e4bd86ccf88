// The internal propagation node behind every cancel scope (trio's CancelStatus). The user's
// cancel_scope owns one; nurseries and tasks own one each. Nodes form a tree through `parent`
// (the enclosing scope in the task's dynamic context); the downward links (children, parked
// tasks) are created lazily, only when a task parks, so entering a scope costs no lock.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <grove/detail/spin_lock.hpp>

namespace grove::detail {

struct task;
class runtime_core;
struct deadline_timer;

struct cancel_node {
  enum class phase : std::uint8_t { unentered, running, finished };

  cancel_node() = default;
  cancel_node(const cancel_node&) = delete;
  cancel_node& operator=(const cancel_node&) = delete;

  // Set once by cancel() (or the deadline timer), never cleared. Readers walk the chain of
  // `parent`s; see cancel_tree.cpp for the ordering argument against parking tasks.
  std::atomic<bool> cancelled{false};
  std::atomic<bool> shielded{false};
  // steady_clock ticks; max() = no deadline.
  std::atomic<std::int64_t> deadline_ticks{INT64_MAX};
  std::atomic<phase> state{phase::unentered};
  // True once this scope absorbed its own cancellation. Written by the owning task only.
  bool caught = false;

  // The enclosing node while running. Written by the owning task on entry; re-pointed by
  // task_status::started() under both the old and the new parent's lock.
  cancel_node* parent = nullptr;
  // The runtime whose io_context arms this node's deadline timer; set on entry.
  runtime_core* runtime = nullptr;

  // Guards first_child, first_parked, and the sibling links / `linked` of this node's children.
  spin_lock lock;
  cancel_node* first_child = nullptr;
  task* first_parked = nullptr;  // tasks parked cancellably whose innermost scope is this node
  // Guarded by parent->lock: membership in parent's child list.
  cancel_node* next_sibling = nullptr;
  cancel_node* prev_sibling = nullptr;
  bool linked = false;

  // The deadline timer, once one was armed (owned; see time/deadline_timer.cpp). Created under
  // `lock`; atomic so that leaving a node that never had one costs no lock.
  std::atomic<deadline_timer*> timer{nullptr};
};

}  // namespace grove::detail
