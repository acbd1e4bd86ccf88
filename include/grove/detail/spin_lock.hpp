// A test-and-test-and-set spin lock for the short critical sections of grove's wait queues,
// nurseries and cancel nodes (a handful of pointer updates, never a wait or an allocation-heavy
// operation). Lockable, so std::scoped_lock works.
#pragma once

#include <atomic>
#include <thread>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace grove::detail {

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

class spin_lock {
 public:
  void lock() noexcept {
    // acquire: pairs with the release in unlock(), so the previous holder's writes are visible.
    while (locked_.exchange(true, std::memory_order_acquire)) {
      unsigned spins = 0;
      // Spin on a plain load so waiting does not bounce the cache line between cores.
      while (locked_.load(std::memory_order_relaxed)) {
        if (++spins < 64) {
          cpu_relax();
        } else {
          std::this_thread::yield();  // the holder may be descheduled: give it the core
        }
      }
    }
  }
  bool try_lock() noexcept {
    return !locked_.load(std::memory_order_relaxed) &&
           !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

}  // namespace grove::detail
