// An eventcount: lets idle workers sleep without ever missing work published concurrently.
// Protocol (after Vyukov's and folly's EventCount):
//   sleeper: key = prepare_wait(); re-check every queue; cancel_wait() if something was found,
//            else commit_wait(key)
//   waker:   publish work; notify_one() / notify_all()
// Why no wake-up is lost: prepare_wait() increments waiters_ with a seq_cst RMW followed by a
// seq_cst load of epoch_; notify() issues a seq_cst fence between the publication and its load
// of waiters_. In the single total order of seq_cst operations either the waker sees
// waiters_ > 0 (and bumps epoch_, so commit_wait() does not sleep or is woken), or the sleeper's
// re-check comes after the publication and sees the work.
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
    seq_cst_fence();  // see the header: publication vs waiters_
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
