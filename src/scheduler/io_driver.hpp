// Who runs the runtime's io_context: the io thread, or an idle worker while use_fiber
// operations are in flight. A worker that would sleep blocks in the io_context instead, so an I/O
// completion wakes its task on the thread that saw it and the task runs there at once: no
// hand-off to a sleeping worker, which on a virtual machine costs tens of microseconds a wake.
// When no worker has driven it for a watch period (every worker busy), the io thread takes it
// back, so deadlines and I/O keep going (docs/architecture.md, "Who runs the io_context").
//
// One thread at a time runs the io_context's handlers: the holder of the token. Grove's own
// handlers (the timer queue, quiescence) keep state only the holder touches; every change of
// holder is a release paired with the next holder's acquire, so their handlers are ordered as if
// one thread ran them all.
//
// Token word: the holder in the low 2 bits, a generation in the rest, bumped whenever a worker
// takes the token, so the io thread can tell "free all along" from "taken and given back".
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>

#include "scheduler/event_count.hpp"
#include "support/request_slot.hpp"

namespace grove::detail {

class io_driver {
 public:
  io_driver(boost::asio::io_context& io, event_count& idle) noexcept;
  io_driver(const io_driver&) = delete;
  io_driver& operator=(const io_driver&) = delete;

  boost::asio::io_context& io() noexcept { return io_; }

  // The io thread's whole life: runs the io_context while it holds the token, watches the
  // workers otherwise; returns once the io_context is stopped and stop() was called.
  void run_io_thread();
  // After io().stop(): lets run_io_thread() return.
  void stop();

  // use_fiber operations in flight (any thread): while there are any, idle workers drive.
  void operation_started() noexcept { pending_.fetch_add(1, std::memory_order_relaxed); }
  void operation_finished() noexcept { pending_.fetch_sub(1, std::memory_order_relaxed); }
  bool operations_pending() const noexcept { return pending_.load(std::memory_order_relaxed) > 0; }
  // Whether an idle worker should drive: operations in flight, and the io_context not stopped
  // (a user may stop it; then workers sleep as they would without I/O).
  bool workers_should_drive() const noexcept { return operations_pending() && !io_.stopped(); }

  // Worker side. try_acquire takes a free token; if the io thread holds it, asks it to hand it
  // over (to a worker asleep by then, which it wakes) and returns false.
  bool try_acquire() noexcept;
  // The worker leaves the io_context to run what it woke, and will be back.
  void release_briefly() noexcept;
  // The worker stops driving (nothing in flight, or shutdown): the io thread takes over now.
  void release_to_io_thread() noexcept;
  // After a drive that woke nothing here: keep the token free for the next idle worker while
  // workers should drive, or give it to the io thread.
  void release_after_driving(bool stopping) noexcept {
    if (!stopping && workers_should_drive()) {
      release_briefly();
    } else {
      release_to_io_thread();
    }
  }
  // A worker going to sleep without driving: a token nobody holds goes to the io thread.
  void ensure_driven() noexcept;

 private:
  enum holder : std::uint32_t { io_thread = 0, nobody = 1, a_worker = 2 };
  static constexpr std::uint32_t holder_mask = 3;
  static constexpr std::uint32_t generation_step = 4;
  static constexpr std::chrono::microseconds watch_period{1000};

  static holder holder_of(std::uint32_t word) noexcept {
    return static_cast<holder>(word & holder_mask);
  }
  static std::uint32_t with_holder(std::uint32_t word, holder h) noexcept {
    return (word & ~holder_mask) | h;
  }

  // The eventcount's interrupt: a no-op request makes the driving worker's run_one() return.
  static void interrupt(void* self) noexcept;
  void request_handover() noexcept;
  void hand_over() noexcept;  // io thread, as a handler
  // Waits until the io thread holds the token again (given back, or taken after a watch period
  // in which nobody took it), or until stop().
  void watch();
  void wake_io_thread() noexcept;

  boost::asio::io_context& io_;
  event_count& idle_;
  alignas(64) std::atomic<std::uint32_t> token_{io_thread};
  alignas(64) std::atomic<std::int64_t> pending_{0};
  std::atomic<bool> handover_requested_{false};
  // The io thread's watch: it sleeps for a period at a time, or without a timeout ("dozing")
  // once a worker has sat in the io_context unchanged for several periods (an idle program).
  // dozing_ and the token are a Dekker pair: the io thread sets dozing_ then re-reads the
  // token, a releasing worker stores the token then reads dozing_ (all seq_cst).
  std::mutex watch_mutex_;
  std::condition_variable watch_wake_;
  std::atomic<bool> dozing_{false};
  bool stopping_ = false;  // guarded by watch_mutex_
  // The no-op wake and the hand-over request. At most one hand-over is in flight; a no-op may
  // still be queued when the next one is posted (the driver left for another reason), and that
  // one then takes the heap.
  request_slot interrupt_slot_;
  request_slot handover_slot_;
};

}  // namespace grove::detail
