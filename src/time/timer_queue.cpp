// Timed wake-ups behind one Asio timer; see timer_queue.hpp for the protocol.
#include "time/timer_queue.hpp"

#include <boost/asio/post.hpp>
#include <memory>
#include <new>

#include "testing/mock_clock_access.hpp"

namespace grove::detail {
namespace {

// Serves the re-arm request's memory from the queue's own storage, so that posting it cannot
// fail. Asio frees a posted handler's memory before invoking it, and at most one request is in
// flight (rearm_posted_), so the storage is free whenever a request is posted; a request larger
// than the storage, or a second one, would fall back to the heap.
template <class T>
struct request_allocator {
  using value_type = T;
  timer_queue::request_storage* storage;

  explicit request_allocator(timer_queue::request_storage* s) noexcept : storage(s) {}
  template <class U>
  request_allocator(const request_allocator<U>& other) noexcept : storage(other.storage) {}

  T* allocate(std::size_t n) {
    if (sizeof(T) * n <= sizeof(storage->bytes) && alignof(T) <= alignof(std::max_align_t) &&
        !storage->in_use.exchange(true, std::memory_order_acquire)) {
      return reinterpret_cast<T*>(storage->bytes);
    }
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (reinterpret_cast<std::byte*>(p) == storage->bytes) {
      // release: the next allocate() (acquire) sees this request's memory as done with.
      storage->in_use.store(false, std::memory_order_release);
    } else {
      std::allocator<T>().deallocate(p, n);
    }
  }
  template <class U>
  bool operator==(const request_allocator<U>& other) const noexcept {
    return storage == other.storage;
  }
};

}  // namespace

void timer_queue::request_rearm_locked() noexcept {
  if (rearm_posted_) return;
  rearm_posted_ = true;
  struct rearm_request {
    using allocator_type = request_allocator<void>;
    timer_queue* queue;
    allocator_type get_allocator() const noexcept {
      return allocator_type(&queue->request_storage_);
    }
    void operator()() const { queue->rearm(); }
  };
  boost::asio::post(io_, rearm_request{this});
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
