// The MPI progress thread.
//
// Why a thread and not a task: testing requests is polling, and a polling task would keep one of
// the runtime's workers (on this machine, half of them) from the chunks. A thread that backs off
// when nothing completes costs a few microseconds per round instead, and it serves every runtime
// of the process. Why polling at all: MPI has no completion callback that another thread may
// wait on (MPI_Waitany would hold MPI's progress lock against the workers' sends), so the thread
// tests its pending requests: at once again (yielding) for 100 µs after a completion, then
// sleeping a little longer after each round in which none completed (up to 200 µs: the bound on
// the latency it adds), and on a condition variable when nothing is pending. A new request
// wakes it at once.
#include "mpi/progress_engine.hpp"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <grove/errors.hpp>
#include <string>

namespace grove::mpi::detail {
namespace {

std::atomic<progress_engine*> live_engine{nullptr};

}  // namespace

progress_engine::progress_engine() : thread_([this] { loop(); }) {}

progress_engine::~progress_engine() {
  {
    std::lock_guard guard(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  thread_.join();
}

void progress_engine::install(progress_engine* engine) noexcept {
  live_engine.store(engine, std::memory_order_release);
}

progress_engine& progress_engine::current(const char* what) {
  progress_engine* engine = live_engine.load(std::memory_order_acquire);
  if (engine == nullptr) {
    throw grove::usage_error(std::string(what) +
                             ": no grove::mpi::environment is alive (create one in main, before "
                             "any grove::mpi call)");
  }
  return *engine;
}

void progress_engine::watch(const watched& w) {
  {
    std::lock_guard guard(mutex_);
    incoming_.push_back(w);
  }
  wake_.notify_one();
}

void progress_engine::loop() {
  std::vector<watched> pending;
  std::chrono::microseconds pause{0};
  constexpr std::chrono::microseconds longest_pause{200};
  // A request usually completes within microseconds of the last one (the rounds of a collective
  // protocol follow each other): for this long after a completion, poll again at once (yielding
  // the core), before the timed sleeps, whose shortest is the kernel's timer slack (~50 µs).
  constexpr std::chrono::microseconds eager_polling{100};
  auto last_completion = std::chrono::steady_clock::now();
  for (;;) {
    const bool eager = std::chrono::steady_clock::now() - last_completion < eager_polling;
    {
      std::unique_lock guard(mutex_);
      if (pending.empty()) {
        wake_.wait(guard, [&] { return stopping_ || !incoming_.empty(); });
        last_completion = std::chrono::steady_clock::now();  // a new request: poll it eagerly
      } else if (!eager && pause.count() != 0) {
        wake_.wait_for(guard, pause, [&] { return stopping_ || !incoming_.empty(); });
      }
      if (stopping_ && pending.empty() && incoming_.empty()) return;
      pending.insert(pending.end(), incoming_.begin(), incoming_.end());
      incoming_.clear();
    }
    // complete() may let the task free the request's record: erase before completing.
    const auto finished = std::stable_partition(
        pending.begin(), pending.end(), [](const watched& w) { return !w.poll(w.context); });
    const bool any = finished != pending.end();
    std::vector<watched> done(finished, pending.end());
    pending.erase(finished, pending.end());
    for (const watched& w : done) w.done->complete();
    if (any) {
      pause = std::chrono::microseconds{0};
      last_completion = std::chrono::steady_clock::now();
    } else if (eager) {
      std::this_thread::yield();
    } else {
      pause = std::min(longest_pause, pause * 2 + std::chrono::microseconds{1});
    }
  }
}

}  // namespace grove::mpi::detail
