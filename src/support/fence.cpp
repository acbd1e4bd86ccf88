// membarrier registration and the heavy side of the asymmetric fences (support/fence.hpp).
#include "support/fence.hpp"

#include <linux/membarrier.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <exception>
#include <mutex>

namespace grove::detail {

std::atomic<bool> membarrier_registered{false};

namespace {

long membarrier(int command) noexcept { return ::syscall(SYS_membarrier, command, 0U, 0); }

bool register_membarrier() noexcept {
#if defined(GROVE_TSAN)
  return false;  // TSan cannot see the kernel's barriers: keep the fences it models
#else
  const long supported = membarrier(MEMBARRIER_CMD_QUERY);
  if (supported < 0 || (supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return false;
  return membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED) == 0;
#endif
}

// A forked child has one thread and no runtime, and its address space is not registered: it
// registers afresh before any runtime of its own starts workers.
void register_in_child() noexcept {
  membarrier_registered.store(register_membarrier(), std::memory_order_relaxed);
}

}  // namespace

void enable_asymmetric_fences() noexcept {
  static std::once_flag once;
  std::call_once(once, [] {
    membarrier_registered.store(register_membarrier(), std::memory_order_relaxed);
    ::pthread_atfork(nullptr, nullptr, register_in_child);
  });
}

void heavy_fence() noexcept {
  if (membarrier_registered.load(std::memory_order_relaxed)) {
    if (membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) == 0) return;
    // Cannot fail once registered; should it, the light sides are mere compiler barriers and no
    // fence here would pair with them: stop rather than lose wake-ups silently.
    std::terminate();
  }
  seq_cst_fence();
}

}  // namespace grove::detail
