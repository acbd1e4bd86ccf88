// wait_all_tasks_blocked and autojump; see quiescence.hpp for the protocol.
#include "testing/quiescence.hpp"

#include <algorithm>
#include <boost/asio/post.hpp>
#include <grove/testing.hpp>
#include <mutex>

#include "cancel/cancel_tree.hpp"
#include "scheduler/runtime_core.hpp"
#include "task/park.hpp"
#include "task/task.hpp"
#include "testing/mock_clock_access.hpp"

namespace grove {
namespace detail {

bool quiescence::refresh_watching() noexcept {
  bool any = false;
  {
    std::lock_guard guard(lock_);
    any = !waiters_.empty();
  }
  if (!any && runtime_.virtual_clock() != nullptr) {
    any =
        mock_clock_access::autojump_threshold(*runtime_.virtual_clock()) != clock::duration::max();
  }
  watching_.store(any, std::memory_order_release);
  return any;
}

void quiescence::worker_idle() noexcept {
  const unsigned now_idle = idle_.fetch_add(1, std::memory_order_acq_rel) + 1;
  if (now_idle == runtime_.worker_count() && watching_.load(std::memory_order_acquire)) {
    try {
      boost::asio::post(io_, [this] { check(); });
    } catch (...) {
      // Out of memory: the next worker to fall asleep tries again.
    }
  }
}

void quiescence::worker_busy() noexcept {
  // Epoch before idle: a check that still sees every worker idle but the old epoch was quiet.
  epoch_.fetch_add(1, std::memory_order_acq_rel);
  idle_.fetch_sub(1, std::memory_order_acq_rel);
}

void quiescence::poke() {
  if (refresh_watching()) boost::asio::post(io_, [this] { check(); });
}

// Every worker asleep and nothing queued for them: a task woken by the io thread (a timer, a
// jump) sits in the injection queue until a worker wakes for it.
bool quiescence::all_parked() noexcept {
  return idle_.load(std::memory_order_acquire) == runtime_.worker_count() &&
         runtime_.injection().looks_empty();
}

void quiescence::check() {
  if (!all_parked()) return;
  if (!refresh_watching()) return;
  quiet_epoch_ = epoch_.load(std::memory_order_acquire);
  quiet_since_ = clock::now();
  clock::duration wait = clock::duration::max();
  {
    std::lock_guard guard(lock_);
    for (waiter* w = waiters_.front(); w != nullptr; w = w->next) {
      wait = std::min(wait, *static_cast<const clock::duration*>(w->slot));
    }
  }
  if (wait == clock::duration::max() && runtime_.virtual_clock() != nullptr) {
    wait = mock_clock_access::autojump_threshold(*runtime_.virtual_clock());
  }
  if (wait == clock::duration::max()) return;
  quiet_timer_.expires_after(wait);
  quiet_timer_.async_wait([this](const boost::system::error_code& error) { on_quiet(error); });
}

void quiescence::on_quiet(const boost::system::error_code& error) {
  if (error) return;
  if (!all_parked() || epoch_.load(std::memory_order_acquire) != quiet_epoch_) {
    return;  // someone ran meanwhile: the next time all fall asleep, step 1 posts a new check
  }
  const clock::duration quiet_for = clock::now() - quiet_since_;
  bool woke_any = false;
  bool still_waiting = false;
  {
    std::lock_guard guard(lock_);
    waiter* w = waiters_.front();
    while (w != nullptr) {
      waiter* next = w->next;  // read first: once woken, w's owner may destroy it
      if (*static_cast<const clock::duration*>(w->slot) <= quiet_for && decide_signalled(*w)) {
        task* owner = w->owner;
        waiters_.remove(*w);
        wake(owner);
        woke_any = true;
      } else {
        still_waiting = true;
      }
      w = next;
    }
  }
  if (woke_any) return;  // the woken run, and the quiet starts again after them
  if (still_waiting) {
    check();
    return;
  }
  testing::mock_clock* c = runtime_.virtual_clock();
  if (c == nullptr || mock_clock_access::autojump_threshold(*c) > quiet_for) return;
  const clock::time_point next = runtime_.timers().earliest();
  if (next == clock::time_point::max()) return;  // nothing would ever wake: a real hang
  const clock::time_point now = c->now();
  c->jump(next > now ? next - now : clock::duration::zero());
}

void quiescence::wait(clock::duration cushion) {
  task* self = current_task();
  waiter w;
  begin_wait(w, self);
  w.slot = &cushion;
  std::unique_lock guard(lock_);
  waiters_.push_back(w);
  // Our worker is awake: it counts itself idle (step 1) after we have parked, with `watching`
  // set, so the check comes once everything else is parked too.
  watching_.store(true, std::memory_order_release);
  if (park(w, guard, {.cancellable = true, .what = "grove::testing::wait_all_tasks_blocked"}) ==
      wait_outcome::cancelled) {
    throw cancelled{};
  }
}

}  // namespace detail

namespace testing {

void wait_all_tasks_blocked(clock::duration cushion) {
  detail::task* self = detail::require_task("grove::testing::wait_all_tasks_blocked");
  if (detail::task_cancel_requested(self)) throw cancelled{};
  self->runtime->quiescence_watch().wait(cushion);
}

}  // namespace testing
}  // namespace grove
