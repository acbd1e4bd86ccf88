// A worker thread: its deque, its caches, its counters, and the loop that finds a task and runs
// it. The loop's search order, and how a worker goes to sleep without missing work, are
// described at the top of worker.cpp.
#pragma once

#include <atomic>
#include <cstdint>
#include <grove/runtime.hpp>
#include <thread>

#include "fiber/stack_pool.hpp"
#include "scheduler/chase_lev_deque.hpp"
#include "scheduler/injection_queue.hpp"
#include "scheduler/stats.hpp"
#include "trace/trace_buffer.hpp"

namespace grove::detail {

class runtime_core;
struct task;

class worker {
 public:
  worker(runtime_core& runtime, unsigned index);
  ~worker();

  void start();
  void join();

  // Owner thread only.
  void push_local(task* t);  // a new or woken task: LIFO, stealable; wakes a sleeper if any
  // A task woken by a hand-off from the task running here (a mutex passed to its parked
  // waiter): it runs next on this worker, ahead of the deque, where its data is hot. Like Go's
  // runnext: the slot holds one task (a second one pushes the first to the deque), and other
  // workers take it only after a full idle spin (see park_until_work), so the common case, the
  // waker parking right after, switches to it directly, without a steal.
  void push_run_next(task* t);
  void put_back(task* t) { deque_.push(t); }  // a task just taken, returned unrun
  void push_yielded(task* t);                 // FIFO behind other ready tasks; also stealable
  task* take_local() noexcept { return deque_.take(); }

  task* take_yielded() noexcept;  // FIFO head of the yield queue
  // Owner thread only: the task a yield may switch to directly (the yield queue's head, when the
  // deque and the injection queue are empty), marked running; null otherwise.
  task* take_direct_yield_target() noexcept;
  // Owner thread only: the run-next task, for a park to switch to directly (the loop would run
  // it next anyway), marked running; null if the slot is empty.
  task* take_direct_park_target() noexcept;
  // Owner thread only: a task whose fiber has switched out to park, now saved: commits the park,
  // or queues the task again if its waker came first.
  void commit_parked(task* t);
  // Owner thread only: no local task and nothing injected is waiting for this worker.
  bool has_nothing_else_to_run() const noexcept;

  // Any thread.
  // With include_run_next, also the run-next slot (only a worker that has searched a while).
  bool try_steal_from(task*& out, bool include_run_next = false) noexcept;
  // A steal from the deque alone, where fresh tasks wait (the yield queue and the run-next
  // slot hold tasks that have run already).
  bool try_steal_queued(task*& out) noexcept;
  std::size_t queued_estimate() const noexcept { return deque_.size_estimate(); }

  // Owner thread only, at every scheduling round and before each inline run: while a dump is
  // in progress, lists the fresh tasks of this worker's deque in their nurseries, in place and in
  // order, once per dump (worker_dump.cpp), and `taken`, a fresh task just taken from it. One
  // relaxed load otherwise. After the answer, every fresh task here is listed: the ones queued
  // then by the answer, later ones by their spawners.
  void answer_dump_request(task* taken = nullptr) {
    const std::uint64_t epoch = dump_epoch_->load(std::memory_order_relaxed);
    if ((epoch & 1) != 0 && epoch != dump_answered_.load(std::memory_order_relaxed)) [[unlikely]]
      list_queued_for_dump(epoch, taken);
  }
  // Any thread: whether this worker has answered the dump of `epoch`.
  bool answered_dump(std::uint64_t epoch) const noexcept {
    // acquire: pairs with the release in list_queued_for_dump; its listing is visible.
    return dump_answered_.load(std::memory_order_acquire) == epoch;
  }
  bool looks_idle() const noexcept {
    return deque_.looks_empty() && run_next_.load(std::memory_order_relaxed) == nullptr;
  }

  runtime_core& runtime() noexcept { return *runtime_; }
  // This worker's figures (any thread).
  worker_stats stats() const noexcept;
  unsigned index() const noexcept { return index_; }
  worker_counters& counters() noexcept { return counters_; }
  // This worker's trace buffer (owner thread only), or null when the runtime does not trace.
  trace_buffer* trace() noexcept { return trace_; }
  const worker_counters& counters() const noexcept { return counters_; }
  stack_cache& stacks() noexcept { return stacks_; }

  // Task record memory (owner thread only): destroyed records kept for reuse.
  void* pop_free_task() noexcept;
  bool push_free_task(void* memory) noexcept;
  // A task id never used before in this process (ids are reserved in blocks, see task.cpp).
  std::uint64_t next_task_id() noexcept;

  // runtime_options::schedule_seed (owner thread only): whether scheduling is randomised, and
  // its coin flips. Without a seed these answer "no" and cost one predictable branch.
  bool seeded() const noexcept { return seeded_; }
  // True with probability 1 / 2^bits; false when not seeded (inline: the unseeded answer sits
  // on the inline-children path of every join).
  bool seeded_chance(unsigned bits) noexcept { return seeded_ && seeded_coin(bits); }

  // The worker running on this thread, or null.
  static worker* current() noexcept;

 private:
  void loop();
  task* find_task();
  task* find_local_task_seeded();
  bool seeded_coin(unsigned bits) noexcept;
  task* search_other_queues(bool include_run_next = false);
  task* take_run_next() noexcept;
  task* park_until_work();
  // Driving the io_context while idle (worker_idle.cpp; scheduler/io_driver.hpp says when).
  task* poll_io();
  void drive_io(std::uint32_t idle_key);
  task* take_woken_by_io();
  void run(task* t);
  void after_switch(struct fiber_context* fc);
  void list_queued_for_dump(std::uint64_t epoch, task* taken);

  runtime_core* runtime_;
  unsigned index_;
  chase_lev_deque<task*> deque_;
  // push_run_next's slot. The owner and thieves take it with an exchange, so exactly one of
  // them gets the task; acquire/release pair the pusher's writes with the taker's reads.
  std::atomic<task*> run_next_{nullptr};
  // Tasks that yielded (checkpoint). The owner pushes at the bottom and takes from the top with
  // steal_from_fifo(), so they run first-in first-out behind other work, and idle workers can
  // steal them like any other task (a yielded task must not be stuck behind one busy worker).
  chase_lev_deque<task*> yielded_;
  stack_cache stacks_;
  struct free_record {
    free_record* next;
  };
  free_record* free_tasks_ = nullptr;
  std::size_t free_task_count_ = 0;
  std::uint64_t next_id_ = 0;  // the block of task ids reserved for this worker: [next, end)
  std::uint64_t end_id_ = 0;
  std::uint64_t random_state_;  // steal victims; with a schedule seed, every random choice
  bool seeded_ = false;
  unsigned ticks_ = 0;
  // While this worker runs io_context handlers: the tasks they wake go on its deque without a
  // wake-up (it runs them itself next; it wakes others afterwards if it got more than one).
  bool driving_io_ = false;
  worker_counters counters_;
  trace_buffer* trace_ = nullptr;
  const std::atomic<std::uint64_t>* dump_epoch_;  // the runtime's
  std::atomic<std::uint64_t> dump_answered_{0};   // the last dump epoch this worker answered
  std::int64_t started_ns_ = 0;                   // steady_clock, when start() was called
  std::thread thread_;
};

}  // namespace grove::detail
