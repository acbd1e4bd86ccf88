// dump_task_tree and dump_task_tree_json: the live tree of root tasks, their open nurseries and
// the children of each, with every task's state, as text for people and as JSON for tools. Both
// print one snapshot (task_snapshot.cpp), taken under the tree's locks.
#include <cstdio>
#include <grove/nursery.hpp>
#include <grove/runtime.hpp>
#include <ostream>
#include <string>

#include "task/task.hpp"
#include "trace/json_text.hpp"
#include "trace/task_snapshot.hpp"

namespace grove {
namespace detail {
namespace {

std::string indent(int depth) { return std::string(static_cast<std::size_t>(depth) * 2, ' '); }

void print_state(std::ostream& out, const task_snapshot& t) {
  switch (t.what) {
    case task_snapshot::state::not_started:
      out << "not started (queued)";
      return;
    case task_snapshot::state::running:
      out << "running on worker " << t.worker;
      return;
    case task_snapshot::state::running_inline:
      out << "running inline on its parent's stack, on worker " << t.worker;
      // Known from the parent only: the child's own nurseries cannot be walked.
      if (t.seen_from_parent) out << " (since before this dump; its nurseries are not shown)";
      return;
    case task_snapshot::state::ready:
      out << "ready";
      return;
    case task_snapshot::state::parked:
      out << "parked on " << t.parked_on;
      return;
    case task_snapshot::state::joining_inline:
      out << "joining a nursery; its child task " << t.inline_child << " runs on its stack";
      return;
  }
}

void print_task(std::ostream& out, const task_snapshot& t, int depth);

void print_nursery(std::ostream& out, const nursery_snapshot& n, int depth) {
  out << indent(depth) << "nursery (" << n.live_children << " live "
      << (n.live_children == 1 ? "child" : "children");
  if (n.cancelled) out << ", cancelled";
  if (n.errors != 0) out << ", " << n.errors << " error(s)";
  if (n.deadline_in_seconds) {
    char text[64];
    if (*n.deadline_in_seconds >= 0) {
      std::snprintf(text, sizeof text, ", deadline in %.3f s", *n.deadline_in_seconds);
    } else {
      std::snprintf(text, sizeof text, ", deadline passed %.3f s ago", -*n.deadline_in_seconds);
    }
    out << text;
  }
  out << ")\n";
  for (const task_snapshot& c : n.children) print_task(out, c, depth + 1);
  // Children in flight between a queue and a worker while the dump lifted the queues
  // (task_snapshot.cpp), or spawned from another task's stack meanwhile.
  if (n.unlisted_children != 0) {
    out << indent(depth + 1) << "+" << n.unlisted_children
        << " more, starting or spawned while this dump was taken\n";
  }
}

void print_task(std::ostream& out, const task_snapshot& t, int depth) {
  out << indent(depth) << (t.root ? "root " : "") << "task " << t.id;
  if (const std::string name = display_name(t); !name.empty()) out << " [" << name << "]";
  out << ": ";
  print_state(out, t);
  if (t.lock_holder != 0) {
    out << " (held by task " << t.lock_holder;
    if (t.lock_holder_ended) out << ", which ended without releasing it";
    out << ')';
  }
  if (t.cancel_requested) out << " (cancel requested)";
  out << '\n';
  for (const nursery_snapshot& n : t.nurseries) print_nursery(out, n, depth + 1);
}

const char* json_state(task_snapshot::state s) {
  switch (s) {
    case task_snapshot::state::not_started:
      return "not_started";
    case task_snapshot::state::running:
      return "running";
    case task_snapshot::state::running_inline:
      return "running_inline";
    case task_snapshot::state::ready:
      return "ready";
    case task_snapshot::state::parked:
      return "parked";
    case task_snapshot::state::joining_inline:
      return "joining";
  }
  return "?";
}

void print_json_task(std::ostream& out, const task_snapshot& t);

void print_json_nursery(std::ostream& out, const nursery_snapshot& n) {
  out << "{\"live_children\":" << n.live_children
      << ",\"cancelled\":" << (n.cancelled ? "true" : "false") << ",\"errors\":" << n.errors
      << ",\"deadline_in_seconds\":";
  if (n.deadline_in_seconds) {
    char number[32];
    std::snprintf(number, sizeof number, "%.6f", *n.deadline_in_seconds);
    out << number;
  } else {
    out << "null";
  }
  out << ",\"unlisted_children\":" << n.unlisted_children << ",\"children\":[";
  for (std::size_t i = 0; i < n.children.size(); ++i) {
    if (i != 0) out << ',';
    print_json_task(out, n.children[i]);
  }
  out << "]}";
}

void print_json_task(std::ostream& out, const task_snapshot& t) {
  out << "{\"id\":" << t.id << ",\"root\":" << (t.root ? "true" : "false") << ",\"name\":";
  write_json_string(out, display_name(t));
  out << ",\"state\":\"" << json_state(t.what) << "\",\"parked_on\":";
  if (t.what == task_snapshot::state::parked) {
    write_json_string(out, t.parked_on);
  } else {
    out << "null";
  }
  out << ",\"worker\":" << t.worker << ",\"inline_child\":";
  if (t.inline_child != 0) {
    out << t.inline_child;
  } else {
    out << "null";
  }
  out << ",\"seen_from_parent\":" << (t.seen_from_parent ? "true" : "false");
  out << ",\"cancel_requested\":" << (t.cancel_requested ? "true" : "false") << ",\"held_by\":";
  if (t.lock_holder != 0) {
    out << t.lock_holder;
  } else {
    out << "null";
  }
  out << ",\"holder_ended\":" << (t.lock_holder_ended ? "true" : "false") << ",\"nurseries\":[";
  for (std::size_t i = 0; i < t.nurseries.size(); ++i) {
    if (i != 0) out << ',';
    print_json_nursery(out, t.nurseries[i]);
  }
  out << "]}";
}

}  // namespace

void dump_runtime(runtime_core& runtime, std::ostream& out) {
  const runtime_snapshot tree = snapshot_task_tree(runtime);
  out << "grove task tree (" << tree.workers << " workers)\n";
  for (const task_snapshot& t : tree.roots) print_task(out, t, 1);
}

void dump_runtime_json(runtime_core& runtime, std::ostream& out) {
  const runtime_snapshot tree = snapshot_task_tree(runtime);
  out << "{\"workers\":" << tree.workers << ",\"roots\":[";
  for (std::size_t i = 0; i < tree.roots.size(); ++i) {
    if (i != 0) out << ',';
    print_json_task(out, tree.roots[i]);
  }
  out << "]}\n";
}

}  // namespace detail

void runtime::dump_task_tree(std::ostream& out) const { detail::dump_runtime(*core_, out); }
void runtime::dump_task_tree_json(std::ostream& out) const {
  detail::dump_runtime_json(*core_, out);
}

void dump_task_tree(std::ostream& out) {
  detail::task* self = detail::require_task("grove::dump_task_tree");
  detail::dump_runtime(*self->runtime, out);
}

void dump_task_tree_json(std::ostream& out) {
  detail::task* self = detail::require_task("grove::dump_task_tree_json");
  detail::dump_runtime_json(*self->runtime, out);
}

}  // namespace grove
