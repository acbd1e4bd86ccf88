// Small-buffer storage for a task's callable: spawning a task must not allocate a
// std::function. Callables up to `inline_size` bytes live inside the task record; larger ones
// are boxed on the heap once.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace grove::detail {

struct callable_slot {
  static constexpr std::size_t inline_size = 64;

  // Runs the callable (may throw). Called once.
  void (*invoke)(callable_slot&) = nullptr;
  // Destroys the callable and with it the task's decay-copied arguments.
  void (*destroy)(callable_slot&) noexcept = nullptr;
  alignas(std::max_align_t) std::byte storage[inline_size];

  template <class Fn>
  void emplace(Fn&& fn) {
    using stored = std::decay_t<Fn>;
    if constexpr (sizeof(stored) <= inline_size && alignof(stored) <= alignof(std::max_align_t) &&
                  std::is_nothrow_move_constructible_v<stored>) {
      ::new (static_cast<void*>(storage)) stored(std::forward<Fn>(fn));
      invoke = [](callable_slot& self) { (*self.as<stored>())(); };
      destroy = [](callable_slot& self) noexcept { self.as<stored>()->~stored(); };
    } else {
      stored* boxed = new stored(std::forward<Fn>(fn));
      ::new (static_cast<void*>(storage)) stored*(boxed);
      invoke = [](callable_slot& self) { (**self.as<stored*>())(); };
      destroy = [](callable_slot& self) noexcept { delete *self.as<stored*>(); };
    }
  }

  void reset() noexcept {
    if (destroy != nullptr) {
      destroy(*this);
      destroy = nullptr;
      invoke = nullptr;
    }
  }

 private:
  template <class T>
  T* as() noexcept {
    return std::launder(reinterpret_cast<T*>(storage));
  }
};

}  // namespace grove::detail
