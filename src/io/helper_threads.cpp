// to_thread's helper threads: a bounded pool per runtime, started on demand. A call waits in a
// FIFO when every helper is busy and the pool is at runtime_options::helper_threads. Helpers
// live as long as the runtime; its destructor joins them, so an abandoned call still running
// then is waited for (it never outlives the runtime it was started from).
//
// A hand-written pool rather than boost::asio::thread_pool: that one starts all its threads up
// front and cannot grow to a bound on demand.
#include <pthread.h>

#include <condition_variable>
#include <deque>
#include <grove/runtime.hpp>
#include <grove/to_thread.hpp>
#include <mutex>
#include <thread>
#include <vector>

#include "scheduler/runtime_core.hpp"
#include "task/task.hpp"

namespace grove::detail {
namespace {

class helper_thread_pool final : public runtime_service {
 public:
  explicit helper_thread_pool(unsigned limit) : limit_(limit) {}

  ~helper_thread_pool() override {
    {
      std::lock_guard guard(mutex_);
      stopping_ = true;
    }
    work_available_.notify_all();
    for (std::thread& t : threads_) t.join();
  }

  void submit(std::shared_ptr<blocking_job> job) {
    std::unique_lock guard(mutex_);
    queue_.push_back(std::move(job));
    // Every queued call needs a helper of its own: idle ones woken earlier may not have taken
    // theirs yet.
    if (idle_ < queue_.size() && threads_.size() < limit_) {
      threads_.emplace_back([this] { serve(); });
      ::pthread_setname_np(threads_.back().native_handle(), "grove-helper");
    }
    guard.unlock();
    work_available_.notify_one();
  }

 private:
  void serve() {
    std::unique_lock guard(mutex_);
    for (;;) {
      while (queue_.empty() && !stopping_) {
        ++idle_;
        work_available_.wait(guard);
        --idle_;
      }
      if (queue_.empty()) return;  // stopping, nothing left
      std::shared_ptr<blocking_job> job = std::move(queue_.front());
      queue_.pop_front();
      guard.unlock();
      job->run();
      job.reset();
      guard.lock();
    }
  }

  const unsigned limit_;
  std::mutex mutex_;
  std::condition_variable work_available_;
  std::deque<std::shared_ptr<blocking_job>> queue_;  // guarded by mutex_
  std::vector<std::thread> threads_;                 // guarded by mutex_
  unsigned idle_ = 0;                                // guarded by mutex_
  bool stopping_ = false;                            // guarded by mutex_
};

std::unique_ptr<runtime_service> make_pool(runtime_core& runtime) {
  const unsigned configured = runtime.options().helper_threads;
  return std::make_unique<helper_thread_pool>(configured == 0 ? default_helper_threads
                                                              : configured);
}

}  // namespace

void submit_blocking_job(std::shared_ptr<blocking_job> job) {
  task* self = require_task("grove::to_thread");
  auto& pool = static_cast<helper_thread_pool&>(self->runtime->helper_threads(&make_pool));
  pool.submit(std::move(job));
}

}  // namespace grove::detail
