// grove/testing.hpp: the mock clock (jumps, autojump), wait_all_tasks_blocked, the sequencer,
// seeded scheduling and for_each_seed.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <grove/grove.hpp>
#include <grove/testing.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/runtime_fixture.hpp"

using namespace std::chrono_literals;
namespace testing = grove::testing;

// ---- mock clock ----

TEST_CASE("autojump finishes fail_after(1h) around a parked task at once, with too_slow_error") {
  testing::mock_clock virtual_time;
  virtual_time.set_autojump_threshold(0s);
  grove::runtime rt{grove::runtime_options{.workers = 2, .virtual_clock = &virtual_time}};
  const auto real_start = std::chrono::steady_clock::now();
  const auto virtual_start = virtual_time.now();
  rt.run([] {
    CHECK_THROWS_AS(grove::fail_after(1h,
                                      [] {
                                        grove::event never;
                                        never.wait();
                                      }),
                    grove::too_slow_error);
  });
  CHECK(std::chrono::steady_clock::now() - real_start < 1s);
  CHECK(virtual_time.now() - virtual_start >= 1h);
}

TEST_CASE("inside a task grove::now() is the mock clock's time; outside it is real time") {
  testing::mock_clock virtual_time;
  virtual_time.jump(24h);
  grove::runtime rt{grove::runtime_options{.workers = 1, .virtual_clock = &virtual_time}};
  const auto inside = rt.run([] { return grove::now(); });
  CHECK(inside >= std::chrono::steady_clock::now() + 23h);
  CHECK(grove::now() < std::chrono::steady_clock::now() + 1h);
}

TEST_CASE("jump fires the deadlines that came due, in deadline order") {
  testing::mock_clock virtual_time;
  // One worker: woken tasks then run in the order they were woken.
  grove::runtime rt{grove::runtime_options{.workers = 1, .virtual_clock = &virtual_time}};
  std::vector<int> woke;
  grove::mutex woke_lock;
  rt.run([&] {
    grove::open_nursery([&](grove::nursery& n) {
      for (int minutes : {30, 10, 20, 90}) {
        n.start_soon([&, minutes] {
          const bool finished = grove::move_on_after(std::chrono::minutes(minutes), [] {
            grove::event never;
            never.wait();
          });
          CHECK_FALSE(finished);
          std::scoped_lock hold(woke_lock);
          woke.push_back(minutes);
        });
      }
      testing::wait_all_tasks_blocked();
      virtual_time.jump(15min);  // only the 10-minute deadline is due
      testing::wait_all_tasks_blocked();
      {
        std::scoped_lock hold(woke_lock);
        CHECK(woke == std::vector<int>{10});
      }
      virtual_time.jump(1h);  // 20 and 30 now, in that order; 90 not yet
      testing::wait_all_tasks_blocked();
      {
        std::scoped_lock hold(woke_lock);
        CHECK(woke == std::vector<int>{10, 20, 30});
      }
      virtual_time.jump(1h);
    });
  });
  CHECK(woke == std::vector<int>{10, 20, 30, 90});
}

TEST_CASE("a stopped mock clock never fires a sleep by itself; a rate makes time pass") {
  testing::mock_clock stopped;
  grove::runtime rt{grove::runtime_options{.workers = 1, .virtual_clock = &stopped}};
  rt.run([&] {
    std::atomic<bool> woke{false};
    grove::open_nursery([&](grove::nursery& n) {
      n.start_soon([&] {
        grove::sleep_for(1ms);
        woke = true;
      });
      testing::wait_all_tasks_blocked(20ms);  // 20 ms of real time: the sleep stays parked
      CHECK_FALSE(woke.load());
      stopped.jump(1ms);
    });
    CHECK(woke.load());
  });
  testing::mock_clock fast(1000.0);  // 1000 virtual seconds per real second
  grove::runtime fast_rt{grove::runtime_options{.workers = 1, .virtual_clock = &fast}};
  const auto real_start = std::chrono::steady_clock::now();
  fast_rt.run([] { grove::sleep_for(10s); });  // about 10 ms of real time
  CHECK(std::chrono::steady_clock::now() - real_start < grove_test::generous);
}

TEST_CASE("mock clock misuse is usage_error") {
  CHECK_THROWS_AS(testing::mock_clock(-1.0), grove::usage_error);
  testing::mock_clock virtual_time;
  CHECK_THROWS_AS(virtual_time.jump(-1s), grove::usage_error);
  grove::runtime first{grove::runtime_options{.workers = 1, .virtual_clock = &virtual_time}};
  CHECK_THROWS_AS(
      (grove::runtime{grove::runtime_options{.workers = 1, .virtual_clock = &virtual_time}}),
      grove::usage_error);
  CHECK_THROWS_AS(testing::wait_all_tasks_blocked(), grove::usage_error);
}

TEST_CASE("a mock clock serves another runtime once the first is gone") {
  testing::mock_clock virtual_time;
  { grove::runtime first{grove::runtime_options{.workers = 1, .virtual_clock = &virtual_time}}; }
  grove::runtime second{grove::runtime_options{.workers = 1, .virtual_clock = &virtual_time}};
  CHECK(second.worker_count() == 1);
}

// ---- wait_all_tasks_blocked ----

TEST_CASE("wait_all_tasks_blocked returns only after every other task has parked") {
  for (unsigned workers : {1u, 2u}) {
    grove_test::run_on(workers, [] {
      constexpr int tasks = 20;
      std::atomic<int> about_to_park{0};
      grove::event release;
      grove::open_nursery([&](grove::nursery& n) {
        for (int i = 0; i < tasks; ++i) {
          n.start_soon([&, i] {
            for (int k = 0; k < i * 10; ++k) grove::checkpoint();  // busy for a while first
            about_to_park.fetch_add(1);
            release.wait();
          });
        }
        testing::wait_all_tasks_blocked();
        CHECK(about_to_park.load() == tasks);
        release.set();
      });
    });
  }
}

TEST_CASE("several wait_all_tasks_blocked callers wake together") {
  grove_test::run_on(2, [] {
    std::atomic<int> woke{0};
    grove::open_nursery([&](grove::nursery& n) {
      for (int i = 0; i < 3; ++i) {
        n.start_soon([&] {
          testing::wait_all_tasks_blocked();
          woke.fetch_add(1);
        });
      }
    });
    CHECK(woke.load() == 3);
  });
}

// ---- sequencer ----

TEST_CASE("a sequencer runs guarded blocks in position order, whatever the start order") {
  grove_test::run_on(2, [] {
    testing::sequencer seq;
    std::vector<int> order;
    grove::mutex order_lock;
    grove::open_nursery([&](grove::nursery& n) {
      for (int position : {3, 1, 4, 0, 2}) {
        n.start_soon([&, position] {
          auto turn = seq(static_cast<std::size_t>(position));
          grove::checkpoint();
          std::scoped_lock hold(order_lock);
          order.push_back(position);
        });
      }
    });
    CHECK(order == std::vector<int>{0, 1, 2, 3, 4});
  });
}

TEST_CASE("sequencer misuse: a position used twice, or a waiter cancelled, which breaks it") {
  grove_test::run_on(2, [] {
    testing::sequencer seq;
    { auto first = seq(0); }
    CHECK_THROWS_AS(seq(0), grove::usage_error);

    grove::open_nursery([&](grove::nursery& n) {
      n.start_soon([&] {
        grove::move_on_after(1ms, [&] { auto never_comes = seq(5); });  // cancelled waiting
      });
    });
    CHECK_THROWS_AS(seq(1), grove::broken_resource_error);
  });
  CHECK_THROWS_AS(testing::sequencer{}(0), grove::usage_error);  // needs a task
}

// ---- seeded scheduling ----

namespace {
// The order in which 8 tasks, each yielding 5 times, take their steps on one worker.
std::vector<int> interleaving(std::optional<std::uint64_t> seed) {
  grove::runtime rt{grove::runtime_options{.workers = 1, .schedule_seed = seed}};
  std::vector<int> order;
  rt.run([&] {
    grove::open_nursery([&](grove::nursery& n) {
      for (int id = 0; id < 8; ++id) {
        n.start_soon([&, id] {
          for (int step = 0; step < 5; ++step) {
            order.push_back(id);
            grove::checkpoint();
          }
        });
      }
    });
  });
  return order;
}
}  // namespace

TEST_CASE("with one worker a schedule seed reproduces the interleaving exactly") {
  for (std::uint64_t seed : {1u, 2u, 77u}) CHECK(interleaving(seed) == interleaving(seed));
  CHECK(interleaving(std::nullopt) == interleaving(std::nullopt));
}

TEST_CASE("different schedule seeds give different interleavings") {
  std::vector<std::vector<int>> seen;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    const auto order = interleaving(seed);
    REQUIRE(order.size() == 40);
    if (std::find(seen.begin(), seen.end(), order) == seen.end()) seen.push_back(order);
  }
  CHECK(seen.size() >= 4);
}

TEST_CASE("for_each_seed runs every seed and names the first failing one") {
  std::vector<std::uint64_t> ran;
  testing::for_each_seed(10, 3, [&](std::uint64_t seed) { ran.push_back(seed); });
  CHECK(ran == std::vector<std::uint64_t>{10, 11, 12});
  CHECK_THROWS_WITH_AS(testing::for_each_seed(0, 10,
                                              [](std::uint64_t seed) {
                                                if (seed == 4) throw std::runtime_error("seed 4");
                                              }),
                       "seed 4", std::runtime_error);
}

TEST_CASE("autojump keeps going when a deadline it jumped to woke nobody") {
  testing::mock_clock virtual_time;
  virtual_time.set_autojump_threshold(0s);
  grove::runtime rt{grove::runtime_options{.workers = 1, .virtual_clock = &virtual_time}};
  const auto virtual_start = virtual_time.now();
  rt.run([] {
    // The 1-minute deadline cancels a scope whose only task sleeps shielded: nothing wakes then,
    // and the clock must still go on to the sleep's 2 hours.
    grove::move_on_after(1min, [] {
      grove::cancel_scope shield;
      shield.set_shield(true);
      shield.run([] { grove::sleep_for(2h); });
    });
  });
  CHECK(virtual_time.now() - virtual_start >= 2h);
}
