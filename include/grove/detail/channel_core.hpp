// The shared state of a memory channel, split in two: a type-erased core whose waiting logic is
// compiled in src/channel/channel.cpp (lock, counts, queues of blocked senders and receivers),
// and channel_state<T>, which adds the typed buffer and the few operations that touch a T.
#pragma once

#include <cstddef>
#include <cstdint>
#include <grove/detail/export.hpp>
#include <grove/detail/ring_buffer.hpp>
#include <grove/detail/spin_lock.hpp>
#include <grove/detail/wait_list.hpp>
#include <optional>
#include <utility>

namespace grove::detail {

struct channel_core;

// What the compiled core needs to do with values it cannot name. `value` points at a T,
// `result` at an empty std::optional<T>.
struct channel_value_ops {
  // Moves *value to the back of the buffer, growing it; may throw, leaving both unchanged.
  void (*push)(channel_core& core, void* value);
  // Moves *value to the back of a buffer that has room (it just gave up its front).
  void (*push_into_room)(channel_core& core, void* value) noexcept;
  // Moves the buffer's front into *result and drops it from the buffer.
  void (*pop_into)(channel_core& core, void* result) noexcept;
  // Moves *value into *result: a direct hand-off between a sender and a receiver.
  void (*hand_over)(void* result, void* value) noexcept;
  // Destroys the channel (and any value still buffered) once no handle refers to it.
  void (*destroy)(channel_core* core) noexcept;
};

struct channel_core {
  channel_core(std::size_t capacity_, const channel_value_ops& ops_) noexcept
      : ops(&ops_), capacity(capacity_) {}
  channel_core(const channel_core&) = delete;
  channel_core& operator=(const channel_core&) = delete;

  const channel_value_ops* const ops;
  const std::size_t capacity;  // 0: rendezvous; grove::unbounded: no limit
  spin_lock lock;              // guards everything below and the buffer of channel_state<T>
  std::size_t buffered = 0;
  // Open handles of each side; the channel dies when both reach 0.
  std::size_t open_senders = 1;
  std::size_t open_receivers = 1;
  // Blocked send() calls, oldest first; live ones only while the buffer is full. (In both
  // lists a cancelled waiter stays linked, skipped by everyone, until its owner unlinks it.)
  // slot: the sender's T; a receiver that takes the value clears it, so a sender woken with
  // its slot still set was woken by the last receiver closing.
  wait_list blocked_senders;
  // Blocked receive() calls, oldest first; live ones only while the buffer is empty. slot:
  // the receiver's std::optional<T>; cleared by the sender that fills it, so a receiver woken
  // with its slot still set was woken by the last sender closing.
  wait_list blocked_receivers;
};

enum class channel_side : std::uint8_t { sender, receiver };

// The compiled operations behind sender<T>/receiver<T>. `core` is null for a handle that was
// Throws closed_resource_error for a handle with no channel: moved from, or closed by its own
// close(); the message names the call the user made.
[[noreturn]] GROVE_API void throw_unusable_handle(const char* what, bool moved_from);

// closed (or moved from): every operation but close then throws closed_resource_error.
// send and receive need a task and are checkpoints (docs/reference.md §10 rules 4, 5).
GROVE_API void channel_send(channel_core* core, void* value);
GROVE_API bool channel_try_send(channel_core* core, void* value);
// false: end of channel (empty, every sender closed).
GROVE_API bool channel_receive(channel_core* core, void* result);
// false: empty for now; throws end_of_channel at the end of the channel.
GROVE_API bool channel_try_receive(channel_core* core, void* result);
GROVE_API void channel_add_handle(channel_core* core, channel_side side);
// Closes one handle of `side`; may destroy the channel. No-op for null.
GROVE_API void channel_close_handle(channel_core* core, channel_side side) noexcept;

template <class T>
struct channel_state final : channel_core {
  channel_state(std::size_t capacity_, const channel_value_ops& ops_) noexcept
      : channel_core(capacity_, ops_) {}
  ring_buffer<T> buffer;
};

template <class T>
struct channel_value_ops_for {
  static channel_state<T>& state(channel_core& core) noexcept {
    return static_cast<channel_state<T>&>(core);
  }
  static T& value(void* v) noexcept { return *static_cast<T*>(v); }
  static std::optional<T>& result(void* r) noexcept { return *static_cast<std::optional<T>*>(r); }

  static void push(channel_core& core, void* v) {
    state(core).buffer.push_back(std::move(value(v)), core.capacity);
  }
  static void push_into_room(channel_core& core, void* v) noexcept {
    state(core).buffer.push_back_into_room(std::move(value(v)));
  }
  static void pop_into(channel_core& core, void* r) noexcept {
    ring_buffer<T>& buffer = state(core).buffer;
    result(r).emplace(std::move(buffer.front()));
    buffer.pop_front();
  }
  static void hand_over(void* r, void* v) noexcept { result(r).emplace(std::move(value(v))); }
  static void destroy(channel_core* core) noexcept { delete &state(*core); }

  static constexpr channel_value_ops table{&push, &push_into_room, &pop_into, &hand_over, &destroy};
};

}  // namespace grove::detail
