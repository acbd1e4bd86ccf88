// Taking the snapshot behind dump_task_tree and dump_task_tree_json.
//
// Locking: a task's stack of open nurseries is guarded by the lock of the nursery it is a child
// of (the runtime's roots mutex for a root task), and a nursery's child list by its own lock.
// The walk takes them top-down (roots mutex, then each nursery's lock while copying its
// children), the same parent-before-child order every other path uses, so it cannot deadlock
// and sees no record freed under it. Only copies leave the walk; printing happens afterwards,
// without any lock, so a slow stream never holds up the tasks.
#include "trace/task_snapshot.hpp"

#include <chrono>
#include <mutex>

#include "cancel/cancel_tree.hpp"
#include "nursery/nursery_core.hpp"
#include "scheduler/runtime_core.hpp"
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
    out.inline_child = t.inline_child.load(std::memory_order_relaxed);
    if (out.inline_child != 0) out.what = task_snapshot::state::joining_inline;
  }
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
  return out;
}

}  // namespace

runtime_snapshot snapshot_task_tree(runtime_core& runtime) {
  runtime_snapshot out;
  out.workers = runtime.worker_count();
  // Read before any lock: a mock clock's time is behind a lock of its own.
  const clock::time_point now = runtime.now();
  std::lock_guard guard(runtime.roots_mutex());
  runtime.for_each_root([&](task* t) { out.roots.push_back(copy_task(*t, now)); });
  return out;
}

std::string display_name(const task_snapshot& t) {
  if (!t.name.empty()) return t.name;
  return t.callable_type != nullptr ? readable_type_name(*t.callable_type) : std::string();
}

}  // namespace grove::detail
