// Per-worker counters behind runtime::stats(). Each worker writes only its own cache line with
// relaxed increments (no shared-line traffic on the hot path); stats() sums them on read, so a
// reading is a consistent-enough snapshot of monotonically growing counters.
// These increments are also where tracing hooks attach (spawn, run, park, steal).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace grove::detail {

struct alignas(64) worker_counters {
  // Relaxed: counters only; nothing is published through them.
  std::atomic<std::uint64_t> tasks_spawned{0};
  std::atomic<std::uint64_t> tasks_completed{0};
  std::atomic<std::uint64_t> steals{0};
  std::atomic<std::uint64_t> context_switches{0};
  std::atomic<std::uint64_t> tasks_inlined{0};
  std::atomic<std::uint64_t> parks{0};
  std::atomic<std::uint64_t> sleeps{0};
  // Time asleep in park_until_work (on the eventcount, or blocked in the io_context with nothing
  // to run), and when the current sleep began (0: awake), in
  // steady_clock nanoseconds; busy time is the worker's life minus the sleeps. Written by the
  // owner on the sleep path only (never per task).
  std::atomic<std::int64_t> asleep_ns{0};
  std::atomic<std::int64_t> asleep_since_ns{0};

  // Only the owning thread writes, so a load + store is enough (no locked RMW instruction).
  static void bump(std::atomic<std::uint64_t>& counter) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
  }
};

// The clock of asleep_ns and busy time.
inline std::int64_t steady_nanoseconds() noexcept {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Counters for work done by threads that are not workers (run() callers, foreign spawners).
struct shared_counters {
  std::atomic<std::uint64_t> tasks_spawned{0};
  std::atomic<std::uint64_t> tasks_completed{0};
};

}  // namespace grove::detail
