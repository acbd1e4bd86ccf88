// Task records: the current-task pointer, allocation, and running a task to its end.
#include "task/task.hpp"

#include <grove/errors.hpp>
#include <new>
#include <string>

#include "nursery/nursery_core.hpp"
#include "scheduler/runtime_core.hpp"
#include "scheduler/worker.hpp"

namespace grove::detail {
namespace {

thread_local task* running_task = nullptr;

std::atomic<std::uint64_t> foreign_task_ids{0};

// Runs before the task's memory is reused or freed; the routing of the result.
void complete_task(task* t, std::exception_ptr error, bool was_cancelled) noexcept {
  // The callable, and with it the decay-copied arguments, dies before anyone is told the task
  // has finished (API.md §2: destroyed before open_nursery returns).
  t->body.reset();
  if (worker* here = worker::current()) {
    worker_counters::bump(here->counters().tasks_completed);
  } else {
    t->runtime->external_counters().tasks_completed.fetch_add(1, std::memory_order_relaxed);
  }
  if (t->root != nullptr) {
    complete_root(t, std::move(error));
  } else {
    complete_child(t, std::move(error), was_cancelled);
  }
}

}  // namespace

__attribute__((noinline)) task* current_task() noexcept { return running_task; }
__attribute__((noinline)) void set_current_task(task* t) noexcept { running_task = t; }

task* require_task(const char* what) {
  task* t = current_task();
  if (t == nullptr) {
    throw usage_error(std::string(what) +
                      " needs a grove task: call it from a function run by grove::run, "
                      "runtime::run or a nursery");
  }
  return t;
}

task* allocate_task(runtime_core& runtime) {
  worker* here = worker::current();
  task* t = nullptr;
  if (here != nullptr && &here->runtime() == &runtime) {
    void* memory = here->pop_free_task();
    // Default- (not value-) initialised: every member has an initialiser, and zeroing the
    // callable's buffer on every spawn was a measurable part of fork-join cost.
    t = memory != nullptr ? ::new (memory) task : new task;
    t->id = here->next_task_id();
  } else {
    t = new task;
    t->id = foreign_task_ids.fetch_add(1, std::memory_order_relaxed) + 1;
  }
  t->runtime = &runtime;
  return t;
}

void free_task(task* t) noexcept {
  worker* here = worker::current();
  if (here != nullptr && &here->runtime() == t->runtime) {
    t->~task();
    if (here->push_free_task(t)) return;
    ::operator delete(static_cast<void*>(t));
    return;
  }
  delete t;
}

void run_task_to_completion(task* t) noexcept {
  set_current_task(t);
  std::exception_ptr error;
  bool was_cancelled = false;
  try {
    t->body.invoke(t->body);
  } catch (const cancelled&) {
    was_cancelled = true;
    error = std::current_exception();
  } catch (...) {
    error = std::current_exception();
  }
  complete_task(t, std::move(error), was_cancelled);
}

void fail_unstarted_task(task* t, std::exception_ptr error) noexcept {
  set_current_task(t);
  complete_task(t, std::move(error), false);
  set_current_task(nullptr);
}

}  // namespace grove::detail
