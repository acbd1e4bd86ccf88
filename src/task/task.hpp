// The task record: what the scheduler runs. A task is a logical thread of the program; it runs
// on a fiber, either its own (stolen, woken or root tasks) or, as an inline child, on the fiber
// of the parent that is joining it. Private to src/.
#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <grove/detail/cancel_node.hpp>
#include <grove/detail/wait_list.hpp>
#include <grove/nursery.hpp>
#include <memory>

namespace grove::detail {

class runtime_core;
struct fiber_context;
struct root_wait;
struct start_wait;
struct cancel_forwarder;

// The scheduling state of a task. Transitions (who performs them):
//   fresh   -> running                   worker or joining parent starts it
//   running -> parking                   the task itself, inside park(), before switching out
//   parking -> parked                    the worker, after the switch completed (commit)
//   parking -> woken_while_parking       a waker that came before the commit; the worker then
//                                        makes it ready itself
//   parked  -> ready                     a waker; it then schedules the task
//   ready   -> running                   the worker that resumes it
//   running -> ready                     the task yields (checkpoint)
// Exactly one waker wins each park (the one that decided the wait: decide_wait), so a wake is
// never lost and never applied to a later park.
enum class run_state : std::uint8_t { fresh, running, parking, woken_while_parking, parked, ready };

struct task : task_header {
  std::atomic<run_state> state{run_state::fresh};
  // The decision of the task's current wait (decide_wait): beside `state`, in what was padding,
  // so that deciding and waking a parked task touch one cache line of its record.
  std::atomic<wait_outcome> wait_decision{wait_outcome::pending};
  runtime_core* runtime = nullptr;
  // The fiber it runs on; null while fresh. For an inline child: its parent's fiber.
  fiber_context* fiber = nullptr;
  // Intrusive link for the injection queue, the yield queue and free lists.
  task* next_in_queue = nullptr;

  // ---- structure (dump_task_tree) ----
  nursery_core* parent_nursery = nullptr;  // null for a root task
  // Whether the task is in its nursery's listed-children list (what dump_task_tree shows). A
  // task lists itself when it first runs on its own fiber or first parks; outside a dump, a
  // child that runs inline and never blocks is never listed, so spawning and inline running
  // take no lock. During a dump, spawns and inline runs list their children, and the dump lists
  // the fresh tasks it lifts out of the queues (nursery.cpp, trace/task_snapshot.cpp). Written,
  // under parent_nursery->lock, only by a thread that owns the task: the one running it, its
  // spawner before it is scheduled, or a dump that holds it out of the queues.
  bool listed = false;
  // Run inline by its nursery's owner, on the owner's fiber: it finishes before the owner's join
  // goes on, so its end is counted without an atomic RMW (nursery_core.hpp).
  // Atomic (relaxed) for the dump alone, which reads it from another thread: a child listed
  // while queued may start inline afterwards.
  std::atomic<bool> runs_inline_on_owner{false};
  // Listed-children links of parent_nursery; guarded by parent_nursery->lock.
  task* prev_sibling = nullptr;
  task* next_sibling = nullptr;
  // The innermost nursery this task has open (each links to the one it is nested in). Written
  // by the task itself; while the task is listed (always, for a root) only under
  // parent_nursery->lock (the roots mutex for a root), so a dump can walk it.
  nursery_core* innermost_nursery = nullptr;
  std::uint64_t id = 0;  // unique in the process, never reused (reserve_task_ids)
  // grove::mutex holds and capacity_limiter tokens this task has and has not given back.
  // Written by the task itself; checked when it ends (a task that ends holding one is a bug
  // that would otherwise hang its lock's waiters without a hint).
  std::uint32_t held_locks = 0;
  // While parked on a lock or a limiter: the id of a task holding it, for dump_task_tree.
  std::atomic<std::uint64_t> waiting_for_holder{0};
  // For dump_task_tree (relaxed: read by the dumping thread, which only reports them): the
  // worker that last ran the task (set whenever it becomes the running task of a worker's
  // thread), and the child running inline on this task's stack while it joins (0: none).
  std::atomic<std::int32_t> running_on{-1};
  // The name given at spawn (grove::task_name), or null; owned, freed with the record.
  std::unique_ptr<char[]> name;
  std::atomic<std::uint64_t> inline_child{0};
  // That child's callable type (static storage, so a dump may read it after the child is
  // gone). Stored with release before inline_child: see copy_inline_child in task_snapshot.cpp.
  std::atomic<const std::type_info*> inline_child_type{nullptr};

  // ---- cancellation ----
  // The task's own node: parent = its nursery's node, or its start gate. Never cancelled
  // itself; it is where the task's chain starts.
  cancel_node own_scope;
  // Started with nursery::start(): the gate between own_scope and the nursery's node (owned;
  // see cancel_tree.cpp, step 7). Null otherwise.
  cancel_node* start_gate = nullptr;
  // While parked in nursery::start(): how a canceller passes the cancellation on to the task
  // being started. Written by the task itself, read by cancellers that find it parked.
  cancel_forwarder* cancel_forward = nullptr;
  cancel_node* current_scope = &own_scope;  // innermost scope of the code running now
  // cancel_requested() cache: the generation at which the chain was last found not cancelled.
  std::uint64_t checked_generation = 0;
  // Parked-list links in current_scope's node; guarded by that node's lock.
  task* prev_parked = nullptr;
  task* next_parked = nullptr;
  cancel_node* parked_in = nullptr;

  // ---- waiting ----
  waiter* current_waiter = nullptr;  // the park in progress
  // What it waits on, for dump_task_tree (read by the dumping thread: atomic).
  std::atomic<const char*> parked_on{nullptr};

  // ---- completion ----
  root_wait* root = nullptr;            // run()'s caller, for a root task
  start_wait* pending_start = nullptr;  // start()'s caller until started()
};

inline task* as_task(task_header* h) noexcept { return static_cast<task*>(h); }

// ---- run_state transitions: every change of task::state goes through one of these ----

// fresh or ready -> running: whoever is about to run the task (a worker resuming it, a joining
// parent running it inline, a yield switching straight to it). relaxed: the task reached its
// runner through a queue or a wake-up that already synchronised.
inline void transition_to_running(task& t) noexcept {
  t.state.store(run_state::running, std::memory_order_relaxed);
}
// running -> ready: a task that yielded, once its context is saved, before it is queued.
inline void transition_to_ready(task& t) noexcept {
  t.state.store(run_state::ready, std::memory_order_relaxed);
}
// running -> parking: the task itself, inside park(), before its waiter becomes findable.
// relaxed: the wakers that can see the task read its state only after a synchronising step that
// follows this store (a lock the parker releases, or the publishing RMW of park_unless_done).
inline void transition_to_parking(task& t) noexcept {
  t.state.store(run_state::parking, std::memory_order_relaxed);
}
// parking -> running: the task itself, when the park was decided before it switched out (nobody
// else saw the decision, so no waker touches the state).
inline void abandon_parking(task& t) noexcept {
  t.state.store(run_state::running, std::memory_order_relaxed);
}
// parking -> parked: the worker, once the task's context is saved. False if a waker came first
// (woken_while_parking): then the task is the worker's to make ready and queue again.
// release pairs with the waker's acquire in transition_on_wake, publishing the saved
// continuation before any other worker can resume it.
[[nodiscard]] inline bool commit_park(task& t) noexcept {
  run_state expected = run_state::parking;
  return t.state.compare_exchange_strong(expected, run_state::parked, std::memory_order_acq_rel,
                                         std::memory_order_acquire);
}
// The waker's side (called only by the one that decided the task's waiter): parking ->
// woken_while_parking (the worker will re-queue it; returns false), or parked -> ready (true:
// the caller schedules it). Any other state: already running or queued, false.
[[nodiscard]] inline bool transition_on_wake(task& t) noexcept {
  run_state s = t.state.load(std::memory_order_acquire);
  for (;;) {
    if (s == run_state::parking) {
      if (t.state.compare_exchange_weak(s, run_state::woken_while_parking,
                                        std::memory_order_acq_rel, std::memory_order_acquire)) {
        return false;
      }
    } else if (s == run_state::parked) {
      // acq_rel: acquire pairs with the worker's release in commit_park, so the saved
      // continuation is visible to whoever resumes the task after it is scheduled.
      if (t.state.compare_exchange_weak(s, run_state::ready, std::memory_order_acq_rel,
                                        std::memory_order_acquire)) {
        return true;
      }
    } else {
      return false;
    }
  }
}
// ---- the decision of a wait (park.hpp) ----
// A task waits on one waiter at a time, so the decision of that wait is a word of the task.
// begin_wait resets it, by the task itself, before the waiter becomes findable (under the lock
// of the structure it is queued in, or before the publishing RMW of park_unless_done): every
// decider finds the waiter through that synchronisation, so it sees `pending` and never a
// previous wait's decision. The rule that keeps a decider of a previous wait from deciding the
// next one: a task begins a wait only after it has re-taken every lock under which its previous
// waiter could be found (the structure's, and its cancel node's to unregister), or made the
// waiter unfindable under it (foreign_completion clears its current waiter); a late decider,
// which decides under that lock, has then either decided or given up.
inline void begin_wait(waiter& w, task* self) noexcept {
  w.owner = self;
  self->wait_decision.store(wait_outcome::pending, std::memory_order_relaxed);
}
// pending -> `to`, exactly once per wait; false if the wait was decided already. acq_rel: the
// winner's writes before the decision (a handed-over value) are visible to the owner, which
// reads the decision with acquire after resuming.
[[nodiscard]] inline bool decide_wait(task& t, wait_outcome to) noexcept {
  wait_outcome expected = wait_outcome::pending;
  return t.wait_decision.compare_exchange_strong(expected, to, std::memory_order_acq_rel,
                                                 std::memory_order_acquire);
}
[[nodiscard]] inline bool decide_signalled(waiter& w) noexcept {
  return decide_wait(*w.owner, wait_outcome::signalled);
}
// The decision as the owner reads it: acquire, pairing with decide_wait.
inline wait_outcome wait_decision_of(const task& t) noexcept {
  return t.wait_decision.load(std::memory_order_acquire);
}

// Whether the task has not started yet (read by its owner's worker when choosing inline work).
inline bool is_fresh(const task& t) noexcept {
  return t.state.load(std::memory_order_relaxed) == run_state::fresh;
}

// The task running on this thread, or null. Not inlined: a fiber may resume on another
// thread, and an inlined thread_local access could reuse the old thread's address.
task* current_task() noexcept;
// Makes t the task running on this thread (and records this thread's worker in t->running_on).
void set_current_task(task* t) noexcept;
// The index of the worker whose thread this is, for set_current_task (-1: not a worker).
void set_current_worker_index(std::int32_t index) noexcept;
// Traced runtimes only (runtime_core::tracer()): records t's spawn (its name, its callable, the
// task spawning it) and its completion.
void trace_spawn(runtime_core& runtime, task& t) noexcept;
void trace_completion(runtime_core& runtime, const task& t) noexcept;
// The current task, or usage_error naming `what` ("grove::checkpoint").
task* require_task(const char* what);

// Task ids are unique in the process and never reused, so that they can name a lock's holder
// and a task in dumps (a recycled record's address could not). Reserves `count` consecutive ids
// and returns the first; workers reserve blocks, so a spawn touches no shared counter.
std::uint64_t reserve_task_ids(std::uint64_t count) noexcept;
// Whether the task with this id ended while it held a lock or limiter tokens (it was reported).
bool ended_holding_locks(std::uint64_t id) noexcept;

// Allocation of records: per-worker free lists; heap outside workers.
task* allocate_task(runtime_core& runtime);
void free_task(task* t) noexcept;

// Runs t's callable to the end on the current stack and completes it (errors routed to its
// nursery, start() caller or run() caller). `t` is freed when this returns.
void run_task_to_completion(task* t) noexcept;

}  // namespace grove::detail

namespace grove::detail {
// A fresh task that cannot get a fiber (out of stacks): completes it with `error`, which then
// reaches its nursery (or run()'s caller) like any error the task threw.
void fail_unstarted_task(task* t, std::exception_ptr error) noexcept;
}  // namespace grove::detail
