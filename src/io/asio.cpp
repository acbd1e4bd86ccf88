// The compiled half of <grove/asio.hpp>.
#include <grove/asio.hpp>

#include "scheduler/io_driver.hpp"
#include "scheduler/runtime_core.hpp"
#include "task/task.hpp"

namespace grove::detail {

io_driver& begin_fiber_operation() {
  io_driver& driver = require_task("grove::use_fiber")->runtime->driver();
  driver.operation_started();
  return driver;
}

void end_fiber_operation(io_driver& driver) noexcept { driver.operation_finished(); }

boost::asio::io_context& io_context_of(io_driver& driver) noexcept { return driver.io(); }

}  // namespace grove::detail
