// The runtime's sleepers, ordered by deadline, behind ONE Asio steady_timer armed for the earliest
// of them. A sleep costs an insertion under a spin lock (plus a re-arm, posted to the io thread,
// only when it becomes the earliest); a cancelled sleep costs an erase — no per-sleeper Asio
// operation, no syscall, no fight with the io thread for Asio's locks. This is also the one place
// sleeps meet the clock (grove::now()).
//
// Protocol: a sleeper inserts its entry and parks with the queue's lock as the park guard. The
// timer handler (io thread), under the lock, erases every due entry, marks it `queued = false`
// and signals its waiter. A sleeper woken by cancellation erases its own entry under the lock if
// it is still queued. Either way the entry, which lives on the sleeper's stack, is touched only
// under the lock while it is queued.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <grove/detail/spin_lock.hpp>
#include <grove/runtime.hpp>
#include <map>

namespace grove::detail {

struct waiter;

class timer_queue {
 public:
  struct entry;
  using position = std::multimap<clock::time_point, entry*>::iterator;
  struct entry {
    waiter* sleeper = nullptr;
    position where;
    bool queued = false;  // guarded by the queue's lock
  };

  explicit timer_queue(boost::asio::io_context& io) : io_(io), timer_(io) {}

  spin_lock& lock() noexcept { return lock_; }
  // Caller holds lock(). Queues `e` (its sleeper set) for `deadline`.
  void insert_locked(entry& e, clock::time_point deadline);
  // Caller holds lock(). Forgets `e` if it is still queued.
  void erase_locked(entry& e) noexcept;

 private:
  void rearm();                                            // io thread
  void on_expiry(const boost::system::error_code& error);  // io thread

  boost::asio::io_context& io_;
  spin_lock lock_;
  std::multimap<clock::time_point, entry*> entries_;  // guarded by lock_
  bool rearm_posted_ = false;                         // guarded by lock_
  // io thread only:
  boost::asio::steady_timer timer_;
  clock::time_point armed_for_ = clock::time_point::max();
};

}  // namespace grove::detail
