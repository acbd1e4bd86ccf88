// dump_task_tree: the live tree of root tasks, their open nurseries and the children of each,
// with every task's state — the first thing to look at when a program hangs.
//
// Locking: a task's stack of open nurseries is guarded by the lock of the nursery it is a child
// of (the runtime's roots mutex for a root task), and a nursery's child list by its own lock.
// The dump takes them top-down (roots mutex, then each nursery's lock while listing its
// children), the same parent-before-child order every other path uses, so it cannot deadlock
// and sees no record freed under it.
#include <mutex>
#include <ostream>
#include <string>
#include <vector>

#include "cancel/cancel_tree.hpp"
#include "nursery/nursery_core.hpp"
#include "scheduler/runtime_core.hpp"
#include "task/task.hpp"

namespace grove {
namespace detail {
namespace {

const char* describe(const task& t, std::string& scratch) {
  switch (t.state.load(std::memory_order_acquire)) {
    case run_state::fresh:
      return "ready (not started)";
    case run_state::running:
      return "running";
    case run_state::ready:
    case run_state::woken_while_parking:
      return "ready";
    case run_state::parking:
    case run_state::parked: {
      const char* what = t.parked_on.load(std::memory_order_relaxed);
      scratch = std::string("parked on ") + (what != nullptr ? what : "?");
      return scratch.c_str();
    }
  }
  return "?";
}

void dump_task(std::ostream& out, task& t, int depth);

void dump_nursery(std::ostream& out, nursery_core& n, int depth) {
  std::lock_guard guard(n.lock);
  const std::size_t live = n.live_children();
  out << std::string(static_cast<std::size_t>(depth) * 2, ' ') << "nursery (" << live << " live "
      << (live == 1 ? "child" : "children");
  if (node_cancelled(n.node())) out << ", cancelled";
  if (!n.errors.empty()) out << ", " << n.errors.size() << " error(s)";
  out << ")\n";
  std::size_t listed = 0;
  for (task* c = n.first_child; c != nullptr; c = c->next_sibling) {
    dump_task(out, *c, depth + 1);
    ++listed;
  }
  // Children that never parked nor ran on a fiber of their own are not listed (no lock on the
  // spawn path): they are queued, or running inline on their parent's stack.
  if (live > listed) {
    out << std::string(static_cast<std::size_t>(depth + 1) * 2, ' ') << "+" << (live - listed)
        << " not yet started or running inline\n";
  }
}

// Caller holds the lock guarding t.innermost_nursery.
void dump_task(std::ostream& out, task& t, int depth) {
  std::string scratch;
  out << std::string(static_cast<std::size_t>(depth) * 2, ' ') << (t.root != nullptr ? "root " : "")
      << "task " << t.id << ": " << describe(t, scratch);
  if (const std::uint64_t holder = t.waiting_for_holder.load(std::memory_order_relaxed)) {
    out << " (held by task " << holder;
    if (ended_holding_locks(holder)) out << ", which ended without releasing it";
    out << ')';
  }
  if (chain_cancelled(&t.own_scope)) out << " (cancel requested)";
  out << '\n';
  std::vector<nursery_core*> open;
  for (nursery_core* n = t.innermost_nursery; n != nullptr; n = n->enclosing) open.push_back(n);
  for (auto it = open.rbegin(); it != open.rend(); ++it) dump_nursery(out, **it, depth + 1);
}

}  // namespace

void dump_runtime(runtime_core& runtime, std::ostream& out) {
  std::lock_guard guard(runtime.roots_mutex());
  out << "grove task tree (" << runtime.worker_count() << " workers)\n";
  runtime.for_each_root([&](task* t) { dump_task(out, *t, 1); });
}

}  // namespace detail

void runtime::dump_task_tree(std::ostream& out) const { detail::dump_runtime(*core_, out); }

void dump_task_tree(std::ostream& out) {
  detail::task* self = detail::require_task("grove::dump_task_tree");
  detail::dump_runtime(*self->runtime, out);
}

}  // namespace grove
