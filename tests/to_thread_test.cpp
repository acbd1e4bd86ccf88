// to_thread (docs/reference.md §12): blocking calls run on helper threads while the task parks;
// results, exceptions, the pool's bound, and both cancellation policies.
#include <doctest/doctest.h>

#include <atomic>
#include <future>
#include <grove/grove.hpp>
#include <latch>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/parking.hpp"
#include "support/runtime_fixture.hpp"

using grove_test::run_on;
using grove_test::wait_until_parked;

TEST_CASE("to_thread returns the call's result, computed on another thread") {
  run_on(1, [] {
    const std::thread::id worker = std::this_thread::get_id();
    const std::thread::id helper = grove::to_thread([] { return std::this_thread::get_id(); });
    CHECK(helper != worker);
    CHECK(grove::to_thread([] { return std::string("done"); }) == "done");
    int target = 0;
    int& same = grove::to_thread([&]() -> int& { return target; });
    CHECK(&same == &target);
    grove::to_thread([] {});  // void
  });
}

TEST_CASE("to_thread rethrows the call's exception in the task") {
  run_on(1, [] {
    CHECK_THROWS_WITH_AS(grove::to_thread([]() -> int { throw std::runtime_error("legacy"); }),
                         "legacy", std::runtime_error);
  });
}

TEST_CASE("a task waiting in to_thread frees its worker") {
  // One worker: the blocking call can only finish because another task runs meanwhile.
  run_on(1, [] {
    auto released = std::make_shared<std::latch>(1);
    grove::open_nursery([&](grove::nursery& n) {
      n.start_soon([released] { grove::to_thread([released] { released->wait(); }); });
      n.start_soon([released] {
        wait_until_parked("grove::to_thread");
        released->count_down();
      });
    });
  });
}

TEST_CASE("to_thread outside a task is a usage_error and runs nothing") {
  bool ran = false;
  CHECK_THROWS_AS(grove::to_thread([&] { ran = true; }), grove::usage_error);
  CHECK_FALSE(ran);
}

TEST_CASE("to_thread in a cancelled task throws cancelled and runs nothing") {
  run_on(1, [] {
    bool ran = false;
    grove::cancel_scope scope;
    scope.cancel();
    scope.run([&] { CHECK_THROWS_AS(grove::to_thread([&] { ran = true; }), grove::cancelled); });
    CHECK_FALSE(ran);
  });
}

TEST_CASE("at most helper_threads calls run at once; the others queue and all finish") {
  grove::runtime rt{grove::runtime_options{.workers = 2, .helper_threads = 2}};
  std::atomic<int> running{0};
  std::atomic<int> most{0};
  std::atomic<int> finished{0};
  rt.run([&] {
    grove::open_nursery([&](grove::nursery& n) {
      for (int i = 0; i < 8; ++i) {
        n.start_soon([&] {
          grove::to_thread([&] {
            const int now = ++running;
            int seen = most.load();
            while (now > seen && !most.compare_exchange_weak(seen, now)) {
            }
            std::this_thread::yield();
            --running;
          });
          ++finished;
        });
      }
    });
  });
  CHECK(finished.load() == 8);
  CHECK(most.load() >= 1);
  CHECK(most.load() <= 2);
}

TEST_CASE("by default a cancelled task waits for its call and gets the result") {
  run_on(2, [] {
    auto release = std::make_shared<std::promise<void>>();
    std::shared_future<void> released = release->get_future().share();
    int result = 0;
    bool cancelled_later = false;
    grove::open_nursery([&](grove::nursery& n) {
      n.start_soon([&, released] {
        result = grove::to_thread([released] {
          released.wait();
          return 42;
        });
        // The cancellation surfaces at the next checkpoint.
        try {
          grove::checkpoint();
        } catch (const grove::cancelled&) {
          cancelled_later = true;
          throw;
        }
      });
      wait_until_parked("grove::to_thread");
      n.cancel_scope().cancel();
      // Still waiting for the call (which cannot finish before the release below): the
      // cancellation did not interrupt it.
      CHECK(grove_test::parked_on("grove::to_thread") == 1);
      release->set_value();
    });
    CHECK(result == 42);
    CHECK(cancelled_later);
  });
}

TEST_CASE("abandon_on_cancel: the task throws cancelled at once and the call runs on") {
  auto release = std::make_shared<std::promise<void>>();
  std::shared_future<void> released = release->get_future().share();
  auto call_finished = std::make_shared<std::atomic<bool>>(false);
  {
    grove::runtime rt{grove::runtime_options{.workers = 2}};
    rt.run([&] {
      bool threw = false;
      grove::open_nursery([&](grove::nursery& n) {
        n.start_soon([&threw, released, call_finished] {
          try {
            grove::to_thread(
                [released, call_finished] {
                  released.wait();
                  call_finished->store(true);
                  return 1;
                },
                {.abandon_on_cancel = true});
          } catch (const grove::cancelled&) {
            threw = true;
            throw;
          }
        });
        wait_until_parked("grove::to_thread");
        n.cancel_scope().cancel();
      });
      CHECK(threw);
      CHECK_FALSE(call_finished->load());  // the nursery did not wait for the call
      release->set_value();
    });
    // The runtime's destructor waits for the abandoned call.
  }
  CHECK(call_finished->load());
}
