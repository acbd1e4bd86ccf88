// Timed wake-ups behind one Asio timer; see timer_queue.hpp for the protocol.
#include "time/timer_queue.hpp"

#include <boost/asio/post.hpp>

#include "testing/mock_clock_access.hpp"

namespace grove::detail {

void timer_queue::request_rearm_locked() noexcept {
  if (rearm_posted_) return;
  rearm_posted_ = true;
  // At most one request is in flight (rearm_posted_), so it always fits in the slot.
  post_in_slot(io_, request_slot_, [this] { rearm(); });
}

void timer_queue::schedule_locked(timer_entry& e, clock::time_point when) noexcept {
  if (e.queued) entries_.erase(entries_.iterator_to(e));
  e.when = when;
  const auto where = entries_.insert(e);
  e.queued = true;
  // A new earliest time: the io thread re-arms (once, however many arrive meanwhile).
  if (where == entries_.begin()) request_rearm_locked();
}

void timer_queue::erase_locked(timer_entry& e) noexcept {
  if (!e.queued) return;
  entries_.erase(entries_.iterator_to(e));
  e.queued = false;
  // If it was the earliest, the timer fires for nothing and re-arms: cheaper than re-arming now.
}

void timer_queue::forget(timer_entry& e) noexcept {
  std::unique_lock guard(lock_);
  erase_locked(e);
  // A fire() in progress (step 2) ends in a few lock-free steps of the io thread's: wait for it
  // without holding the lock it needs to clear `firing`.
  while (e.firing) {
    guard.unlock();
    spin_pause();
    guard.lock();
  }
}

clock::time_point timer_queue::earliest() {
  std::lock_guard guard(lock_);
  return entries_.empty() ? clock::time_point::max() : entries_.begin()->when;
}

void timer_queue::clock_changed() {
  boost::asio::post(io_, [this] {
    armed_for_ = clock::time_point::min();  // the real time of every entry moved
    on_expiry(boost::system::error_code{});
  });
}

void timer_queue::rearm() {
  clock::time_point earliest = clock::time_point::max();
  {
    std::lock_guard guard(lock_);
    rearm_posted_ = false;
    if (!entries_.empty()) earliest = entries_.begin()->when;
  }
  if (clock_ != nullptr && earliest != clock::time_point::max()) {
    earliest = mock_clock_access::real_time_at(*clock_, earliest);
  }
  if (earliest == armed_for_) return;
  armed_for_ = earliest;
  if (earliest == clock::time_point::max()) {
    timer_.cancel();
    return;
  }
  timer_.expires_at(earliest);
  timer_.async_wait([this](const boost::system::error_code& error) { on_expiry(error); });
}

void timer_queue::on_expiry(const boost::system::error_code& error) {
  if (error) return;  // re-armed or cancelled: a newer wait is pending, or none is needed
  armed_for_ = clock::time_point::max();
  std::unique_lock guard(lock_);
  const clock::time_point now = time_of(clock_);
  while (!entries_.empty() && entries_.begin()->when <= now) {
    timer_entry& due = *entries_.begin();
    entries_.erase(entries_.begin());
    due.queued = false;
    if (due.fire_under_lock) {
      due.fire(due);
      continue;
    }
    due.firing = true;  // step 2: its owner's forget() waits for us from here on
    guard.unlock();
    due.fire(due);
    guard.lock();
    due.firing = false;
  }
  guard.unlock();
  rearm();
}

}  // namespace grove::detail
