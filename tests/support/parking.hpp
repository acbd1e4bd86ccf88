// Waiting, without sleeping, until tasks have parked: lets a test put waiters in a known order
// (FIFO checks) or cancel a task that is really parked rather than about to park.
#pragma once

#include <doctest/doctest.h>

#include <chrono>
#include <cstddef>
#include <grove/grove.hpp>
#include <sstream>
#include <string>
#include <string_view>

#include "support/runtime_fixture.hpp"

namespace grove_test {

// How many tasks of the calling task's runtime dump_task_tree shows as parked on `what`.
inline std::size_t parked_on(std::string_view what) {
  std::ostringstream out;
  grove::dump_task_tree(out);
  const std::string tree = out.str();
  const std::string needle = "parked on " + std::string(what);
  std::size_t found = 0;
  for (auto at = tree.find(needle); at != std::string::npos; at = tree.find(needle, at + 1)) {
    const std::size_t end = at + needle.size();
    if (end < tree.size() && (tree[end] == '\n' || tree[end] == ' ')) ++found;
  }
  return found;
}

// Yields until at least `count` tasks are parked on `what` (the park's name, e.g.
// "grove::event::wait"); fails the test instead of hanging.
inline void wait_until_parked(std::string_view what, std::size_t count = 1) {
  const auto give_up = std::chrono::steady_clock::now() + generous;
  while (parked_on(what) < count) {
    if (std::chrono::steady_clock::now() > give_up) {
      const std::string message = "gave up waiting for a task parked on " + std::string(what);
      FAIL(message);
    }
    grove::checkpoint();
  }
}

}  // namespace grove_test
