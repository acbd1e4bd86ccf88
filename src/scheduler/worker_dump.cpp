// A worker's part in a task-tree dump: listing the fresh tasks of its own deque. Only the owner
// may take from the bottom and push, so it takes everything, lists the fresh tasks (each one is
// its own while it holds it), and pushes them back in their order: the program goes on as if
// nothing happened, its joins still finding their children on top of the deque. The dump waits
// for every worker's answer (trace/task_snapshot.cpp), and lifts the tasks of a worker too busy
// to answer out of its deque itself.
#include "nursery/nursery_core.hpp"
#include "scheduler/worker.hpp"
#include "task/task.hpp"

namespace grove::detail {

void worker::list_queued_for_dump(std::uint64_t epoch, task* taken) {
  if (taken != nullptr) make_visible_in_nursery(taken);
  // Taken newest first; linked so that the chain runs oldest first.
  task* oldest = nullptr;
  while (task* t = deque_.take()) {
    t->next_in_queue = oldest;
    oldest = t;
  }
  for (task* t = oldest; t != nullptr;) {
    task* next = t->next_in_queue;
    t->next_in_queue = nullptr;
    if (is_fresh(*t)) make_visible_in_nursery(t);
    deque_.push(t);
    t = next;
  }
  // release: the listing above happens before the dump reads the tree (answered_dump).
  dump_answered_.store(epoch, std::memory_order_release);
}

}  // namespace grove::detail
