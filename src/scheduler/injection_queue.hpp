// The FIFO through which tasks enter the pool from outside it: root tasks of run(), children
// spawned by a non-worker thread, and tasks woken by a non-worker thread (the io thread's
// timers, a foreign thread's event::set or cancel()). A mutex is fine here: these paths are far
// colder than the per-worker deques, and a lock keeps the queue unbounded and simple.
#pragma once

#include <atomic>
#include <cstddef>
#include <mutex>

#include "task/task.hpp"

namespace grove::detail {

class injection_queue {
 public:
  // A run of tasks linked through next_in_queue, oldest first: the queue itself, and what a dump
  // lifts out of the queues to list them, then puts back (trace/task_snapshot.cpp).
  struct chain {
    task* head = nullptr;
    task* tail = nullptr;
    std::size_t size = 0;
    void append(task* t) noexcept {
      t->next_in_queue = nullptr;
      if (tail != nullptr) {
        tail->next_in_queue = t;
      } else {
        head = t;
      }
      tail = t;
      ++size;
    }
    // Moves all of `other` to the back, in its order.
    void append(chain&& other) noexcept {
      if (other.head == nullptr) return;
      if (tail != nullptr) {
        tail->next_in_queue = other.head;
      } else {
        head = other.head;
      }
      tail = other.tail;
      size += other.size;
      other = chain{};
    }
  };

  void push(task* t) {
    std::lock_guard guard(mutex_);
    queued_.append(t);
    // relaxed: a hint for pop()'s fast path; the mutex orders the list itself.
    size_.store(queued_.size, std::memory_order_relaxed);
  }

  task* pop() {
    if (size_.load(std::memory_order_relaxed) == 0) return nullptr;
    std::lock_guard guard(mutex_);
    task* t = queued_.head;
    if (t == nullptr) return nullptr;
    queued_.head = t->next_in_queue;
    if (queued_.head == nullptr) queued_.tail = nullptr;
    t->next_in_queue = nullptr;
    size_.store(--queued_.size, std::memory_order_relaxed);
    return t;
  }

  // Empties the queue, keeping the order.
  chain take_all() {
    std::lock_guard guard(mutex_);
    chain all = queued_;
    queued_ = chain{};
    size_.store(0, std::memory_order_relaxed);
    return all;
  }

  // Puts `c` back at the head, ahead of what was pushed meanwhile.
  void push_front(chain c) {
    if (c.head == nullptr) return;
    std::lock_guard guard(mutex_);
    c.tail->next_in_queue = queued_.head;
    if (queued_.head == nullptr) queued_.tail = c.tail;
    queued_.head = c.head;
    queued_.size += c.size;
    size_.store(queued_.size, std::memory_order_relaxed);
  }

  bool looks_empty() const noexcept { return size_.load(std::memory_order_relaxed) == 0; }

 private:
  std::mutex mutex_;
  chain queued_;  // guarded by mutex_
  std::atomic<std::size_t> size_{0};
};

}  // namespace grove::detail
