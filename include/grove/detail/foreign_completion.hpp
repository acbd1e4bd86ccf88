// A wait for something that finishes outside grove's workers: an Asio handler on the I/O
// thread (<grove/asio.hpp>) or a helper thread of to_thread (<grove/to_thread.hpp>). The task
// parks until complete() is called from any thread; the front ends keep their result beside it.
#pragma once

#include <grove/detail/export.hpp>
#include <grove/detail/spin_lock.hpp>
#include <grove/detail/wait_list.hpp>

namespace grove::detail {

class GROVE_API foreign_completion {
 public:
  // The entry of a blocking call: usage_error outside a task (naming `what`), `cancelled` in a
  // task whose cancellation is requested. Nothing has started yet when either is thrown.
  explicit foreign_completion(const char* what);
  foreign_completion(const foreign_completion&) = delete;
  foreign_completion& operator=(const foreign_completion&) = delete;

  // Parks until complete(); cancellation does not interrupt it (the task's next checkpoint
  // raises it).
  void wait_uncancellable();
  // Parks until complete(). If the task's cancellation comes first, calls request_stop(context)
  // once, from the task, then goes on waiting (uncancellably) for complete(). Returns whether
  // cancellation interrupted the wait.
  bool wait_cancelling(void (*request_stop)(void*), void* context);
  // Parks until complete() (true) or the task's cancellation (false); after false, complete()
  // does nothing, so the caller must keep *this alive for it (shared ownership).
  bool wait_or_abandon();

  // Any thread, exactly once: the work is done; wakes the waiting task. The wake happens under
  // the lock, and the task takes the lock before it returns, so complete() never touches *this
  // after the task may have destroyed it.
  void complete() noexcept;

 private:
  // Parks on `w` until complete() or, when cancellable, the task's cancellation. Called and
  // returns with lock_ held.
  bool park_until_complete(waiter& w, bool cancellable);

  spin_lock lock_;
  bool done_ = false;          // guarded by lock_
  bool abandoned_ = false;     // guarded by lock_
  waiter* current_ = nullptr;  // the waiter complete() signals; guarded by lock_
  waiter first_;
  waiter after_cancel_;
  const char* what_;
};

}  // namespace grove::detail
