// What an idle worker does: spin a while over the other queues, then sleep on the eventcount;
// or, while use_fiber operations are in flight, drive the io_context (scheduler/io_driver.hpp):
// the handlers it runs wake tasks onto its own deque, and it runs them next.
#include <algorithm>
#include <boost/asio/io_context.hpp>

#include "scheduler/runtime_core.hpp"
#include "scheduler/worker.hpp"
#include "testing/quiescence.hpp"

namespace grove::detail {
namespace {

constexpr int spin_rounds = 64;

// Counts the time from construction to destruction as asleep (runtime_stats busy time).
class asleep_while {
 public:
  explicit asleep_while(worker_counters& c) noexcept : counters_(c), began_(steady_nanoseconds()) {
    counters_.asleep_since_ns.store(began_, std::memory_order_relaxed);
    worker_counters::bump(counters_.sleeps);
  }
  ~asleep_while() {
    const std::int64_t woke = steady_nanoseconds();
    counters_.asleep_since_ns.store(0, std::memory_order_relaxed);
    counters_.asleep_ns.store(counters_.asleep_ns.load(std::memory_order_relaxed) + (woke - began_),
                              std::memory_order_relaxed);
  }
  asleep_while(const asleep_while&) = delete;
  asleep_while& operator=(const asleep_while&) = delete;

 private:
  worker_counters& counters_;
  std::int64_t began_;
};

}  // namespace

task* worker::park_until_work() {
  // With I/O in flight, completions come before spinning (a write that finished at once has
  // queued its handler), and an idle worker goes to block in the io_context at once: a spin
  // would only take CPU from the threads that produce the I/O.
  const bool io_in_flight = runtime_->driver().workers_should_drive();
  if (io_in_flight) {
    if (task* t = poll_io()) return t;
  }
  for (int round = 0; round < (io_in_flight ? 0 : spin_rounds); ++round) {
    answer_dump_request();  // nothing to list (the deque is empty here), but the dump waits
    // Not the other workers' run-next tasks yet: their owners switch to them within a few
    // hundred nanoseconds in the common case (taking them sooner halved a mutex convoy's speed).
    if (task* t = search_other_queues()) return t;
    if (runtime_->stopping()) return nullptr;
    // Growing pauses (1 to 16 per round): an idle worker that reads the others' queues on
    // every pause keeps pulling their hot lines away from them (a mutex convoy on the other
    // worker ran at half speed), and the later rounds of a spin rarely find anything anyway.
    for (int i = 0; i < (1 << std::min(round / 8, 4)); ++i) spin_pause();
  }
  // Asleep from here on, for testing::wait_all_tasks_blocked and autojump (slow path only).
  struct counted_idle {
    quiescence& watch;
    bool counted = true;
    explicit counted_idle(quiescence& q) : watch(q) { watch.worker_idle(); }
    ~counted_idle() { end(); }
    void end() noexcept {
      if (counted) watch.worker_busy();
      counted = false;
    }
  } idle{runtime_->quiescence_watch()};
  for (;;) {
    answer_dump_request();  // a dump wakes every sleeper for this
    const event_count::key key = runtime_->idle().prepare_wait();
    // Now run-next tasks too: one whose owner has been busy all through our spin (tens of
    // microseconds) is better run here, and a sleeper must see every queued task.
    if (task* t = search_other_queues(/*include_run_next=*/true)) {
      runtime_->idle().cancel_wait();
      // More may be waiting: let another sleeper look too.
      runtime_->notify_work();
      return t;
    }
    if (runtime_->stopping()) {
      runtime_->idle().cancel_wait();
      return nullptr;
    }
    io_driver& driver = runtime_->driver();
    if (driver.workers_should_drive() && driver.try_acquire()) {
      {
        asleep_while asleep(counters_);
        drive_io(key);  // returns once it woke a task here, or something else changed
      }
      runtime_->idle().cancel_wait();
      if (looks_idle()) {
        driver.release_after_driving(runtime_->stopping());
        continue;
      }
      // Busy again before the token goes: once it is free, the io thread may take it and run
      // the quiescence check, which must not count this worker idle with a task in hand.
      idle.end();
      driver.release_briefly();
      task* t = take_woken_by_io();
      // Work published meanwhile woke us (the epoch moved) while we take our own: pass the
      // wake on, as a sleeper that finds work does.
      if (runtime_->idle().changed_since(key)) runtime_->notify_work();
      if (t != nullptr) return t;
      // A thief took it first: idle again (null would stop this worker).
      return park_until_work();
    }
    driver.ensure_driven();
    asleep_while asleep(counters_);
    runtime_->idle().commit_wait(key);
  }
}

task* worker::poll_io() {
  io_driver& driver = runtime_->driver();
  if (!driver.try_acquire()) return nullptr;
  driving_io_ = true;
  driver.io().poll();
  driving_io_ = false;
  driver.release_briefly();
  return take_woken_by_io();
}

// Called between prepare_wait (which returned idle_key) and the end of the wait, holding the
// token: blocks in the io_context until a handler wakes a task here, or work is published
// elsewhere (the eventcount's epoch moves; a notify that finds only this waiter interrupts the
// blocking call), or nothing is in flight any more. The caller releases the token.
void worker::drive_io(std::uint32_t idle_key) {
  io_driver& driver = runtime_->driver();
  event_count& idle = runtime_->idle();
  boost::asio::io_context& io = driver.io();
  driving_io_ = true;
  idle.driver_waits();
  while (looks_idle() && !idle.changed_since(idle_key) && !runtime_->stopping() &&
         driver.workers_should_drive()) {
    io.run_one();
  }
  idle.driver_stops_waiting();
  driving_io_ = false;
}

task* worker::take_woken_by_io() {
  task* t = take_run_next();
  if (t == nullptr && !deque_.looks_empty()) t = deque_.take();
  // The handlers woke more than this one: let a sleeper take the others.
  if (t != nullptr && !deque_.looks_empty()) runtime_->notify_work();
  return t;
}

}  // namespace grove::detail
