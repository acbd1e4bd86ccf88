// The waiting logic of memory channels, compiled once for every T (see channel_core.hpp).
//
// Shape of the state, under core.lock at every unlock:
//   - blocked_receivers holds live waiters only while the buffer is empty (a value that finds a
//     live receiver waiting goes straight to it);
//   - blocked_senders holds live waiters only while the buffer is full (capacity values; always
//     for a rendezvous channel), because a receive that frees a place refills it at once from
//     the longest-blocked sender.
// Together these give send order: a value enters the buffer at the back and leaves at the
// front, and a blocked sender's value enters only after everything already buffered.
//
// Hand-off protocol (sender -> receiver, receiver <- blocked sender, buffer place -> blocked
// sender), always under core.lock:
//   1. decide the longest waiter with decide_signalled() and unlink it (take_first_live);
//      if that fails, its cancellation decided first: it takes nothing and gives nothing (its
//      value, if a sender, stays with it), so move on to the next waiter;
//   2. move the value (the waiter cannot run yet: only the wake below resumes it);
//   3. clear the waiter's slot, meaning "transferred";
//   4. wake its owner, and never touch the waiter again.
// A waiter that is woken with its slot still set was woken by the other side closing.
#include <grove/channel.hpp>
#include <grove/errors.hpp>
#include <mutex>
#include <string>

#include "sync/blocking_call.hpp"

namespace grove::detail {
namespace {

enum class receive_outcome { value, empty, ended };

// Steps 3 and 4.
void finish_transfer(waiter& w) noexcept {
  task* owner = w.owner;
  w.slot = nullptr;
  wake(owner);
}

// Sends without waiting if possible. Caller holds core.lock.
bool try_send_locked(channel_core& core, void* value) {
  if (core.open_receivers == 0) throw broken_resource_error();
  if (waiter* receiver = take_first_live(core.blocked_receivers)) {
    core.ops->hand_over(receiver->slot, value);
    finish_transfer(*receiver);
    return true;
  }
  if (core.buffered < core.capacity) {
    core.ops->push(core, value);  // may throw: nothing has changed then
    ++core.buffered;
    return true;
  }
  return false;
}

// Receives without waiting if possible. Caller holds core.lock.
receive_outcome try_receive_locked(channel_core& core, void* result) noexcept {
  if (core.buffered != 0) {
    core.ops->pop_into(core, result);
    --core.buffered;
    // The freed place goes to the longest-blocked sender: its value is the next in send order.
    if (waiter* sender = take_first_live(core.blocked_senders)) {
      core.ops->push_into_room(core, sender->slot);
      ++core.buffered;
      finish_transfer(*sender);
    }
    return receive_outcome::value;
  }
  // Empty buffer with a blocked sender: a rendezvous channel.
  if (waiter* sender = take_first_live(core.blocked_senders)) {
    core.ops->hand_over(result, sender->slot);
    finish_transfer(*sender);
    return receive_outcome::value;
  }
  return core.open_senders == 0 ? receive_outcome::ended : receive_outcome::empty;
}

}  // namespace

void throw_unusable_handle(const char* what, bool moved_from) {
  throw closed_resource_error(std::string(what) +
                              (moved_from ? ": this handle was moved from (use the handle it was "
                                            "moved to, or a clone)"
                                          : ": this handle was used after its own close()"));
}

namespace {

channel_core& open_core(channel_core* core) {
  if (core == nullptr) throw closed_resource_error();
  return *core;
}

}  // namespace

void channel_send(channel_core* handle, void* value) {
  task* self = enter_blocking_call("grove::sender::send");
  channel_core& core = open_core(handle);
  std::unique_lock guard(core.lock);
  if (try_send_locked(core, value)) return;
  waiter w;
  begin_wait(w, self);
  w.slot = value;
  core.blocked_senders.push_back(w);
  park_or_throw(w, guard, "grove::sender::send");
  if (w.slot != nullptr) throw broken_resource_error();  // the last receiver closed
}

bool channel_try_send(channel_core* handle, void* value) {
  channel_core& core = open_core(handle);
  std::lock_guard guard(core.lock);
  return try_send_locked(core, value);
}

bool channel_receive(channel_core* handle, void* result) {
  task* self = enter_blocking_call("grove::receiver::receive");
  channel_core& core = open_core(handle);
  std::unique_lock guard(core.lock);
  switch (try_receive_locked(core, result)) {
    case receive_outcome::value:
      return true;
    case receive_outcome::ended:
      return false;
    case receive_outcome::empty:
      break;
  }
  waiter w;
  begin_wait(w, self);
  w.slot = result;
  core.blocked_receivers.push_back(w);
  park_or_throw(w, guard, "grove::receiver::receive");
  return w.slot == nullptr;  // still set: woken by the last sender closing
}

bool channel_try_receive(channel_core* handle, void* result) {
  channel_core& core = open_core(handle);
  std::lock_guard guard(core.lock);
  switch (try_receive_locked(core, result)) {
    case receive_outcome::value:
      return true;
    case receive_outcome::empty:
      return false;
    case receive_outcome::ended:
      break;
  }
  throw end_of_channel();
}

void channel_add_handle(channel_core* handle, channel_side side) {
  channel_core& core = open_core(handle);
  std::lock_guard guard(core.lock);
  ++(side == channel_side::sender ? core.open_senders : core.open_receivers);
}

void channel_close_handle(channel_core* core, channel_side side) noexcept {
  if (core == nullptr) return;
  bool last_handle = false;
  {
    std::lock_guard guard(core->lock);
    if (side == channel_side::sender) {
      // Receivers wait only on an empty buffer: nothing is left for them to drain.
      if (--core->open_senders == 0) signal_all(core->blocked_receivers);
    } else {
      // Buffered values stay until the channel dies; nobody can receive them any more.
      if (--core->open_receivers == 0) signal_all(core->blocked_senders);
    }
    last_handle = core->open_senders == 0 && core->open_receivers == 0;
  }
  // Only the closer that saw both counts reach 0 gets here, after every other closer unlocked.
  if (last_handle) core->ops->destroy(core);
}

}  // namespace grove::detail
