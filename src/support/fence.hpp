// The one place grove issues stand-alone memory fences. ThreadSanitizer does not model
// std::atomic_thread_fence (GCC refuses to compile one under -fsanitize=thread), so under TSan a
// seq_cst fence becomes a seq_cst read-modify-write of one shared dummy atomic: all such
// "fences" are then totally ordered and synchronise with each other, which is at least as strong
// as the fence pairs they replace (Dekker-style store/fence/load on both sides).
#pragma once

#include <atomic>
#include <grove/detail/sanitizer.hpp>

namespace grove::detail {

#if defined(GROVE_TSAN)
inline std::atomic<int> tsan_fence_word{0};
inline void seq_cst_fence() noexcept { tsan_fence_word.fetch_add(0, std::memory_order_seq_cst); }
#else
inline void seq_cst_fence() noexcept { std::atomic_thread_fence(std::memory_order_seq_cst); }
#endif

// ---- Asymmetric fences (after folly's asymmetric_thread_fence_light / _heavy) ----
// For a Dekker pair (each side stores, fences, then loads what the other stored) whose one side
// runs millions of times a second and whose other side runs rarely: publishing work vs a worker
// going to sleep (scheduler/event_count.hpp). The frequent side issues light_fence(), only a
// compiler barrier; the rare side issues heavy_fence(), which has the kernel run a full barrier
// on every CPU running a thread of this process (membarrier(2), MEMBARRIER_CMD_PRIVATE_EXPEDITED)
// and so orders each light side's earlier stores before its later loads, as seen from the heavy
// side; a thread that is not running has passed a context switch, itself a full barrier. Where
// membarrier is missing (kernel < 4.14, a seccomp filter, valgrind) or under TSan, both sides are
// seq_cst fences.

// Whether heavy_fence() uses membarrier. Set once, before the first runtime's workers start
// (enable_asymmetric_fences), and reset in a forked child, which inherits no registration.
extern std::atomic<bool> membarrier_registered;

// Registers the process for membarrier (idempotent; called by the runtime's constructor).
void enable_asymmetric_fences() noexcept;

inline void light_fence() noexcept {
#if defined(GROVE_TSAN)
  seq_cst_fence();
#else
  if (membarrier_registered.load(std::memory_order_relaxed)) [[likely]] {
    std::atomic_signal_fence(std::memory_order_seq_cst);
  } else {
    seq_cst_fence();
  }
#endif
}

void heavy_fence() noexcept;

}  // namespace grove::detail
