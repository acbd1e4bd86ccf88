// nursery::start and task_status: the handshake, its value, its errors and its misuse.
#include <doctest/doctest.h>

#include <atomic>
#include <grove/grove.hpp>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "support/runtime_fixture.hpp"

using grove_test::run_on;

TEST_CASE("start returns the value passed to started and the task keeps running") {
  run_on(2, [] {
    std::atomic<bool> after{false};
    grove::open_nursery([&](grove::nursery& n) {
      const int port = n.start<int>(
          [&](grove::task_status<int>& status, int base) {
            status.started(base + 1);
            after = true;
          },
          8079);
      CHECK(port == 8080);
    });
    CHECK(after.load());
  });
}

TEST_CASE("start<void> waits for started()") {
  run_on(2, [] {
    std::atomic<int> order{0};
    grove::open_nursery([&](grove::nursery& n) {
      n.start([&](grove::task_status<>& status) {
        order = 1;
        status.started();
      });
      CHECK(order.load() == 1);
    });
  });
}

TEST_CASE("an exception before started propagates out of start, the nursery unaffected") {
  run_on(2, [] {
    std::atomic<bool> sibling_done{false};
    grove::open_nursery([&](grove::nursery& n) {
      n.start_soon([&] { sibling_done = true; });
      CHECK_THROWS_WITH_AS(
          n.start([](grove::task_status<>&) { throw std::runtime_error("early"); }), "early",
          std::runtime_error);
    });
    CHECK(sibling_done.load());
  });
}

TEST_CASE("a task that returns without started makes start throw usage_error") {
  run_on(2, [] {
    grove::open_nursery([](grove::nursery& n) {
      CHECK_THROWS_AS(n.start([](grove::task_status<>&) {}), grove::usage_error);
    });
  });
}

TEST_CASE("calling started twice is usage_error") {
  run_on(2, [] {
    std::atomic<bool> second_threw{false};
    grove::open_nursery([&](grove::nursery& n) {
      n.start([&](grove::task_status<>& status) {
        status.started();
        try {
          status.started();
        } catch (const grove::usage_error&) {
          second_threw = true;
        }
      });
    });
    CHECK(second_threw.load());
  });
}

TEST_CASE("started() twice is usage_error raised in the task and reported by the nursery") {
  run_on(2, [] {
    CHECK_THROWS_WITH_AS(grove::open_nursery([](grove::nursery& n) {
                           n.start([](grove::task_status<>& status) {
                             grove::task_status<> copy =
                                 status;  // copies share the record of the call
                             status.started();
                             copy.started();
                           });
                         }),
                         "grove::task_status::started called twice", grove::usage_error);
  });
}

TEST_CASE("start without <T> deduces T from the task's task_status<T>& parameter") {
  run_on(2, [] {
    grove::open_nursery([](grove::nursery& n) {
      const int port = n.start([](grove::task_status<int>& status) { status.started(8080); });
      static_assert(
          std::is_same_v<decltype(n.start([](grove::task_status<std::string>&) {})), std::string>);
      CHECK(port == 8080);
      n.start([](grove::task_status<>& status, int) { status.started(); }, 1);  // void
    });
  });
}
