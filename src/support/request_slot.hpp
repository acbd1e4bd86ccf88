// Posting a small handler to an io_context without allocating: a request_slot holds the memory
// of one posted request at a time, so a post that must not fail (the timer queue's re-arm, a
// wake of the worker blocked in the io_context) does not depend on the heap.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <cstddef>
#include <memory>
#include <utility>

namespace grove::detail {

// It must outlive the io_context it is posted to: a request still queued when a runtime stops
// is destroyed by the io_context's destructor.
struct request_slot {
  alignas(std::max_align_t) std::byte bytes[256];
  std::atomic<bool> in_use{false};
};

// Serves a posted handler's memory from the slot. Asio frees a handler's memory before invoking
// it, so the slot is free again by the time the request runs; a request larger than the slot,
// or one posted while the slot is in use, falls back to the heap.
template <class T>
struct request_allocator {
  using value_type = T;
  request_slot* slot;

  explicit request_allocator(request_slot* s) noexcept : slot(s) {}
  template <class U>
  request_allocator(const request_allocator<U>& other) noexcept : slot(other.slot) {}

  T* allocate(std::size_t n) {
    if (sizeof(T) * n <= sizeof(slot->bytes) && alignof(T) <= alignof(std::max_align_t) &&
        !slot->in_use.exchange(true, std::memory_order_acquire)) {
      return reinterpret_cast<T*>(slot->bytes);
    }
    return std::allocator<T>().allocate(n);
  }
  void deallocate(T* p, std::size_t n) noexcept {
    if (reinterpret_cast<std::byte*>(p) == slot->bytes) {
      // release: the next allocate() (acquire) sees this request's memory as done with.
      slot->in_use.store(false, std::memory_order_release);
    } else {
      std::allocator<T>().deallocate(p, n);
    }
  }
  template <class U>
  bool operator==(const request_allocator<U>& other) const noexcept {
    return slot == other.slot;
  }
};

// Posts `action` to `io` in `slot`. Throws only when the slot is taken and the heap is out of
// memory; callers that post at most one request per slot at a time never reach the heap.
template <class Action>
void post_in_slot(boost::asio::io_context& io, request_slot& slot, Action action) {
  struct request {
    using allocator_type = request_allocator<void>;
    request_slot* slot;
    Action action;
    allocator_type get_allocator() const noexcept { return allocator_type(slot); }
    void operator()() { action(); }
  };
  boost::asio::post(io, request{&slot, std::move(action)});
}

}  // namespace grove::detail
