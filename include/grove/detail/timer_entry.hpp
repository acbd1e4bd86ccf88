// One timed wake-up in a runtime's timer queue (src/time/timer_queue.hpp): a sleeping task's, or a
// cancel scope's deadline. The entry lives in its owner's memory (the sleeper's frame, the scope's
// node), so queueing it allocates nothing. Public only because cancel_node embeds one.
#pragma once

#include <boost/intrusive/set_hook.hpp>
#include <chrono>

namespace grove::detail {

struct timer_entry
    : boost::intrusive::set_base_hook<boost::intrusive::link_mode<boost::intrusive::normal_link>> {
  std::chrono::steady_clock::time_point when{};
  // Called on the io thread once `when` has passed. With fire_under_lock, inside the queue's
  // lock (it must be short and take no lock of the queue's: a sleeper's signal); otherwise
  // outside it, with the entry pinned (`firing`) until it returns (a deadline's cancel, which
  // walks a subtree of the cancel tree).
  void (*fire)(timer_entry&) = nullptr;
  void* context = nullptr;
  bool fire_under_lock = false;
  bool queued = false;  // guarded by the queue's lock
  bool firing = false;  // guarded by the queue's lock
};

}  // namespace grove::detail
