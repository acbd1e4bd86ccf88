// The runtime: a pool of worker threads that run tasks as fibers, balanced by work stealing,
// plus the Boost.Asio io_context that drives deadlines and I/O (docs/reference.md §1).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <grove/detail/export.hpp>
#include <grove/detail/requirements.hpp>
#include <grove/detail/result_holder.hpp>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace grove {

using clock = std::chrono::steady_clock;

namespace testing {
class mock_clock;  // <grove/testing.hpp>
}

struct runtime_options {
  unsigned workers = 0;        // 0: the CPUs in this process's affinity mask
  std::size_t stack_size = 0;  // bytes per task stack; 0: default_stack_size
  // Non-empty: record a trace and write it there, as Chrome trace-event JSON, at shutdown
  // (docs/reference.md §9). The file is opened here: std::system_error if it cannot be.
  std::string trace_path;
  // Trace events each thread keeps (0: default_trace_events_per_thread); later ones are
  // dropped and counted.
  std::size_t trace_events_per_thread = 0;
  // Install the SIGSEGV handler that turns a task's stack overflow into a diagnostic naming the
  // stack size (it chains to any handler installed before it). Off: overflow is a plain SIGSEGV.
  bool stack_overflow_handler = true;
  // Testing (<grove/testing.hpp>): every deadline and sleep of the runtime follows this clock
  // (one clock serves one live runtime at a time; a second is usage_error).
  testing::mock_clock* virtual_clock = nullptr;
  // Testing: randomised scheduling from this seed (random choice among ready tasks, random
  // steal victims, random extra yields at checkpoints); with workers == 1 a seed reproduces a
  // run's interleaving exactly.
  std::optional<std::uint64_t> schedule_seed;
  // The most helper threads grove::to_thread runs calls on at once (<grove/to_thread.hpp>);
  // started on demand, further calls queue. 0: default_helper_threads.
  unsigned helper_threads = 0;
  // SIGUSR1 prints this runtime's task tree to stderr (also on with GROVE_DUMP_ON_SIGNAL=1).
  // The signal handler only posts a semaphore; a grove thread does the dump.
  bool dump_on_signal = false;
};

// The helper-thread bound when runtime_options::helper_threads is 0 (trio's default, 40).
inline constexpr unsigned default_helper_threads = 40;

// Trace events kept per worker (and for the threads outside the workers) when
// runtime_options::trace_events_per_thread is 0: 48 MiB each at most, touched only as used.
inline constexpr std::size_t default_trace_events_per_thread = std::size_t{1} << 20;

// The stack each task gets when runtime_options::stack_size is 0.
inline constexpr std::size_t default_stack_size = 256 * 1024;

// One worker's figures (runtime_stats::workers), like the whole runtime's: monotonically
// growing except queue_depth, a snapshot.
struct worker_stats {
  std::uint64_t tasks_run = 0;      // fiber resumes: task starts and resumptions after a wait
  std::uint64_t tasks_inlined = 0;  // children run on the stack of a parent joining them here
  std::uint64_t steals = 0;         // tasks this worker took from another worker's deque
  std::uint64_t parks = 0;          // waits of the tasks this worker ran
  std::uint64_t sleeps = 0;         // times the worker went to sleep for want of work
  // Awake time (running tasks or looking for them); approximate within a sleep in progress.
  std::chrono::nanoseconds busy_time{0};
  std::uint64_t queue_depth = 0;  // tasks in its deque now
};

struct runtime_stats {
  std::uint64_t tasks_spawned = 0;  // every task, root tasks of run() included
  std::uint64_t tasks_completed = 0;
  std::uint64_t steals = 0;            // tasks taken from another worker's deque
  std::uint64_t context_switches = 0;  // fiber resumes by workers
  std::uint64_t tasks_inlined = 0;     // children run on their joining parent's stack
  std::uint64_t parks = 0;             // times a task suspended to wait
  std::vector<worker_stats> workers;   // per worker, in index order
};

namespace detail {
class runtime_core;
// Runs `body` as a root task of `core` and blocks the calling thread until it has finished;
// rethrows what `body` threw.
// `callable_type` names the root task in dumps and traces.
GROVE_API void run_root(runtime_core& core, callback_ref body,
                        const std::type_info* callable_type = nullptr);
// usage_error naming `what` when called from inside a task.
GROVE_API void require_not_in_task(const char* what);
}  // namespace detail

class GROVE_API runtime {
 public:
  explicit runtime(runtime_options options = {});
  ~runtime();
  runtime(const runtime&) = delete;
  runtime& operator=(const runtime&) = delete;

  // Runs fn as a root task on the pool and blocks the calling thread until it returns.
  template <class F>
  detail::call_result_t<F> run(F&& fn) {
    if constexpr (!std::is_invocable_v<F>) {
      static_assert(detail::dependent_false<F>,
                    "grove::runtime::run(fn): fn must be callable with no arguments");
    } else {
      using result = std::invoke_result_t<F>;
      detail::result_holder<result> holder;
      auto body = [&] { holder.emplace_from(std::forward<F>(fn)); };
      detail::run_root(*core_, detail::callback_ref::to(body), &typeid(std::decay_t<F>));
      return holder.take();
    }
  }

  unsigned worker_count() const noexcept;
  runtime_stats stats() const;
  boost::asio::io_context& io_context() noexcept;
  // The live tree of nurseries and tasks; callable from any thread.
  void dump_task_tree(std::ostream& out) const;
  // The same tree as one JSON object, for tools (docs/reference.md §9 gives its fields).
  void dump_task_tree_json(std::ostream& out) const;

  detail::runtime_core& core() noexcept { return *core_; }

 private:
  std::unique_ptr<detail::runtime_core> core_;
};

template <class F>
detail::call_result_t<F> run(F&& fn, runtime_options options = {}) {
  if constexpr (!std::is_invocable_v<F>) {
    static_assert(detail::dependent_false<F>,
                  "grove::run(fn): fn must be callable with no arguments");
  } else {
    detail::require_not_in_task("grove::run");
    runtime rt(std::move(options));
    return rt.run(std::forward<F>(fn));
  }
}

// True inside a task of any grove runtime.
GROVE_API bool in_task() noexcept;

// The live tree of nurseries and tasks of the calling task's runtime (usage_error outside a task).
GROVE_API void dump_task_tree(std::ostream& out);
// Its JSON form (usage_error outside a task).
GROVE_API void dump_task_tree_json(std::ostream& out);

// The runtime's current time: the one place grove reads its clock. Inside a task of a runtime
// with a testing::mock_clock, that clock's virtual time; otherwise clock::now().
GROVE_API clock::time_point now();

}  // namespace grove
