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

}  // namespace grove::detail
