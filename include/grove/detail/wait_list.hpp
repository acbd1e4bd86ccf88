// The waiter record and the intrusive FIFO it queues in: the data half of grove's one parking
// primitive (park() itself is compiled, in src/task/park.hpp). Public only because the
// synchronisation classes of <grove/sync.hpp> and the channel core keep a wait_list inline.
#pragma once

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

}  // namespace grove::detail
