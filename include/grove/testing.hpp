// Tools for testing concurrent code (trio.testing's, for grove): a virtual clock that makes
// timeout tests run in microseconds, waiting until every other task is blocked, a sequencer
// that forces an interleaving, and running a test under many scheduling seeds.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <grove/detail/export.hpp>
#include <grove/detail/spin_lock.hpp>
#include <grove/detail/wait_list.hpp>
#include <grove/errors.hpp>
#include <grove/runtime.hpp>
#include <mutex>
#include <utility>
#include <vector>

namespace grove {
namespace detail {
struct mock_clock_access;
}

namespace testing {

// A virtual clock, attached to a runtime with runtime_options::virtual_clock. It starts at
// clock::now() and advances `rate` virtual seconds per real second (0: time stands still unless
// jumped). Every grove deadline and sleep of the attached runtime follows it. With an autojump
// threshold, when every task of the runtime has been parked that long (real time), the clock
// jumps to the earliest pending deadline.
class GROVE_API mock_clock {
 public:
  explicit mock_clock(double rate = 0.0);  // negative: usage_error
  ~mock_clock();
  mock_clock(const mock_clock&) = delete;
  mock_clock& operator=(const mock_clock&) = delete;

  clock::time_point now() const;
  // Advances virtual time at once; timers that are now due fire. Negative: usage_error (time
  // never goes backwards). Works attached or not, from any thread.
  void jump(clock::duration by);
  template <class Rep, class Period>
  void jump(std::chrono::duration<Rep, Period> by) {
    jump(std::chrono::ceil<clock::duration>(by));
  }
  // 0: jump as soon as every task is parked; clock::duration::max() (the default): never.
  void set_autojump_threshold(clock::duration threshold);
  template <class Rep, class Period>
  void set_autojump_threshold(std::chrono::duration<Rep, Period> threshold) {
    set_autojump_threshold(std::chrono::ceil<clock::duration>(threshold));
  }

 private:
  friend struct detail::mock_clock_access;
  clock::time_point now_locked(clock::time_point real) const;

  mutable std::mutex mutex_;  // guards everything below
  double rate_;
  clock::time_point real_base_;
  clock::time_point virtual_base_;
  clock::duration autojump_threshold_ = clock::duration::max();
  detail::runtime_core* attached_ = nullptr;
};

// Parks the calling task until every other task of its runtime is parked (a sleeping task is
// parked) and has stayed so for `cushion` of real time; several callers wake together, before an
// autojump of the runtime's mock_clock. A checkpoint; needs a task (usage_error outside one).
GROVE_API void wait_all_tasks_blocked(clock::duration cushion = {});
template <class Rep, class Period>
void wait_all_tasks_blocked(std::chrono::duration<Rep, Period> cushion) {
  wait_all_tasks_blocked(std::chrono::ceil<clock::duration>(cushion));
}

// Forces an order on blocks of different tasks: `auto guard = seq(i);` waits until the guarded
// blocks of positions 0 .. i-1 have finished (their guards were destroyed). Each position may be
// used once (again: usage_error). A task cancelled while it waits breaks the sequencer: it throws
// `cancelled`, and every waiting or later call throws broken_resource_error. Needs a task.
class GROVE_API sequencer {
 public:
  class [[nodiscard]] guard {
   public:
    guard(guard&& other) noexcept
        : owner_(std::exchange(other.owner_, nullptr)), position_(other.position_) {}
    guard& operator=(guard&&) = delete;
    ~guard() {
      if (owner_ != nullptr) owner_->finish(position_);
    }

   private:
    friend class sequencer;
    guard(sequencer* owner, std::size_t position) : owner_(owner), position_(position) {}
    sequencer* owner_;
    std::size_t position_;
  };

  sequencer() = default;
  sequencer(const sequencer&) = delete;
  sequencer& operator=(const sequencer&) = delete;

  guard operator()(std::size_t position);

 private:
  void finish(std::size_t position) noexcept;

  detail::spin_lock lock_;     // guards everything below
  detail::wait_list waiters_;  // each waiter's slot points at its position
  std::size_t next_ = 0;       // positions below have finished
  std::vector<bool> claimed_;
  bool broken_ = false;
};

// Runs test(seed) for seed = first .. first + count - 1 (give the seed to
// runtime_options::schedule_seed). On the first exception, prints
// "grove: failing schedule_seed=<n>" to stderr and rethrows it.
template <class F>
void for_each_seed(std::uint64_t first, std::size_t count, F&& test) {
  for (std::uint64_t seed = first; seed < first + count; ++seed) {
    try {
      test(seed);
    } catch (...) {
      std::fprintf(stderr, "grove: failing schedule_seed=%llu\n",
                   static_cast<unsigned long long>(seed));
      throw;
    }
  }
}

}  // namespace testing
}  // namespace grove
