// A copy of a runtime's live task tree, taken under the tree's locks and then printed without
// them: dump_task_tree (text for people) and dump_task_tree_json (for tools) render the same
// snapshot, so the two forms can never disagree.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <typeinfo>
#include <vector>

namespace grove::detail {

class runtime_core;

struct nursery_snapshot;

struct task_snapshot {
  enum class state { not_started, running, running_inline, ready, parked, joining_inline };

  std::uint64_t id = 0;
  bool root = false;
  std::string name;                               // given at spawn (grove::task_name); or
  const std::type_info* callable_type = nullptr;  // the callable's type (demangled when shown)
  state what = state::ready;
  std::string parked_on;           // state::parked: what it waits on
  std::int32_t worker = -1;        // running: where; otherwise the worker that last ran it
  std::uint64_t inline_child = 0;  // joining_inline: the child running on its stack
  // running_inline, for a child its parent started inline before the dump began and that has
  // not parked since: known from its parent (id, type, worker), not walked (no nurseries).
  bool seen_from_parent = false;
  bool cancel_requested = false;
  std::uint64_t lock_holder = 0;  // parked on a lock or limiter held by this task
  bool lock_holder_ended = false;
  std::vector<nursery_snapshot> nurseries;  // outermost first
};

struct nursery_snapshot {
  std::size_t live_children = 0;
  bool cancelled = false;
  std::size_t errors = 0;
  std::optional<double> deadline_in_seconds;  // from the runtime's now(); negative: passed
  std::vector<task_snapshot> children;
  // Live but not listed: spawned elsewhere or taken from a queue while the dump was taken.
  std::size_t unlisted_children = 0;
};

struct runtime_snapshot {
  unsigned workers = 0;
  std::vector<task_snapshot> roots;
};

runtime_snapshot snapshot_task_tree(runtime_core& runtime);

// The two renderings of a fresh snapshot (runtime::dump_task_tree and dump_task_tree_json).
void dump_runtime(runtime_core& runtime, std::ostream& out);
void dump_runtime_json(runtime_core& runtime, std::ostream& out);

// What a task is called in a dump: its given name, else its callable's demangled type, else "".
std::string display_name(const task_snapshot& t);

}  // namespace grove::detail
