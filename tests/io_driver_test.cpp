// Who runs the io_context (docs/reference.md §12): the io thread, or an idle worker while
// use_fiber operations are in flight; the io thread takes it back when every worker is busy, so
// deadlines and handlers keep running; many tasks passing it around lose no completion.
#include <doctest/doctest.h>
#include <pthread.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <grove/asio.hpp>
#include <grove/grove.hpp>
#include <string>

#include "support/parking.hpp"

namespace asio = boost::asio;
using namespace std::chrono_literals;
using grove_test::wait_until_parked;

namespace {

constexpr const char* asio_wait = "an Asio operation awaited with grove::use_fiber";

std::string this_thread_name() {
  char name[16] = {};
  ::pthread_getname_np(::pthread_self(), name, sizeof(name));
  return name;
}

// Where the next handler posted to `io` runs, seen from a task: the recording handler and the
// use_fiber completion posted after it run in order, by one thread at a time.
std::string where_handlers_run(asio::io_context& io) {
  std::string ran_on;
  asio::post(io, [&ran_on] { ran_on = this_thread_name(); });
  asio::post(io, grove::use_fiber);
  return ran_on;
}

// Posts until a worker runs the handlers (the io thread hands the io_context over once a worker
// asks; a few rounds at most) and returns the last thread name seen.
std::string wait_for_a_driving_worker(asio::io_context& io) {
  std::string ran_on = where_handlers_run(io);
  for (int round = 0; round < 1000 && ran_on.rfind("grove-w", 0) != 0; ++round) {
    ran_on = where_handlers_run(io);
  }
  return ran_on;
}

}  // namespace

TEST_CASE("with a use_fiber operation in flight, an idle worker runs the io_context") {
  grove::runtime rt{grove::runtime_options{.workers = 2}};
  rt.run([&] {
    asio::steady_timer forever(rt.io_context(), std::chrono::hours(1));
    grove::open_nursery([&](grove::nursery& n) {
      n.start_soon(
          [&] { CHECK_THROWS_AS(forever.async_wait(grove::use_fiber), grove::cancelled); });
      wait_until_parked(asio_wait);
      CHECK(wait_for_a_driving_worker(rt.io_context()).rfind("grove-w", 0) == 0);
      n.cancel_scope().cancel();
    });
  });
}

TEST_CASE("without use_fiber operations, the io thread runs the io_context") {
  grove::runtime rt{grove::runtime_options{.workers = 2}};
  std::string ran_on;
  std::atomic<bool> done{false};
  asio::post(rt.io_context(), [&] {
    ran_on = this_thread_name();
    done.store(true, std::memory_order_release);
    done.notify_one();
  });
  done.wait(false, std::memory_order_acquire);
  CHECK(ran_on == "grove-io");
}

TEST_CASE("every worker busy with I/O in flight: deadlines fire and posted handlers run") {
  grove::runtime rt{grove::runtime_options{.workers = 2}};
  rt.run([&] {
    asio::steady_timer forever(rt.io_context(), std::chrono::hours(1));
    std::atomic<int> deadlines_fired{0};
    std::atomic<bool> handler_ran{false};
    grove::open_nursery([&](grove::nursery& n) {
      n.start_soon(
          [&] { CHECK_THROWS_AS(forever.async_wait(grove::use_fiber), grove::cancelled); });
      wait_until_parked(asio_wait);
      grove::open_nursery([&](grove::nursery& busy) {
        // Both workers spin through checkpoints until their deadline cancels them: nobody is
        // idle to drive the io_context, so the io thread must take it back for the timers.
        for (int i = 0; i < 2; ++i) {
          busy.start_soon([&] {
            grove::move_on_after(20ms, [] {
              for (;;) grove::checkpoint();
            });
            deadlines_fired.fetch_add(1);
          });
        }
        busy.start_soon([&] {
          asio::post(rt.io_context(), [&] { handler_ran.store(true); });
          // Spins (with checkpoints) until the handler has run: only a driver can run it.
          grove::move_on_after(std::chrono::hours(1), [&] {
            while (!handler_ran.load()) grove::checkpoint();
          });
        });
      });
      n.cancel_scope().cancel();
    });
    CHECK(deadlines_fired.load() == 2);
    CHECK(handler_ran.load());
  });
}

TEST_CASE("many tasks passing the io_context around lose no completion") {
  grove::runtime rt{grove::runtime_options{.workers = 2}};
  constexpr int tasks = 16;
  constexpr int rounds = 300;
  std::atomic<int> completions{0};
  rt.run([&] {
    grove::open_nursery([&](grove::nursery& n) {
      for (int t = 0; t < tasks; ++t) {
        n.start_soon([&rt, &completions, t] {
          asio::steady_timer timer(rt.io_context());
          for (int r = 0; r < rounds; ++r) {
            if ((r + t) % 3 == 0) {
              timer.expires_after(std::chrono::microseconds((r * 7 + t) % 50));
              timer.async_wait(grove::use_fiber);
            } else {
              asio::post(rt.io_context(), grove::use_fiber);
            }
            if (r % 5 == 0) grove::checkpoint();
            completions.fetch_add(1, std::memory_order_relaxed);
          }
        });
      }
    });
  });
  CHECK(completions.load() == tasks * rounds);
  const grove::runtime_stats stats = rt.stats();
  CHECK(stats.tasks_spawned == stats.tasks_completed);
}

TEST_CASE("a runtime whose io_context a worker drives shuts down") {
  int driven_by_a_worker = 0;
  for (int i = 0; i < 20; ++i) {
    grove::runtime rt{grove::runtime_options{.workers = 2}};
    rt.run([&] {
      asio::steady_timer timer(rt.io_context(), std::chrono::hours(1));
      grove::open_nursery([&](grove::nursery& n) {
        n.start_soon(
            [&] { CHECK_THROWS_AS(timer.async_wait(grove::use_fiber), grove::cancelled); });
        wait_until_parked(asio_wait);
        if (wait_for_a_driving_worker(rt.io_context()).rfind("grove-w", 0) == 0) {
          ++driven_by_a_worker;
        }
        n.cancel_scope().cancel();
      });
    });
  }  // each destructor interrupts the driving worker and stops the io thread
  CHECK(driven_by_a_worker == 20);
}
