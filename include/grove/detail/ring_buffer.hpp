// A growable FIFO ring of T for channel buffers: values are moved in and out, never copied
// (move-only T works), and a buffer that has reached its channel's capacity never allocates
// again, so a bounded channel in steady state sends and receives without allocating.
#pragma once

#include <algorithm>
#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace grove::detail {

template <class T>
class ring_buffer {
 public:
  ring_buffer() = default;
  ring_buffer(const ring_buffer&) = delete;
  ring_buffer& operator=(const ring_buffer&) = delete;
  ~ring_buffer() {
    while (size_ != 0) pop_front();
    release_storage();
  }

  std::size_t size() const noexcept { return size_; }
  bool has_room() const noexcept { return size_ < capacity_; }
  T& front() noexcept { return data_[head_]; }

  void pop_front() noexcept {
    std::destroy_at(data_ + head_);
    head_ = next(head_);
    --size_;
  }

  // Moves `value` in at the back. When full, first grows (doubling, at most to `limit`, which
  // must exceed size()). If growing throws, the buffer is unchanged and `value` untouched.
  void push_back(T&& value, std::size_t limit) {
    if (!has_room()) grow(limit);
    push_back_into_room(std::move(value));
  }

  // Precondition: has_room().
  void push_back_into_room(T&& value) {
    std::size_t tail = head_ + size_;
    if (tail >= capacity_) tail -= capacity_;
    std::construct_at(data_ + tail, std::move(value));
    ++size_;
  }

 private:
  static constexpr std::size_t first_capacity = 8;

  std::size_t next(std::size_t i) const noexcept { return i + 1 == capacity_ ? 0 : i + 1; }

  void grow(std::size_t limit) {
    const std::size_t largest =
        std::min(limit, std::allocator_traits<std::allocator<T>>::max_size(std::allocator<T>{}));
    if (size_ >= largest) throw std::bad_alloc();
    // Full, so size_ == capacity_ < largest: the new capacity is always larger.
    const std::size_t doubled = capacity_ > largest / 2 ? largest : capacity_ * 2;
    const std::size_t wanted = std::min(capacity_ == 0 ? first_capacity : doubled, largest);
    T* fresh = std::allocator<T>{}.allocate(wanted);
    std::size_t moved = 0;
    try {
      // move_if_noexcept: a throwing move would leave the old elements half-moved; a copy
      // leaves them intact, so the buffer stays unchanged if this throws.
      for (std::size_t i = head_; moved != size_; i = next(i), ++moved) {
        std::construct_at(fresh + moved, std::move_if_noexcept(data_[i]));
      }
    } catch (...) {
      std::destroy(fresh, fresh + moved);
      std::allocator<T>{}.deallocate(fresh, wanted);
      throw;
    }
    for (std::size_t i = 0, at = head_; i != size_; ++i, at = next(at)) std::destroy_at(data_ + at);
    release_storage();
    data_ = fresh;
    capacity_ = wanted;
    head_ = 0;
  }

  void release_storage() noexcept {
    if (data_ != nullptr) std::allocator<T>{}.deallocate(data_, capacity_);
    data_ = nullptr;
    capacity_ = 0;
  }

  T* data_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t head_ = 0;  // index of the oldest element
  std::size_t size_ = 0;
};

}  // namespace grove::detail
