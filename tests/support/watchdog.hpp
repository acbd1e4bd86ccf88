// A bound on tests that used to hang: the body runs as a root task on a fresh runtime, driven from
// a helper thread; if it has not finished after `grove_test::generous`, the task tree goes to
// stderr and the process aborts (a hung runtime cannot be joined), so a hang fails the test run
// with a diagnosis instead of stalling it.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <grove/grove.hpp>
#include <iostream>
#include <mutex>
#include <thread>
#include <utility>

#include "support/runtime_fixture.hpp"

namespace grove_test {

template <class F>
void run_with_watchdog(unsigned workers, F&& body) {
  grove::runtime rt{grove::runtime_options{.workers = workers}};
  std::mutex m;
  std::condition_variable finished_cv;
  bool finished = false;
  std::exception_ptr error;
  std::thread driver([&] {
    try {
      rt.run(std::forward<F>(body));
    } catch (...) {
      error = std::current_exception();
    }
    std::lock_guard guard(m);
    finished = true;
    finished_cv.notify_one();
  });
  {
    std::unique_lock guard(m);
    if (!finished_cv.wait_for(guard, generous, [&] { return finished; })) {
      std::fputs("grove test: the body hung; its task tree:\n", stderr);
      rt.dump_task_tree(std::cerr);
      std::abort();
    }
  }
  driver.join();
  if (error) std::rethrow_exception(error);
}

}  // namespace grove_test
