// The compiled half of <grove/asio.hpp>.
#include <grove/asio.hpp>

#include "scheduler/runtime_core.hpp"
#include "task/task.hpp"

namespace grove::detail {

boost::asio::io_context& current_io_context() {
  return require_task("grove::use_fiber")->runtime->io();
}

}  // namespace grove::detail
