// GROVE_SCHEDTRACE=<ms>: one line per interval on stderr with the runtime's counters and each
// worker's, like Go's schedtrace. A thread of its own wakes on a timed condition-variable wait
// (no Asio timer: the line must keep coming when the io thread or a mock clock is stuck).
//
//   grove schedtrace 1000ms: workers=2 spawned=+120 completed=+118 steals=+9 parks=+40
//     [w0 run=+61 steals=+4 parks=+20 sleeps=+3 busy=42% depth=0] [w1 ...]
// "+n" is the change since the previous line; busy is the share of the interval the worker
// was awake; depth is its queue now.
#include "trace/schedtrace.hpp"

#include <pthread.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace grove::detail {
namespace {

std::string worker_figures(unsigned index, const worker_stats& now, const worker_stats& before,
                           std::chrono::nanoseconds interval) {
  const double busy = interval.count() > 0
                          ? 100.0 *
                                static_cast<double>((now.busy_time - before.busy_time).count()) /
                                static_cast<double>(interval.count())
                          : 0.0;
  char line[200];
  std::snprintf(line, sizeof line,
                " [w%u run=+%llu steals=+%llu parks=+%llu sleeps=+%llu busy=%.0f%% depth=%llu]",
                index, static_cast<unsigned long long>(now.tasks_run - before.tasks_run),
                static_cast<unsigned long long>(now.steals - before.steals),
                static_cast<unsigned long long>(now.parks - before.parks),
                static_cast<unsigned long long>(now.sleeps - before.sleeps),
                busy < 0 ? 0.0 : (busy > 100 ? 100.0 : busy),
                static_cast<unsigned long long>(now.queue_depth));
  return line;
}

}  // namespace

std::string schedtrace_line(const runtime_stats& now, const runtime_stats& before,
                            std::chrono::nanoseconds interval) {
  char head[200];
  std::snprintf(head, sizeof head,
                "grove schedtrace %lldms: workers=%zu spawned=+%llu completed=+%llu steals=+%llu "
                "parks=+%llu",
                static_cast<long long>(
                    std::chrono::duration_cast<std::chrono::milliseconds>(interval).count()),
                now.workers.size(),
                static_cast<unsigned long long>(now.tasks_spawned - before.tasks_spawned),
                static_cast<unsigned long long>(now.tasks_completed - before.tasks_completed),
                static_cast<unsigned long long>(now.steals - before.steals),
                static_cast<unsigned long long>(now.parks - before.parks));
  std::string line = head;
  for (std::size_t i = 0; i < now.workers.size(); ++i) {
    const worker_stats none{};
    line += worker_figures(static_cast<unsigned>(i), now.workers[i],
                           i < before.workers.size() ? before.workers[i] : none, interval);
  }
  return line + "\n";
}

schedtrace_printer::schedtrace_printer(runtime_core& runtime, std::chrono::milliseconds interval)
    : runtime_(&runtime), interval_(interval) {
  thread_ = std::thread([this] { print_until_stopped(); });
  ::pthread_setname_np(thread_.native_handle(), "grove-schedtrace");
}

schedtrace_printer::~schedtrace_printer() {
  {
    std::lock_guard guard(mutex_);
    stopping_ = true;
  }
  stop_.notify_one();
  thread_.join();
}

void schedtrace_printer::print_until_stopped() {
  runtime_stats before = runtime_->stats();
  auto last = std::chrono::steady_clock::now();
  std::unique_lock guard(mutex_);
  while (!stop_.wait_for(guard, interval_, [this] { return stopping_; })) {
    const runtime_stats now = runtime_->stats();
    const auto at = std::chrono::steady_clock::now();
    std::fputs(schedtrace_line(now, before, at - last).c_str(), stderr);
    before = now;
    last = at;
  }
}

}  // namespace grove::detail
