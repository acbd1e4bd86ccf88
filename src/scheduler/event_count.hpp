// An eventcount: lets idle workers sleep without ever missing work published concurrently.
// Protocol (after Vyukov's and folly's EventCount):
//   sleeper: key = prepare_wait(); re-check every queue; cancel_wait() if something was found,
//            else commit_wait(key)
//   waker:   publish work; notify_one() / notify_all()
// Why no wake-up is lost: prepare_wait() increments waiters_ with a seq_cst RMW, then issues a
// heavy fence, then loads epoch_; notify() issues the matching light fence between the
// publication and its load of waiters_ (support/fence.hpp: together they act as a seq_cst fence
// pair). So either the waker sees waiters_ > 0 (and bumps epoch_, so commit_wait() does not
// sleep or is woken), or the sleeper's re-check comes after the publication and sees the work.
// The heavy side is a membarrier system call (~1-3 us) paid once per worker going to sleep; the
// light side, paid on every spawn, is free (a full fence there was 10-20% of a fork-join task).
// Sleeping is std::atomic<uint32_t>::wait, a futex on Linux: an idle worker uses no CPU.
//
// One waiter may sleep elsewhere: the worker that drives the io_context (scheduler/io_driver.hpp)
// blocks in it instead of on the futex. It announces itself with driver_waits() after
// prepare_wait() and checks changed_since(key) before each blocking call; a notify that bumps the
// epoch then reads driver_waiting_, both seq_cst, so either the notify sees the driver (and
// interrupts it, when no futex sleeper is there to take the work) or the driver sees the new
// epoch and does not block.
#pragma once

#include <atomic>
#include <cstdint>

#include "support/fence.hpp"

namespace grove::detail {

class event_count {
 public:
  using key = std::uint32_t;

  key prepare_wait() noexcept {
    waiters_.fetch_add(1, std::memory_order_seq_cst);
    heavy_fence();
    return epoch_.load(std::memory_order_seq_cst);
  }
  void cancel_wait() noexcept { waiters_.fetch_sub(1, std::memory_order_relaxed); }
  void commit_wait(key k) noexcept {
    // acquire: pairs with the release increment in notify(), so work published before the
    // notify is visible once we see the new epoch.
    while (epoch_.load(std::memory_order_acquire) == k) epoch_.wait(k, std::memory_order_acquire);
    waiters_.fetch_sub(1, std::memory_order_relaxed);
  }

  // The driver's side (see the header). `interrupt` makes its blocking call return; installed
  // once, before any worker runs.
  void install_driver_interrupt(void (*interrupt)(void*) noexcept, void* context) noexcept {
    interrupt_ = interrupt;
    interrupt_context_ = context;
  }
  void driver_waits() noexcept { driver_waiting_.store(true, std::memory_order_seq_cst); }
  void driver_stops_waiting() noexcept { driver_waiting_.store(false, std::memory_order_relaxed); }
  bool changed_since(key k) const noexcept { return epoch_.load(std::memory_order_seq_cst) != k; }

  void notify_one() noexcept { notify(false); }
  void notify_all() noexcept { notify(true); }

  // Whether any worker is between prepare_wait and the end of commit_wait.
  bool has_waiters() const noexcept { return waiters_.load(std::memory_order_relaxed) > 0; }

 private:
  void notify(bool all) noexcept {
    light_fence();  // see the header: publication vs waiters_
    const std::int32_t waiting = waiters_.load(std::memory_order_relaxed);
    if (waiting == 0) return;
    epoch_.fetch_add(1, std::memory_order_seq_cst);
    // The driver is woken when it is the only waiter (or for notify_all): a futex sleeper, if
    // there is one, takes the work, and the driver stays where I/O completions reach it.
    if ((all || waiting == 1) && driver_waiting_.load(std::memory_order_seq_cst) &&
        driver_waiting_.exchange(false, std::memory_order_acq_rel)) {
      interrupt_(interrupt_context_);
      if (!all) return;
    }
    if (all) {
      epoch_.notify_all();
    } else {
      epoch_.notify_one();
    }
  }

  alignas(64) std::atomic<std::uint32_t> epoch_{0};
  alignas(64) std::atomic<std::int32_t> waiters_{0};
  std::atomic<bool> driver_waiting_{false};
  void (*interrupt_)(void*) noexcept = nullptr;
  void* interrupt_context_ = nullptr;
};

}  // namespace grove::detail
