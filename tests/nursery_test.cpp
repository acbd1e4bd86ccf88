// Nurseries: the join guarantee, error collection, child counts, dumps, usage errors.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <grove/grove.hpp>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/runtime_fixture.hpp"

using grove_test::run_on;

namespace {
long fib(int n) {
  if (n < 2) return n;
  long left = 0;
  long right = 0;
  grove::open_nursery([&](grove::nursery& nursery) {
    nursery.start_soon([&] { left = fib(n - 1); });
    right = fib(n - 2);
  });
  return left + right;
}

int deep(int depth) {
  if (depth == 0) return 0;
  int below = 0;
  grove::open_nursery([&](grove::nursery& n) { n.start_soon([&] { below = deep(depth - 1); }); });
  return below + 1;
}
}  // namespace

TEST_CASE("open_nursery joins 100 000 children before it returns") {
  std::atomic<int> finished{0};
  run_on(2, [&] {
    grove::open_nursery([&](grove::nursery& n) {
      for (int i = 0; i < 100000; ++i) n.start_soon([&] { finished.fetch_add(1); });
    });
    CHECK(finished.load() == 100000);
  });
}

TEST_CASE("recursive fork-join computes fib and joins every level") {
  CHECK(run_on(2, [] { return fib(20); }) == 6765);
}

TEST_CASE("deep recursion of nested nurseries joins every level") {
  CHECK(run_on(2, [] { return deep(2000); }) == 2000);
}

TEST_CASE("start_soon decay-copies its arguments and destroys them before the nursery returns") {
  auto token = std::make_shared<int>(7);
  std::weak_ptr<int> watch = token;
  run_on(2, [&] {
    int seen = 0;
    grove::open_nursery([&](grove::nursery& n) {
      n.start_soon([&seen](std::shared_ptr<int> p, int k) { seen = *p + k; }, token, 1);
      token.reset();
    });
    CHECK(seen == 8);
    CHECK(watch.expired());
  });
}

TEST_CASE("start_soon accepts move-only arguments") {
  run_on(1, [] {
    int seen = 0;
    grove::open_nursery([&](grove::nursery& n) {
      n.start_soon([&seen](std::unique_ptr<int> p) { seen = *p; }, std::make_unique<int>(5));
    });
    CHECK(seen == 5);
  });
}

TEST_CASE("open_nursery returns the body's value after the join") {
  run_on(2, [] {
    std::atomic<int> done{0};
    const std::string v = grove::open_nursery([&](grove::nursery& n) {
      n.start_soon([&] { done = 1; });
      return std::string("body");
    });
    CHECK(v == "body");
    CHECK(done.load() == 1);
  });
}

TEST_CASE("one failing child: its exception is rethrown unchanged, the very same object") {
  run_on(2, [] {
    std::exception_ptr caught;
    const void* original = nullptr;
    try {
      grove::open_nursery([&](grove::nursery& n) {
        n.start_soon([&] {
          try {
            throw std::logic_error("same");
          } catch (const std::logic_error& e) {
            original = &e;
            throw;
          }
        });
      });
    } catch (const std::logic_error& e) {
      CHECK(&e == original);
      caught = std::current_exception();
    }
    CHECK(caught != nullptr);
  });
}

TEST_CASE("errors from many children are all collected, none lost") {
  run_on(2, [] {
    constexpr int failing = 200;
    try {
      grove::open_nursery([&](grove::nursery& n) {
        for (int i = 0; i < failing; ++i) {
          n.start_soon([i] { throw std::runtime_error(std::to_string(i)); });
        }
      });
      FAIL("no error surfaced");
    } catch (const grove::exception_group& group) {
      CHECK(group.exceptions().size() == failing);
      std::vector<bool> seen(failing, false);
      for (const auto& e : group.exceptions()) {
        try {
          std::rethrow_exception(e);
        } catch (const std::runtime_error& error) {
          seen[static_cast<std::size_t>(std::stoi(error.what()))] = true;
        }
      }
      for (bool s : seen) CHECK(s);
    }
  });
}

TEST_CASE("an error in the body is reported after the children finished") {
  run_on(2, [] {
    std::atomic<bool> child_done{false};
    CHECK_THROWS_AS(grove::open_nursery([&](grove::nursery& n) {
                      n.start_soon([&] { child_done = true; });
                      throw std::invalid_argument("body");
                    }),
                    std::invalid_argument);
    CHECK(child_done.load());
  });
}

TEST_CASE("a nested nursery's exception_group is one error of the outer nursery") {
  run_on(2, [] {
    try {
      grove::open_nursery([](grove::nursery& outer) {
        outer.start_soon([] {
          grove::open_nursery([](grove::nursery& inner) {
            inner.start_soon([] { throw std::runtime_error("a"); });
            inner.start_soon([] { throw std::runtime_error("b"); });
          });
        });
      });
      FAIL("no error");
    } catch (const grove::exception_group& group) {
      CHECK(group.exceptions().size() == 2);  // rethrown unchanged: the inner group itself
    }
  });
}

TEST_CASE("child_count counts children not yet finished") {
  run_on(1, [] {
    grove::open_nursery([](grove::nursery& n) {
      CHECK(n.child_count() == 0);
      n.start_soon([] {});
      n.start_soon([] {});
      CHECK(n.child_count() == 2);
    });
  });
}

TEST_CASE("children spawning into their own nursery are joined with the owner's children") {
  // The owner counts its own spawns and inline completions apart from everyone else's: a mix of
  // owner spawns, spawns by children (inline and parked ones), and children finishing on other
  // workers must still add up before the join returns; and a grandchild asking from another
  // worker while the owner folds its counts in must still count itself. Rounds, because that
  // race is narrow.
  for (int round = 0; round < 50; ++round) {
    const unsigned workers = round == 0 ? 1U : 2U;
    CAPTURE(workers);
    std::atomic<int> finished{0};
    std::atomic<int> seen_by_grandchildren{0};
    run_on(workers, [&] {
      grove::event go;
      grove::open_nursery([&](grove::nursery& n) {
        for (int i = 0; i < 200; ++i) {
          n.start_soon([&n, &go, &finished, &seen_by_grandchildren, i] {
            if (i % 2 == 0) go.wait();  // parks: ends off the owner's inline path
            for (int j = 0; j < 5; ++j) {
              n.start_soon([&n, &finished, &seen_by_grandchildren] {
                if (n.child_count() >= 1) seen_by_grandchildren.fetch_add(1);  // itself
                finished.fetch_add(1);
              });
            }
            finished.fetch_add(1);
          });
        }
        n.start_soon([&go] { go.set(); });
      });
      CHECK(finished.load() == 200 * 6);
    });
    CHECK(seen_by_grandchildren.load() == 1000);
  }
}

TEST_CASE("open_nursery and start need a task") {
  CHECK_THROWS_AS(grove::open_nursery([](grove::nursery&) {}), grove::usage_error);
}

TEST_CASE("the C++ exception state survives a park inside a catch block") {
  run_on(2, [] {
    bool rethrown = false;
    try {
      try {
        throw std::runtime_error("inner");
      } catch (const std::runtime_error&) {
        // Park (join a nursery whose children run elsewhere), then rethrow the caught exception.
        grove::open_nursery([](grove::nursery& n) {
          for (int i = 0; i < 64; ++i) n.start_soon([] { grove::checkpoint(); });
        });
        CHECK(std::uncaught_exceptions() == 0);
        throw;
      }
    } catch (const std::runtime_error& e) {
      rethrown = std::string(e.what()) == "inner";
    }
    CHECK(rethrown);
  });
}

TEST_CASE("join wake-ups are never lost under a storm of short nurseries") {
  std::atomic<long> total{0};
  run_on(2, [&] {
    for (int round = 0; round < 2000; ++round) {
      grove::open_nursery([&](grove::nursery& n) {
        for (int i = 0; i < 4; ++i) n.start_soon([&] { total.fetch_add(1); });
      });
    }
  });
  CHECK(total.load() == 8000);
}

TEST_CASE("dump_task_tree shows the nursery and a parked child") {
  grove::runtime rt{grove::runtime_options{.workers = 2}};
  rt.run([&] {
    grove::open_nursery([&](grove::nursery& n) {
      n.start_soon([] { grove::sleep_for(std::chrono::hours(1)); });
      // Let the child park, then look.
      while (rt.stats().parks == 0) grove::checkpoint();
      std::ostringstream out;
      grove::dump_task_tree(out);
      const std::string tree = out.str();
      CHECK(tree.find("root task") != std::string::npos);
      CHECK(tree.find("nursery (1 live child") != std::string::npos);
      CHECK(tree.find("parked on sleep") != std::string::npos);
      std::ostringstream from_outside;
      rt.dump_task_tree(from_outside);
      CHECK(from_outside.str().find("nursery") != std::string::npos);
      n.cancel_scope().cancel();
    });
  });
  CHECK_THROWS_AS(
      [] {
        std::ostringstream o;
        grove::dump_task_tree(o);
      }(),
      grove::usage_error);
}

TEST_CASE("state the nursery owns lives until every child has finished") {
  run_on(2, [] {
    auto destroyed_after_children = std::make_shared<std::atomic<int>>(0);
    struct shared_state {
      std::atomic<int> finished{0};
      std::shared_ptr<std::atomic<int>> report;
      explicit shared_state(std::shared_ptr<std::atomic<int>> r) : report(std::move(r)) {}
      ~shared_state() { report->store(finished.load()); }
    };
    grove::open_nursery([&](grove::nursery& n) {
      auto& state = n.emplace<shared_state>(destroyed_after_children);
      auto& limiter = n.emplace<grove::capacity_limiter>(2);
      for (int i = 0; i < 8; ++i) {
        n.start_soon([&state, &limiter] {
          grove::scoped_acquire token(limiter);
          grove::sleep_for(std::chrono::milliseconds(1));
          state.finished.fetch_add(1);
        });
      }
    });  // the body returned long before the children finished
    CHECK(destroyed_after_children->load() == 8);
  });
}

TEST_CASE("task ids in dump_task_tree are unique across workers") {
  run_on(2, [] {
    grove::event release;
    grove::open_nursery([&](grove::nursery& n) {
      // Spawned from two tasks so that both workers allocate records.
      for (int spawner = 0; spawner < 2; ++spawner) {
        n.start_soon([&] {
          for (int i = 0; i < 50; ++i) n.start_soon([&] { release.wait(); });
        });
      }
      std::string tree;
      for (;;) {
        std::ostringstream out;
        grove::dump_task_tree(out);
        tree = out.str();
        std::size_t parked = 0;
        for (auto at = tree.find("parked on grove::event::wait"); at != std::string::npos;
             at = tree.find("parked on grove::event::wait", at + 1)) {
          ++parked;
        }
        if (parked == 100) break;
        grove::checkpoint();
      }
      std::vector<std::string> ids;
      for (auto at = tree.find("task "); at != std::string::npos; at = tree.find("task ", at + 1)) {
        ids.push_back(tree.substr(at + 5, tree.find(':', at) - at - 5));
      }
      std::sort(ids.begin(), ids.end());
      CHECK(std::adjacent_find(ids.begin(), ids.end()) == ids.end());
      CHECK(ids.size() >= 100);
      release.set();
    });
  });
}
