// THE parking primitive. Every blocking operation in grove (joining a nursery, start(), sleep,
// event, mutex, semaphore, channel, Asio completions) suspends through park(), and every wake-up
// goes through a waiter's outcome: whoever moves it from `pending` decides the park, exactly
// once. A resource hand-off (signal) and a cancellation therefore race in exactly one place,
// the compare-exchange on waiter::outcome; the loser does nothing.
//
// Protocol of one park (the caller holds `guard`, the lock of the structure in which the waiter
// is findable, e.g. an event's wait list):
//   1. task.state = parking; the waiter records its owner.
//   2. A cancellable park registers the task in its innermost cancel node (cancel_tree.cpp) and
//      re-checks the scope chain; if already cancelled it decides `cancelled` itself and returns
//      without switching.
//   3. guard is released; the fiber switches to its worker, which commits parking -> parked
//      (or finds the task already woken and re-queues it).
//   4. Resumed: the task leaves the cancel node; if cancelled, it leaves the wait list under
//      guard. The outcome is returned.
// Waking (wake()) is idempotent and callable from any thread; it is only ever called by the
// thread that decided a waiter's outcome, so a wake never leaks into a later park.
#pragma once

#include <grove/detail/spin_lock.hpp>

#include <atomic>
#include <cstdint>

namespace grove::detail {

struct task;
class wait_list;

enum class wait_outcome : std::uint8_t { pending, signalled, cancelled };

struct waiter {
  task* owner = nullptr;
  std::atomic<wait_outcome> outcome{wait_outcome::pending};
  // wait_list links; guarded by the lock that guards the list.
  waiter* previous = nullptr;
  waiter* next = nullptr;
  wait_list* list = nullptr;  // non-null while linked
  // Hand-off payload for primitives that pass a value or a token to the waiter.
  void* slot = nullptr;

  // acq_rel: the winner's writes before the decision (a handed-over value) are visible to the
  // owner, which reads the outcome with acquire after resuming.
  [[nodiscard]] bool transition_to_signalled() noexcept { return decide(wait_outcome::signalled); }
  [[nodiscard]] bool transition_to_cancelled() noexcept { return decide(wait_outcome::cancelled); }

 private:
  bool decide(wait_outcome to) noexcept {
    wait_outcome expected = wait_outcome::pending;
    return outcome.compare_exchange_strong(expected, to, std::memory_order_acq_rel,
                                           std::memory_order_acquire);
  }
};

// An intrusive FIFO of waiters. Not synchronised: the owning primitive guards it.
class wait_list {
 public:
  void push_back(waiter& w) noexcept {
    w.list = this;
    w.next = nullptr;
    w.previous = tail_;
    if (tail_ != nullptr) {
      tail_->next = &w;
    } else {
      head_ = &w;
    }
    tail_ = &w;
  }
  void remove(waiter& w) noexcept {
    if (w.previous != nullptr) {
      w.previous->next = w.next;
    } else {
      head_ = w.next;
    }
    if (w.next != nullptr) {
      w.next->previous = w.previous;
    } else {
      tail_ = w.previous;
    }
    w.previous = w.next = nullptr;
    w.list = nullptr;
  }
  waiter* front() const noexcept { return head_; }
  waiter* pop_front() noexcept {
    waiter* w = head_;
    if (w != nullptr) remove(*w);
    return w;
  }
  bool empty() const noexcept { return head_ == nullptr; }

 private:
  waiter* head_ = nullptr;
  waiter* tail_ = nullptr;
};

struct park_options {
  bool cancellable = true;
  const char* what = "?";  // shown by dump_task_tree: "parked on <what>"
};

// Parks the current task on `w` (see the protocol above). Releases `guard`.
wait_outcome park(waiter& w, spin_lock& guard, park_options options);

// Makes the owner of a decided waiter runnable. Any thread.
void wake(task* t) noexcept;

// Decides `signalled` for w and wakes its owner; false if w was already decided (cancelled).
// Does not touch w after waking (the owner may return and destroy it at once).
bool signal(waiter& w) noexcept;

// Pops and signals the first waiter of `list` that is not already cancelled; false if none.
// The caller holds the list's lock.
bool signal_first(wait_list& list) noexcept;

// Suspends the current task and puts it at the back of its worker's run queue.
void yield_current(task* t);

}  // namespace grove::detail
