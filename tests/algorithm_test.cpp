// parallel_for and parallel_reduce (docs/reference.md §7, §10 rule 8).
#include <doctest/doctest.h>

#include <atomic>
#include <grove/grove.hpp>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "support/runtime_fixture.hpp"

using grove_test::run_on;

TEST_CASE_TEMPLATE("parallel_for visits every index of uneven ranges exactly once", I, int, long,
                   std::size_t) {
  run_on(2, [] {
    for (I size : {I(0), I(1), I(2), I(7), I(1000), I(100003)}) {
      std::vector<std::atomic<int>> hits(static_cast<std::size_t>(size) + 10);
      grove::parallel_for(I(10), I(size + 10), [&](I i) { hits[static_cast<std::size_t>(i)]++; });
      std::size_t wrong = 0;
      for (std::size_t k = 0; k < hits.size(); ++k) wrong += hits[k].load() != (k >= 10 ? 1 : 0);
      CHECK(wrong == 0);
    }
  });
}

TEST_CASE("parallel_for's range form covers the range with disjoint sub-ranges") {
  run_on(2, [] {
    std::vector<std::atomic<int>> hits(50000);
    std::atomic<int> calls{0};
    grove::parallel_for(0, 50000, [&](int b, int e) {
      calls++;
      if (b >= e) calls += 1000000;
      for (int i = b; i < e; ++i) hits[static_cast<std::size_t>(i)]++;
    });
    std::size_t wrong = 0;
    for (auto& h : hits) wrong += h.load() != 1;
    CHECK(wrong == 0);
    CHECK(calls.load() >= 1);
  });
}

TEST_CASE("an explicit grain is the smallest sub-range, the last may be shorter") {
  run_on(2, [] {
    std::atomic<int> too_small{0};
    grove::parallel_for(
        0, 1003,
        [&](int b, int e) {
          if (e - b < 10 && e != 1003) too_small++;
        },
        10);
    CHECK(too_small.load() == 0);
  });
}

TEST_CASE("parallel_for over random-access iterators") {
  run_on(2, [] {
    std::vector<int> v(10007, 1);
    grove::parallel_for(v.begin(), v.end(), [](std::vector<int>::iterator it) { *it *= 3; });
    CHECK(std::accumulate(v.begin(), v.end(), 0) == 3 * 10007);
  });
}

TEST_CASE("parallel_reduce equals the serial result and keeps range order") {
  run_on(2, [] {
    const long n = 200000;
    const long sum = grove::parallel_reduce(
        0L, n, 0L,
        [](long b, long e) {
          long s = 0;
          for (long i = b; i < e; ++i) s += i;
          return s;
        },
        [](long a, long b) { return a + b; });
    CHECK(sum == n * (n - 1) / 2);
    // Non-commutative but associative: concatenation must come out in index order.
    const std::string text = grove::parallel_reduce(
        0, 2000, std::string(),
        [](int b, int e) {
          std::string s;
          for (int i = b; i < e; ++i) s += static_cast<char>('a' + i % 26);
          return s;
        },
        [](std::string a, const std::string& b) { return a + b; }, 7);
    std::string expected;
    for (int i = 0; i < 2000; ++i) expected += static_cast<char>('a' + i % 26);
    CHECK(text == expected);
  });
}

TEST_CASE("empty and one-element ranges") {
  run_on(2, [] {
    int calls = 0;
    grove::parallel_for(5, 5, [&](int) { calls++; });
    CHECK(calls == 0);
    grove::parallel_for(5, 6, [&](int i) { calls += i; });
    CHECK(calls == 5);
    CHECK(grove::parallel_reduce(
              3, 3, 42, [](int, int) { return 1; }, [](int a, int b) { return a + b; }) == 42);
  });
}

TEST_CASE("exceptions from several sub-ranges are all collected") {
  run_on(2, [] {
    try {
      grove::parallel_for(
          0, 64, [](int i) { throw std::runtime_error(std::to_string(i)); }, 1);
      FAIL("nothing thrown");
    } catch (const grove::exception_group& group) {
      CHECK(group.exceptions().size() >= 2);
    } catch (const std::runtime_error&) {
      // A single failing piece can win if the others were cancelled first: still reported.
      CHECK(true);
    }
  });
}

TEST_CASE("one failing sub-range is rethrown unchanged") {
  run_on(2, [] {
    CHECK_THROWS_WITH_AS(grove::parallel_for(0, 1000,
                                             [](int i) {
                                               if (i == 500)
                                                 throw std::invalid_argument("five hundred");
                                             }),
                         "five hundred", std::invalid_argument);
  });
}

TEST_CASE("cancellation stops a loop mid-way") {
  run_on(2, [] {
    std::atomic<int> done{0};
    grove::cancel_scope scope;
    scope.run([&](grove::cancel_scope& s) {
      grove::parallel_for(
          0, 1000000,
          [&](int i) {
            if (i == 1000) s.cancel();
            done++;
          },
          100);
    });
    CHECK(scope.cancelled_caught());
    CHECK(done.load() < 1000000);
  });
}

TEST_CASE("a cancelled task's parallel_for throws without running the body") {
  run_on(1, [] {
    grove::cancel_scope scope;
    scope.cancel();
    int calls = 0;
    CHECK_FALSE(scope.run([&] { grove::parallel_for(0, 10, [&](int) { calls++; }); }));
    CHECK(calls == 0);
  });
}

TEST_CASE("algorithms need a task and a non-reversed range") {
  CHECK_THROWS_AS(grove::parallel_for(0, 10, [](int) {}), grove::usage_error);
  CHECK_THROWS_AS(grove::parallel_reduce(
                      0, 10, 0, [](int, int) { return 0; }, [](int a, int) { return a; }),
                  grove::usage_error);
  run_on(1, [] { CHECK_THROWS_AS(grove::parallel_for(10, 0, [](int) {}), grove::usage_error); });
}
