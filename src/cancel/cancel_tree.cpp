// The cancellation tree.
//
// Upward: every node points at its enclosing node (`parent`), so "is this task cancelled?" is a
// walk from its innermost node to the root, stopping after a shielded node. A parent pointer is
// written once, before the node is reachable by any other thread, and never changes: a walk
// never meets a pointer that is being re-pointed, and every node on a running node's chain
// outlives it (the chain is made of the scopes the owner entered before, its task's own node and
// start gate, its nursery's node, and that nursery owner's chain, none of which can be left
// first). Downward links exist only for parked tasks.
//
// Protocol (each step says what it races with and why that is safe):
//   1. Enter (owner): under node.lock, parent and runtime are set and state becomes running;
//      the task's innermost scope becomes the node; the deadline is synced (step 6). Entering
//      takes no other lock: nothing is registered downward.
//   2. Checkpoint (owner): a walk up the chain of atomic flags and deadlines, skipped while the
//      global cancel generation has not moved since the task last found its chain clean.
//   3. Park (register_parked): the task links its innermost node into its parent's child list,
//      that one into its parent's, up to the first node already linked — top-down, so a linked
//      node always has a linked chain above it — and finally itself into its node's parked list,
//      each link under the lock of the node it is linked into; then it re-checks the chain.
//      Against a cancel (step 4): for each node X on the chain, the parker's link under X.lock
//      either precedes the canceller's visit of X under X.lock (the canceller sees the link) or
//      follows it, in which case the canceller's flag store, made before its visit, happens-
//      before the parker's re-check, which sees the flag and does not park.
//   4. Cancel (any thread): under node.lock, if running, the flag is set, the generation bumped
//      (release: a checkpoint that sees the new generation sees the flag), and the subtree walked,
//      each child under its own lock (parent before child: the only order two node locks are
//      ever held in), skipping shielded children, deciding `cancelled` for every parked task
//      found. No decided task is woken there: each is collected, and after every tree lock is
//      released the forwarder of a start() caller (a cancel_forwarder) runs (step 7), and every
//      decided task is woken. Holding node.lock throughout also keeps the owner from leaving (step
//      8), so the subtree walked stays alive.
//   5. Shield lowered (any thread): the flag is cleared, then under node.lock, if running and
//      the chain is cancelled, the subtree is delivered to as in step 4. The shield store and
//      the canceller's shield load, and the canceller's flag store and our chain load, are
//      seq_cst: one of the two sides sees the other (a store-load pair, which acquire/release
//      does not order). Because everything happens under node.lock, the walk up cannot race
//      the owner's exit.
//   6. Deadline sync (set_deadline from any thread, and entry): under node.lock, if running,
//      deadline_syncs is incremented (a pin: the owner cannot finish leaving, so the runtime and
//      its timer queue stay alive) and the lock released; the node's timer entry is then moved
//      to the new time under the timer queue's lock (or taken out for "never"); then the pin
//      is dropped under node.lock. Taking the queue's lock without holding node.lock matters:
//      a sleeper holds the queue's lock while it registers (step 3), so the order is queue, then
//      node, never the reverse. A deadline already passed is cancelled right away (step 4).
//      The timer fires on the io thread with the entry pinned by the queue (firing); it cancels
//      the node if its deadline (which may have moved) has passed.
//   7. start() gate: a task started with nursery::start() gets a gate node between its own
//      node and the nursery's, shielded until started(): the nursery's cancellation does not
//      reach it yet. The start() caller parks cancellably in its own scopes; when a canceller
//      decides that park (or the caller finds its chain cancelled), the gate is cancelled under
//      the start handshake's lock while the handshake is pending, so the task sees the caller's
//      cancellation at once. At started(), under the same lock, the outcome is set and the
//      gate's flag cleared (the task leaves the caller's scopes), then the shield is lowered
//      (step 5), which delivers a nursery cancellation that came meanwhile. No pointer changes:
//      the task never refers to the caller's scopes, so they may die as soon as start() returns.
//   8. Leave (owner): under node.lock, a passed deadline is frozen into the flag, state becomes
//      finished (every later cancel, shield change and deadline sync is a no-op), and the owner
//      waits for deadline_syncs to reach 0 (releasing the lock while it spins). Then the timer
//      entry is forgotten (the queue waits for a firing in progress), and the node unlinks from
//      its parent. After leave_node returns nothing refers to the node: a scope is plain memory
//      again, and may outlive its runtime.
//      The unlink reads `linked` without the parent's lock: it is written only by parks of the
//      node's own subtree (step 3), which all happened-before the leave (they are the owner's
//      own parks, or its nurseries' children, joined with acquire/release).
//   9. Private nodes (enter_private_node / leave_private_node): a nursery's node, until its
//      scope object is handed out (nursery::cancel_scope()), is reachable only by its owner, its
//      children (joined before the leave, with acquire/release) and cancellers walking down from
//      its parent. Entering needs no lock (nobody else can see the node yet), and neither does
//      leaving: no deadline can exist, so nothing is frozen or synced, and a canceller that
//      walks into the node holds the parent's lock, which the unlink takes after `finished`
//      is stored. This keeps two locked instructions off every fork-join task's nursery.
//
// Checkpoints avoid the walk with a global generation counter bumped by every cancel(): a task
// that found its chain clean at generation g need not look again until the counter moves.
#include "cancel/cancel_tree.hpp"

#include <grove/errors.hpp>
#include <mutex>
#include <string>

#include "scheduler/runtime_core.hpp"
#include "task/park.hpp"
#include "task/task.hpp"
#include "time/timer_queue.hpp"

namespace grove::detail {
namespace {

// Starts at 1 so that a task's cache value 0 means "never checked".
std::atomic<std::uint64_t> cancel_generation{1};

bool deadline_passed(const cancel_node& node) noexcept {
  const std::int64_t ticks = node.deadline_ticks.load(std::memory_order_acquire);
  if (ticks == INT64_MAX) return false;
  const clock::time_point now = node.runtime != nullptr ? node.runtime->now() : clock::now();
  return now.time_since_epoch().count() >= ticks;
}

bool running(const cancel_node& node) noexcept {
  return node.state.load(std::memory_order_relaxed) == cancel_node::phase::running;
}

void link_chain(cancel_node* x) {
  cancel_node* p = x->parent;
  if (p == nullptr) return;
  {
    std::lock_guard guard(p->lock);
    if (x->linked) return;
  }
  link_chain(p);  // top-down: the parent's chain first
  std::lock_guard guard(p->lock);
  if (x->linked) return;
  x->prev_sibling = nullptr;
  x->next_sibling = p->first_child;
  if (p->first_child != nullptr) p->first_child->prev_sibling = x;
  p->first_child = x;
  x->linked = true;
}

void unlink_from_parent(cancel_node& node) noexcept {
  cancel_node* p = node.parent;
  if (p == nullptr || !node.linked) return;  // see step 8 for reading `linked` here
  std::lock_guard guard(p->lock);
  if (node.prev_sibling != nullptr) {
    node.prev_sibling->next_sibling = node.next_sibling;
  } else {
    p->first_child = node.next_sibling;
  }
  if (node.next_sibling != nullptr) node.next_sibling->prev_sibling = node.prev_sibling;
  node.prev_sibling = node.next_sibling = nullptr;
  node.linked = false;
}

// What a delivery decided, acted on once it holds no tree lock (step 4): forwarders to run
// (then their tasks to wake), and the other decided tasks to wake. Waking after the walk lets
// the woken tasks finish at once on other workers: finishing takes their nursery's node lock,
// which the walk holds throughout (with 100 000 sleepers, the walk is milliseconds long).
// A decided task cannot run before its wake, so it and its links stay put until then;
// `next_in_queue` is free while it is parked.
struct deferred_wakes {
  cancel_forwarder* first_forwarder = nullptr;
  task* first_task = nullptr;

  void add(cancel_forwarder* f) noexcept {
    f->next_deferred = first_forwarder;
    first_forwarder = f;
  }
  void add(task* t) noexcept {
    t->next_in_queue = first_task;
    first_task = t;
  }
  // Runs each forwarder, then wakes its task; nothing is touched after its wake (the owner
  // may return at once).
  void run() noexcept {
    while (cancel_forwarder* f = first_forwarder) {
      first_forwarder = f->next_deferred;
      task* owner = f->owner;
      f->forward(f->context);
      wake(owner);
    }
    while (task* t = first_task) {
      first_task = t->next_in_queue;
      t->next_in_queue = nullptr;
      wake(t);
    }
  }
};

// Caller holds node.lock.
void deliver_locked(cancel_node& node, deferred_wakes& deferred) noexcept {
  for (task* t = node.first_parked; t != nullptr; t = t->next_parked) {
    // The decision is a word of the record (task.hpp, decide_wait): the walk reads and writes
    // parked tasks' records only, never their stacks.
    if (t->current_waiter == nullptr || !decide_wait(*t, wait_outcome::cancelled)) continue;
    if (t->cancel_forward != nullptr) {
      deferred.add(t->cancel_forward);
    } else {
      deferred.add(t);
    }
  }
  for (cancel_node* c = node.first_child; c != nullptr; c = c->next_sibling) {
    // seq_cst: pairs with the shield store of step 5.
    if (c->shielded.load(std::memory_order_seq_cst)) continue;
    std::lock_guard guard(c->lock);
    deliver_locked(*c, deferred);
  }
}

}  // namespace

bool node_cancelled(const cancel_node& node) noexcept {
  // seq_cst: pairs with the flag store of step 4 (see step 5).
  return node.cancelled.load(std::memory_order_seq_cst) || deadline_passed(node);
}

bool chain_cancelled(const cancel_node* node) noexcept {
  for (const cancel_node* x = node; x != nullptr; x = x->parent) {
    if (node_cancelled(*x)) return true;
    if (x->shielded.load(std::memory_order_acquire)) return false;
  }
  return false;
}

bool absorbs(const cancel_node& node) noexcept {
  if (!node_cancelled(node)) return false;
  if (node.shielded.load(std::memory_order_acquire)) return true;
  return !chain_cancelled(node.parent);
}

bool task_cancel_requested(task* t) noexcept {
  // acquire: pairs with the release increment in cancel_node_now(), made after the flag store.
  const std::uint64_t generation = cancel_generation.load(std::memory_order_acquire);
  if (t->checked_generation == generation) return false;
  if (chain_cancelled(t->current_scope)) return true;
  // Deadlines pass without a cancel() until their timer fires; the timer then bumps the
  // generation. Until a deadline exists in the chain, caching is exact.
  t->checked_generation = generation;
  return false;
}

void invalidate_cancel_cache(task* t) noexcept { t->checked_generation = 0; }

bool register_parked(task* t) {
  cancel_node* node = t->current_scope;
  link_chain(node);
  {
    std::lock_guard guard(node->lock);
    t->prev_parked = nullptr;
    t->next_parked = node->first_parked;
    if (node->first_parked != nullptr) node->first_parked->prev_parked = t;
    node->first_parked = t;
    t->parked_in = node;
  }
  return !chain_cancelled(node);
}

void unregister_parked(task* t) noexcept {
  cancel_node* node = t->parked_in;
  if (node == nullptr) return;
  std::lock_guard guard(node->lock);
  if (t->prev_parked != nullptr) {
    t->prev_parked->next_parked = t->next_parked;
  } else {
    node->first_parked = t->next_parked;
  }
  if (t->next_parked != nullptr) t->next_parked->prev_parked = t->prev_parked;
  t->prev_parked = t->next_parked = nullptr;
  t->parked_in = nullptr;
}

void attach_node(cancel_node& node, cancel_node* parent, runtime_core* runtime) noexcept {
  node.parent = parent;
  node.runtime = runtime;
  node.state.store(cancel_node::phase::running, std::memory_order_relaxed);
}

void enter_node(scope_node& node, task* t, const char* what) {
  {
    std::lock_guard guard(node.lock);
    if (node.state.load(std::memory_order_relaxed) != cancel_node::phase::unentered) {
      throw usage_error(std::string(what) +
                        ": this cancel scope was entered before; a scope object can be "
                        "entered only once");
    }
    node.parent = t->current_scope;
    node.runtime = t->runtime;
    node.state.store(cancel_node::phase::running, std::memory_order_release);
  }
  t->current_scope = &node;
  invalidate_cancel_cache(t);
  // Read after `running` was published under node.lock: a set_deadline() that found the node
  // unentered stored its deadline before that lock was taken here (step 6), so it is seen now.
  if (node.deadline_ticks.load(std::memory_order_acquire) != INT64_MAX) sync_deadline(node);
}

namespace {

// The end of every leave: after it nothing refers to the node.
void detach_left_node(scope_node& node, task* t) noexcept {
  unlink_from_parent(node);
  if (t != nullptr) {
    t->current_scope = node.parent;
    invalidate_cancel_cache(t);
  }
}

}  // namespace

void leave_node(scope_node& node, task* t) noexcept {
  {
    std::unique_lock guard(node.lock);
    // Freeze: a deadline that passed while running counts as cancel_called() from now on.
    if (deadline_passed(node)) node.cancelled.store(true, std::memory_order_release);
    node.state.store(cancel_node::phase::finished, std::memory_order_release);
    while (node.deadline_syncs != 0) {  // a set_deadline() in another thread is mid-update
      guard.unlock();
      spin_pause();
      guard.lock();
    }
  }
  // No sync is in flight any more (deadline_syncs is 0), so deadline_armed, written by syncs
  // under their pin, is settled.
  if (node.deadline_armed) node.runtime->timers().forget(node.deadline_entry);
  detach_left_node(node, t);
}

void enter_private_node(scope_node& node, task* t) noexcept {
  node.parent = t->current_scope;
  node.runtime = t->runtime;
  // release: other threads reach the node only through what the owner publishes after this
  // (a child it schedules, a park that links the node under a lock).
  node.state.store(cancel_node::phase::running, std::memory_order_release);
  t->current_scope = &node;
  invalidate_cancel_cache(t);
}

void leave_private_node(scope_node& node, task* t) noexcept {
  // No deadline (only a scope object can set one), and no cancel() of the node in flight: it
  // needs the scope object, and whoever took it set the flag that sends the owner through
  // leave_node instead (nursery.cpp, nursery_scope). Nothing to freeze, no sync to wait for.
  node.state.store(cancel_node::phase::finished, std::memory_order_release);
  detach_left_node(node, t);
}

void leave_task_node(cancel_node& node) noexcept { unlink_from_parent(node); }

void sync_deadline(scope_node& node) noexcept {
  {
    std::lock_guard guard(node.lock);
    if (!running(node)) return;
    ++node.deadline_syncs;
  }
  timer_queue& timers = node.runtime->timers();
  {
    std::lock_guard guard(timers.lock());
    const std::int64_t ticks = node.deadline_ticks.load(std::memory_order_acquire);
    if (ticks == INT64_MAX) {
      timers.erase_locked(node.deadline_entry);
    } else {
      node.deadline_armed = true;
      node.deadline_entry.context = &node;
      node.deadline_entry.fire = [](timer_entry& e) {
        auto& fired = *static_cast<scope_node*>(e.context);
        // A deadline moved later after the entry became due is not a cancellation.
        if (deadline_passed(fired)) cancel_node_now(fired);
      };
      timers.schedule_locked(node.deadline_entry, clock::time_point(clock::duration(ticks)));
    }
  }
  // Already past: cancel synchronously, so that cancel_called() and checkpoints agree at once.
  if (deadline_passed(node)) cancel_node_now(node);
  std::lock_guard guard(node.lock);
  --node.deadline_syncs;
}

void deliver_if_cancelled(cancel_node& node) noexcept {
  cancel_generation.fetch_add(1, std::memory_order_acq_rel);
  deferred_wakes deferred;
  {
    std::lock_guard guard(node.lock);
    if (running(node) && chain_cancelled(&node)) deliver_locked(node, deferred);
  }
  deferred.run();
}

void cancel_node_now(cancel_node& node) noexcept {
  deferred_wakes deferred;
  {
    std::lock_guard guard(node.lock);
    // Before entry the flag is only recorded (the scope starts cancelled); after exit, nothing.
    if (node.state.load(std::memory_order_relaxed) == cancel_node::phase::finished) return;
    // seq_cst: pairs with the chain load of step 5.
    if (node.cancelled.exchange(true, std::memory_order_seq_cst)) return;
    // release: a checkpoint that sees the new generation sees the flag.
    cancel_generation.fetch_add(1, std::memory_order_acq_rel);
    // A shield keeps outer cancellations out, not the node's own: deliver below it too.
    if (running(node)) {
      // Traced: while the node runs, its runtime is alive (the owner has not left).
      if (node.runtime != nullptr && node.runtime->tracer() != nullptr) [[unlikely]] {
        try {
          node.runtime->record_trace(trace_event::make(trace_kind::cancel, 0, trace_clock_ticks()));
        } catch (...) {
        }
      }
      deliver_locked(node, deferred);
    }
  }
  deferred.run();
}

}  // namespace grove::detail
