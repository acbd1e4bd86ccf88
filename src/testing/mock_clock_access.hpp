// What the runtime and its timer queue need of a testing::mock_clock beyond its public face:
// attaching it, and the real time at which a virtual time will be reached.
#pragma once

#include <grove/testing.hpp>

namespace grove::detail {

struct mock_clock_access {
  // usage_error if the clock serves another live runtime.
  static void attach(testing::mock_clock& c, runtime_core* runtime);
  static void detach(testing::mock_clock& c) noexcept;
  // The real (steady_clock) time at which `c` shows `when`; max() if it never will (rate 0).
  static clock::time_point real_time_at(const testing::mock_clock& c, clock::time_point when);
  static clock::duration autojump_threshold(const testing::mock_clock& c);
};

// The time of a clock that may be virtual: c's when given, the real clock's otherwise.
inline clock::time_point time_of(const testing::mock_clock* c) {
  return c != nullptr ? c->now() : clock::now();
}

}  // namespace grove::detail
