// The runtime: run, in_task, workers, stats, usage errors, parallelism.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <functional>
#include <grove/grove.hpp>
#include <latch>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <vector>

#include "support/runtime_fixture.hpp"

TEST_CASE("in_task is false outside any runtime") { CHECK_FALSE(grove::in_task()); }

TEST_CASE("run returns the root task's value and the root task is in a task") {
  grove::runtime rt{grove::runtime_options{.workers = 2}};
  CHECK(rt.worker_count() == 2);
  const int v = rt.run([] {
    CHECK(grove::in_task());
    return 42;
  });
  CHECK(v == 42);
  CHECK_FALSE(grove::in_task());
}

TEST_CASE("run rethrows the root task's exception unchanged") {
  grove::runtime rt{grove::runtime_options{.workers = 1}};
  CHECK_THROWS_WITH_AS(rt.run([]() -> int { throw std::runtime_error("boom"); }), "boom",
                       std::runtime_error);
}

TEST_CASE("the free run creates a runtime for one call") {
  CHECK(grove::run([] { return std::string("ok"); }, {.workers = 2}) == "ok");
}

TEST_CASE("run from inside a task is a usage_error") {
  grove::runtime rt{grove::runtime_options{.workers = 1}};
  rt.run([&] {
    CHECK_THROWS_AS(rt.run([] {}), grove::usage_error);
    CHECK_THROWS_AS(grove::run([] {}), grove::usage_error);
  });
}

TEST_CASE("workers = 0 uses the CPUs of the affinity mask") {
  grove::runtime rt;
  CHECK(rt.worker_count() >= 1);
}

TEST_CASE("the root task runs on a worker, not on the calling thread") {
  grove::runtime rt{grove::runtime_options{.workers = 1}};
  const auto caller = std::this_thread::get_id();
  const auto inside = rt.run([] { return std::this_thread::get_id(); });
  CHECK(inside != caller);
}

TEST_CASE("several external threads may call run on one runtime at once") {
  grove::runtime rt{grove::runtime_options{.workers = 2}};
  constexpr int threads = 8;
  std::atomic<int> sum{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < threads; ++i) {
    callers.emplace_back([&, i] {
      for (int k = 0; k < 50; ++k) sum += rt.run([i] { return i; });
    });
  }
  for (auto& t : callers) t.join();
  CHECK(sum.load() == 50 * (threads * (threads - 1) / 2));
}

TEST_CASE("stats count spawned and completed tasks, root tasks included") {
  grove::runtime rt{grove::runtime_options{.workers = 2}};
  const auto before = rt.stats();
  rt.run([] {
    grove::open_nursery([](grove::nursery& n) {
      for (int i = 0; i < 100; ++i) n.start_soon([] {});
    });
  });
  const auto after = rt.stats();
  CHECK(after.tasks_spawned - before.tasks_spawned == 101);
  CHECK(after.tasks_completed - before.tasks_completed == 101);
}

TEST_CASE("two tasks that can only finish together run in parallel") {
  grove::runtime rt{grove::runtime_options{.workers = 2}};
  // Each task spins (never parks) until it has seen the other arrive: with one worker this would
  // never finish; the bound turns a failure into a test failure instead of a hang.
  std::atomic<int> arrived{0};
  std::atomic<bool> both_seen[2] = {false, false};
  rt.run([&] {
    grove::open_nursery([&](grove::nursery& n) {
      for (int i = 0; i < 2; ++i) {
        n.start_soon([&, i] {
          arrived.fetch_add(1);
          const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
          while (arrived.load() < 2 && std::chrono::steady_clock::now() < give_up) {
          }
          both_seen[i] = arrived.load() == 2;
        });
      }
    });
  });
  CHECK(both_seen[0].load());
  CHECK(both_seen[1].load());
}

namespace {
// Recurses until the stack runs out (the limit is opaque to the compiler); the volatile buffer
// keeps every frame large and alive.
volatile int recursion_limit = 1 << 30;
int overflow_stack(int depth) {
  volatile char frame[1024];
  frame[0] = static_cast<char>(depth);
  if (depth >= recursion_limit) return frame[0];
  return overflow_stack(depth + 1) + frame[0];
}
}  // namespace

namespace {
// Runs `body` in a forked child that is expected to die; returns its wait status and stderr.
// The child's stdout goes to /dev/null and SIGABRT/SIGSEGV to their default actions, so the test
// framework's crash report (inherited from the parent) does not run there.
template <class F>
std::pair<int, std::string> run_in_dying_child(F&& body) {
  int pipe_ends[2];
  REQUIRE(::pipe(pipe_ends) == 0);
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::dup2(pipe_ends[1], STDERR_FILENO);
    ::close(pipe_ends[0]);
    ::dup2(::open("/dev/null", O_WRONLY), STDOUT_FILENO);
    ::signal(SIGABRT, SIG_DFL);
    body();
    ::_exit(0);  // survived: the caller's checks fail
  }
  ::close(pipe_ends[1]);
  std::string output;
  char buffer[4096];
  for (ssize_t n; (n = ::read(pipe_ends[0], buffer, sizeof buffer)) > 0;) {
    output.append(buffer, static_cast<std::size_t>(n));
  }
  ::close(pipe_ends[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  return {status, output};
}

// Killed by a signal; under a sanitizer runtime the abort may surface as a failing exit code.
bool died(int status) { return !(WIFEXITED(status) && WEXITSTATUS(status) == 0); }
}  // namespace

TEST_CASE("a task's stack overflow is diagnosed with its stack size, not silent corruption") {
  const auto [status, output] = run_in_dying_child([] {
    grove::runtime rt{grove::runtime_options{.workers = 1, .stack_size = 64 * 1024}};
    rt.run([] { return overflow_stack(0); });
  });
  INFO("child stderr: " << output);
  CHECK(WIFSIGNALED(status));
  CHECK(output.find("stack overflow in a task") != std::string::npos);
  CHECK(output.find("65536 bytes") != std::string::npos);
}

TEST_CASE("running out of stack mappings fails the spawn with system_error; the runtime survives") {
  // 128 TiB per stack cannot be mapped on any x86-64 or AArch64 address space.
  grove::runtime rt{grove::runtime_options{.workers = 1, .stack_size = std::size_t{1} << 47}};
  for (int attempt = 0; attempt < 2; ++attempt) {
    CHECK_THROWS_AS(rt.run([] { return 1; }), std::system_error);
  }
}

TEST_CASE("destroying a runtime from one of its own tasks terminates with a message") {
  const auto [status, output] = run_in_dying_child([] {
    auto* rt = new grove::runtime{grove::runtime_options{.workers = 1}};
    rt->run([rt] { delete rt; });
  });
  INFO("child stderr: " << output);
  CHECK(died(status));
  CHECK(output.find("destroyed from one of its own tasks") != std::string::npos);
}

TEST_CASE("tasks that checkpoint take turns, each keeping its own caught exception") {
  for (unsigned workers : {1u, 2u}) {
    std::atomic<int> mismatches{0};
    std::vector<int> order;
    grove::mutex order_lock;
    grove_test::run_on(workers, [&] {
      grove::open_nursery([&](grove::nursery& n) {
        for (int id = 0; id < 3; ++id) {
          n.start_soon([&, id] {
            try {
              throw id;
            } catch (int mine) {
              for (int round = 0; round < 200; ++round) {
                grove::checkpoint();  // switches straight to the next yielded task
                try {
                  throw;  // the caught exception is still this task's
                } catch (int seen) {
                  if (seen != mine) mismatches.fetch_add(1);
                }
                if (workers == 1) {
                  std::scoped_lock hold(order_lock);
                  order.push_back(id);
                }
              }
            }
          });
        }
      });
    });
    CHECK(mismatches.load() == 0);
    if (workers == 1) {
      // One worker: the three tasks alternate round-robin through the yield queue.
      REQUIRE(order.size() == 600);
      int out_of_turn = 0;
      for (std::size_t k = 3; k < order.size(); ++k) out_of_turn += order[k] != order[k - 3];
      CHECK(out_of_turn == 0);
    }
  }
}

namespace {
// Uses about `kib` KiB of stack, in frames the compiler cannot fold.
volatile int stack_sink = 0;
int use_stack(int kib) {
  volatile char frame[1000];
  frame[0] = static_cast<char>(kib);
  if (kib <= 1) return frame[0];
  const int below = use_stack(kib - 1);
  stack_sink = frame[0];
  return below + frame[0];
}
}  // namespace

TEST_CASE("an inline child gets the whole promised stack, whatever its parent used") {
  // One worker: the child is never stolen, so it runs inline on its parent's fiber.
  grove::runtime rt{grove::runtime_options{.workers = 1, .stack_size = 256 * 1024}};
  const auto before = rt.stats();
  const int sum = rt.run([] {
    int child_sum = 0;
    // The parent uses 150 KiB of its own before the child needs 150 KiB of its own.
    std::function<int(int)> descend = [&](int kib) -> int {
      if (kib > 0) {
        volatile char frame[1000];
        frame[0] = 1;
        return descend(kib - 1) + frame[0];
      }
      grove::open_nursery(
          [&](grove::nursery& n) { n.start_soon([&] { child_sum = use_stack(150); }); });
      return 0;
    };
    return descend(150) + child_sum;
  });
  CHECK(sum > 0);
  CHECK(rt.stats().tasks_inlined - before.tasks_inlined == 1);
}

TEST_CASE("guard pages and overflow diagnostics survive 5000 runtimes in sequence") {
  const auto [status, output] = run_in_dying_child([] {
    // As on kernels without MADV_GUARD_INSTALL: every guard costs mappings from a budget.
    ::setenv("GROVE_STACK_GUARD", "mprotect", 1);
    for (int i = 0; i < 5000; ++i) {
      grove::runtime rt{grove::runtime_options{.workers = 1, .stack_size = 64 * 1024}};
      rt.run([] {});
    }
    grove::runtime rt{grove::runtime_options{.workers = 1, .stack_size = 64 * 1024}};
    rt.run([] { return overflow_stack(0); });
  });
  INFO("child stderr: " << output);
  CHECK(WIFSIGNALED(status));
  CHECK(output.find("stack overflow in a task") != std::string::npos);
  CHECK(output.find("out of guard-page budget") == std::string::npos);
}

TEST_CASE("destroying a runtime while another thread is inside its run() terminates") {
  const auto [status, output] = run_in_dying_child([] {
    auto* rt = new grove::runtime{grove::runtime_options{.workers = 1}};
    std::latch running(1);
    std::thread caller([&] {
      rt->run([&] {
        running.count_down();
        grove::event never;
        never.wait();
      });
    });
    running.wait();
    delete rt;
    caller.join();
  });
  INFO("child stderr: " << output);
  CHECK(died(status));
  CHECK(output.find("while another thread is inside its run()") != std::string::npos);
}

#if defined(__SANITIZE_ADDRESS__)
extern "C" int __asan_option_detect_stack_use_after_return;  // ASan's runtime flag

TEST_CASE("under ASan, a child using a dead local of its nursery's body is reported") {
  // The asan test preset sets detect_stack_use_after_return=1; run by hand without it, there is
  // nothing to check.
  if (__asan_option_detect_stack_use_after_return == 0) {
    MESSAGE("ASAN_OPTIONS lacks detect_stack_use_after_return=1: not checked");
    return;
  }
  // The lifetime trap of docs/guide.md ("What children may refer to"), caught by the ASan
  // phase's detect_stack_use_after_return=1 through grove's fiber-switch annotations.
  const auto [status, output] = run_in_dying_child([] {
    grove::runtime rt{grove::runtime_options{.workers = 2}};
    rt.run([] {
      grove::open_nursery([](grove::nursery& n) {
        grove::capacity_limiter slots(2);  // WRONG on purpose: dies before the join
        for (int i = 0; i < 4; ++i) {
          n.start_soon([&] {
            grove::sleep_for(std::chrono::milliseconds(1));
            slots.acquire();
            slots.release();
          });
        }
      });
    });
  });
  INFO("child stderr: " << output);
  CHECK(died(status));
  CHECK(output.find("stack-use-after-return") != std::string::npos);
}
#endif
