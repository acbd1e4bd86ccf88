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

  void notify_one() noexcept { notify(false); }
  void notify_all() noexcept { notify(true); }

  // Whether any worker is between prepare_wait and the end of commit_wait.
  bool has_waiters() const noexcept { return waiters_.load(std::memory_order_relaxed) > 0; }

 private:
  void notify(bool all) noexcept {
    light_fence();  // see the header: publication vs waiters_
    if (waiters_.load(std::memory_order_relaxed) == 0) return;
    epoch_.fetch_add(1, std::memory_order_release);
    if (all) {
      epoch_.notify_all();
    } else {
      epoch_.notify_one();
    }
  }

  alignas(64) std::atomic<std::uint32_t> epoch_{0};
  alignas(64) std::atomic<std::int32_t> waiters_{0};
};

}  // namespace grove::detail
