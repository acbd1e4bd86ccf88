// Taking the snapshot behind dump_task_tree and dump_task_tree_json.
//
// Listing: outside a dump, a child that has neither parked nor run on a fiber of its own is in
// no list (spawning and inline running take no lock). A dump therefore begins a dump epoch, from
// which point spawns and inline runs list their children themselves (nursery.cpp), and asks every
// worker to list the fresh tasks of its own deque, in place (worker_dump.cpp); it waits up to
// 20 ms for the answers. A worker too busy to answer has its queued tasks lifted out by the dump,
// as a thief would take them; those and the injection queue's tasks are listed here and put back
// at the head of the injection queue, oldest first. A child running inline since before the dump
// is shown from its parent's record (copy_inline_child). What remains unlisted is a child in
// flight between a queue and a worker at that moment, counted as such.
//
// Locking: a task's stack of open nurseries is guarded by the lock of the nursery it is a child
// of (the runtime's roots mutex for a root task), and a nursery's child list by its own lock.
// The walk takes them top-down (roots mutex, then each nursery's lock while copying its
// children), the same parent-before-child order every other path uses, so it cannot deadlock
// and sees no record freed under it. Only copies leave the walk; printing happens afterwards,
// without any lock, so a slow stream never holds up the tasks.
#include "trace/task_snapshot.hpp"

#include <algorithm>
#include <chrono>
#include <mutex>
#include <thread>
#include <utility>

#include "cancel/cancel_tree.hpp"
#include "nursery/nursery_core.hpp"
#include "scheduler/runtime_core.hpp"
#include "scheduler/worker.hpp"
#include "task/task.hpp"
#include "trace/type_names.hpp"

namespace grove::detail {
namespace {

void copy_state(const task& t, task_snapshot& out) {
  const run_state state = t.state.load(std::memory_order_acquire);
  switch (state) {
    case run_state::fresh:
      out.what = task_snapshot::state::not_started;
      break;
    case run_state::running:
      out.what = task_snapshot::state::running;
      break;
    case run_state::ready:
    case run_state::woken_while_parking:
      out.what = task_snapshot::state::ready;
      break;
    case run_state::parking:
    case run_state::parked: {
      out.what = task_snapshot::state::parked;
      const char* what = t.parked_on.load(std::memory_order_relaxed);
      out.parked_on = what != nullptr ? what : "?";
      break;
    }
  }
  // A joining task lends its stack to the child it runs inline: while that child runs or
  // waits, the parent itself is neither running nor parked, but joining.
  if (state == run_state::running) {
    out.inline_child = t.inline_child.load(std::memory_order_acquire);
    if (out.inline_child != 0) {
      out.what = task_snapshot::state::joining_inline;
    } else if (t.runs_inline_on_owner.load(std::memory_order_relaxed)) {
      out.what = task_snapshot::state::running_inline;
    }
  }
}

// The child `parent` runs inline, from the parent's record, when that child is not listed.
// Ordering: run_inline stores the child's type (release), then its id; a new child's type is
// stored after the previous id was cleared. Reading id (acquire), type (acquire), id again: if
// the type read is a later child's, its release makes the clearing visible, so the second id
// differs (ids are never reused) and the type is dropped rather than misattributed.
task_snapshot copy_inline_child(const task& parent, std::uint64_t id) {
  task_snapshot out;
  out.id = id;
  out.what = task_snapshot::state::running_inline;
  out.seen_from_parent = true;
  out.worker = parent.running_on.load(std::memory_order_relaxed);
  const std::type_info* type = parent.inline_child_type.load(std::memory_order_acquire);
  if (parent.inline_child.load(std::memory_order_relaxed) == id) out.callable_type = type;
  return out;
}

task_snapshot copy_task(task& t, clock::time_point now);

nursery_snapshot copy_nursery(nursery_core& n, clock::time_point now) {
  nursery_snapshot out;
  std::lock_guard guard(n.lock);
  out.live_children = n.live_children();
  out.cancelled = node_cancelled(n.node());
  out.errors = n.errors.size();
  const std::int64_t ticks = n.node().deadline_ticks.load(std::memory_order_acquire);
  if (ticks != INT64_MAX) {
    const clock::time_point deadline{clock::duration(ticks)};
    out.deadline_in_seconds = std::chrono::duration<double>(deadline - now).count();
  }
  for (task* c = n.first_child; c != nullptr; c = c->next_sibling) {
    out.children.push_back(copy_task(*c, now));
  }
  out.unlisted_children =
      out.live_children > out.children.size() ? out.live_children - out.children.size() : 0;
  return out;
}

// Caller holds the lock guarding t.innermost_nursery.
task_snapshot copy_task(task& t, clock::time_point now) {
  task_snapshot out;
  out.id = t.id;
  out.root = t.root != nullptr;
  if (t.name) out.name = t.name.get();
  out.callable_type = t.callable_type;
  copy_state(t, out);
  out.worker = t.running_on.load(std::memory_order_relaxed);
  out.lock_holder = t.waiting_for_holder.load(std::memory_order_relaxed);
  if (out.lock_holder != 0) out.lock_holder_ended = ended_holding_locks(out.lock_holder);
  out.cancel_requested = chain_cancelled(&t.own_scope);
  std::vector<nursery_core*> open;
  for (nursery_core* n = t.innermost_nursery; n != nullptr; n = n->enclosing) open.push_back(n);
  for (auto it = open.rbegin(); it != open.rend(); ++it) {
    out.nurseries.push_back(copy_nursery(**it, now));
  }
  // The inline child belongs to the nursery being joined, the innermost.
  if (out.what == task_snapshot::state::joining_inline && !out.nurseries.empty()) {
    nursery_snapshot& joined = out.nurseries.back();
    const bool listed =
        std::any_of(joined.children.begin(), joined.children.end(),
                    [&](const task_snapshot& c) { return c.id == out.inline_child; });
    if (!listed) {
      joined.children.push_back(copy_inline_child(t, out.inline_child));
      if (joined.unlisted_children != 0) --joined.unlisted_children;
    }
  }
  return out;
}

// See the top of this file. Caller holds runtime.dump_mutex() and began the dump (`epoch`).
void list_queued_tasks(runtime_core& runtime, std::uint64_t epoch) {
  // Each worker lists its own deque in place; this thread answers for its own worker, and the
  // sleepers wake to answer.
  if (worker* here = worker::current(); here != nullptr && &here->runtime() == &runtime) {
    here->answer_dump_request();
  }
  runtime.idle().notify_all();
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::milliseconds(20);
  injection_queue::chain stolen;
  for (unsigned i = 0; i < runtime.worker_count(); ++i) {
    worker& w = runtime.worker_at(i);
    while (!w.answered_dump(epoch) && std::chrono::steady_clock::now() < give_up) {
      std::this_thread::yield();
    }
    if (w.answered_dump(epoch)) continue;
    // Busy in one long task: lift its queued tasks out as a thief would (the deque's protocol
    // hands each to one taker), to list them and let other workers run them. Steals take the
    // oldest first, and what was pushed before the dump began is older than what its spawner
    // listed itself: the queue's length (plus a margin, the reading is relaxed) bounds the
    // steals needed, even against a worker that keeps spawning.
    task* t = nullptr;
    for (std::size_t left = w.queued_estimate() + 64; left != 0 && w.try_steal_queued(t); --left) {
      stolen.append(t);
    }
  }
  // The injection queue last, so that its tasks wait out of it as briefly as possible; the
  // stolen tasks go behind them.
  injection_queue::chain queued = runtime.injection().take_all();
  queued.append(std::move(stolen));
  // Held out of every queue, each task is this thread's alone: listing it is safe.
  for (task* t = queued.head; t != nullptr; t = t->next_in_queue) {
    if (is_fresh(*t)) make_visible_in_nursery(t);
  }
  const bool moved = queued.head != nullptr;
  runtime.injection().push_front(queued);
  if (moved) runtime.idle().notify_all();
}

}  // namespace

runtime_snapshot snapshot_task_tree(runtime_core& runtime) {
  runtime_snapshot out;
  out.workers = runtime.worker_count();
  // Read before any lock: a mock clock's time is behind a lock of its own.
  const clock::time_point now = runtime.now();
  std::lock_guard one_dump_at_a_time(runtime.dump_mutex());
  struct dump_in_progress {
    runtime_core& runtime;
    std::uint64_t epoch;
    explicit dump_in_progress(runtime_core& r) : runtime(r), epoch(r.begin_dump()) {}
    ~dump_in_progress() { runtime.end_dump(); }
  } during{runtime};
  list_queued_tasks(runtime, during.epoch);
  std::lock_guard guard(runtime.roots_mutex());
  runtime.for_each_root([&](task* t) { out.roots.push_back(copy_task(*t, now)); });
  return out;
}

std::string display_name(const task_snapshot& t) {
  if (!t.name.empty()) return t.name;
  return t.callable_type != nullptr ? readable_type_name(*t.callable_type) : std::string();
}

}  // namespace grove::detail
