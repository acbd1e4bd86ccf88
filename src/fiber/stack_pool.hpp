// Task stacks. A runtime's fiber stacks all have one size and are carved from large slabs (one
// mmap per slab), because the kernel caps a process near 65 530 mappings: one mmap per stack
// would stop a program near 32 000 live tasks. Each stack keeps a guard page below it: installed
// with MADV_GUARD_INSTALL where the kernel has it (no extra mapping), else with mprotect while
// the process-wide mapping budget allows, after which further stacks go unguarded with a
// one-time warning. A runtime gives its guards back to the budget, and its slabs' entries in the
// overflow handler's registry back for reuse, when its stacks are unmapped, so a process that
// creates runtimes one after another never runs out of either.
//
// A fiber stack is twice the task stack size a runtime promises (runtime_options::stack_size):
// a child runs inline on its joining parent's fiber only while at least the promised size is
// left, so every task, inline or not, gets its promised stack. The pages are mapped with
// MAP_NORESERVE and only those touched cost memory.
//
// GROVE_STACK_GUARD=mprotect in the environment, read when a runtime starts, makes it use the
// mprotect guards even where the kernel has MADV_GUARD_INSTALL (as on kernels before 6.13).
// Workers keep a small cache of free stacks so the common spawn/finish path takes no lock.
#pragma once

#include <cstddef>
#include <mutex>
#include <vector>

namespace grove::detail {

struct stack_memory {
  std::byte* bottom = nullptr;  // lowest usable address (the guard page lies just below)
  std::size_t size = 0;         // usable bytes
  std::byte* top() const noexcept { return bottom + size; }
};

class stack_allocator {
 public:
  // `task_stack_size`: what each task is promised; fiber stacks are twice that.
  explicit stack_allocator(std::size_t task_stack_size);
  ~stack_allocator();
  stack_allocator(const stack_allocator&) = delete;
  stack_allocator& operator=(const stack_allocator&) = delete;

  // For a worker's cache, `count` stacks under one lock: moves up to `count` free stacks
  // (mapping a slab first if none is free) to the back of `into`, whose capacity must allow
  // it; and gives back the last `count` of `from`, removing them. allocate_some throws
  // std::system_error (mmap failed: out of memory or mappings).
  void allocate_some(std::vector<stack_memory>& into, std::size_t count);
  void deallocate_some(std::vector<stack_memory>& from, std::size_t count) noexcept;
  std::size_t task_stack_size() const noexcept { return task_stack_size_; }

 private:
  void map_slab();
  bool install_guard(std::byte* page) noexcept;

  std::size_t task_stack_size_;
  std::size_t stack_size_;  // of a fiber: 2 * task_stack_size_
  std::size_t stride_;      // guard page + stack
  bool use_madvise_guards_;
  long mprotect_guards_ = 0;  // taken from the process-wide budget; given back at destruction
  std::mutex mutex_;
  std::vector<stack_memory> free_;
  struct slab {
    std::byte* base;
    std::size_t bytes;
    int registry_slot;
  };
  std::vector<slab> slabs_;
};

// A worker's private cache in front of the shared allocator. It refills and drains half its
// capacity at a time: a burst of tasks finishing (a cancelled nursery of 100 000 sleepers) or
// starting takes the allocator's lock once per 32 stacks, not once per stack.
class stack_cache {
 public:
  explicit stack_cache(stack_allocator& allocator);
  ~stack_cache();
  stack_memory acquire();
  void release(stack_memory stack) noexcept;

 private:
  static constexpr std::size_t capacity = 64;
  stack_allocator* allocator_;
  std::vector<stack_memory> stacks_;
};

// If `address` lies in the guard page of a grove stack, the usable size of that stack; else 0.
// Async-signal-safe.
std::size_t guarded_stack_size_at(const void* address) noexcept;

// The SIGSEGV handler that reports a task stack overflow (installed once per process; it
// chains to the handler installed before it), and the per-thread alternate signal stack it
// needs: a handler cannot run on the stack that just overflowed.
void install_overflow_handler();
void prepare_thread_for_overflow_handler();

}  // namespace grove::detail
