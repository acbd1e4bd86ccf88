// The edges of the cancel tree: scopes touched from other threads while they exit, scopes that
// outlive their runtime, start() handshakes racing their caller's exit, and cancellation of the
// trio server pattern (tasks parked below a task that has just called started()).
#include <doctest/doctest.h>

#include <atomic>
#include <grove/grove.hpp>
#include <latch>
#include <memory>
#include <stdexcept>
#include <thread>

#include "support/runtime_fixture.hpp"
#include "support/server_pattern.hpp"
#include "support/watchdog.hpp"

using namespace std::chrono_literals;

TEST_CASE("set_deadline from another thread racing the scope's exit leaves no timer behind") {
  grove::runtime rt{grove::runtime_options{.workers = 2}};
  for (int round = 0; round < 500; ++round) {
    auto scope = std::make_unique<grove::cancel_scope>();
    std::latch inside(2);
    std::thread foreign([&] {
      inside.arrive_and_wait();
      // Races the scope's exit: lands before, during or after it.
      scope->set_deadline(grove::clock::now() + 200us);
      scope->set_shield(true);
      scope->set_shield(false);
      scope->cancel();
    });
    rt.run([&] { scope->run([&] { inside.arrive_and_wait(); }); });
    foreign.join();
    scope.reset();  // freed as soon as every call on it has returned
  }
  // Any timer still armed for one of those scopes would now fire into freed memory (ASan).
  rt.run([] { grove::sleep_for(5ms); });
  CHECK(rt.stats().tasks_completed >= 501);
}

TEST_CASE("a finished scope ignores cancel, set_deadline and set_shield") {
  grove::runtime rt{grove::runtime_options{.workers = 1}};
  grove::cancel_scope scope;
  CHECK(rt.run([&] { return scope.run([] {}); }));
  scope.set_deadline(grove::clock::now() - 1s);
  scope.cancel();
  scope.set_shield(true);
  scope.set_shield(false);
  CHECK_FALSE(scope.cancel_called());  // frozen when it left
  CHECK_FALSE(scope.cancelled_caught());
}

TEST_CASE("a scope declared before its runtime outlives it as plain memory") {
  grove::cancel_scope scope;  // so that another thread could cancel it: it outlives the runtime
  bool completed = false;
  {
    grove::runtime rt{grove::runtime_options{.workers = 1}};
    completed = rt.run([&] {
      return scope.run([](grove::cancel_scope& s) { s.set_deadline(grove::clock::now() + 1h); });
    });
  }
  CHECK(completed);
  scope.cancel();
  scope.set_deadline(grove::clock::now() + 1s);
  CHECK_FALSE(scope.cancel_called());
}  // ~cancel_scope after ~runtime: it must not touch the dead runtime's timers

TEST_CASE("a start() child failing before started() never touches the caller's scope after") {
  grove_test::run_with_watchdog(2, [] {
    grove::open_nursery([](grove::nursery& n) {
      for (int round = 0; round < 500; ++round) {
        auto caller_scope = std::make_unique<grove::cancel_scope>();
        caller_scope->run([&] {
          CHECK_THROWS_AS(n.start([](grove::task_status<>&) {
            grove::sleep_for(20us);  // parks under the caller's scope first
            throw std::runtime_error("failed before started");
          }),
                          std::runtime_error);
        });
        caller_scope.reset();  // start() has thrown: the child must be done with it (ASan)
      }
    });
  });
}

TEST_CASE("a cancel after started() reaches every task the started task spawned") {
  // The trio server pattern: a listener spawns handlers that park, calls started(), and the
  // caller then cancels the nursery. Once that hung when started() raced the handlers' parks.
  for (unsigned workers : {2u, 4u}) {
    grove_test::run_with_watchdog(workers, [] {
      for (int round = 0; round < 300; ++round) {
        grove::open_nursery([](grove::nursery& n) {
          grove_test::start_listener_with_parked_handlers(n);
          n.cancel_scope().cancel();
        });
      }
    });
  }
}

TEST_CASE("the caller's cancellation reaches a task before started() at once") {
  grove_test::run_on(1, [] {
    grove::cancel_scope caller;
    bool checkpoint_threw = false;
    grove::open_nursery([&](grove::nursery& n) {
      caller.run([&](grove::cancel_scope& c) {
        n.start([&](grove::task_status<>&) {
          c.cancel();
          try {
            grove::checkpoint();
          } catch (const grove::cancelled&) {
            checkpoint_threw = true;
            throw;
          }
        });
      });
    });
    CHECK(checkpoint_threw);
    CHECK(caller.cancelled_caught());
  });
}

TEST_CASE("before started() the nursery's cancellation does not reach the task; after, it does") {
  grove_test::run_on(2, [] {
    std::atomic<bool> cancelled_before_started{false};
    std::atomic<bool> cancelled_after_started{false};
    grove::open_nursery([&](grove::nursery& n) {
      // The caller calls start() from a shielded scope, so cancelling the nursery does not
      // cancel the caller (whose cancellation the task would share before started()).
      grove::cancel_scope shielded;
      shielded.set_shield(true);
      shielded.run([&] {
        n.start(
            [&](grove::task_status<>& status, grove::nursery* outer) {
              outer->cancel_scope().cancel();
              cancelled_before_started = grove::cancel_requested();
              status.started();
              cancelled_after_started = grove::cancel_requested();
            },
            &n);
      });
    });
    CHECK_FALSE(cancelled_before_started.load());
    CHECK(cancelled_after_started.load());
  });
}

TEST_CASE("a deadline in the caller's scopes cancels a task that has not called started()") {
  grove_test::run_on(2, [] {
    const bool completed = grove::move_on_after(20ms, [] {
      grove::open_nursery(
          [](grove::nursery& n) { n.start([](grove::task_status<>&) { grove::sleep_for(1h); }); });
    });
    CHECK_FALSE(completed);
  });
}
