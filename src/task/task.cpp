// Task records: the current-task pointer, allocation, and running a task to its end.
#include "task/task.hpp"

#include <algorithm>
#include <cstdio>
#include <deque>
#include <grove/errors.hpp>
#include <mutex>
#include <new>
#include <string>

#include "nursery/nursery_core.hpp"
#include "scheduler/runtime_core.hpp"
#include "scheduler/worker.hpp"

namespace grove::detail {
namespace {

thread_local task* running_task = nullptr;
thread_local std::int32_t running_worker_index = -1;

std::atomic<std::uint64_t> next_unreserved_id{1};

// Ids of tasks that ended holding a lock or tokens (a bug), for dump_task_tree; the oldest are
// forgotten past a bound.
std::mutex finished_holders_mutex;
std::deque<std::uint64_t> finished_holders;
constexpr std::size_t finished_holders_kept = 1024;

void report_ended_holding_locks(const task& t) noexcept {
  std::fprintf(stderr,
               "grove: warning: task %llu ended holding %u grove::mutex lock(s) or "
               "capacity_limiter token(s); tasks waiting for them wait forever "
               "(dump_task_tree names this task as the holder)\n",
               static_cast<unsigned long long>(t.id), t.held_locks);
  try {
    std::lock_guard guard(finished_holders_mutex);
    if (finished_holders.size() == finished_holders_kept) finished_holders.pop_front();
    finished_holders.push_back(t.id);
  } catch (...) {
    // Out of memory: the dump then only names the holder.
  }
}

// Runs before the task's memory is reused or freed; the routing of the result.
void complete_task(task* t, std::exception_ptr error, bool was_cancelled) noexcept {
  if (t->runtime->tracer() != nullptr) [[unlikely]]
    trace_completion(*t->runtime, *t);
  // The callable, and with it the decay-copied arguments, dies before anyone is told the task
  // has finished (docs/reference.md §2: destroyed before open_nursery returns).
  t->body.reset();
  if (t->held_locks != 0) report_ended_holding_locks(*t);
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

bool ended_holding_locks(std::uint64_t id) noexcept {
  std::lock_guard guard(finished_holders_mutex);
  return std::find(finished_holders.begin(), finished_holders.end(), id) != finished_holders.end();
}

std::uint64_t reserve_task_ids(std::uint64_t count) noexcept {
  return next_unreserved_id.fetch_add(count, std::memory_order_relaxed);
}

__attribute__((noinline)) task* current_task() noexcept { return running_task; }
__attribute__((noinline)) void set_current_task(task* t) noexcept {
  running_task = t;
  if (t != nullptr) t->running_on.store(running_worker_index, std::memory_order_relaxed);
}
void set_current_worker_index(std::int32_t index) noexcept { running_worker_index = index; }

void trace_spawn(runtime_core& runtime, task& t) noexcept {
  try {
    const task* parent = current_task();
    const auto parent_id = static_cast<std::int64_t>(parent != nullptr ? parent->id : 0);
    if (t.name) {
      runtime.record_trace(trace_event::make(trace_kind::spawn, t.id, trace_clock_ticks(),
                                             parent_id, runtime.keep_trace_name(t.name.get())));
    } else {
      runtime.record_trace(trace_event::make(
          trace_kind::spawn, t.id, trace_clock_ticks(), parent_id, t.callable_type,
          t.callable_type != nullptr ? trace_event::label_is_type : std::uint8_t{0}));
    }
  } catch (...) {
    // Out of memory for the name's copy: the trace misses this spawn, the program goes on.
  }
}

void trace_completion(runtime_core& runtime, const task& t) noexcept {
  try {
    runtime.record_trace(trace_event::make(trace_kind::complete, t.id, trace_clock_ticks()));
  } catch (...) {
  }
}

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
    t->id = reserve_task_ids(1);
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
