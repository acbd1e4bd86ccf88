// Memory channels (docs/reference.md §6): a bounded, unbounded or rendezvous FIFO between tasks,
// with move-only sender and receiver handles. The waiting logic is compiled once, type-erased
// (detail/channel_core.hpp); this header only adds what must know T.
//
// Semantics in brief:
// - send() blocks while the buffer is full, receive() while it is empty; values arrive in send
//   order and blocked senders and receivers are served first-in first-out. Capacity 0 is a
//   rendezvous: a value passes only directly from a sender to a waiting receiver.
// - Values are moved, never copied: move-only types work.
// - A send() that throws (`cancelled`, broken_resource_error, ...) did not deliver its value: no
//   receiver ever sees it. A receive() that throws did not take one. Cancellation and delivery
//   are decided atomically, so there is no third outcome.
// - Closing: destroying a handle closes it. When every receiver is closed, send/try_send throw
//   broken_resource_error (blocked senders wake with it). When every sender is closed,
//   receivers drain what is buffered, then get end_of_channel. Using a handle after its own
//   close() throws closed_resource_error; a second close() is a no-op.
// - send() and receive() need a task and are checkpoints. try_send, try_receive, clone and
//   close work on any thread, also one that is not a grove worker.
// - Several tasks may send (or receive) through one handle at once. Closing, moving or
//   destroying a handle must not race with another use of that same handle (do not close() it
//   while a task is blocked on it): give each task its own clone() instead, which it closes
//   independently.
// - T's move constructor should not throw. A buffer that must grow gives the strong guarantee,
//   but a move that throws while a value passes between a waiter and the buffer or another
//   waiter (an already-decided hand-off) terminates the program.
#pragma once

#include <cstddef>
#include <grove/detail/channel_core.hpp>
#include <grove/errors.hpp>
#include <iterator>
#include <limits>
#include <optional>
#include <utility>

namespace grove {

inline constexpr std::size_t unbounded = std::numeric_limits<std::size_t>::max();

template <class T>
class sender;
template <class T>
class receiver;
template <class T>
std::pair<sender<T>, receiver<T>> open_channel(std::size_t capacity);

template <class T>
class sender {
 public:
  sender(sender&& other) noexcept
      : core_(std::exchange(other.core_, nullptr)),
        moved_from_(std::exchange(other.moved_from_, true)) {}
  sender& operator=(sender&& other) noexcept {
    if (this != &other) {
      close();
      core_ = std::exchange(other.core_, nullptr);
      moved_from_ = std::exchange(other.moved_from_, true);
    }
    return *this;
  }
  ~sender() { close(); }

  // Blocks while the buffer is full. Throws broken_resource_error when every receiver is
  // closed, closed_resource_error after this handle's close(), `cancelled` when cancelled (in
  // every case without delivering the value).
  void send(T value) {
    require_open("grove::sender::send");
    detail::channel_send(core_, &value);
  }
  // Sends only if it can do so without waiting; false (value untouched) otherwise.
  bool try_send(T&& value) {
    require_open("grove::sender::try_send");
    return detail::channel_try_send(core_, &value);
  }
  // Another handle on the send side; the side closes when every handle of it is closed.
  sender clone() const {
    require_open("grove::sender::clone");
    detail::channel_add_handle(core_, detail::channel_side::sender);
    return sender(core_);
  }
  void close() noexcept {
    detail::channel_close_handle(std::exchange(core_, nullptr), detail::channel_side::sender);
  }

 private:
  friend std::pair<sender<T>, receiver<T>> open_channel<T>(std::size_t);
  explicit sender(detail::channel_core* core) noexcept : core_(core) {}
  // closed_resource_error naming `what` and why the handle is unusable.
  void require_open(const char* what) const {
    if (core_ == nullptr) detail::throw_unusable_handle(what, moved_from_);
  }
  detail::channel_core* core_;  // null once closed or moved from
  bool moved_from_ = false;
};

template <class T>
class receiver {
 public:
  class iterator;

  receiver(receiver&& other) noexcept
      : core_(std::exchange(other.core_, nullptr)),
        moved_from_(std::exchange(other.moved_from_, true)) {}
  receiver& operator=(receiver&& other) noexcept {
    if (this != &other) {
      close();
      core_ = std::exchange(other.core_, nullptr);
      moved_from_ = std::exchange(other.moved_from_, true);
    }
    return *this;
  }
  ~receiver() { close(); }

  // Blocks while the channel is empty. Throws end_of_channel once it is empty and every sender
  // is closed, closed_resource_error after this handle's close(), `cancelled` when cancelled
  // (in every case without taking a value).
  T receive() {
    require_open("grove::receiver::receive");
    std::optional<T> result;
    if (!detail::channel_receive(core_, &result)) throw end_of_channel();
    return std::move(*result);
  }
  // A value if one is ready now, otherwise empty; end_of_channel at the end of the channel.
  std::optional<T> try_receive() {
    require_open("grove::receiver::try_receive");
    std::optional<T> result;
    detail::channel_try_receive(core_, &result);
    return result;
  }
  receiver clone() const {
    require_open("grove::receiver::clone");
    detail::channel_add_handle(core_, detail::channel_side::receiver);
    return receiver(core_);
  }
  void close() noexcept {
    detail::channel_close_handle(std::exchange(core_, nullptr), detail::channel_side::receiver);
  }

  // `for (T& v : rx)` receives until end_of_channel (which ends the loop instead of escaping
  // it); each step is a receive(), so a checkpoint.
  iterator begin() { return iterator(this); }
  std::default_sentinel_t end() const noexcept { return {}; }

  // An input iterator over the values still to come.
  class iterator {
   public:
    using value_type = T;
    using difference_type = std::ptrdiff_t;

    iterator() = default;
    T& operator*() const noexcept { return *current_; }
    T* operator->() const noexcept { return &*current_; }
    iterator& operator++() {
      advance();
      return *this;
    }
    void operator++(int) { advance(); }
    friend bool operator==(const iterator& it, std::default_sentinel_t) noexcept {
      return !it.current_.has_value();
    }

   private:
    friend class receiver;
    explicit iterator(receiver* owner) : owner_(owner) { advance(); }
    void advance() {
      current_.reset();
      owner_->require_open("grove::receiver (range-for)");
      // At the end of the channel this returns false and leaves current_ empty: == end().
      detail::channel_receive(owner_->core_, &current_);
    }

    receiver* owner_ = nullptr;
    mutable std::optional<T> current_;
  };

 private:
  friend std::pair<sender<T>, receiver<T>> open_channel<T>(std::size_t);
  explicit receiver(detail::channel_core* core) noexcept : core_(core) {}
  // closed_resource_error naming `what` and why the handle is unusable.
  void require_open(const char* what) const {
    if (core_ == nullptr) detail::throw_unusable_handle(what, moved_from_);
  }
  detail::channel_core* core_;  // null once closed or moved from
  bool moved_from_ = false;
};

// Opens a channel holding up to `capacity` values (0: rendezvous, grove::unbounded: no limit).
// Works anywhere; allocates the channel, not its buffer (that grows as values arrive).
template <class T>
std::pair<sender<T>, receiver<T>> open_channel(std::size_t capacity) {
  auto* state = new detail::channel_state<T>(capacity, detail::channel_value_ops_for<T>::table);
  return {sender<T>(state), receiver<T>(state)};
}

}  // namespace grove
