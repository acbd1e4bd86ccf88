// A growable work-stealing deque of task pointers: the owner pushes and takes at the bottom
// (LIFO), thieves steal at the top (FIFO).
//
// Follows "Correct and Efficient Work-Stealing for Weak Memory Models", Lê, Pop, Cohen and
// Zappa Nardelli, PPoPP 2013 (figure 1), with two strengthenings noted below so that
// ThreadSanitizer, which does not model stand-alone fences, sees the same happens-before edges
// the fences provide.
//
// Who calls what: push() and take() only on the owning worker's thread; steal() on any thread.
// Indices are signed 64-bit: `bottom - 1` on an empty deque must be -1, not a wrap-around.
// Retired arrays (after growth) are kept until the deque is destroyed, because a thief may
// still be reading the old one; growth doubles, so they add up to less than the live array.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include "support/fence.hpp"

namespace grove::detail {

template <class T>
class chase_lev_deque {
  static_assert(std::is_pointer_v<T>, "elements are task pointers: null means empty");

  struct ring {
    explicit ring(std::int64_t capacity)
        : capacity(capacity), mask(capacity - 1), slots(new std::atomic<T>[capacity]) {}
    T get(std::int64_t i) const noexcept { return slots[i & mask].load(std::memory_order_relaxed); }
    void put(std::int64_t i, T x) noexcept { slots[i & mask].store(x, std::memory_order_relaxed); }
    std::int64_t capacity;
    std::int64_t mask;
    std::unique_ptr<std::atomic<T>[]> slots;
  };

 public:
  explicit chase_lev_deque(std::int64_t initial_capacity = 256) {
    auto first = std::make_unique<ring>(initial_capacity);
    array_.store(first.get(), std::memory_order_relaxed);
    rings_.push_back(std::move(first));
  }

  // Owner only.
  void push(T x) {
    const std::int64_t b = bottom_.load(std::memory_order_relaxed);
    // acquire: pairs with a thief's CAS on top_, so a slot a thief has finished reading is
    // not overwritten before its steal is complete.
    const std::int64_t t = top_.load(std::memory_order_acquire);
    ring* a = array_.load(std::memory_order_relaxed);
    if (b - t > a->capacity - 1) a = grow(a, b, t);
    a->put(b, x);
    // release (the paper: release fence + relaxed store): publishes the slot and the task
    // record's contents to the thief whose acquire load of bottom_ reads this value.
    bottom_.store(b + 1, std::memory_order_release);
  }

  // Owner only. Returns null when empty.
  T take() noexcept {
    const std::int64_t b = bottom_.load(std::memory_order_relaxed) - 1;
    ring* a = array_.load(std::memory_order_relaxed);
    bottom_.store(b, std::memory_order_relaxed);
    // seq_cst fence: the store to bottom_ above and the load of top_ below must not be
    // reordered (a store-load pair); with the thieves' fence it decides the race for the last
    // element. acquire/release cannot order a store before a later load.
    seq_cst_fence();
    std::int64_t t = top_.load(std::memory_order_relaxed);
    T x = nullptr;
    if (t <= b) {
      x = a->get(b);
      if (t == b) {
        // The last element: race the thieves for it. seq_cst as in the paper, so the CAS is
        // ordered with the fences of concurrent steals.
        if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                          std::memory_order_relaxed)) {
          x = nullptr;
        }
        bottom_.store(b + 1, std::memory_order_relaxed);
      }
    } else {
      bottom_.store(b + 1, std::memory_order_relaxed);
    }
    return x;
  }

  enum class steal_result { success, empty, lost_race };

  // Any thread.
  steal_result steal(T& out) noexcept {
    std::int64_t t = top_.load(std::memory_order_acquire);
    // seq_cst fence: pairs with the owner's fence in take(); orders the load of top_ before the
    // load of bottom_ (a load-load pair across two locations that take() writes in the other
    // order).
    seq_cst_fence();
    // acquire: pairs with push()'s release store, so the slot and the record it points to are
    // visible.
    const std::int64_t b = bottom_.load(std::memory_order_acquire);
    if (t >= b) return steal_result::empty;
    // acquire (the paper: consume): the ring's slots were written before grow() published it.
    ring* a = array_.load(std::memory_order_acquire);
    T x = a->get(t);
    // seq_cst: the decision point against take() and other thieves; failure means another
    // thread took element t first.
    if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_seq_cst,
                                      std::memory_order_relaxed)) {
      return steal_result::lost_race;
    }
    out = x;
    return steal_result::success;
  }

  // steal() for a deque used as a FIFO: its owner pushes but never calls take(), and everybody,
  // the owner included, consumes from the top. Then bottom_ only grows, and the fence that
  // steal() needs against a concurrent take() (which moves bottom_ down) has nothing to order:
  // the acquire load of bottom_ (pairs with push()'s release) is enough.
  steal_result steal_from_fifo(T& out) noexcept {
    std::int64_t t = top_.load(std::memory_order_acquire);
    const std::int64_t b = bottom_.load(std::memory_order_acquire);
    if (t >= b) return steal_result::empty;
    ring* a = array_.load(std::memory_order_acquire);
    T x = a->get(t);
    // acq_rel: the decision against other consumers (seq_cst is only needed against take()).
    if (!top_.compare_exchange_strong(t, t + 1, std::memory_order_acq_rel,
                                      std::memory_order_relaxed)) {
      return steal_result::lost_race;
    }
    out = x;
    return steal_result::success;
  }

  // Any thread, approximate. On the owner's thread an answer of "empty" is exact: bottom_ is
  // its own, and a stale top_ can only be smaller than the real one.
  bool looks_empty() const noexcept {
    return bottom_.load(std::memory_order_relaxed) <= top_.load(std::memory_order_relaxed);
  }
  // Any thread, approximate (for statistics): how many items it holds.
  std::size_t size_estimate() const noexcept {
    const std::int64_t items =
        bottom_.load(std::memory_order_relaxed) - top_.load(std::memory_order_relaxed);
    return items > 0 ? static_cast<std::size_t>(items) : 0;
  }

 private:
  ring* grow(ring* old, std::int64_t b, std::int64_t t) {
    auto bigger = std::make_unique<ring>(old->capacity * 2);
    for (std::int64_t i = t; i < b; ++i) bigger->put(i, old->get(i));
    ring* raw = bigger.get();
    rings_.push_back(std::move(bigger));
    // release: pairs with the acquire load in steal(); the copied slots are visible first.
    array_.store(raw, std::memory_order_release);
    return raw;
  }

  alignas(64) std::atomic<std::int64_t> top_{0};
  alignas(64) std::atomic<std::int64_t> bottom_{0};
  alignas(64) std::atomic<ring*> array_{nullptr};
  std::vector<std::unique_ptr<ring>> rings_;  // owner only; every ring ever used
};

}  // namespace grove::detail
