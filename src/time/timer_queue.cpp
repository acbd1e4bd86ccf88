// Sleepers behind one Asio timer; see timer_queue.hpp.
#include "time/timer_queue.hpp"

#include <boost/asio/post.hpp>
#include <mutex>
#include <vector>

#include "task/park.hpp"

namespace grove::detail {

void timer_queue::insert_locked(entry& e, clock::time_point deadline) {
  e.where = entries_.emplace(deadline, &e);
  e.queued = true;
  // A new earliest deadline: the io thread re-arms (once, however many arrive meanwhile).
  if (e.where == entries_.begin() && !rearm_posted_) {
    rearm_posted_ = true;
    boost::asio::post(io_, [this] { rearm(); });
  }
}

void timer_queue::erase_locked(entry& e) noexcept {
  if (!e.queued) return;
  entries_.erase(e.where);
  e.queued = false;
  // If it was the earliest, the timer fires for nothing and re-arms: cheaper than re-arming now.
}

void timer_queue::rearm() {
  clock::time_point earliest = clock::time_point::max();
  {
    std::lock_guard guard(lock_);
    rearm_posted_ = false;
    if (!entries_.empty()) earliest = entries_.begin()->first;
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
  {
    std::lock_guard guard(lock_);
    const clock::time_point now = grove::now();
    while (!entries_.empty() && entries_.begin()->first <= now) {
      entry* due = entries_.begin()->second;
      entries_.erase(entries_.begin());
      due->queued = false;
      // A sleeper whose cancellation won is left to wake through its canceller.
      signal(*due->sleeper);
    }
  }
  rearm();
}

}  // namespace grove::detail
