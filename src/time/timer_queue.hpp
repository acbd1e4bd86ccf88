// The runtime's timed wake-ups (sleeps and cancel-scope deadlines), ordered by time in an
// intrusive multiset behind ONE Asio steady_timer armed for the earliest. Queueing, moving and
// forgetting an entry allocate nothing (the entry lives in its owner; the re-arm request posted
// to the io thread uses storage inside the queue), so they cannot fail, and no lock is ever held
// across something that can throw. This is also the one place timers meet the clock: entries are
// in the runtime's time, virtual under a testing::mock_clock, and the Asio timer waits for the
// real time at which the clock will show the earliest (never, for a stopped clock: then only a
// jump, clock_changed(), makes entries due).
//
// Protocol:
//   1. An owner queues its entry under lock() (schedule_locked); when it becomes the earliest, a
//      re-arm request goes to the io thread (at most one is in flight).
//   2. The timer handler (io thread) takes every due entry out of the set under lock(). An entry
//      with fire_under_lock fires there (a sleeper's signal). Any other entry is marked `firing`
//      and fires after the lock is released; `firing` is cleared under the lock afterwards.
//   3. An owner that is going away calls forget(): it unlinks the entry if still queued and
//      waits while it is firing. After forget() returns, the queue holds no reference to the
//      entry and no fire() of it is running: its memory may go.
// A sleeper uses lock() as its park guard instead of forget(): its fire() runs under the lock,
// and it erases its own entry under the lock when its cancellation won (see time/sleep.cpp).
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/set.hpp>
#include <cstddef>
#include <grove/detail/spin_lock.hpp>
#include <grove/detail/timer_entry.hpp>
#include <grove/runtime.hpp>
#include <mutex>

#include "support/request_slot.hpp"

namespace grove::detail {

class timer_queue {
 public:
  // `slot` holds the one re-arm request that can be in flight; it outlives `io`.
  timer_queue(boost::asio::io_context& io, request_slot& slot,
              const testing::mock_clock* virtual_clock)
      : io_(io), clock_(virtual_clock), request_slot_(slot), timer_(io) {}
  timer_queue(const timer_queue&) = delete;
  timer_queue& operator=(const timer_queue&) = delete;

  spin_lock& lock() noexcept { return lock_; }
  // Caller holds lock(). Queues `e` for `when`, or moves it there if queued already.
  void schedule_locked(timer_entry& e, clock::time_point when) noexcept;
  // Caller holds lock(). Unlinks `e` if it is queued.
  void erase_locked(timer_entry& e) noexcept;
  // Step 3: unlinks `e` and waits until no fire() of it is running.
  void forget(timer_entry& e) noexcept;
  // The virtual clock jumped (any thread): due entries fire and the timer re-arms.
  void clock_changed();
  // The earliest queued time, or max() when nothing is queued.
  clock::time_point earliest();

 private:
  struct by_time {
    bool operator()(const timer_entry& a, const timer_entry& b) const noexcept {
      return a.when < b.when;
    }
  };
  using entry_set = boost::intrusive::multiset<timer_entry, boost::intrusive::compare<by_time>,
                                               boost::intrusive::constant_time_size<false>>;

  void request_rearm_locked() noexcept;
  void rearm();                                            // io thread
  void on_expiry(const boost::system::error_code& error);  // io thread

  boost::asio::io_context& io_;
  const testing::mock_clock* clock_;  // null: real time
  spin_lock lock_;
  entry_set entries_;          // guarded by lock_
  bool rearm_posted_ = false;  // guarded by lock_
  request_slot& request_slot_;
  // io thread only:
  boost::asio::steady_timer timer_;
  clock::time_point armed_for_ = clock::time_point::max();  // real time
};

}  // namespace grove::detail
