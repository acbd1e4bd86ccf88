// Nurseries: opening, spawning, joining (with inline execution of the owner's own children),
// error collection and reporting (docs/reference.md §2, §10 rules 2 and 3). The start()
// handshake is in start.cpp.
#include <algorithm>
#include <cstring>
#include <grove/errors.hpp>
#include <mutex>

#include "cancel/cancel_tree.hpp"
#include "fiber/fiber_context.hpp"
#include "nursery/nursery_core.hpp"
#include "scheduler/runtime_core.hpp"
#include "scheduler/worker.hpp"
#include "task/task.hpp"

namespace grove::detail {
namespace {

// An inline child runs on the joining parent's fiber; it starts only while the promised task
// stack is left, plus room for the frames between this check and its body (fibers are twice
// the promised size: see fiber/stack_pool.hpp).
std::size_t inline_stack_reserve(runtime_core& runtime) noexcept {
  return runtime.stacks().task_stack_size() + 4096;
}

// Changes t->innermost_nursery (t is the running task). A task nobody can see (not listed) needs
// no lock; a listed one takes the lock the dump takes: its nursery's, or the roots mutex.
template <class F>
void change_open_nurseries(task* t, F&& f) {
  if (t->parent_nursery == nullptr) {
    std::lock_guard guard(t->runtime->roots_mutex());
    f();
  } else if (t->listed) {
    std::lock_guard guard(t->parent_nursery->lock);
    f();
  } else {
    f();
  }
}

void run_inline(task* child, task* self, fiber_context* fc, worker& here) {
  child->fiber = fc;
  child->runs_inline_on_owner.store(true, std::memory_order_relaxed);
  here.answer_dump_request(child);  // during a dump: listed, with what is queued here
  transition_to_running(*child);
  worker_counters::bump(here.counters().tasks_inlined);
  // release, type before id: see copy_inline_child in trace/task_snapshot.cpp.
  self->inline_child_type.store(child->callable_type, std::memory_order_release);
  self->inline_child.store(child->id, std::memory_order_relaxed);
  trace_buffer* const trace = here.trace();
  if (trace == nullptr) [[likely]] {
    run_task_to_completion(child);  // may park and resume on another worker
  } else {
    // Traced: a slice nested in the parent's, when the child ran start to end right here (one
    // that parked got slices of its own when it was resumed).
    const std::uint64_t id = child->id;
    const std::uint64_t resumes = here.counters().context_switches.load(std::memory_order_relaxed);
    const std::int64_t began = trace_clock_ticks();
    run_task_to_completion(child);
    worker* now_on = worker::current();
    if (now_on == &here &&
        here.counters().context_switches.load(std::memory_order_relaxed) == resumes) {
      trace->record(trace_event::make(trace_kind::slice, id, began, trace_clock_ticks(), nullptr,
                                      trace_event::first_run));
    } else {
      // It parked: its later runs have slices of their own; keep where its first run began
      // (in this thread's buffer: `trace` may be another worker's now).
      now_on->trace()->record(trace_event::make(trace_kind::first_run, id, began,
                                                static_cast<std::int64_t>(here.index())));
    }
  }
  self->inline_child.store(0, std::memory_order_relaxed);
  set_current_task(self);
}

// Join step 1: run the owner's own, not yet stolen, children on its stack. Stops at the first
// record that is not a fresh child of `n` (it goes back untouched: never bury the parent under
// unrelated work), when the deque is empty, or when the stack is getting short.
void run_own_children_inline(nursery_core& n, task* self) {
  while (n.owner_live_children() != 0) {
    worker* here = worker::current();
    if (here == nullptr || &here->runtime() != n.runtime) return;
    // A schedule seed sometimes (1 in 8) leaves the children to the scheduler, which picks
    // among them; more often would make seeded fork-join several times slower.
    if (here->seeded_chance(3)) return;
    fiber_context* fc = current_fiber();
    if (fc == nullptr || !stack_has_room(fc, inline_stack_reserve(*n.runtime))) return;
    task* next = here->take_local();
    if (next == nullptr) return;
    if (next->parent_nursery != &n || !is_fresh(*next)) {
      here->put_back(next);
      return;
    }
    run_inline(next, self, fc, *here);
  }
}

// Join step 2: set the waiting bit unless the count is already 0.
bool publish_join_waiter(void* context) {
  auto& n = *static_cast<nursery_core*>(context);
  std::uint64_t state = n.live.load(std::memory_order_acquire);
  for (;;) {
    if (nursery_core::count_in(state) == 0) return false;
    // release: join_waiter (stored before) is visible to the child that sees the bit.
    if (n.live.compare_exchange_weak(state, state | nursery_core::owner_waiting,
                                     std::memory_order_acq_rel, std::memory_order_acquire)) {
      return true;
    }
  }
}

void join(nursery_core& n, task* self) {
  for (;;) {
    run_own_children_inline(n, self);
    // acquire (in owner_live_children): pairs with the children's acq_rel decrements; their effects
    // (errors, saw_cancelled, results written by the children) are visible once we see 0.
    if (n.owner_live_children() == 0) return;
    n.fold_owner_counts();
    waiter w;
    n.join_waiter = &w;
    // Not cancellable: cancellation reaches the children instead (docs/reference.md §10 rule 5).
    park_unless_done(w, "joining a nursery", publish_join_waiter, &n);
    n.live.fetch_and(~nursery_core::owner_waiting, std::memory_order_acq_rel);
  }
}

}  // namespace

void attach_child(nursery_core& n, task* t, cancel_node* scope_parent) {
  t->parent_nursery = &n;
  attach_node(t->own_scope, scope_parent, n.runtime);
  const bool by_owner = current_task() == n.owner;
  if (by_owner) {
    nursery_core::bump(n.owner_spawned);
  } else {
    // relaxed: the child cannot finish (and decrement) before it is scheduled, and scheduling
    // publishes this increment with release/acquire through the queue.
    n.live.fetch_add(nursery_core::one_child, std::memory_order_relaxed);
  }
  if (n.runtime->tracer() != nullptr) [[unlikely]]
    trace_spawn(*n.runtime, *t);
  // During a dump, a new child is listed at once (its spawner owns it until it is scheduled),
  // with the spawning owner, so that the dump can reach it.
  if (n.runtime->dump_in_progress()) [[unlikely]] {
    make_visible_in_nursery(t);
    if (by_owner) make_visible_in_nursery(n.owner);
  }
  if (worker* here = worker::current(); here != nullptr && &here->runtime() == n.runtime) {
    worker_counters::bump(here->counters().tasks_spawned);
  } else {
    n.runtime->external_counters().tasks_spawned.fetch_add(1, std::memory_order_relaxed);
  }
}

nursery_core::nursery_core(task* opener) : owner(opener), runtime(opener->runtime), facade(this) {}

void nursery_core::record_error(std::exception_ptr error) noexcept {
  {
    std::lock_guard guard(lock);
    try {
      errors.push_back(std::move(error));
    } catch (...) {
      // Out of memory while recording: keep the newest failure rather than none.
      if (!errors.empty()) errors.back() = std::current_exception();
    }
  }
  cancel_node_now(node());
}

// The fold moves the owner's counts into `live` inside a sequence lock (`folds` odd meanwhile),
// the writer half of the pattern in H.-J. Boehm, "Can seqlocks get along with programming
// language memory models?" (MSPC 2012): a reader that overlaps a fold tries again.
void nursery_core::fold_owner_counts() noexcept {
  const std::int64_t own = owner_spawned.load(std::memory_order_relaxed) -
                           owner_inline_finished.load(std::memory_order_relaxed);
  if (own == 0) return;  // nothing to move; the sum is already right
  const std::uint64_t sequence = folds.load(std::memory_order_relaxed);
  folds.store(sequence + 1, std::memory_order_relaxed);
  // release fence: a reader that sees any write below also sees `folds` odd.
  std::atomic_thread_fence(std::memory_order_release);
  owner_spawned.store(0, std::memory_order_relaxed);
  owner_inline_finished.store(0, std::memory_order_relaxed);
  // acq_rel: ordered with the children's decrements like the CAS that follows.
  live.fetch_add(static_cast<std::uint64_t>(own) * one_child, std::memory_order_acq_rel);
  folds.store(sequence + 2, std::memory_order_release);
}

// Between folds, each child's spawn adds to `live` or owner_spawned and its end takes from `live`
// or adds to owner_inline_finished, and every spawn happens before its child's end (through the
// run queue, or in the owner's program order). Reading owner_inline_finished, then `live`, then
// owner_spawned, each with acquire, a read that sees an end is followed by one that sees its
// spawn, so no child is counted finished without being counted spawned. The sum can only
// overcount, by children that were live at some moment of the call.
std::size_t nursery_core::live_children() const noexcept {
  for (;;) {
    const std::uint64_t sequence = folds.load(std::memory_order_acquire);
    const std::int64_t ended_inline = owner_inline_finished.load(std::memory_order_acquire);
    const std::int64_t others = count_in(live.load(std::memory_order_acquire));
    const std::int64_t spawned = owner_spawned.load(std::memory_order_acquire);
    // acquire fence: the reads above happen before the check of `folds` below.
    std::atomic_thread_fence(std::memory_order_acquire);
    if ((sequence & 1) == 0 && folds.load(std::memory_order_relaxed) == sequence) {
      return clamp(others + spawned - ended_inline);
    }
  }
}

void nursery_core::child_finished(task* child, bool was_cancelled) noexcept {
  if (child->listed) {
    std::lock_guard guard(lock);
    if (child->prev_sibling != nullptr) {
      child->prev_sibling->next_sibling = child->next_sibling;
    } else {
      first_child = child->next_sibling;
    }
    if (child->next_sibling != nullptr) child->next_sibling->prev_sibling = child->prev_sibling;
  }
  if (was_cancelled) saw_cancelled.store(true, std::memory_order_relaxed);
  if (child->runs_inline_on_owner.load(std::memory_order_relaxed)) {
    bump(owner_inline_finished);  // on the owner's fiber: the owner is not running meanwhile
    return;
  }
  // acq_rel: release publishes this child's effects to the owner's acquire in join(); acquire
  // pairs with the owner's CAS that set owner_waiting, making join_waiter visible.
  const std::uint64_t before = live.fetch_sub(one_child, std::memory_order_acq_rel);
  // The last child out while the owner is parked until this:
  if (before == (owner_waiting | one_child)) signal(*join_waiter);
}

void make_visible_in_nursery(task* t) {
  // An inline child's nursery hangs off its parent, which shares its stack and, if it is an
  // inline child too, may not be listed either: list the chain up to a task that runs on a
  // fiber of its own (listed when it first ran), or a root, so that the dump reaches `t`. The
  // whole chain is owned by this thread. A listed task's chain was listed with it.
  for (; t != nullptr && !t->listed; t = t->runs_inline_on_owner.load(std::memory_order_relaxed)
                                             ? t->parent_nursery->owner
                                             : nullptr) {
    nursery_core* n = t->parent_nursery;
    if (n == nullptr) return;
    std::lock_guard guard(n->lock);
    t->prev_sibling = nullptr;
    t->next_sibling = n->first_child;
    if (n->first_child != nullptr) n->first_child->prev_sibling = t;
    n->first_child = t;
    t->listed = true;
  }
}

void complete_child(task* t, std::exception_ptr error, bool was_cancelled) noexcept {
  nursery_core& n = *t->parent_nursery;
  if (start_wait* s = t->pending_start) {
    // Ended before started(): its exception, or usage_error, goes to start()'s caller; the
    // nursery is not affected. The task never refers to the caller's scopes (its chain runs
    // through its gate to the nursery), so nothing below touches them.
    t->pending_start = nullptr;
    if (!error) {
      error = std::make_exception_ptr(usage_error(
          "grove::nursery::start: the task returned without calling task_status::started()"));
    }
    finish_handshake(*s, start_wait::result::failed, std::move(error));
    error = nullptr;
    was_cancelled = false;
  }
  leave_task_node(t->own_scope);
  if (cancel_node* gate = t->start_gate) {
    // Unlinked under the nursery node's lock: no canceller can reach the gate after this, and
    // no forward can come (the handshake is over).
    leave_task_node(*gate);
    delete gate;
    t->start_gate = nullptr;
  }
  if (error && !was_cancelled) n.record_error(std::move(error));
  n.child_finished(t, was_cancelled);
  free_task(t);
}

task_header* new_child_task(nursery_core& n) { return allocate_task(*n.runtime); }

void discard_task(task_header* t) noexcept { free_task(as_task(t)); }

void name_task(task_header* header, std::string_view name) {
  auto copy = std::make_unique<char[]>(name.size() + 1);
  std::memcpy(copy.get(), name.data(), name.size());
  copy[name.size()] = '\0';
  as_task(header)->name = std::move(copy);
}

void spawn_child(nursery_core& n, task_header* header, start_handshake*) {
  task* t = as_task(header);
  attach_child(n, t, &n.node());
  n.runtime->schedule(t);
}

grove::cancel_scope& nursery_scope(nursery_core& n) noexcept {
  // relaxed: this store precedes, in the caller's thread, every use of the scope object. A task
  // of the nursery's tree (the owner, a child, a grandchild) is joined before the owner leaves,
  // so the owner sees the flag and takes the node's lock to leave. A thread outside the tree
  // must know the nursery is still open when it calls cancel(): if what tells it so is a task
  // of the tree that cancel() itself wakes or that it signals afterwards, that task reaches the
  // owner's join after the flag too. A call racing with the nursery's end is a use after its
  // end (the nursery& is valid until open_nursery returns), with or without the lock.
  n.scope_handed_out.store(true, std::memory_order_relaxed);
  return n.scope;
}

void nursery_adopt(nursery_core& n, nursery_owned* object) noexcept {
  std::lock_guard guard(n.lock);
  object->next = n.owned;
  n.owned = object;
}

std::size_t nursery_child_count(const nursery_core& n) noexcept { return n.live_children(); }

bool run_nursery(nursery_body_ref body) {
  task* self = require_task("grove::open_nursery");
  nursery_core n(self);
  enter_private_node(n.node(), self);  // nobody else can see the node yet
  change_open_nurseries(self, [&] {
    n.enclosing = self->innermost_nursery;
    self->innermost_nursery = &n;
  });

  bool body_completed = false;
  bool body_cancelled = false;
  try {
    body.function(body.context, n.facade);
    body_completed = true;
  } catch (const cancelled&) {
    body_cancelled = true;
  } catch (...) {
    n.record_error(std::current_exception());
  }

  join(n, self);
  // No child is left to refer to what the nursery owns.
  while (nursery_owned* object = n.owned) {
    n.owned = object->next;
    delete object;
  }

  change_open_nurseries(self, [&] { self->innermost_nursery = n.enclosing; });
  const bool own_scope_absorbs = absorbs(n.node());
  if (n.scope_handed_out.load(std::memory_order_relaxed)) {
    leave_node(n.node(), self);
  } else {
    leave_private_node(n.node(), self);
  }

  if (n.errors.size() == 1) std::rethrow_exception(n.errors.front());
  if (n.errors.size() > 1) throw exception_group(std::move(n.errors));
  if ((body_cancelled || n.saw_cancelled.load(std::memory_order_relaxed)) && !own_scope_absorbs) {
    throw cancelled{};
  }
  return body_completed;
}

}  // namespace grove::detail
