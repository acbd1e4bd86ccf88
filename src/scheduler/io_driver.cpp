// Who runs the io_context; see io_driver.hpp for the token and docs/architecture.md for why.
#include "scheduler/io_driver.hpp"

namespace grove::detail {

io_driver::io_driver(boost::asio::io_context& io, event_count& idle) noexcept
    : io_(io), idle_(idle) {
  idle_.install_driver_interrupt(&io_driver::interrupt, this);
}

void io_driver::interrupt(void* context) noexcept {
  auto* self = static_cast<io_driver*>(context);
  try {
    post_in_slot(self->io_, self->interrupt_slot_, [] {});
  } catch (...) {
    // Only the heap can fail, when the slot holds an earlier no-op still queued: the driver's
    // run_one() returns for that one.
  }
}

bool io_driver::try_acquire() noexcept {
  std::uint32_t word = token_.load(std::memory_order_relaxed);
  switch (holder_of(word)) {
    case nobody:
      // acquire: pairs with the previous holder's release; its handlers' writes are visible.
      return token_.compare_exchange_strong(word, with_holder(word + generation_step, a_worker),
                                            std::memory_order_acquire, std::memory_order_relaxed);
    case io_thread:
      request_handover();
      return false;
    case a_worker:
      return false;
  }
  return false;
}

void io_driver::release_briefly() noexcept {
  // seq_cst store, then the seq_cst load of dozing_: the Dekker pair with watch().
  token_.store(with_holder(token_.load(std::memory_order_relaxed), nobody),
               std::memory_order_seq_cst);
  if (dozing_.load(std::memory_order_seq_cst)) wake_io_thread();
}

void io_driver::release_to_io_thread() noexcept {
  token_.store(with_holder(token_.load(std::memory_order_relaxed), io_thread),
               std::memory_order_release);
  wake_io_thread();
}

void io_driver::ensure_driven() noexcept {
  std::uint32_t word = token_.load(std::memory_order_relaxed);
  if (holder_of(word) != nobody) return;
  if (token_.compare_exchange_strong(word, with_holder(word, io_thread), std::memory_order_acq_rel,
                                     std::memory_order_relaxed)) {
    wake_io_thread();
  }
}

void io_driver::request_handover() noexcept {
  if (handover_requested_.exchange(true, std::memory_order_acq_rel)) return;
  try {
    post_in_slot(io_, handover_slot_, [this] { hand_over(); });
  } catch (...) {
    // Cannot happen (one request at a time fits the slot); the io thread just keeps driving.
    handover_requested_.store(false, std::memory_order_relaxed);
  }
}

void io_driver::hand_over() noexcept {
  handover_requested_.store(false, std::memory_order_relaxed);
  std::uint32_t word = token_.load(std::memory_order_relaxed);
  // Only to a worker asleep by now: one that found other work instead would leave the token
  // free for a watch period (it asks again when it next sleeps).
  if (holder_of(word) != io_thread || !workers_should_drive() || !idle_.has_waiters()) return;
  // release: the next holder sees everything this thread's handlers did.
  token_.store(with_holder(word, nobody), std::memory_order_release);
  // The worker that asked went to sleep meanwhile: wake one to take the token.
  idle_.notify_one();
}

void io_driver::wake_io_thread() noexcept {
  std::lock_guard guard(watch_mutex_);
  dozing_.store(false, std::memory_order_relaxed);
  watch_wake_.notify_one();
}

void io_driver::stop() {
  std::lock_guard guard(watch_mutex_);
  stopping_ = true;
  watch_wake_.notify_one();
}

void io_driver::run_io_thread() {
  for (;;) {
    // acquire: pairs with the releasing worker; its handlers' writes are visible here.
    while (holder_of(token_.load(std::memory_order_acquire)) == io_thread) {
      if (io_.stopped()) return;
      io_.run_one();
    }
    watch();
    if (io_.stopped()) return;
  }
}

void io_driver::watch() {
  std::unique_lock guard(watch_mutex_);
  // Given back before we got here: its wake found nobody waiting.
  if (holder_of(token_.load(std::memory_order_acquire)) == io_thread) return;
  std::uint32_t last = token_.load(std::memory_order_acquire);
  int unchanged_looks = 0;
  for (;;) {
    watch_wake_.wait_for(guard, watch_period);
    if (stopping_) {
      token_.store(with_holder(token_.load(std::memory_order_relaxed), io_thread),
                   std::memory_order_relaxed);
      return;
    }
    std::uint32_t word = token_.load(std::memory_order_acquire);
    if (holder_of(word) == io_thread) return;  // given back (release_to_io_thread, ensure_driven)
    // Free for a whole period with nobody taking it: every worker is busy. Take it.
    if (holder_of(word) == nobody && word == last &&
        token_.compare_exchange_strong(word, with_holder(word, io_thread),
                                       std::memory_order_acquire, std::memory_order_relaxed)) {
      return;
    }
    unchanged_looks = word == last ? unchanged_looks + 1 : 0;
    last = word;
    if (holder_of(word) == a_worker && unchanged_looks >= 4) {
      // A worker has sat in the io_context for several periods: the program is idle. Doze until
      // a worker lets go of the token (release_briefly reads dozing_ after its store).
      dozing_.store(true, std::memory_order_seq_cst);
      if (token_.load(std::memory_order_seq_cst) == word) {
        watch_wake_.wait(guard,
                         [this] { return !dozing_.load(std::memory_order_relaxed) || stopping_; });
      }
      dozing_.store(false, std::memory_order_relaxed);
      unchanged_looks = 0;
      last = token_.load(std::memory_order_acquire);
    }
  }
}

}  // namespace grove::detail
