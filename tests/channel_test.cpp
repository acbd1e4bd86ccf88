// Memory channels (docs/reference.md §6, §10 rules 4, 5, 6): order, back-pressure, rendezvous,
// closing, FIFO service of blocked ends, foreign threads, and cancellation that never
// half-delivers.
#include <doctest/doctest.h>

#include <atomic>
#include <grove/grove.hpp>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "support/parking.hpp"
#include "support/runtime_fixture.hpp"

using grove_test::run_on;
using grove_test::wait_until_parked;

// The ends are named through references rather than structured bindings, which lambdas cannot
// capture before clang 16.

// ---- order, capacity, value types ----

TEST_CASE("values arrive in send order through a bounded channel") {
  run_on(2, [] {
    auto channel = grove::open_channel<int>(4);
    auto& tx = channel.first;
    auto& rx = channel.second;
    std::vector<int> got;
    grove::open_nursery([&](grove::nursery& n) {
      n.start_soon([&] {
        for (int i = 0; i < 1000; ++i) tx.send(i);
        tx.close();
      });
      for (int v : rx) got.push_back(v);
    });
    REQUIRE(got.size() == 1000);
    for (int i = 0; i < 1000; ++i) CHECK(got[static_cast<std::size_t>(i)] == i);
  });
}

TEST_CASE("a full buffer blocks send and a failing try_send leaves its argument untouched") {
  run_on(2, [] {
    auto channel = grove::open_channel<std::unique_ptr<int>>(2);
    auto& tx = channel.first;
    auto& rx = channel.second;
    CHECK(tx.try_send(std::make_unique<int>(1)));
    tx.send(std::make_unique<int>(2));
    auto third = std::make_unique<int>(3);
    CHECK_FALSE(tx.try_send(std::move(third)));
    REQUIRE(third != nullptr);
    CHECK(*third == 3);
    grove::open_nursery([&](grove::nursery& n) {
      n.start_soon([&] { tx.send(std::move(third)); });
      wait_until_parked("grove::sender::send");
      CHECK(*rx.receive() == 1);  // frees a place: the blocked value moves in behind 2
    });
    CHECK(*rx.receive() == 2);
    CHECK(*rx.receive() == 3);
    CHECK_FALSE(rx.try_receive().has_value());
  });
}

TEST_CASE("an unbounded channel never blocks its senders") {
  run_on(1, [] {
    auto channel = grove::open_channel<std::string>(grove::unbounded);
    auto& tx = channel.first;
    auto& rx = channel.second;
    for (int i = 0; i < 10000; ++i) tx.send(std::to_string(i));
    tx.close();
    int expected = 0;
    for (std::string& s : rx) CHECK(s == std::to_string(expected++));
    CHECK(expected == 10000);
  });
}

TEST_CASE("a rendezvous channel passes values only to a waiting receiver") {
  run_on(2, [] {
    auto channel = grove::open_channel<std::unique_ptr<int>>(0);
    auto& tx = channel.first;
    auto& rx = channel.second;
    auto value = std::make_unique<int>(7);
    CHECK_FALSE(tx.try_send(std::move(value)));  // nobody waits
    CHECK(value != nullptr);
    CHECK_FALSE(rx.try_receive().has_value());
    grove::open_nursery([&](grove::nursery& n) {
      n.start_soon([&] { CHECK(*rx.receive() == 7); });
      wait_until_parked("grove::receiver::receive");
      CHECK(tx.try_send(std::move(value)));
      CHECK(value == nullptr);
      n.start_soon([&] { tx.send(std::make_unique<int>(8)); });
      wait_until_parked("grove::sender::send");
      CHECK(*rx.try_receive().value() == 8);  // taken straight from the blocked sender
    });
  });
}

// ---- many ends ----

TEST_CASE("many producers and consumers receive every value exactly once") {
  run_on(2, [] {
    constexpr int producers = 4;
    constexpr int per_producer = 2000;
    auto channel = grove::open_channel<long>(8);
    auto& tx = channel.first;
    auto& rx = channel.second;
    std::atomic<long> count{0};
    std::atomic<long> sum{0};
    grove::open_nursery([&](grove::nursery& n) {
      for (int p = 0; p < producers; ++p) {
        n.start_soon(
            [p](grove::sender<long> out) {
              for (long i = 0; i < per_producer; ++i) out.send(p * per_producer + i);
            },
            tx.clone());
      }
      for (int c = 0; c < 3; ++c) {
        n.start_soon(
            [&](grove::receiver<long> in) {
              for (long v : in) {
                ++count;
                sum += v;
              }
            },
            rx.clone());
      }
      tx.close();
      rx.close();
    });
    constexpr long total = producers * per_producer;
    CHECK(count.load() == total);
    CHECK(sum.load() == total * (total - 1) / 2);
  });
}

TEST_CASE("blocked receivers are served in FIFO order") {
  run_on(2, [] {
    auto channel = grove::open_channel<int>(0);
    auto& tx = channel.first;
    auto& rx = channel.second;
    std::vector<int> got(6, -1);
    grove::open_nursery([&](grove::nursery& n) {
      for (int i = 0; i < 6; ++i) {
        n.start_soon([&, i] { got[static_cast<std::size_t>(i)] = rx.receive(); });
        wait_until_parked("grove::receiver::receive", static_cast<std::size_t>(i) + 1);
      }
      for (int i = 0; i < 6; ++i) tx.send(i);
    });
    CHECK(got == std::vector<int>{0, 1, 2, 3, 4, 5});
  });
}

TEST_CASE("blocked senders are served in FIFO order") {
  run_on(2, [] {
    auto channel = grove::open_channel<int>(1);
    auto& tx = channel.first;
    auto& rx = channel.second;
    tx.send(-1);
    grove::open_nursery([&](grove::nursery& n) {
      for (int i = 0; i < 6; ++i) {
        n.start_soon([&, i] { tx.send(i); });
        wait_until_parked("grove::sender::send", static_cast<std::size_t>(i) + 1);
      }
      for (int i = -1; i < 6; ++i) CHECK(rx.receive() == i);
    });
  });
}

// ---- closing ----

TEST_CASE("closing the last sender lets receivers drain, then end_of_channel") {
  run_on(2, [] {
    auto channel = grove::open_channel<int>(4);
    auto& tx = channel.first;
    auto& rx = channel.second;
    auto extra = tx.clone();
    tx.send(1);
    tx.send(2);
    tx.close();
    CHECK(rx.receive() == 1);  // a clone still holds the side open
    extra.close();
    CHECK(rx.try_receive() == 2);
    CHECK_THROWS_AS(rx.receive(), grove::end_of_channel);
    CHECK_THROWS_AS(rx.try_receive(), grove::end_of_channel);
  });
}

TEST_CASE("closing the last sender wakes blocked receivers with end_of_channel") {
  run_on(2, [] {
    auto channel = grove::open_channel<int>(0);
    auto& tx = channel.first;
    auto& rx = channel.second;
    std::atomic<int> ended{0};
    grove::open_nursery([&](grove::nursery& n) {
      for (int i = 0; i < 3; ++i) {
        n.start_soon(
            [&](grove::receiver<int> in) {
              CHECK_THROWS_AS(in.receive(), grove::end_of_channel);
              ++ended;
            },
            rx.clone());
      }
      wait_until_parked("grove::receiver::receive", 3);
      tx.close();
    });
    CHECK(ended.load() == 3);
  });
}

TEST_CASE("closing the last receiver breaks blocked and later sends") {
  run_on(2, [] {
    auto channel = grove::open_channel<int>(0);
    auto& tx = channel.first;
    auto& rx = channel.second;
    std::atomic<int> broken{0};
    grove::open_nursery([&](grove::nursery& n) {
      for (int i = 0; i < 3; ++i) {
        n.start_soon(
            [&, i](grove::sender<int> out) {
              CHECK_THROWS_AS(out.send(i), grove::broken_resource_error);
              ++broken;
            },
            tx.clone());
      }
      wait_until_parked("grove::sender::send", 3);
      { auto gone = std::move(rx); }  // destroying the last receiver closes it
    });
    CHECK(broken.load() == 3);
    CHECK_THROWS_AS(tx.send(4), grove::broken_resource_error);
    CHECK_THROWS_AS(tx.try_send(4), grove::broken_resource_error);
  });
}

TEST_CASE("a handle used after its own close throws closed_resource_error") {
  run_on(1, [] {
    auto channel = grove::open_channel<int>(1);
    auto& tx = channel.first;
    auto& rx = channel.second;
    auto rx2 = rx.clone();
    tx.close();
    tx.close();  // a second close is a no-op
    rx.close();
    CHECK_THROWS_AS(tx.send(1), grove::closed_resource_error);
    CHECK_THROWS_AS(tx.try_send(1), grove::closed_resource_error);
    CHECK_THROWS_AS(tx.clone(), grove::closed_resource_error);
    CHECK_THROWS_AS(rx.receive(), grove::closed_resource_error);
    CHECK_THROWS_AS(rx.try_receive(), grove::closed_resource_error);
    CHECK_THROWS_AS(rx.clone(), grove::closed_resource_error);
    CHECK_THROWS_AS(rx2.receive(), grove::end_of_channel);  // the clone is still open
  });
}

// ---- threads and tasks ----

TEST_CASE("try_send and try_receive work from a foreign thread and wake parked tasks") {
  auto channel = grove::open_channel<int>(0);  // opening works anywhere
  auto& tx = channel.first;
  auto& rx = channel.second;
  auto back_channel = grove::open_channel<int>(1);
  auto& back_tx = back_channel.first;
  auto& back_rx = back_channel.second;
  std::thread helper;
  run_on(2, [&] {
    grove::open_nursery([&](grove::nursery& n) {
      n.start_soon([&] { back_tx.send(rx.receive() * 2); });
      wait_until_parked("grove::receiver::receive");
      helper = std::thread([&] {
        CHECK(tx.try_send(21));
        std::optional<int> answer;
        while (!answer) answer = back_rx.try_receive();  // the task answers soon
        CHECK(*answer == 42);
      });
    });
  });
  helper.join();
}

TEST_CASE("send and receive need a task; the non-blocking operations do not") {
  auto channel = grove::open_channel<int>(2);
  auto& tx = channel.first;
  auto& rx = channel.second;
  CHECK_THROWS_AS(tx.send(1), grove::usage_error);
  CHECK_THROWS_AS(rx.receive(), grove::usage_error);
  CHECK(tx.try_send(1));
  CHECK(rx.try_receive() == 1);
  auto tx2 = tx.clone();
  tx2.close();
  tx.close();
  CHECK_THROWS_AS(rx.try_receive(), grove::end_of_channel);
}

// ---- cancellation ----

TEST_CASE("a send in a cancelled task throws without sending, even with room") {
  run_on(1, [] {
    auto channel = grove::open_channel<int>(4);
    auto& tx = channel.first;
    auto& rx = channel.second;
    grove::cancel_scope scope;
    scope.cancel();
    CHECK_FALSE(scope.run([&] { tx.send(1); }));
    CHECK_FALSE(rx.try_receive().has_value());
    tx.send(2);
    grove::cancel_scope again;
    again.cancel();
    CHECK_FALSE(again.run([&] { (void)rx.receive(); }));  // not taken either
    CHECK(rx.try_receive() == 2);
  });
}

TEST_CASE("cancelled blocked senders and receivers leave without a value") {
  run_on(2, [] {
    auto channel = grove::open_channel<int>(0);
    auto& tx = channel.first;
    auto& rx = channel.second;
    grove::open_nursery([&](grove::nursery& n) {
      n.start_soon([&] { tx.send(1); });
      wait_until_parked("grove::sender::send");
      n.cancel_scope().cancel();
    });
    CHECK_FALSE(rx.try_receive().has_value());  // the cancelled send delivered nothing
    grove::open_nursery([&](grove::nursery& n) {
      n.start_soon([&] { (void)rx.receive(); });
      wait_until_parked("grove::receiver::receive");
      n.cancel_scope().cancel();
    });
    CHECK_FALSE(tx.try_send(3));  // no receiver is left waiting
    grove::open_nursery([&](grove::nursery& n) {
      n.start_soon([&] { tx.send(4); });
      CHECK(rx.receive() == 4);  // the channel still works
    });
  });
}

TEST_CASE("when cancellation races with receiving, every value is delivered or kept, never both") {
  run_on(2, [] {
    for (int round = 0; round < 20; ++round) {
      constexpr int senders = 60;
      auto channel = grove::open_channel<int>(round % 2);  // rendezvous and a buffer of one
      auto& tx = channel.first;
      auto& rx = channel.second;
      std::vector<std::atomic<int>> sent(senders);  // 1: send returned normally
      std::vector<int> received(senders, 0);
      grove::cancel_scope sending;
      std::thread canceller;
      grove::open_nursery([&](grove::nursery& n) {
        n.start_soon([&] {
          sending.run([&] {
            grove::open_nursery([&](grove::nursery& inner) {
              for (int i = 0; i < senders; ++i) {
                inner.start_soon([&, i] {
                  tx.send(i);
                  sent[static_cast<std::size_t>(i)] = 1;
                });
              }
            });
          });
          tx.close();
        });
        for (int k = 0; k < senders / 2; ++k) ++received[static_cast<std::size_t>(rx.receive())];
        canceller = std::thread([&] { sending.cancel(); });
        try {
          for (int v : rx) ++received[static_cast<std::size_t>(v)];
        } catch (...) {
          FAIL("receiving failed");
        }
      });
      canceller.join();
      for (int i = 0; i < senders; ++i) {
        CHECK(received[static_cast<std::size_t>(i)] == sent[static_cast<std::size_t>(i)].load());
      }
    }
  });
}

TEST_CASE("a moved-from or closed handle's error names the call and says which it was") {
  grove_test::run_on(1, [] {
    auto [tx, rx] = grove::open_channel<int>(4);
    grove::sender<int> moved_to = std::move(tx);
    CHECK_THROWS_WITH_AS(tx.send(1),
                         "grove::sender::send: this handle was moved from (use the "
                         "handle it was moved to, or a clone)",
                         grove::closed_resource_error);
    moved_to.close();
    CHECK_THROWS_WITH_AS(moved_to.clone(),
                         "grove::sender::clone: this handle was used after its own close()",
                         grove::closed_resource_error);
    grove::receiver<int> other = std::move(rx);
    CHECK_THROWS_WITH_AS(rx.try_receive(), doctest::Contains("grove::receiver::try_receive"),
                         grove::closed_resource_error);
    CHECK_THROWS_AS(other.receive(), grove::end_of_channel);  // every sender is closed
  });
}
