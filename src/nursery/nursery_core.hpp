// A nursery's private state, how its children finish, and how start() meets its task.
//
// Join protocol (the nursery's lock guards live, the child list, join_waiter and errors):
//   1. The owner runs its own not-yet-stolen children inline while it can (nursery.cpp).
//   2. Under the lock: live == 0 -> done; else publish join_waiter and park (releasing it).
//   3. A finishing child, under the lock, unlinks itself and decrements live; the one that
//      reaches 0 takes join_waiter and signals it after unlocking. It touches the nursery no
//      more: the owner may return and destroy it as soon as it is signalled.
// An error is recorded and the nursery's scope cancelled *before* the decrement, so the owner
// cannot return while a child is still cancelling through the nursery's node.
#pragma once

#include <grove/cancel.hpp>
#include <grove/detail/spin_lock.hpp>
#include <grove/nursery.hpp>

#include "task/park.hpp"

#include <atomic>
#include <cstddef>
#include <exception>
#include <semaphore>
#include <vector>

namespace grove::detail {

struct task;
class runtime_core;

struct nursery_core {
  explicit nursery_core(task* opener);
  nursery_core(const nursery_core&) = delete;
  nursery_core& operator=(const nursery_core&) = delete;

  cancel_node& node() noexcept { return scope.node_; }
  void record_error(std::exception_ptr error) noexcept;
  void child_finished(task* child, bool was_cancelled) noexcept;

  grove::cancel_scope scope;
  spin_lock lock;
  std::atomic<std::size_t> live{0};  // children not yet finished; written under lock
  task* first_child = nullptr;
  waiter* join_waiter = nullptr;
  std::vector<std::exception_ptr> errors;  // in order of occurrence
  bool saw_cancelled = false;              // some child raised `cancelled`
  task* owner;
  nursery_core* enclosing = nullptr;  // the owner's next outer open nursery
  runtime_core* runtime;
  nursery facade;
};

// Where run() waits for its root task.
struct root_wait {
  std::binary_semaphore done{0};
  std::exception_ptr error;
};

// Where start() waits for started() or the task's end.
struct start_wait {
  enum class result : unsigned char { pending, started, failed };
  spin_lock lock;
  waiter caller;
  result outcome = result::pending;  // guarded by lock
  std::exception_ptr error;
  cancel_node* nursery_node = nullptr;
  task* child = nullptr;
};

// Completion of a child task (called from complete_task).
void complete_child(task* t, std::exception_ptr error, bool was_cancelled) noexcept;
// Completion of a root task (runtime.cpp).
void complete_root(task* t, std::exception_ptr error) noexcept;

}  // namespace grove::detail
