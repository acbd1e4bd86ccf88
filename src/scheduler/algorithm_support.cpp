// What the algorithm templates ask of the scheduler: a checkpoint, and whether to split now.
#include <grove/algorithm.hpp>

#include "cancel/cancel_tree.hpp"
#include "scheduler/runtime_core.hpp"
#include "scheduler/worker.hpp"
#include "task/task.hpp"

namespace grove::detail {

void algorithm_checkpoint(const char* what) {
  task* self = require_task(what);
  if (task_cancel_requested(self)) throw cancelled{};
}

bool should_split_now() noexcept {
  worker* here = worker::current();
  return here != nullptr && here->runtime().worker_count() > 1 && here->looks_idle();
}

unsigned current_worker_count() noexcept {
  task* self = current_task();
  return self != nullptr ? self->runtime->worker_count() : 1;
}

}  // namespace grove::detail
