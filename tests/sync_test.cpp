// Synchronisation: event, mutex, semaphore, capacity_limiter, condition_variable (docs/reference.md
// §5, §10 rules 4, 5, 7): waking, FIFO service, foreign threads, cancellation of parked waiters.
#include <doctest/doctest.h>

#include <atomic>
#include <grove/grove.hpp>
#include <mutex>
#include <thread>
#include <vector>

#include "support/parking.hpp"
#include "support/runtime_fixture.hpp"
#include "support/watchdog.hpp"

using grove_test::run_on;
using grove_test::run_with_watchdog;
using grove_test::wait_until_parked;

// Starts `count` copies of `waiter` inside the scope `doomed` (in a nursery of their own) and
// `count` outside it, in `n`. `doomed` and `waiter` must outlive the nursery `n`.
template <class F>
void start_inside_and_outside(grove::nursery& n, grove::cancel_scope& doomed, int count,
                              F& waiter) {
  n.start_soon([&doomed, &waiter, count] {
    doomed.run([&] {
      grove::open_nursery([&](grove::nursery& inner) {
        for (int i = 0; i < count; ++i) inner.start_soon(waiter);
      });
    });
  });
  for (int i = 0; i < count; ++i) n.start_soon(waiter);
}

// ---- event ----

TEST_CASE("an event wakes every waiting task when set") {
  run_on(2, [] {
    grove::event ready;
    std::atomic<int> woken{0};
    grove::open_nursery([&](grove::nursery& n) {
      for (int i = 0; i < 20; ++i) {
        n.start_soon([&] {
          ready.wait();
          ++woken;
        });
      }
      wait_until_parked("grove::event::wait", 20);
      CHECK(woken.load() == 0);
      CHECK_FALSE(ready.is_set());
      ready.set();
    });
    CHECK(woken.load() == 20);
    ready.wait();  // set: returns at once
    CHECK(ready.is_set());
  });
}

TEST_CASE("an event set from a foreign thread wakes a parked task") {
  run_on(2, [] {
    grove::event ready;
    std::thread setter;
    grove::open_nursery([&](grove::nursery& n) {
      n.start_soon([&] { ready.wait(); });
      wait_until_parked("grove::event::wait");
      setter = std::thread([&] { ready.set(); });
    });
    setter.join();
    CHECK(ready.is_set());
  });
}

TEST_CASE("waiting on a set event in a cancelled task throws cancelled") {
  run_on(1, [] {
    grove::event ready;
    ready.set();
    grove::cancel_scope scope;
    bool returned = false;
    scope.run([&](grove::cancel_scope& s) {
      s.cancel();
      ready.wait();
      returned = true;
    });
    CHECK_FALSE(returned);
    CHECK(scope.cancelled_caught());
  });
}

TEST_CASE("cancelled event waiters leave and the event stays usable") {
  run_on(2, [] {
    grove::event never;
    std::atomic<int> cancelled{0};
    grove::open_nursery([&](grove::nursery& n) {
      for (int i = 0; i < 10; ++i) {
        n.start_soon([&] {
          try {
            never.wait();
          } catch (const grove::cancelled&) {
            ++cancelled;
            throw;
          }
        });
      }
      wait_until_parked("grove::event::wait", 10);
      n.cancel_scope().cancel();
    });
    CHECK(cancelled.load() == 10);
    grove::open_nursery([&](grove::nursery& n) {
      n.start_soon([&] { never.wait(); });
      wait_until_parked("grove::event::wait");
      never.set();
    });
  });
}

TEST_CASE("an event set while some waiters are cancelled wakes each waiter exactly once") {
  run_on(2, [] {
    for (int round = 0; round < 30; ++round) {
      grove::event ready;
      grove::event go;
      grove::cancel_scope doomed;
      std::atomic<int> woken{0};
      std::atomic<int> cancelled{0};
      auto waiter = [&] {
        try {
          ready.wait();
          ++woken;
        } catch (const grove::cancelled&) {
          ++cancelled;
          throw;
        }
      };
      grove::open_nursery([&](grove::nursery& n) {
        start_inside_and_outside(n, doomed, 20, waiter);
        n.start_soon([&] {
          go.wait();
          ready.set();  // on the other worker, racing with the cancel below
        });
        wait_until_parked("grove::event::wait", 40);
        go.set();
        doomed.cancel();
      });
      // The 20 outside the doomed scope were set free; each doomed one either way, once.
      CHECK(woken.load() >= 20);
      CHECK(woken.load() + cancelled.load() == 40);
    }
  });
}

TEST_CASE("event wait needs a task; set and is_set work anywhere") {
  grove::event e;
  CHECK_THROWS_AS(e.wait(), grove::usage_error);
  CHECK_FALSE(e.is_set());
  e.set();
  e.set();  // idempotent
  CHECK(e.is_set());
  CHECK_THROWS_AS(e.wait(), grove::usage_error);  // even when it would not wait
}

// ---- semaphore ----

TEST_CASE("a semaphore counts tokens and try_acquire takes one while any is left") {
  grove::semaphore sem(2);  // outside a task: construction, try_acquire, release, value
  CHECK(sem.value() == 2);
  CHECK(sem.try_acquire());
  CHECK(sem.try_acquire());
  CHECK_FALSE(sem.try_acquire());
  sem.release();
  CHECK(sem.value() == 1);
  CHECK_THROWS_AS(sem.acquire(), grove::usage_error);
  CHECK(sem.value() == 1);
}

TEST_CASE("a semaphore bounds how many tasks are inside at once") {
  run_on(2, [] {
    grove::semaphore sem(3);
    std::atomic<int> inside{0};
    std::atomic<int> most{0};
    grove::open_nursery([&](grove::nursery& n) {
      for (int i = 0; i < 50; ++i) {
        n.start_soon([&] {
          sem.acquire();
          const int now = ++inside;
          for (int seen = most.load(); now > seen && !most.compare_exchange_weak(seen, now);) {
          }
          grove::checkpoint();
          --inside;
          sem.release();
        });
      }
    });
    CHECK(most.load() <= 3);
    CHECK(sem.value() == 3);
  });
}

TEST_CASE("semaphore waiters get released tokens in FIFO order") {
  run_on(2, [] {
    grove::semaphore sem(0);
    std::vector<int> order;
    grove::open_nursery([&](grove::nursery& n) {
      for (int i = 0; i < 8; ++i) {
        n.start_soon([&, i] {
          sem.acquire();
          order.push_back(i);  // one token at a time: no data race
          sem.release();
        });
        wait_until_parked("grove::semaphore::acquire", static_cast<std::size_t>(i) + 1);
      }
      sem.release();
    });
    CHECK(order == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7});
  });
}

TEST_CASE("a semaphore released from a foreign thread wakes a parked task") {
  run_on(2, [] {
    grove::semaphore sem(0);
    std::thread releaser;
    grove::open_nursery([&](grove::nursery& n) {
      n.start_soon([&] { sem.acquire(); });
      wait_until_parked("grove::semaphore::acquire");
      releaser = std::thread([&] { sem.release(); });
    });
    releaser.join();
    CHECK(sem.value() == 0);
  });
}

TEST_CASE("a cancelled acquire takes no token and the semaphore stays usable") {
  run_on(2, [] {
    grove::semaphore sem(0);
    grove::open_nursery([&](grove::nursery& n) {
      n.start_soon([&] { sem.acquire(); });
      wait_until_parked("grove::semaphore::acquire");
      n.cancel_scope().cancel();
    });
    sem.release();
    CHECK(sem.value() == 1);
    sem.acquire();
    CHECK(sem.value() == 0);
    grove::cancel_scope scope;
    scope.cancel();
    sem.release();
    CHECK_FALSE(scope.run([&] { sem.acquire(); }));  // a checkpoint even with a token free
    CHECK(sem.value() == 1);
  });
}

TEST_CASE("tokens are neither lost nor duplicated when releases race with cancellation") {
  run_on(2, [] {
    for (int round = 0; round < 20; ++round) {
      grove::semaphore sem(0);
      std::atomic<int> acquired{0};
      grove::cancel_scope waiters;
      std::thread releaser;
      grove::open_nursery([&](grove::nursery& n) {
        n.start_soon([&] {
          waiters.run([&] {
            grove::open_nursery([&](grove::nursery& inner) {
              for (int i = 0; i < 40; ++i) {
                inner.start_soon([&] {
                  sem.acquire();
                  ++acquired;
                });
              }
            });
          });
        });
        wait_until_parked("grove::semaphore::acquire", 40);
        releaser = std::thread([&] {
          for (int i = 0; i < 20; ++i) sem.release();
        });
        waiters.cancel();
      });
      releaser.join();
      CHECK(static_cast<std::size_t>(acquired.load()) + sem.value() == 20);
    }
  });
}

// ---- condition_variable ----

TEST_CASE("notify_one wakes a waiter that returns holding the mutex") {
  run_on(2, [] {
    grove::mutex m;
    grove::condition_variable cv;
    std::vector<int> queue;
    int consumed = 0;
    grove::open_nursery([&](grove::nursery& n) {
      n.start_soon([&] {
        for (int i = 0; i < 100; ++i) {
          std::unique_lock lock(m);
          cv.wait(lock, [&] { return !queue.empty(); });
          CHECK_THROWS_AS(m.try_lock(), grove::usage_error);  // held by this task again
          consumed += queue.back();
          queue.pop_back();
        }
      });
      for (int i = 1; i <= 100; ++i) {
        {
          std::scoped_lock lock(m);
          queue.push_back(i);
        }
        cv.notify_one();
        grove::checkpoint();
      }
    });
    CHECK(consumed == 5050);
  });
}

TEST_CASE("notify_one wakes condition_variable waiters in FIFO order") {
  run_on(2, [] {
    grove::mutex m;
    grove::condition_variable cv;
    std::vector<int> order;  // guarded by m
    auto woken = [&] {
      std::scoped_lock lock(m);
      return order.size();
    };
    grove::open_nursery([&](grove::nursery& n) {
      for (int i = 0; i < 6; ++i) {
        n.start_soon([&, i] {
          std::unique_lock lock(m);
          cv.wait(lock);
          order.push_back(i);
        });
        wait_until_parked("grove::condition_variable::wait", static_cast<std::size_t>(i) + 1);
      }
      for (std::size_t k = 1; k <= 6; ++k) {
        cv.notify_one();
        while (woken() != k) grove::checkpoint();
      }
    });
    CHECK(order == std::vector<int>{0, 1, 2, 3, 4, 5});
  });
}

TEST_CASE("notify_all from a foreign thread wakes every waiter") {
  run_on(2, [] {
    grove::mutex m;
    grove::condition_variable cv;
    bool go = false;
    std::atomic<int> woken{0};
    std::thread notifier;
    grove::open_nursery([&](grove::nursery& n) {
      for (int i = 0; i < 10; ++i) {
        n.start_soon([&] {
          std::unique_lock lock(m);
          cv.wait(lock, [&] { return go; });
          ++woken;
        });
      }
      wait_until_parked("grove::condition_variable::wait", 10);
      {
        std::scoped_lock lock(m);
        go = true;
      }
      notifier = std::thread([&] { cv.notify_all(); });
    });
    notifier.join();
    CHECK(woken.load() == 10);
  });
}

TEST_CASE("a cancelled condition_variable wait re-acquires the mutex before throwing") {
  run_on(2, [] {
    grove::mutex m;
    grove::condition_variable cv;
    bool canceller_done = false;  // guarded by m
    grove::cancel_scope scope;
    grove::open_nursery([&](grove::nursery& n) {
      n.start_soon([&] {
        std::unique_lock lock(m);
        CHECK_FALSE(scope.run([&] { cv.wait(lock); }));
        CHECK(lock.owns_lock());
        CHECK_THROWS_AS(m.try_lock(), grove::usage_error);  // this task holds it
        CHECK(canceller_done);                              // it waited for the canceller to unlock
      });
      wait_until_parked("grove::condition_variable::wait");
      std::scoped_lock lock(m);
      scope.cancel();
      wait_until_parked("grove::mutex::lock");
      canceller_done = true;
    });
    cv.notify_all();  // the cancelled waiter left the queue: nothing to wake
  });
}

TEST_CASE("notify_all racing with cancellation leaves the wait queue sound for later waiters") {
  // A doomed waiter whose cancellation wins while notify_all walks the queue is linked back for
  // its owner to remove; a stale link there would lose or corrupt later waiters.
  run_with_watchdog(2, [] {
    for (int round = 0; round < 40; ++round) {
      grove::mutex m;
      grove::condition_variable cv;
      int generation = 0;  // guarded by m
      grove::cancel_scope doomed;
      std::atomic<bool> notifier_ready{false};
      std::atomic<bool> start{false};
      std::atomic<int> woken{0};
      std::atomic<int> cancelled{0};
      auto waiter = [&] {
        std::unique_lock lock(m);
        const int seen = generation;
        try {
          while (generation == seen) cv.wait(lock);
          ++woken;
        } catch (const grove::cancelled&) {
          ++cancelled;
          throw;
        }
      };
      auto notify = [&] {
        {
          std::scoped_lock lock(m);
          ++generation;
        }
        cv.notify_all();
      };
      grove::open_nursery([&](grove::nursery& n) {
        start_inside_and_outside(n, doomed, 50, waiter);
        wait_until_parked("grove::condition_variable::wait", 100);
        n.start_soon([&] {
          notifier_ready = true;
          while (!start.load()) grove::checkpoint();
          cv.notify_all();  // on the other worker, most rounds: races with the cancel below
          notify();         // the spurious wake-up above re-queued the free waiters
        });
        while (!notifier_ready.load()) grove::checkpoint();
        start = true;
        doomed.cancel();
      });
      CHECK(woken.load() >= 50);
      CHECK(woken.load() + cancelled.load() == 100);
      // Waiters queued after the race are all found by the next notify_all.
      woken = 0;
      grove::open_nursery([&](grove::nursery& n) {
        for (int i = 0; i < 5; ++i) n.start_soon(waiter);
        wait_until_parked("grove::condition_variable::wait", 5);
        notify();
      });
      CHECK(woken.load() == 5);
    }
  });
}

TEST_CASE("condition_variable wait needs a task and a mutex held by it") {
  grove::mutex m;
  grove::condition_variable cv;
  std::unique_lock<grove::mutex> unlocked(m, std::defer_lock);
  CHECK_THROWS_AS(cv.wait(unlocked), grove::usage_error);
  cv.notify_one();  // any thread
  cv.notify_all();
  run_on(1, [&] {
    std::unique_lock<grove::mutex> lock(m, std::defer_lock);
    CHECK_THROWS_AS(cv.wait(lock), grove::usage_error);
  });
}
