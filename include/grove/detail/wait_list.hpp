// The waiter record and the intrusive FIFO it queues in: the data half of grove's one parking
// primitive (park() itself is compiled, in src/task/park.hpp). Public only because the
// synchronisation classes of <grove/sync.hpp> and the channel core keep a wait_list inline.
#pragma once

#include <cstdint>

namespace grove::detail {

struct task;
class wait_list;

enum class wait_outcome : std::uint8_t { pending, signalled, cancelled };

// One wait of a task: its links in the structure it waits in. The wait's decision is not here
// but in the owner's task record (a task waits on one waiter at a time): a canceller that walks
// 100 000 parked tasks then touches their records, which lie close together, and not one stack
// page per task (src/task/task.hpp, decide_wait).
struct waiter {
  task* owner = nullptr;
  // wait_list links; guarded by the lock that guards the list.
  waiter* previous = nullptr;
  waiter* next = nullptr;
  // Non-null while linked; left stale on a waiter that signal_all won (its owner never reads
  // it after a signalled wait).
  wait_list* list = nullptr;
  // Hand-off payload for primitives that pass a value or a token to the waiter.
  void* slot = nullptr;
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
  // Empties the list and returns its former chain, linked through `next`. The waiters keep
  // their stale links: the caller links back (push_back) every one whose owner may still call
  // remove().
  waiter* detach_all() noexcept {
    waiter* first = head_;
    head_ = tail_ = nullptr;
    return first;
  }

 private:
  waiter* head_ = nullptr;
  waiter* tail_ = nullptr;
};

}  // namespace grove::detail
