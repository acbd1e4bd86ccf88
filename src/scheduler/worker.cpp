// The worker loop.
//
// Finding work, in order:
//   1. every 61st round, the injection queue and the yield queue first, so that a worker busy
//      with its own deque still serves tasks from outside and tasks that yielded;
//   2. its run-next slot (a task the running task just handed a resource to), then its own
//      deque (LIFO: the most recently spawned task, hot in cache);
//   3. its yield queue (FIFO: tasks that called checkpoint(); stealable too);
//   4. the injection queue, then stealing from the other workers, starting at a random victim;
//   5. a short spin over 4. with growing pauses, then, before sleeping on the eventcount, one
//      more search that also takes other workers' run-next tasks (park_until_work, in
//      worker_idle.cpp, with what an idle worker does while I/O is in flight).
// Running a task: a fresh task gets a pooled stack and a new fiber; a woken one resumes its
// fiber. When the fiber switches back, the worker commits what it asked for (after_switch):
// a park becomes visible to wakers only now, once its context is saved, so no other worker can
// resume a fiber that is still running.
#include "scheduler/worker.hpp"

#include <pthread.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>

#include "fiber/fiber_context.hpp"
#include "nursery/nursery_core.hpp"
#include "scheduler/runtime_core.hpp"
#include "task/task.hpp"

namespace grove::detail {
namespace {

thread_local worker* this_thread_worker = nullptr;

constexpr std::size_t free_task_capacity = 1024;

std::uint64_t next_random(std::uint64_t& state) noexcept {
  // xorshift64*: cheap and good enough to spread victims.
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return state * 0x2545F4914F6CDD1DULL;
}

}  // namespace

worker::worker(runtime_core& runtime, unsigned index)
    : runtime_(&runtime),
      index_(index),
      stacks_(runtime.stacks()),
      random_state_(0x9E3779B97F4A7C15ULL * (index + 1)),
      dump_epoch_(&runtime.dump_epoch()) {
  if (trace_recorder* tracer = runtime.tracer()) trace_ = &tracer->worker_buffer(index);
  if (const auto& seed = runtime.options().schedule_seed) {
    seeded_ = true;
    // Never 0 (xorshift's fixed point), different per worker, a function of the seed alone.
    random_state_ ^= *seed * 0xD1B54A32D192ED03ULL + 1;
    if (random_state_ == 0) random_state_ = 1;
  }
}

bool worker::seeded_coin(unsigned bits) noexcept {
  return (next_random(random_state_) >> 40 & ((std::uint64_t{1} << bits) - 1)) == 0;
}

worker::~worker() {
  while (free_tasks_ != nullptr) {
    free_record* next = free_tasks_->next;
    ::operator delete(static_cast<void*>(free_tasks_));
    free_tasks_ = next;
  }
}

worker_stats worker::stats() const noexcept {
  worker_stats s;
  s.tasks_run = counters_.context_switches.load(std::memory_order_relaxed);
  s.tasks_inlined = counters_.tasks_inlined.load(std::memory_order_relaxed);
  s.steals = counters_.steals.load(std::memory_order_relaxed);
  s.parks = counters_.parks.load(std::memory_order_relaxed);
  s.sleeps = counters_.sleeps.load(std::memory_order_relaxed);
  s.queue_depth = deque_.size_estimate() + yielded_.size_estimate() +
                  (run_next_.load(std::memory_order_relaxed) != nullptr ? 1 : 0);
  const std::int64_t now = steady_nanoseconds();
  std::int64_t asleep = counters_.asleep_ns.load(std::memory_order_relaxed);
  if (const std::int64_t since = counters_.asleep_since_ns.load(std::memory_order_relaxed)) {
    asleep += now - since;
  }
  // Relaxed readings of two counters can be a moment apart: never report negative time.
  s.busy_time = std::chrono::nanoseconds(std::max<std::int64_t>(0, now - started_ns_ - asleep));
  return s;
}

void worker::start() {
  started_ns_ = steady_nanoseconds();
  thread_ = std::thread([this] { loop(); });
  const std::string name = "grove-w" + std::to_string(index_);
  ::pthread_setname_np(thread_.native_handle(), name.c_str());
}

void worker::join() {
  if (thread_.joinable()) thread_.join();
}

__attribute__((noinline)) worker* worker::current() noexcept { return this_thread_worker; }

std::uint64_t worker::next_task_id() noexcept {
  constexpr std::uint64_t block = 4096;
  if (next_id_ == end_id_) {
    next_id_ = reserve_task_ids(block);
    end_id_ = next_id_ + block;
  }
  return next_id_++;
}

void worker::push_local(task* t) {
  deque_.push(t);
  if (!driving_io_) runtime_->notify_work();
}

void worker::push_run_next(task* t) {
  // With a schedule seed the order is the seed's to choose: no privileged slot.
  if (seeded_) return push_local(t);
  // acq_rel: release publishes t to whoever takes it; acquire, the displaced task to us.
  if (task* displaced = run_next_.exchange(t, std::memory_order_acq_rel)) deque_.push(displaced);
  if (!driving_io_) runtime_->notify_work();
}

task* worker::take_run_next() noexcept {
  if (run_next_.load(std::memory_order_relaxed) == nullptr) return nullptr;
  return run_next_.exchange(nullptr, std::memory_order_acquire);
}

namespace {
// A few attempts: losing a race means another thread made progress, not that the queue is empty.
// `steal` is chase_lev_deque::steal, or steal_from_fifo for the yield queues.
template <auto steal>
bool steal_with_retries(chase_lev_deque<task*>& queue, task*& out) noexcept {
  for (int attempt = 0; attempt < 4; ++attempt) {
    switch ((queue.*steal)(out)) {
      case chase_lev_deque<task*>::steal_result::success:
        return true;
      case chase_lev_deque<task*>::steal_result::empty:
        return false;
      case chase_lev_deque<task*>::steal_result::lost_race:
        break;
    }
  }
  return false;
}
constexpr auto steal_lifo = &chase_lev_deque<task*>::steal;
constexpr auto steal_fifo = &chase_lev_deque<task*>::steal_from_fifo;
}  // namespace

// With a schedule seed: any of the worker's own ready tasks may run next, not only the newest
// (a random pick between the deque's two ends and the yield queue); the usual order follows
// when the picked source is empty.
task* worker::find_local_task_seeded() {
  switch (next_random(random_state_) % 3) {
    case 0:
      return deque_.take();
    case 1: {
      task* t = nullptr;
      return steal_with_retries<steal_lifo>(deque_, t) ? t : nullptr;
    }
    default:
      return take_yielded();
  }
}

bool worker::try_steal_from(task*& out, bool include_run_next) noexcept {
  if (steal_with_retries<steal_lifo>(deque_, out) ||
      steal_with_retries<steal_fifo>(yielded_, out)) {
    return true;
  }
  if (!include_run_next) return false;
  out = take_run_next();
  return out != nullptr;
}

bool worker::try_steal_queued(task*& out) noexcept {
  return steal_with_retries<steal_lifo>(deque_, out);
}

void worker::push_yielded(task* t) {
  // No wake-up: this worker is awake and about to look at this queue itself; a sleeping worker
  // would only race it for the task (idle workers still steal it when they look).
  yielded_.push(t);
}

task* worker::take_direct_yield_target() noexcept {
  // Only when the loop would pick the yield queue next anyway: nothing local, nothing injected.
  if (!deque_.looks_empty() || !runtime_->injection().looks_empty() ||
      run_next_.load(std::memory_order_relaxed) != nullptr) {
    return nullptr;
  }
  task* next = take_yielded();
  if (next == nullptr) return nullptr;
  transition_to_running(*next);
  worker_counters::bump(counters_.context_switches);
  return next;
}

task* worker::take_direct_park_target() noexcept {
  task* next = take_run_next();
  if (next == nullptr) return nullptr;
  transition_to_running(*next);
  worker_counters::bump(counters_.context_switches);
  return next;
}

bool worker::has_nothing_else_to_run() const noexcept {
  return looks_idle() && yielded_.looks_empty() && runtime_->injection().looks_empty();
}

task* worker::take_yielded() noexcept {
  if (yielded_.looks_empty()) return nullptr;  // exact for the owner: only it pushes
  task* t = nullptr;
  return steal_with_retries<steal_fifo>(yielded_, t) ? t : nullptr;
}

void* worker::pop_free_task() noexcept {
  free_record* r = free_tasks_;
  if (r == nullptr) return nullptr;
  free_tasks_ = r->next;
  --free_task_count_;
  return r;
}

bool worker::push_free_task(void* memory) noexcept {
  if (free_task_count_ >= free_task_capacity) return false;
  auto* r = ::new (memory) free_record{free_tasks_};
  free_tasks_ = r;
  ++free_task_count_;
  return true;
}

void worker::loop() {
  this_thread_worker = this;
  set_current_worker_index(static_cast<std::int32_t>(index_));
  if (runtime_->options().stack_overflow_handler) prepare_thread_for_overflow_handler();
  while (task* t = find_task()) run(t);
  set_current_worker_index(-1);
  this_thread_worker = nullptr;
}

task* worker::find_task() {
  answer_dump_request();
  if (seeded_) {
    if (task* t = find_local_task_seeded()) return t;
  }
  if (++ticks_ % 61 == 0) {
    if (task* t = runtime_->injection().pop()) return t;
    if (task* t = take_yielded()) return t;
  }
  if (task* t = take_run_next()) return t;
  if (!deque_.looks_empty()) {
    if (task* t = deque_.take()) return t;
  }
  if (task* t = take_yielded()) return t;
  if (task* t = search_other_queues()) return t;
  return park_until_work();
}

task* worker::search_other_queues(bool include_run_next) {
  if (task* t = runtime_->injection().pop()) return t;
  const unsigned count = runtime_->worker_count();
  if (count <= 1) return nullptr;
  const unsigned start = static_cast<unsigned>(next_random(random_state_) % count);
  for (unsigned k = 0; k < count; ++k) {
    const unsigned victim = (start + k) % count;
    if (victim == index_) continue;
    task* t = nullptr;
    if (runtime_->worker_at(victim).try_steal_from(t, include_run_next)) {
      worker_counters::bump(counters_.steals);
      if (trace_ != nullptr) [[unlikely]] {
        trace_->record(trace_event::make(trace_kind::steal, t->id, trace_clock_ticks(), victim));
      }
      return t;
    }
  }
  return nullptr;
}

void worker::run(task* t) {
  fiber_context* fc = t->fiber;
  const bool first_run = fc == nullptr;
  if (first_run) {
    try {
      fc = create_fiber(stacks_.acquire(), t);
    } catch (...) {
      // Out of stacks or mappings: the task fails with that error, which reaches its nursery
      // (or run()'s caller); the runtime goes on.
      fail_unstarted_task(t, std::current_exception());
      return;
    }
    t->fiber = fc;
    make_visible_in_nursery(t);  // now running on a fiber of its own: show it in dumps
  }
  transition_to_running(*t);
  worker_counters::bump(counters_.context_switches);
  // Traced: a slice from here until the fiber comes back (the task may be gone by then).
  std::int64_t began = 0;
  std::uint64_t id = 0;
  if (trace_ != nullptr) [[unlikely]] {
    began = trace_clock_ticks();
    id = t->id;
  }
  stack_memory finished{};
  fiber_context* const came_back = resume_fiber(fc, &finished);
  if (trace_ != nullptr) [[unlikely]] {
    trace_->record(trace_event::make(trace_kind::slice, id, began, trace_clock_ticks(), nullptr,
                                     first_run ? trace_event::first_run : std::uint8_t{0}));
  }
  if (came_back == nullptr) {
    stacks_.release(finished);
    return;
  }
  after_switch(came_back);
}

void worker::after_switch(fiber_context* fc) {
  task* t = fc->switching_task;
  if (fc->reason == switch_reason::yielded) {
    transition_to_ready(*t);
    push_yielded(t);
    return;
  }
  commit_parked(t);
}

void worker::commit_parked(task* t) {
  // Parked: commit, now that the continuation is saved.
  if (commit_park(*t)) return;
  // A waker came before the commit (woken_while_parking): the task is ours to run again.
  transition_to_ready(*t);
  deque_.push(t);
}

}  // namespace grove::detail
