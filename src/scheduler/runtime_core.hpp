// The runtime's private state: workers, the injection queue, the eventcount idle workers sleep
// on, the stack allocator, the io_context, its driver and its thread, and the registry of root
// tasks.
#pragma once

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <grove/runtime.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "fiber/stack_pool.hpp"
#include "scheduler/event_count.hpp"
#include "scheduler/injection_queue.hpp"
#include "scheduler/io_driver.hpp"
#include "scheduler/stats.hpp"
#include "testing/quiescence.hpp"
#include "time/timer_queue.hpp"
#include "trace/trace_recorder.hpp"

namespace grove::detail {

class worker;
struct task;

// A subsystem above the scheduler that a runtime keeps once it is first used (to_thread's helper
// threads): the upper layer defines it and the runtime only owns it, destroying it first.
class runtime_service {
 public:
  virtual ~runtime_service() = default;
};

class runtime_core {
 public:
  explicit runtime_core(runtime_options options);
  ~runtime_core();

  // Makes a task runnable (a fresh one, or a parked one a waker just woke); any thread. On a
  // worker of this runtime it goes on that worker's deque, elsewhere on the injection queue.
  void schedule(task* t);
  // The same for a task handed a resource by the task running on this thread: on a worker of
  // this runtime it runs next there (worker::push_run_next).
  void schedule_next(task* t);
  // Wakes one sleeping worker if there is one (after publishing work).
  void notify_work() noexcept { idle_.notify_one(); }

  const runtime_options& options() const noexcept { return options_; }
  unsigned worker_count() const noexcept { return static_cast<unsigned>(workers_.size()); }
  worker& worker_at(unsigned i) noexcept { return *workers_[i]; }
  injection_queue& injection() noexcept { return injection_; }
  event_count& idle() noexcept { return idle_; }
  stack_allocator& stacks() noexcept { return stacks_; }
  boost::asio::io_context& io() noexcept { return io_; }
  // Who runs io(): the io thread, or an idle worker while use_fiber operations are in flight.
  io_driver& driver() noexcept { return driver_; }
  shared_counters& external_counters() noexcept { return external_; }
  bool stopping() const noexcept { return stopping_.load(std::memory_order_acquire); }
  runtime_stats stats() const;

  timer_queue& timers() noexcept { return *timers_; }

  // The trace, or null when runtime_options::trace_path is empty: every recording site tests
  // this one pointer first (a predictable branch when tracing is off).
  trace_recorder* tracer() const noexcept { return tracer_.get(); }
  // Records `e` in the calling thread's buffer: its worker's, or the shared one. Tracing only.
  void record_trace(const trace_event& e);
  // A copy of a task's name that lives as long as the trace. Tracing only.
  const char* keep_trace_name(std::string_view name);

  // The runtime's time: its testing::mock_clock's, or the real clock's.
  clock::time_point now() const;
  testing::mock_clock* virtual_clock() const noexcept { return options_.virtual_clock; }
  // The virtual clock jumped or its autojump threshold changed (any thread).
  void clock_changed();
  quiescence& quiescence_watch() noexcept { return *quiescence_; }

  // Threads inside run() on this runtime (destroying it meanwhile is fatal misuse).
  std::atomic<int>& runs_in_progress() noexcept { return runs_in_progress_; }

  // The helper-thread service, made by `make` on first use; any thread.
  runtime_service& helper_threads(std::unique_ptr<runtime_service> (*make)(runtime_core&));
  // Keeps an observer (the SIGUSR1 dump, the schedtrace printer) until the runtime shuts
  // down; observers are destroyed first, while everything they look at still runs.
  void add_observer(std::unique_ptr<runtime_service> observer);

  // Root tasks (for dump_task_tree); guarded by roots_mutex().
  std::mutex& roots_mutex() noexcept { return roots_mutex_; }
  void add_root(task* t);
  void remove_root(task* t);
  template <class F>
  void for_each_root(F&& f) {
    for (task* t : roots_) f(t);
  }

  // Dumps (trace/task_snapshot.cpp): one at a time, under dump_mutex(). The epoch is odd while
  // one is in progress: spawns and inline runs then list their children in their nurseries
  // (nursery.cpp), which otherwise costs no lock, and each worker lists the fresh tasks of its
  // own deque once (worker::answer_dump_request). Relaxed readers: the epoch only asks for
  // more listing; the dump waits for each worker's answer (acquire) before it reads.
  std::mutex& dump_mutex() noexcept { return dump_mutex_; }
  bool dump_in_progress() const noexcept {
    return (dump_epoch_.load(std::memory_order_relaxed) & 1) != 0;
  }
  const std::atomic<std::uint64_t>& dump_epoch() const noexcept { return dump_epoch_; }
  // Caller holds dump_mutex(); returns the new (odd) epoch, then even again.
  std::uint64_t begin_dump() noexcept {
    return dump_epoch_.fetch_add(1, std::memory_order_release) + 1;
  }
  void end_dump() noexcept { dump_epoch_.fetch_add(1, std::memory_order_release); }

 private:
  runtime_options options_;
  stack_allocator stacks_;
  injection_queue injection_;
  event_count idle_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> runs_in_progress_{0};
  std::atomic<int> foreign_schedules_{0};  // schedule() calls from other threads in flight
  shared_counters external_;
  std::unique_ptr<trace_recorder> tracer_;  // before workers_: they record into it
  std::vector<std::unique_ptr<worker>> workers_;
  std::mutex roots_mutex_;
  std::mutex dump_mutex_;
  // Its own cache line: read on every scheduling round, written twice per dump.
  alignas(64) std::atomic<std::uint64_t> dump_epoch_{0};
  std::mutex services_mutex_;
  std::unique_ptr<runtime_service> helper_threads_;          // guarded by services_mutex_
  std::vector<std::unique_ptr<runtime_service>> observers_;  // guarded by services_mutex_
  std::vector<task*> roots_;
  // Declared before io_: a request still queued at shutdown (the timer queue's re-arm, the
  // driver's wake and hand-over) lives here and is destroyed by io_'s destructor.
  request_slot timer_request_;
  io_driver driver_;
  boost::asio::io_context io_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> io_work_;
  // Sleepers (declared after io_: destroyed before it, with its Asio timer).
  std::unique_ptr<timer_queue> timers_;
  std::unique_ptr<quiescence> quiescence_;  // holds an Asio timer too
  std::thread io_thread_;
};

}  // namespace grove::detail
