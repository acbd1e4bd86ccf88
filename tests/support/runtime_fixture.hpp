// Shared helpers for grove's tests.
#pragma once

#include <chrono>
#include <grove/grove.hpp>

namespace grove_test {

// Runs body as a root task on a fresh runtime with `workers` workers.
template <class F>
auto run_on(unsigned workers, F&& body) {
  grove::runtime rt{grove::runtime_options{.workers = workers}};
  return rt.run(std::forward<F>(body));
}

// A generous bound for "this must happen soon": failures show up as a failed check, never as a
// hung test, and a slow sanitizer build does not flake.
inline constexpr auto generous = std::chrono::seconds(30);

}  // namespace grove_test
