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

// Not named cpu_relax: Boost.Fiber defines a cpu_relax() macro, which would break any program
// that includes <boost/fiber/...> before grove.
inline void spin_pause() noexcept {
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
    unsigned backoff = 1;
    while (locked_.exchange(true, std::memory_order_acquire)) {
      // Wait on a plain load, pausing longer after each failed grab (exponential back-off), so
      // two cores do not bounce the line on every attempt; past the limit, the holder may be
      // descheduled: give it the core.
      do {
        if (backoff <= max_backoff) {
          for (unsigned i = 0; i < backoff; ++i) spin_pause();
          backoff *= 2;
        } else {
          std::this_thread::yield();
        }
      } while (locked_.load(std::memory_order_relaxed));
    }
  }
  bool try_lock() noexcept {
    return !locked_.load(std::memory_order_relaxed) &&
           !locked_.exchange(true, std::memory_order_acquire);
  }
  void unlock() noexcept { locked_.store(false, std::memory_order_release); }

 private:
  static constexpr unsigned max_backoff = 128;
  std::atomic<bool> locked_{false};
};

}  // namespace grove::detail
