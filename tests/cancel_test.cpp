// Cancellation: scopes, checkpoints, shields, delivery to parked tasks, nurseries
// (docs/reference.md §3, §10 rules 1, 2, 3, 5).
#include <doctest/doctest.h>

#include <atomic>
#include <grove/grove.hpp>
#include <latch>
#include <optional>
#include <stdexcept>
#include <thread>

#include "support/runtime_fixture.hpp"

using grove_test::run_on;
using namespace std::chrono_literals;

TEST_CASE("cancelled is not a std::exception") {
  CHECK_FALSE(std::is_base_of_v<std::exception, grove::cancelled>);
}

TEST_CASE("a scope cancelled from its body absorbs its own cancellation") {
  run_on(1, [] {
    grove::cancel_scope scope;
    bool reached_after = false;
    const bool completed = scope.run([&](grove::cancel_scope& s) {
      s.cancel();
      grove::checkpoint();
      reached_after = true;
    });
    CHECK_FALSE(completed);
    CHECK_FALSE(reached_after);
    CHECK(scope.cancel_called());
    CHECK(scope.cancelled_caught());
  });
}

TEST_CASE("run returns the body's value in an optional, empty when cancelled") {
  run_on(1, [] {
    grove::cancel_scope a;
    std::optional<int> value = a.run([] { return 3; });
    CHECK(value == 3);
    CHECK_FALSE(a.cancelled_caught());
    grove::cancel_scope b;
    std::optional<int> none = b.run([](grove::cancel_scope& s) {
      s.cancel();
      grove::checkpoint();
      return 4;
    });
    CHECK_FALSE(none.has_value());
  });
}

TEST_CASE("a body without checkpoints completes although its scope was cancelled") {
  run_on(1, [] {
    grove::cancel_scope scope;
    const bool completed = scope.run([](grove::cancel_scope& s) { s.cancel(); });
    CHECK(completed);
    CHECK(scope.cancel_called());
    CHECK_FALSE(scope.cancelled_caught());
  });
}

TEST_CASE("cancelling before run cancels at the first checkpoint") {
  run_on(1, [] {
    grove::cancel_scope scope;
    scope.cancel();
    CHECK_FALSE(scope.run([] { grove::checkpoint(); }));
    CHECK(scope.cancelled_caught());
  });
}

TEST_CASE("cancelling a finished scope is a no-op") {
  run_on(1, [] {
    grove::cancel_scope scope;
    CHECK(scope.run([] {}));
    scope.cancel();
    CHECK_FALSE(scope.cancel_called());
    CHECK_FALSE(scope.cancelled_caught());
  });
}

TEST_CASE("entering one scope object twice is usage_error") {
  run_on(1, [] {
    grove::cancel_scope scope;
    scope.run([] {});
    CHECK_THROWS_AS(scope.run([] {}), grove::usage_error);
  });
}

TEST_CASE("cancel_scope::run and checkpoint need a task; cancel and getters work anywhere") {
  grove::cancel_scope scope;
  CHECK_THROWS_AS(scope.run([] {}), grove::usage_error);
  CHECK_THROWS_AS(grove::checkpoint(), grove::usage_error);
  CHECK_FALSE(grove::cancel_requested());
  grove::cancel_scope other;
  other.cancel();
  CHECK(other.cancel_called());
  CHECK(other.deadline() == grove::clock::time_point::max());
}

TEST_CASE("an inner scope does not absorb an outer scope's cancellation") {
  run_on(1, [] {
    grove::cancel_scope outer;
    grove::cancel_scope inner;
    outer.run([&](grove::cancel_scope& o) {
      inner.run([&] {
        o.cancel();
        grove::checkpoint();
      });
      FAIL("outer cancellation did not propagate through the inner scope");
    });
    CHECK(outer.cancelled_caught());
    CHECK_FALSE(inner.cancelled_caught());
  });
}

TEST_CASE("when nested scopes are both cancelled the outermost absorbs") {
  run_on(1, [] {
    grove::cancel_scope outer;
    grove::cancel_scope inner;
    outer.run([&] {
      inner.run([&] {
        inner.cancel();
        outer.cancel();
        grove::checkpoint();
      });
    });
    CHECK(outer.cancelled_caught());
    CHECK_FALSE(inner.cancelled_caught());
  });
}

TEST_CASE("cancel_requested polls without throwing") {
  run_on(1, [] {
    grove::cancel_scope scope;
    scope.run([](grove::cancel_scope& s) {
      CHECK_FALSE(grove::cancel_requested());
      s.cancel();
      CHECK(grove::cancel_requested());
    });
  });
}

TEST_CASE("a shield keeps an outer cancellation out") {
  run_on(1, [] {
    grove::cancel_scope outer;
    bool shielded_ran = false;
    outer.run([&](grove::cancel_scope& o) {
      o.cancel();
      grove::cancel_scope cleanup;
      cleanup.set_shield(true);
      cleanup.run([&] {
        grove::checkpoint();  // not cancelled here
        shielded_ran = true;
      });
      grove::checkpoint();  // cancelled here
    });
    CHECK(shielded_ran);
    CHECK(outer.cancelled_caught());
  });
}

TEST_CASE("a shield keeps a parked task asleep while the outer scope is cancelled") {
  run_on(2, [] {
    std::atomic<bool> woke_normally{false};
    grove::open_nursery([&](grove::nursery& n) {
      n.start_soon([&] {
        grove::cancel_scope shield;
        shield.set_shield(true);
        shield.run([&] {
          grove::sleep_for(50ms);
          woke_normally = true;
        });
      });
      n.cancel_scope().cancel();
    });
    CHECK(woke_normally.load());
  });
}

TEST_CASE("cancel from a foreign std::thread wakes a parked task at once") {
  grove::runtime rt{grove::runtime_options{.workers = 2}};
  grove::cancel_scope scope;
  std::latch entered{1};
  std::thread canceller([&] {
    entered.wait();
    scope.cancel();
  });
  const auto start = std::chrono::steady_clock::now();
  const bool completed = rt.run([&] {
    return scope.run([&] {
      entered.count_down();
      grove::sleep_for(1h);
    });
  });
  canceller.join();
  CHECK_FALSE(completed);
  CHECK(scope.cancelled_caught());
  CHECK(std::chrono::steady_clock::now() - start < grove_test::generous);
}

TEST_CASE("a failing child cancels its parked siblings and its error surfaces") {
  run_on(2, [] {
    std::atomic<int> cancelled_siblings{0};
    CHECK_THROWS_WITH_AS(grove::open_nursery([&](grove::nursery& n) {
                           for (int i = 0; i < 10; ++i) {
                             n.start_soon([&] {
                               try {
                                 grove::sleep_for(1h);
                               } catch (const grove::cancelled&) {
                                 cancelled_siblings.fetch_add(1);
                                 throw;
                               }
                             });
                           }
                           n.start_soon([] { throw std::runtime_error("fail"); });
                         }),
                         "fail", std::runtime_error);
    CHECK(cancelled_siblings.load() == 10);
  });
}

TEST_CASE("a failing child cancels a body that is parked") {
  run_on(2, [] {
    bool body_cancelled = false;
    CHECK_THROWS_AS(grove::open_nursery([&](grove::nursery& n) {
                      n.start_soon([] { throw std::logic_error("x"); });
                      try {
                        grove::sleep_for(1h);
                      } catch (const grove::cancelled&) {
                        body_cancelled = true;
                        throw;
                      }
                    }),
                    std::logic_error);
    CHECK(body_cancelled);
  });
}

TEST_CASE("cancelling a nursery's scope cancels body and children, and the nursery absorbs it") {
  run_on(2, [] {
    std::atomic<int> cancelled_children{0};
    grove::open_nursery([&](grove::nursery& n) {
      for (int i = 0; i < 5; ++i) {
        n.start_soon([&] {
          try {
            grove::sleep_for(1h);
          } catch (const grove::cancelled&) {
            cancelled_children.fetch_add(1);
            throw;
          }
        });
      }
      n.cancel_scope().cancel();
      grove::checkpoint();
      FAIL("the body went on after its nursery was cancelled");
    });
    CHECK(cancelled_children.load() == 5);
  });
}

TEST_CASE("a nursery's scope handed to another task may be cancelled while the nursery closes") {
  run_on(2, [] {
    for (int round = 0; round < 100; ++round) {
      grove::event handed_out;
      grove::cancel_scope* inner_scope = nullptr;
      std::atomic<bool> child_cancelled{false};
      grove::open_nursery([&](grove::nursery& outer) {
        outer.start_soon([&] {
          grove::open_nursery([&](grove::nursery& inner) {
            inner.start_soon([&] {
              try {
                grove::sleep_for(1h);
              } catch (const grove::cancelled&) {
                child_cancelled = true;
                throw;
              }
            });
            inner_scope = &inner.cancel_scope();
            handed_out.set();
          });  // absorbs its own scope's cancellation
        });
        outer.start_soon([&] {
          handed_out.wait();
          inner_scope->cancel();  // races with the inner nursery's close on the other worker
        });
      });
      CHECK(child_cancelled.load());
    }
  });
}

TEST_CASE("cancelling an enclosing scope while inner nurseries open and close reaches every task") {
  run_on(2, [] {
    for (int round = 0; round < 30; ++round) {
      grove::cancel_scope scope;
      grove::event enough;
      std::atomic<int> closed{0};
      const int wanted = 10 * (round % 5 + 1);
      grove::open_nursery([&](grove::nursery& n) {
        n.start_soon([&] {
          scope.run([&] {
            grove::open_nursery([&](grove::nursery& loops) {
              for (int t = 0; t < 4; ++t) {
                loops.start_soon([&] {
                  for (;;) {  // until cancelled
                    grove::open_nursery([](grove::nursery& inner) {
                      inner.start_soon([] { grove::sleep_for(20us); });  // parks: links the node
                    });
                    if (++closed == wanted) enough.set();
                  }
                });
              }
            });
          });
        });
        enough.wait();
        scope.cancel();  // the walk meets nodes that are being left
      });
      CHECK(scope.cancelled_caught());
      CHECK(closed.load() >= wanted);
    }
  });
}

TEST_CASE(
    "a value-returning nursery body cancelled by its own scope returns a value-initialised R") {
  run_on(1, [] {
    const int v = grove::open_nursery([](grove::nursery& n) {
      n.cancel_scope().cancel();
      grove::checkpoint();
      return 5;
    });
    CHECK(v == 0);
  });
}

TEST_CASE("a nursery cancelled by an enclosing scope re-raises cancelled to that scope") {
  run_on(2, [] {
    grove::cancel_scope outer;
    bool after_nursery = false;
    outer.run([&](grove::cancel_scope& o) {
      grove::open_nursery([&](grove::nursery& n) {
        n.start_soon([] { grove::sleep_for(1h); });
        o.cancel();
      });
      after_nursery = true;
    });
    CHECK_FALSE(after_nursery);
    CHECK(outer.cancelled_caught());
  });
}

TEST_CASE("cancelled is never collected as a nursery error, even next to a real one") {
  run_on(2, [] {
    try {
      grove::open_nursery([](grove::nursery& n) {
        n.start_soon([] { grove::sleep_for(1h); });
        n.start_soon([] { throw std::runtime_error("only"); });
      });
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()) == "only");
    }
  });
}

TEST_CASE("a task that swallows cancelled does not hang its nursery") {
  run_on(2, [] {
    std::atomic<bool> swallowed{false};
    grove::open_nursery([&](grove::nursery& n) {
      n.start_soon([&] {
        try {
          grove::sleep_for(1h);
        } catch (const grove::cancelled&) {
          swallowed = true;  // a bug in user code, but the nursery must still finish
        }
      });
      n.cancel_scope().cancel();
    });
    CHECK(swallowed.load());
  });
}

TEST_CASE(
    "start: before started the task runs under the caller's scopes, after under the nursery's") {
  run_on(2, [] {
    std::atomic<bool> survived_caller_cancel{false};
    // Outside the nursery body: the child refers to it after the body has returned.
    grove::cancel_scope caller;
    grove::open_nursery([&](grove::nursery& n) {
      caller.run([&](grove::cancel_scope& c) {
        n.start([&](grove::task_status<>& status) {
          status.started();
          c.cancel();  // the caller's scope: no longer ours
          grove::sleep_for(10ms);
          survived_caller_cancel = true;
        });
        grove::event never;
        never.wait();  // ends only by the child's cancel of `caller`
      });
      CHECK(caller.cancelled_caught());
    });
    CHECK(survived_caller_cancel.load());
  });
}

TEST_CASE("start: cancelled before started propagates out of start") {
  run_on(2, [] {
    grove::cancel_scope caller;
    grove::open_nursery([&](grove::nursery& n) {
      caller.run([&](grove::cancel_scope& c) {
        n.start([&](grove::task_status<>&) {
          c.cancel();
          grove::sleep_for(1h);
        });
        FAIL("start returned");
      });
    });
    CHECK(caller.cancelled_caught());
  });
}

TEST_CASE("a cancelled task's checkpoint throws without yielding control away forever") {
  run_on(1, [] {
    grove::cancel_scope scope;
    int checkpoints = 0;
    scope.run([&](grove::cancel_scope& s) {
      for (;; ++checkpoints) {
        if (checkpoints == 100) s.cancel();
        grove::checkpoint();
      }
    });
    CHECK(checkpoints == 100);
  });
}
