// The GROVE_SCHEDTRACE printer: one summary line of the runtime's figures per interval, on
// stderr (schedtrace.cpp shows the format).
#pragma once

#include <chrono>
#include <condition_variable>
#include <grove/runtime.hpp>
#include <mutex>
#include <string>
#include <thread>

#include "scheduler/runtime_core.hpp"

namespace grove::detail {

// The line for the change from `before` to `now` over `interval`.
std::string schedtrace_line(const runtime_stats& now, const runtime_stats& before,
                            std::chrono::nanoseconds interval);

class schedtrace_printer final : public runtime_service {
 public:
  schedtrace_printer(runtime_core& runtime, std::chrono::milliseconds interval);
  ~schedtrace_printer() override;

 private:
  void print_until_stopped();

  runtime_core* runtime_;
  std::chrono::milliseconds interval_;
  std::mutex mutex_;
  std::condition_variable stop_;
  bool stopping_ = false;  // guarded by mutex_
  std::thread thread_;
};

}  // namespace grove::detail
