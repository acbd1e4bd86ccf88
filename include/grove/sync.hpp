// Fiber-aware synchronisation (docs/reference.md §5): event, mutex, semaphore, capacity_limiter and
// condition_variable. Waiting parks the task, never the worker, through grove's one parking
// primitive; waiters are served first-in first-out and every waiting call is a checkpoint.
//
// How cancellation and hand-off meet: when a lock, a token or a wake-up is handed to a parked
// task, the hand-off and that task's cancellation are one atomic decision on its waiter. A
// waiter already cancelled is skipped and the next live waiter gets the resource; a waiter that
// won the resource returns normally with it and sees the cancellation at its next checkpoint.
// So a lock()/acquire() that throws `cancelled` never took anything, and one that returns
// always did.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <grove/detail/export.hpp>
#include <grove/detail/spin_lock.hpp>
#include <grove/detail/wait_list.hpp>
#include <mutex>
#include <vector>

namespace grove {

// A one-shot flag tasks can wait for. set() and is_set() work from any thread.
class GROVE_API event {
 public:
  event() = default;
  event(const event&) = delete;
  event& operator=(const event&) = delete;

  // Wakes every waiting task; later waits return at once. Idempotent. Any thread.
  void set() noexcept;
  bool is_set() const noexcept { return set_.load(std::memory_order_acquire); }
  // Parks until set(). A checkpoint: in a cancelled task it throws `cancelled`, set or not.
  void wait();

 private:
  std::atomic<bool> set_{false};
  detail::spin_lock lock_;     // guards waiters_ (and the false -> true transition of set_)
  detail::wait_list waiters_;  // no live waiter once set_ is true
};

// A non-recursive mutex owned by a task (not a thread): a task may park and migrate to another
// worker while it holds it. Lockable, so std::scoped_lock and std::unique_lock work. lock(),
// try_lock() and unlock() need a task; locking a mutex the task holds, or unlocking one it does
// not hold, is usage_error. unlock() hands the mutex directly to the longest waiter (no
// barging), so waiters acquire it in FIFO order.
class GROVE_API mutex {
 public:
  mutex() = default;
  mutex(const mutex&) = delete;
  mutex& operator=(const mutex&) = delete;

  void lock();  // a checkpoint
  bool try_lock();
  void unlock();

 private:
  friend class condition_variable;
  void lock_as(detail::task* self, bool cancellable);
  void unlock_as(detail::task* self) noexcept;
  bool held_by(const detail::task* self) const noexcept;
  bool spin_until_free(detail::task* self) noexcept;
  bool spin_in_queue(detail::waiter& w, std::unique_lock<detail::spin_lock>& guard);

  // 0 when free; otherwise the holder's task id shifted left by one, with bit 0 (contended) set
  // while tasks may be queued, which sends unlock() to the hand-off path under lock_.
  std::atomic<std::uintptr_t> state_{0};
  detail::spin_lock lock_;  // guards waiters_ and every change of state_ while contended
  detail::wait_list waiters_;
};

// A counting semaphore. release(), try_acquire() and value() work from any thread; acquire()
// needs a task and is a checkpoint. release() hands its token directly to the longest waiter.
class GROVE_API semaphore {
 public:
  explicit semaphore(std::size_t initial);  // at most max_value(), else usage_error
  semaphore(const semaphore&) = delete;
  semaphore& operator=(const semaphore&) = delete;

  void acquire();
  bool try_acquire() noexcept;
  void release();  // usage_error when the value would exceed max_value()
  std::size_t value() const noexcept { return state_.load(std::memory_order_acquire) >> 1; }
  static constexpr std::size_t max_value() noexcept { return SIZE_MAX >> 1; }

 private:
  // value << 1, with bit 0 (waiting) set while tasks may be queued; the value is 0 whenever
  // the bit is set, and while it is set state_ only changes under lock_.
  std::atomic<std::size_t> state_;
  detail::spin_lock lock_;  // guards waiters_
  detail::wait_list waiters_;
};

// Limits how many tasks are inside a region at once (trio's CapacityLimiter). Each borrowing
// task holds at most one token: acquiring again while holding, or releasing without holding, is
// usage_error. acquire(), try_acquire() and release() need a task. Lowering the total below the
// borrowed count keeps the current borrowers and blocks new ones until borrowed < total.
class GROVE_API capacity_limiter {
 public:
  explicit capacity_limiter(std::size_t tokens);  // 0: usage_error
  capacity_limiter(const capacity_limiter&) = delete;
  capacity_limiter& operator=(const capacity_limiter&) = delete;

  void acquire();  // a checkpoint
  bool try_acquire();
  void release();
  std::size_t borrowed_tokens() const noexcept { return borrowed_.load(std::memory_order_relaxed); }
  std::size_t total_tokens() const noexcept { return total_.load(std::memory_order_relaxed); }
  void set_total_tokens(std::size_t tokens);  // 0: usage_error; growing wakes waiters

 private:
  // Written under lock_; atomic only so that the getters need no lock.
  std::atomic<std::size_t> total_;
  std::atomic<std::size_t> borrowed_{0};
  detail::spin_lock lock_;              // guards holders_ and waiters_
  std::vector<std::uint64_t> holders_;  // task ids, one entry per borrowed token
  // Invariant at every unlock: borrowed < total implies no live waiter is queued.
  detail::wait_list waiters_;
};

// Holds one token of a semaphore or capacity_limiter for a scope, as std::scoped_lock holds a
// grove::mutex: acquire() on construction (a checkpoint: if it throws `cancelled`, nothing is
// held) and release() on destruction, also while an exception such as `cancelled` unwinds, so
// a cancelled holder never keeps its token.
template <class Acquirable>
class [[nodiscard]] scoped_acquire {
 public:
  explicit scoped_acquire(Acquirable& resource) : resource_(resource) { resource_.acquire(); }
  ~scoped_acquire() { resource_.release(); }
  scoped_acquire(const scoped_acquire&) = delete;
  scoped_acquire& operator=(const scoped_acquire&) = delete;

 private:
  Acquirable& resource_;
};

// Waits for a condition guarded by a grove::mutex. notify_one()/notify_all() work from any
// thread and wake waiters in FIFO order. wait() is a checkpoint and always returns, or throws
// `cancelled`, with the mutex held again.
class GROVE_API condition_variable {
 public:
  condition_variable() = default;
  condition_variable(const condition_variable&) = delete;
  condition_variable& operator=(const condition_variable&) = delete;

  // `lock` must own a mutex the calling task holds (else usage_error).
  void wait(std::unique_lock<mutex>& lock);
  template <class Predicate>
  void wait(std::unique_lock<mutex>& lock, Predicate stop_waiting) {
    while (!stop_waiting()) wait(lock);
  }
  void notify_one() noexcept;
  void notify_all() noexcept;

 private:
  detail::spin_lock lock_;  // guards waiters_; taken before a mutex's lock_, never after
  detail::wait_list waiters_;
};

}  // namespace grove
