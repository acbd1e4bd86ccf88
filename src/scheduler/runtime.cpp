// The runtime: construction and shutdown of the pool and its io thread, scheduling entry points,
// root tasks (run), statistics.
//
// Shutdown protocol: ~runtime sets `stopping`, wakes every sleeping worker (notify_all), and
// joins them; a worker exits when it finds no work and sees `stopping` (it checks after
// prepare_wait, so the wake-up cannot be missed). Then the io_context's work guard is dropped,
// the io_context stopped and its thread joined. A runtime must outlive every run() call on it.
//
// The io_context runs for the runtime's whole life (docs/reference.md §10 rule 9): on its own
// thread, or on an idle worker while use_fiber operations are in flight (scheduler/io_driver.hpp).
#include <pthread.h>
#include <sched.h>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <grove/errors.hpp>

#include "cancel/cancel_tree.hpp"
#include "nursery/nursery_core.hpp"
#include "scheduler/runtime_core.hpp"
#include "scheduler/worker.hpp"
#include "support/fence.hpp"
#include "task/task.hpp"
#include "testing/mock_clock_access.hpp"
#include "trace/observers.hpp"

namespace grove {
namespace detail {
namespace {

unsigned cpus_in_affinity_mask() noexcept {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof(set), &set) == 0) {
    const int count = CPU_COUNT(&set);
    if (count > 0) return static_cast<unsigned>(count);
  }
  const unsigned hardware = std::thread::hardware_concurrency();
  return hardware > 0 ? hardware : 1;
}

// Small stacks are rounded up: below this, the runtime's own frames leave too little room.
constexpr std::size_t minimum_stack_size = 32 * 1024;

runtime_options resolve(runtime_options options) {
  if (options.workers == 0) options.workers = cpus_in_affinity_mask();
  if (options.stack_size == 0) options.stack_size = default_stack_size;
  if (options.trace_events_per_thread == 0) {
    options.trace_events_per_thread = default_trace_events_per_thread;
  }
  options.stack_size = std::max(options.stack_size, minimum_stack_size);
  return options;
}

}  // namespace

runtime_core::runtime_core(runtime_options options)
    : options_(resolve(std::move(options))), stacks_(options_.stack_size), driver_(io_, idle_) {
  // Before anything starts, so that an unwritable trace path or a clock serving another runtime
  // fails the constructor with nothing to undo.
  if (!options_.trace_path.empty()) {
    tracer_ = std::make_unique<trace_recorder>(options_.trace_path, options_.workers,
                                               options_.trace_events_per_thread);
  }
  if (options_.virtual_clock != nullptr) mock_clock_access::attach(*options_.virtual_clock, this);
  if (options_.stack_overflow_handler) install_overflow_handler();
  enable_asymmetric_fences();  // before any worker can sleep (scheduler/event_count.hpp)
  timers_ = std::make_unique<timer_queue>(io_, timer_request_, options_.virtual_clock);
  quiescence_ = std::make_unique<quiescence>(*this, io_);
  // An autojump threshold set before the clock was attached is watched from the start.
  quiescence_->refresh_watching();
  io_work_.emplace(boost::asio::make_work_guard(io_));
  io_thread_ = std::thread([this] { driver_.run_io_thread(); });
  ::pthread_setname_np(io_thread_.native_handle(), "grove-io");
  workers_.reserve(options_.workers);
  for (unsigned i = 0; i < options_.workers; ++i) {
    workers_.push_back(std::make_unique<worker>(*this, i));
  }
  for (auto& w : workers_) w->start();
}

runtime_core::~runtime_core() {
  // acquire: pairs with the release in schedule(); the count's increment came before the push
  // that made the last task runnable, so a call still in flight is seen here.
  while (foreign_schedules_.load(std::memory_order_acquire) != 0) spin_pause();
  {
    std::lock_guard guard(services_mutex_);
    observers_.clear();
  }
  // Then: an abandoned to_thread call may still be running and may post to io_.
  helper_threads_.reset();
  stopping_.store(true, std::memory_order_seq_cst);
  idle_.notify_all();
  for (auto& w : workers_) w->join();
  io_work_.reset();
  io_.stop();
  driver_.stop();
  if (io_thread_.joinable()) io_thread_.join();
  // Nothing records any more.
  if (tracer_ != nullptr) tracer_->write_file();
  if (options_.virtual_clock != nullptr) mock_clock_access::detach(*options_.virtual_clock);
}

runtime_service& runtime_core::helper_threads(
    std::unique_ptr<runtime_service> (*make)(runtime_core&)) {
  std::lock_guard guard(services_mutex_);
  if (helper_threads_ == nullptr) helper_threads_ = make(*this);
  return *helper_threads_;
}

void runtime_core::add_observer(std::unique_ptr<runtime_service> observer) {
  std::lock_guard guard(services_mutex_);
  observers_.push_back(std::move(observer));
}

void runtime_core::record_trace(const trace_event& e) {
  worker* here = worker::current();
  if (here != nullptr && &here->runtime() == this) {
    tracer_->worker_buffer(here->index()).record(e);
  } else {
    tracer_->record_outside(e);
  }
}

const char* runtime_core::keep_trace_name(std::string_view name) {
  worker* here = worker::current();
  if (here != nullptr && &here->runtime() == this) {
    return tracer_->worker_buffer(here->index()).keep_name(name);
  }
  return tracer_->keep_name_outside(name);
}

clock::time_point runtime_core::now() const { return time_of(options_.virtual_clock); }

void runtime_core::clock_changed() {
  timers_->clock_changed();
  quiescence_->poke();
}

void runtime_core::schedule(task* t) {
  worker* here = worker::current();
  if (here != nullptr && &here->runtime() == this) {
    here->push_local(t);
  } else {
    // The task may run to completion, and its run() caller destroy the runtime, as soon as it
    // is pushed: the destructor waits until no such call is still between push and notify.
    foreign_schedules_.fetch_add(1, std::memory_order_relaxed);
    injection_.push(t);
    notify_work();
    foreign_schedules_.fetch_sub(1, std::memory_order_release);
  }
}

void runtime_core::schedule_next(task* t) {
  worker* here = worker::current();
  if (here != nullptr && &here->runtime() == this) {
    here->push_run_next(t);
  } else {
    schedule(t);
  }
}

runtime_stats runtime_core::stats() const {
  runtime_stats s;
  s.tasks_spawned = external_.tasks_spawned.load(std::memory_order_relaxed);
  s.tasks_completed = external_.tasks_completed.load(std::memory_order_relaxed);
  for (const auto& w : workers_) {
    const worker_counters& c = w->counters();
    s.tasks_spawned += c.tasks_spawned.load(std::memory_order_relaxed);
    s.tasks_completed += c.tasks_completed.load(std::memory_order_relaxed);
    s.steals += c.steals.load(std::memory_order_relaxed);
    s.context_switches += c.context_switches.load(std::memory_order_relaxed);
    s.tasks_inlined += c.tasks_inlined.load(std::memory_order_relaxed);
    s.parks += c.parks.load(std::memory_order_relaxed);
    s.workers.push_back(w->stats());
  }
  return s;
}

void runtime_core::add_root(task* t) {
  std::lock_guard guard(roots_mutex_);
  roots_.push_back(t);
}

void runtime_core::remove_root(task* t) {
  std::lock_guard guard(roots_mutex_);
  roots_.erase(std::find(roots_.begin(), roots_.end(), t));
}

void run_root(runtime_core& core, callback_ref body, const std::type_info* callable_type) {
  if (current_task() != nullptr) {
    throw usage_error(
        "grove::run / runtime::run called from inside a grove task: a task must not block its "
        "worker waiting for another root task; open a nursery instead");
  }
  // acq_rel on both sides: the destructor that sees 0 sees everything the run did.
  core.runs_in_progress().fetch_add(1, std::memory_order_acq_rel);
  struct leave_run {
    runtime_core& core;
    ~leave_run() { core.runs_in_progress().fetch_sub(1, std::memory_order_acq_rel); }
  } counted{core};
  root_wait wait;
  task* t = allocate_task(core);
  t->body.emplace([body] { body(); });
  t->callable_type = callable_type;
  t->root = &wait;
  attach_node(t->own_scope, nullptr, &core);
  core.add_root(t);
  if (core.tracer() != nullptr) [[unlikely]]
    trace_spawn(core, *t);
  core.external_counters().tasks_spawned.fetch_add(1, std::memory_order_relaxed);
  core.schedule(t);
  wait.done.acquire();
  if (wait.error) std::rethrow_exception(wait.error);
}

void complete_root(task* t, std::exception_ptr error) noexcept {
  root_wait* wait = t->root;
  wait->error = std::move(error);
  t->runtime->remove_root(t);
  free_task(t);
  wait->done.release();  // run() may return at once: nothing of `wait` is touched after this
}

void require_not_in_task(const char* what) {
  if (current_task() != nullptr) {
    throw usage_error(std::string(what) + " called from inside a grove task");
  }
}

}  // namespace detail

runtime::runtime(runtime_options options)
    : core_(std::make_unique<detail::runtime_core>(std::move(options))) {
  // The observers asked for by options or environment (src/trace: they only look).
  detail::attach_observers(*core_);
}

runtime::~runtime() {
  detail::task* t = detail::current_task();
  if (t != nullptr && t->runtime == core_.get()) {
    std::fputs(
        "grove: fatal: a grove::runtime is being destroyed from one of its own tasks; a runtime "
        "must outlive its tasks (destroy it from the thread that created it)\n",
        stderr);
    std::terminate();
  }
  // Joining the workers now would leave that run() waiting forever for a root task that can no
  // longer finish; failing loudly is the only honest answer (cancelling it could not make its
  // caller's references to this runtime valid either).
  if (core_->runs_in_progress().load(std::memory_order_acquire) != 0) {
    std::fputs(
        "grove: fatal: a grove::runtime is being destroyed while another thread is inside its "
        "run(); a runtime must outlive every run() call on it\n",
        stderr);
    std::terminate();
  }
}

unsigned runtime::worker_count() const noexcept { return core_->worker_count(); }
runtime_stats runtime::stats() const { return core_->stats(); }
boost::asio::io_context& runtime::io_context() noexcept { return core_->io(); }

bool in_task() noexcept { return detail::current_task() != nullptr; }

clock::time_point now() {
  const detail::task* t = detail::current_task();
  return t != nullptr ? t->runtime->now() : clock::now();
}

}  // namespace grove
