// Knowing when every task of a runtime is parked, for testing::wait_all_tasks_blocked and the
// mock clock's autojump. Workers count themselves idle while they sleep (a slow path: the hot
// paths are untouched); when the last one falls asleep while someone is watching, the io thread
// is told, and it waits for the quiet to last (the callers' cushion, or the autojump threshold).
//
// Protocol:
//   1. A worker about to sleep increments `idle`; the one that makes it equal to the worker count
//      posts check() to the io thread if `watching`. A worker that wakes bumps `epoch` first,
//      then decrements `idle`.
//   2. check() (io thread) records `epoch` and the real time, and arms quiet_timer_ for the
//      shortest wait anyone needs. When it fires, the runtime was quiet the whole time iff
//      `idle` is still the worker count and `epoch` has not moved; otherwise a later step 1
//      posts a new check.
//   3. Quiet long enough: the wait_all_tasks_blocked callers whose cushion has passed are woken
//      (they come first); if none is left waiting and the clock has an autojump threshold that
//      has passed, the clock jumps to the earliest queued deadline.
// A task counts as parked however it waits (sleeps too), as in trio.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <grove/detail/spin_lock.hpp>
#include <grove/detail/wait_list.hpp>
#include <grove/runtime.hpp>

namespace grove::detail {

class runtime_core;

class quiescence {
 public:
  quiescence(runtime_core& runtime, boost::asio::io_context& io)
      : runtime_(runtime), io_(io), quiet_timer_(io) {}

  // Step 1, worker side.
  void worker_idle() noexcept;
  void worker_busy() noexcept;
  // Something that is watched changed (a waiter came, the autojump threshold changed): look now.
  void poke();

  // Recomputes whether anyone watches (waiters, or an autojump threshold); returns it.
  bool refresh_watching() noexcept;

  // wait_all_tasks_blocked's park (the calling task's).
  void wait(clock::duration cushion);

 private:
  void check();  // io thread
  bool all_parked() noexcept;
  void on_quiet(const boost::system::error_code& error);

  runtime_core& runtime_;
  boost::asio::io_context& io_;
  std::atomic<unsigned> idle_{0};
  std::atomic<std::uint64_t> epoch_{0};
  std::atomic<bool> watching_{false};
  spin_lock lock_;     // guards waiters_
  wait_list waiters_;  // each waiter's slot points at its cushion
  // io thread only:
  boost::asio::steady_timer quiet_timer_;
  std::uint64_t quiet_epoch_ = 0;
  clock::time_point quiet_since_{};
};

}  // namespace grove::detail
