// A fiber: a pooled stack plus a boost::context::fiber, and the switch between a worker and the
// fiber it runs. Every switch goes through resume_fiber() (worker side) or suspend_fiber() (fiber
// side), which carry the sanitizer annotations and save/restore the C++ runtime's per-thread
// exception state, so a task that parks inside a catch block and resumes on another worker
// still sees its own caught exceptions.
#pragma once

#include <boost/context/fiber.hpp>
#include <grove/detail/sanitizer.hpp>

#include "fiber/stack_pool.hpp"

namespace grove::detail {

struct task;

// Why a fiber switched back to its worker.
enum class switch_reason : unsigned char { finished, parked, yielded };

// The C++ runtime's per-thread exception globals (libsupc++'s __cxa_eh_globals).
struct exception_state {
  void* caught_exceptions = nullptr;
  unsigned int uncaught_exceptions = 0;
};

struct fiber_context {
  boost::context::fiber continuation;  // the fiber while it is suspended
  boost::context::fiber resumer;       // the worker to switch back to, while it runs
  stack_memory stack;
  task* first_task = nullptr;      // the task it was created to run
  task* switching_task = nullptr;  // the task on whose behalf it last switched out
  switch_reason reason = switch_reason::finished;
  exception_state saved_exceptions;  // this fiber's exception state while suspended
  sanitizer_fiber sanitizer;
};

// Builds a fiber on `stack` that will run `first` to completion. The record lives at the top
// of the stack itself.
fiber_context* create_fiber(stack_memory stack, task* first);
// Worker side: runs the fiber until a fiber switches back to the worker, and returns that fiber
// (not always `fc`: a yield may have switched straight to another fiber, which then returns in
// its place); its reason is in ->reason. A fiber that finished returns null: its record is
// destroyed and its stack handed back in `finished`.
fiber_context* resume_fiber(fiber_context* fc, stack_memory* finished);
// Fiber side: switches back to the worker that resumed it; returns when resumed again.
void suspend_fiber(fiber_context* fc, switch_reason reason, task* switching);
// Fiber side: switches straight from `from` (running `from_task`) to the suspended fiber `to`,
// skipping the worker's loop; once `from` is saved, `publish(from_task)` runs on `to`'s stack to
// make it runnable again. `to` inherits from's worker. Returns when `from` is resumed again.
void switch_directly(fiber_context* from, task* from_task, fiber_context* to,
                     void (*publish)(task*));
// The fiber running on this thread, null on a worker's own stack.
fiber_context* current_fiber() noexcept;
// Whether the running fiber has at least `bytes` of stack left (for inline children).
bool stack_has_room(const fiber_context* fc, std::size_t bytes) noexcept;

}  // namespace grove::detail
