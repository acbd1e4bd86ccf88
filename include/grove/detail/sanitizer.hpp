// Sanitizer annotations for fiber switches. Debian's Boost.Context is the fcontext build without
// sanitizer hooks, so grove tells ASan which stack it is switching to and TSan which fiber runs,
// around every resume(), here and only here. Without them ASan reports false stack-buffer
// overflows when an exception unwinds a fiber stack, and TSan crashes.
// The resumer's stack bounds live in the fiber's record, not in a thread_local: fibers migrate.
#pragma once

#include <cstddef>

#if defined(__SANITIZE_ADDRESS__)
#define GROVE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define GROVE_ASAN 1
#endif
#endif

#if defined(__SANITIZE_THREAD__)
#define GROVE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define GROVE_TSAN 1
#endif
#endif

#if defined(GROVE_ASAN)
#include <sanitizer/common_interface_defs.h>
#endif
#if defined(GROVE_TSAN)
#include <sanitizer/tsan_interface.h>
#endif

namespace grove::detail {

// Per-fiber sanitizer state.
struct sanitizer_fiber {
  void* asan_fake_stack = nullptr;       // the fiber's fake stack while it is switched out
  const void* resumer_bottom = nullptr;  // the stack that resumed it (a worker's)
  std::size_t resumer_size = 0;
  void* tsan_fiber = nullptr;    // TSan's handle for this fiber
  void* tsan_resumer = nullptr;  // TSan's handle for the worker that resumed it
  // Set when another fiber switched straight to this one (a direct yield): the stack that
  // resumed it is that fiber's, but the one to return to is still the worker's.
  bool inherits_resumer = false;
  const void* inherited_bottom = nullptr;
  std::size_t inherited_size = 0;
};

inline void sanitizer_create(sanitizer_fiber& s) noexcept {
#if defined(GROVE_TSAN)
  s.tsan_fiber = __tsan_create_fiber(0);
#else
  (void)s;
#endif
}

inline void sanitizer_destroy(sanitizer_fiber& s) noexcept {
#if defined(GROVE_TSAN)
  __tsan_destroy_fiber(s.tsan_fiber);
#else
  (void)s;
#endif
}

// Worker side, just before resuming fiber `s` whose stack is [bottom, bottom + size).
inline void sanitizer_before_resume(sanitizer_fiber& s, void** worker_fake_stack,
                                    const void* bottom, std::size_t size) noexcept {
#if defined(GROVE_ASAN)
  __sanitizer_start_switch_fiber(worker_fake_stack, bottom, size);
#else
  (void)worker_fake_stack, (void)bottom, (void)size;
#endif
#if defined(GROVE_TSAN)
  s.tsan_resumer = __tsan_get_current_fiber();
  // flags 0: a synchronising switch, so the worker's and the fiber's accesses are ordered.
  __tsan_switch_to_fiber(s.tsan_fiber, 0);
#else
  (void)s;
#endif
}

// Worker side, around constructing a boost::context::fiber: Boost jumps onto the new stack and
// back once, to set up its record, without telling the sanitizers. Under ASan that round trip is
// marked as a switch, so that Boost's entry frame is made on the fiber's real stack: with
// detect_stack_use_after_return it would otherwise land on the worker's fake stack, which
// reclaims it while the fiber still runs in it.
inline void sanitizer_before_setup_jump(void** worker_fake_stack, const void* bottom,
                                        std::size_t size) noexcept {
#if defined(GROVE_ASAN)
  __sanitizer_start_switch_fiber(worker_fake_stack, bottom, size);
#else
  (void)worker_fake_stack, (void)bottom, (void)size;
#endif
}

inline void sanitizer_after_setup_jump(void* worker_fake_stack) noexcept {
#if defined(GROVE_ASAN)
  __sanitizer_finish_switch_fiber(worker_fake_stack, nullptr, nullptr);
#else
  (void)worker_fake_stack;
#endif
}

// Worker side, once the fiber has switched back.
inline void sanitizer_after_resume(void* worker_fake_stack) noexcept {
#if defined(GROVE_ASAN)
  __sanitizer_finish_switch_fiber(worker_fake_stack, nullptr, nullptr);
#else
  (void)worker_fake_stack;
#endif
}

// Fiber side, first thing on first entry.
inline void sanitizer_first_entry(sanitizer_fiber& s) noexcept {
#if defined(GROVE_ASAN)
  __sanitizer_finish_switch_fiber(nullptr, &s.resumer_bottom, &s.resumer_size);
#else
  (void)s;
#endif
}

// Fiber side, before switching back to the worker to suspend.
inline void sanitizer_before_suspend(sanitizer_fiber& s) noexcept {
#if defined(GROVE_ASAN)
  __sanitizer_start_switch_fiber(&s.asan_fake_stack, s.resumer_bottom, s.resumer_size);
#endif
#if defined(GROVE_TSAN)
  __tsan_switch_to_fiber(s.tsan_resumer, 0);
#endif
  (void)s;
}

// Fiber side, when a worker resumed it again.
inline void sanitizer_after_suspend(sanitizer_fiber& s) noexcept {
#if defined(GROVE_ASAN)
  __sanitizer_finish_switch_fiber(s.asan_fake_stack, &s.resumer_bottom, &s.resumer_size);
#endif
  if (s.inherits_resumer) {
    s.resumer_bottom = s.inherited_bottom;
    s.resumer_size = s.inherited_size;
    s.inherits_resumer = false;
  }
}

// Fiber side: `from` switches straight to suspended fiber `to` (stack [bottom, bottom + size)),
// which takes over from's worker as the context to return to.
inline void sanitizer_before_direct_switch(sanitizer_fiber& from, sanitizer_fiber& to,
                                           const void* bottom, std::size_t size) noexcept {
  to.inherits_resumer = true;
  to.inherited_bottom = from.resumer_bottom;
  to.inherited_size = from.resumer_size;
#if defined(GROVE_ASAN)
  __sanitizer_start_switch_fiber(&from.asan_fake_stack, bottom, size);
#else
  (void)bottom, (void)size;
#endif
#if defined(GROVE_TSAN)
  to.tsan_resumer = from.tsan_resumer;
  __tsan_switch_to_fiber(to.tsan_fiber, 0);
#endif
}

// Fiber side, before the last switch out of a finished fiber (its stack dies).
inline void sanitizer_before_exit(sanitizer_fiber& s) noexcept {
#if defined(GROVE_ASAN)
  __sanitizer_start_switch_fiber(nullptr, s.resumer_bottom, s.resumer_size);
#endif
#if defined(GROVE_TSAN)
  __tsan_switch_to_fiber(s.tsan_resumer, 0);
#endif
  (void)s;
}

}  // namespace grove::detail
