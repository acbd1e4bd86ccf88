// Context switches between workers and fibers; see fiber_context.hpp.
#include "fiber/fiber_context.hpp"

#include <cstdint>
#include <memory>
#include <new>
#include <utility>

#include "task/task.hpp"

namespace __cxxabiv1 {
struct __cxa_eh_globals;
extern "C" __cxa_eh_globals* __cxa_get_globals() noexcept;
}  // namespace __cxxabiv1

namespace grove::detail {
namespace {

thread_local fiber_context* running_fiber = nullptr;

// The calling thread's exception globals. Only ever called on a worker's own stack (never on a
// fiber, which may migrate), so caching the per-thread address is safe and saves a TLS lookup
// on every switch. The layout (a pointer to the caught-exception stack, then the uncaught
// count) is libsupc++'s and libc++abi's.
exception_state* thread_exception_state() noexcept {
  thread_local exception_state* const globals =
      reinterpret_cast<exception_state*>(__cxxabiv1::__cxa_get_globals());
  return globals;
}

void swap_exception_state(exception_state* thread_state, exception_state& saved) noexcept {
  std::swap(*thread_state, saved);
}

// Boost.Context's stack allocator concept; grove owns the stacks, so deallocate does nothing.
struct borrowed_stack {
  boost::context::stack_context allocate() { return {}; }
  void deallocate(boost::context::stack_context&) noexcept {}
};

fiber_context* noinline_current_fiber() noexcept;

}  // namespace

fiber_context* create_fiber(stack_memory stack, task* first) {
  std::byte* top = stack.top();
  auto* record_address =
      reinterpret_cast<std::byte*>((reinterpret_cast<std::uintptr_t>(top) - sizeof(fiber_context)) &
                                   ~static_cast<std::uintptr_t>(alignof(std::max_align_t) - 1));
  auto* fc = ::new (record_address) fiber_context{};
  fc->stack = stack;
  fc->first_task = first;
  sanitizer_create(fc->sanitizer);

  boost::context::stack_context whole;
  whole.sp = record_address;  // Boost places its own record below ours
  whole.size = static_cast<std::size_t>(record_address - stack.bottom);
  boost::context::preallocated below_record(record_address, whole.size, whole);
  void* worker_fake_stack = nullptr;
  sanitizer_before_setup_jump(&worker_fake_stack, stack.bottom, stack.size);
  fc->continuation =
      boost::context::fiber(std::allocator_arg, below_record, borrowed_stack{},
                            [fc](boost::context::fiber&& resumer) -> boost::context::fiber {
                              fc->resumer = std::move(resumer);
                              sanitizer_first_entry(fc->sanitizer);
                              run_task_to_completion(fc->first_task);
                              fc->reason = switch_reason::finished;
                              sanitizer_before_exit(fc->sanitizer);
                              return std::move(fc->resumer);
                            });
  sanitizer_after_setup_jump(worker_fake_stack);
  return fc;
}

fiber_context* resume_fiber(fiber_context* fc, stack_memory* finished) {
  void* worker_fake_stack = nullptr;
  exception_state* const thread_state = thread_exception_state();
  swap_exception_state(thread_state, fc->saved_exceptions);
  sanitizer_before_resume(fc->sanitizer, &worker_fake_stack, fc->stack.bottom, fc->stack.size);
  running_fiber = fc;
  boost::context::fiber back = std::move(fc->continuation).resume();
  fiber_context* const came_back = running_fiber;  // fc, or a fiber fc yielded straight to
  running_fiber = nullptr;
  sanitizer_after_resume(worker_fake_stack);
  swap_exception_state(thread_state, came_back->saved_exceptions);
  if (!back) {
    // Finished: Boost has already destroyed its record on the way out.
    sanitizer_destroy(came_back->sanitizer);
    *finished = came_back->stack;
    came_back->~fiber_context();
    return nullptr;
  }
  came_back->continuation = std::move(back);
  return came_back;
}

void switch_directly(fiber_context* from, task* from_task, fiber_context* to,
                     void (*publish)(task*)) {
  // Exception state: the thread holds from's, from->saved_exceptions the worker's (see
  // resume_fiber). Afterwards the thread holds to's, `from` keeps its own, and `to` carries the
  // worker's back to the worker.
  exception_state* const thread_state = thread_exception_state();
  const exception_state worker_state = from->saved_exceptions;
  from->saved_exceptions = *thread_state;
  *thread_state = to->saved_exceptions;
  to->saved_exceptions = worker_state;
  sanitizer_before_direct_switch(from->sanitizer, to->sanitizer, to->stack.bottom, to->stack.size);
  running_fiber = to;
  struct handover {
    fiber_context* from;
    task* from_task;
    void (*publish)(task*);
    boost::context::fiber worker;
  } h{from, from_task, publish, std::move(from->resumer)};
  // Runs on to's stack once `from` is saved; what it returns is what to's pending resume()
  // returns, i.e. to's new resumer: the worker. Nothing of `h` (on from's stack) is touched
  // after publish(), which may let another worker resume `from` at once.
  from->resumer = std::move(to->continuation)
                      .resume_with([&h](boost::context::fiber&& saved) -> boost::context::fiber {
                        h.from->continuation = std::move(saved);
                        boost::context::fiber worker = std::move(h.worker);
                        task* const published = h.from_task;
                        void (*const publish_now)(task*) = h.publish;
                        publish_now(published);
                        return worker;
                      });
  sanitizer_after_suspend(from->sanitizer);
}

void suspend_fiber(fiber_context* fc, switch_reason reason, task* switching) {
  fc->reason = reason;
  fc->switching_task = switching;
  sanitizer_before_suspend(fc->sanitizer);
  fc->resumer = std::move(fc->resumer).resume();
  sanitizer_after_suspend(fc->sanitizer);
  // Resumed, perhaps on another worker: resume_fiber() has set running_fiber already.
}

fiber_context* current_fiber() noexcept { return noinline_current_fiber(); }

bool stack_has_room(const fiber_context* fc, std::size_t bytes) noexcept {
  // The frame address, not a local's: under ASan's detect_stack_use_after_return locals live
  // on a separate fake stack.
  const auto* here = static_cast<const std::byte*>(__builtin_frame_address(0));
  return here > fc->stack.bottom && static_cast<std::size_t>(here - fc->stack.bottom) > bytes;
}

namespace {
__attribute__((noinline)) fiber_context* noinline_current_fiber() noexcept { return running_fiber; }
}  // namespace

}  // namespace grove::detail
