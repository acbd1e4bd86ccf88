// Time: sleeping, deadlines, move_on_*, fail_* (docs/reference.md §4, §10 rule 5).
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <grove/grove.hpp>
#include <new>
#include <type_traits>

#include "support/runtime_fixture.hpp"

using grove_test::run_on;
using namespace std::chrono_literals;

// Counts the calling thread's allocations while `counting` is set (this executable only).
namespace {
thread_local bool counting = false;
thread_local std::size_t allocations = 0;
}  // namespace

void* operator new(std::size_t size) {
  if (counting) ++allocations;
  if (void* p = std::malloc(size != 0 ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

TEST_CASE("sleeps and deadlines allocate nothing, so they cannot fail half-way") {
  run_on(1, [] {
    grove::sleep_for(1ms);  // first use: whatever is set up once is set up now
    counting = true;
    allocations = 0;
    grove::sleep_for(1ms);
    const bool completed = grove::move_on_after(1ms, [] { grove::sleep_for(1h); });
    grove::cancel_scope scope;
    scope.run([](grove::cancel_scope& s) {
      s.set_deadline(grove::now() + 1h);
      s.set_deadline(grove::now() + 2h);
    });
    counting = false;
    CHECK_FALSE(completed);
    CHECK(allocations == 0);
  });
}

TEST_CASE("sleep_for suspends for at least the duration") {
  run_on(1, [] {
    const auto start = grove::now();
    grove::sleep_for(20ms);
    CHECK(grove::now() - start >= 20ms);
  });
}

TEST_CASE("sleeping tasks free their worker: many sleep at once on one worker") {
  run_on(1, [] {
    const auto start = grove::now();
    grove::open_nursery([](grove::nursery& n) {
      for (int i = 0; i < 200; ++i) n.start_soon([] { grove::sleep_for(50ms); });
    });
    CHECK(grove::now() - start < grove_test::generous);
  });
}

TEST_CASE("move_on_after cancels a parked body at the deadline and reports it") {
  run_on(2, [] {
    const bool completed = grove::move_on_after(20ms, [] { grove::sleep_for(1h); });
    CHECK_FALSE(completed);
  });
}

TEST_CASE("move_on_after returns the value when the body finishes in time") {
  run_on(2, [] {
    std::optional<int> r = grove::move_on_after(1h, [] { return 9; });
    CHECK(r == 9);
  });
}

TEST_CASE("a zero or negative timeout cancels at the first checkpoint") {
  run_on(1, [] {
    int reached = 0;
    CHECK_FALSE(grove::move_on_after(0s, [&] {
      reached = 1;
      grove::checkpoint();
      reached = 2;
    }));
    CHECK(reached == 1);
    CHECK_FALSE(grove::move_on_after(-5s, [] { grove::checkpoint(); }));
    grove::cancel_scope past;
    past.set_deadline(grove::now() - 1s);
    CHECK(past.cancel_called());
  });
}

TEST_CASE("fail_after throws too_slow_error when the deadline passes") {
  run_on(2, [] {
    CHECK_THROWS_AS(grove::fail_after(10ms, [] { grove::sleep_for(1h); }), grove::too_slow_error);
    CHECK(grove::fail_after(1h, [] { return 1; }) == 1);
  });
}

TEST_CASE("fail_after throws too_slow_error when cancelled through the scope it passed") {
  run_on(1, [] {
    CHECK_THROWS_AS(grove::fail_after(1h,
                                      [](grove::cancel_scope& s) {
                                        s.cancel();
                                        grove::checkpoint();
                                      }),
                    grove::too_slow_error);
  });
}

TEST_CASE("changing a running scope's deadline re-arms its timer") {
  run_on(2, [] {
    grove::cancel_scope scope;
    const auto start = grove::now();
    scope.set_deadline(grove::now() + 1h);
    scope.run([](grove::cancel_scope& s) {
      s.set_deadline(grove::now() + 20ms);
      grove::sleep_for(1h);
    });
    CHECK(scope.cancelled_caught());
    CHECK(grove::now() - start < grove_test::generous);
  });
}

TEST_CASE("a deadline that has passed makes cancel_called true") {
  run_on(1, [] {
    grove::cancel_scope scope;
    scope.run([](grove::cancel_scope& s) {
      s.set_deadline(grove::now() + 5ms);
      while (!s.cancel_called()) {
      }
      CHECK(s.cancel_called());
    });
  });
}

TEST_CASE("sleep needs a task") { CHECK_THROWS_AS(grove::sleep_for(1ms), grove::usage_error); }

TEST_CASE("sleep in a cancelled task throws without sleeping") {
  run_on(1, [] {
    grove::cancel_scope scope;
    scope.cancel();
    const auto start = grove::now();
    CHECK_FALSE(scope.run([] { grove::sleep_for(1h); }));
    CHECK(grove::now() - start < grove_test::generous);
  });
}

TEST_CASE("nested deadlines: the inner expires first and only it absorbs") {
  run_on(2, [] {
    bool outer_completed = false;
    grove::move_on_after(1h, [&] {
      CHECK_FALSE(grove::move_on_after(10ms, [] { grove::sleep_for(1h); }));
      outer_completed = true;
    });
    CHECK(outer_completed);
  });
}

TEST_CASE("every timeout takes any std::chrono duration or time point, rounded up") {
  static_assert(std::is_same_v<decltype(grove::detail::to_clock_duration(
                                   std::chrono::duration<double, std::nano>(0.25))),
                               grove::clock::duration>);
  CHECK(grove::detail::to_clock_duration(std::chrono::duration<double, std::nano>(0.25)) ==
        grove::clock::duration(1));  // a fractional nanosecond rounds up, never down
  CHECK(grove::detail::to_clock_duration(std::chrono::hours(1'000'000'000)) ==
        grove::clock::duration::max());  // saturates instead of overflowing
  CHECK(grove::detail::to_clock_duration(std::chrono::duration<double>(-0.5)) ==
        std::chrono::milliseconds(-500));
  run_on(1, [] {
    const auto start = grove::now();
    grove::sleep_for(0.5ms);                                  // duration<long double, milli>
    grove::sleep_for(std::chrono::duration<double>(0.0005));  // half a millisecond, as a double
    CHECK(grove::now() - start >= 1ms);
    grove::sleep_until(std::chrono::time_point_cast<std::chrono::milliseconds>(grove::now()));
    CHECK_FALSE(grove::move_on_after(0.001s, [] { grove::sleep_for(1h); }));
    CHECK_FALSE(
        grove::move_on_at(std::chrono::time_point_cast<std::chrono::seconds>(grove::now()) - 1s,
                          [] { grove::checkpoint(); }));
    CHECK(grove::fail_after(std::chrono::minutes(1), [] { return 7; }) == 7);
    CHECK_THROWS_AS(
        grove::fail_after(std::chrono::duration<float>(0.001f), [] { grove::sleep_for(1h); }),
        grove::too_slow_error);
    CHECK(grove::move_on_after(std::chrono::hours(1'000'000'000), [] { grove::checkpoint(); }));
  });
}

TEST_CASE("sleep_for outside a task names sleep_for") {
  CHECK_THROWS_WITH_AS(grove::sleep_for(1ms), doctest::Contains("grove::sleep_for"),
                       grove::usage_error);
  CHECK_THROWS_WITH_AS(grove::sleep_for(0.5s), doctest::Contains("grove::sleep_for"),
                       grove::usage_error);
}

TEST_CASE("timeouts outside a task name the call the user made") {
  CHECK_THROWS_WITH_AS(grove::move_on_after(1s, [] {}), doctest::Contains("grove::move_on_after"),
                       grove::usage_error);
  CHECK_THROWS_WITH_AS(grove::move_on_at(grove::clock::now(), [] {}),
                       doctest::Contains("grove::move_on_at"), grove::usage_error);
  CHECK_THROWS_WITH_AS(grove::fail_after(1s, [] {}), doctest::Contains("grove::fail_after"),
                       grove::usage_error);
  CHECK_THROWS_WITH_AS(grove::fail_at(grove::clock::now(), [] {}),
                       doctest::Contains("grove::fail_at"), grove::usage_error);
  grove::cancel_scope scope;
  CHECK_THROWS_WITH_AS(scope.run([] {}), doctest::Contains("grove::cancel_scope::run"),
                       grove::usage_error);
}
