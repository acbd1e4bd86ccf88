// A worker that drives the io_context while it is idle (scheduler/io_driver.hpp says when):
// the handlers it runs wake tasks onto its own deque, and it runs them next.
#include <boost/asio/io_context.hpp>

#include "scheduler/runtime_core.hpp"
#include "scheduler/worker.hpp"

namespace grove::detail {

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
// blocking call), or nothing is in flight any more. Returns with the token released.
void worker::drive_io(std::uint32_t idle_key) {
  io_driver& driver = runtime_->driver();
  event_count& idle = runtime_->idle();
  boost::asio::io_context& io = driver.io();
  driving_io_ = true;
  idle.driver_waits();
  while (looks_idle() && !idle.changed_since(idle_key) && !runtime_->stopping() &&
         driver.operations_pending() && !io.stopped()) {
    io.run_one();
  }
  idle.driver_stops_waiting();
  driving_io_ = false;
  if (!looks_idle() || (!runtime_->stopping() && driver.operations_pending())) {
    driver.release_briefly();
  } else {
    driver.release_to_io_thread();
  }
}

task* worker::take_woken_by_io() {
  task* t = take_run_next();
  if (t == nullptr && !deque_.looks_empty()) t = deque_.take();
  // The handlers woke more than this one: let a sleeper take the others.
  if (t != nullptr && !deque_.looks_empty()) runtime_->notify_work();
  return t;
}

}  // namespace grove::detail
