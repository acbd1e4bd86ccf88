// Boost.Asio from tasks (docs/reference.md §12): grove::use_fiber on timers, posts and loopback
// TCP sockets; cancellation through the per-operation slot; the error_code form; misuse.
#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <grove/asio.hpp>
#include <grove/grove.hpp>
#include <grove/testing.hpp>
#include <string>
#include <thread>
#include <vector>

#include "support/parking.hpp"
#include "support/runtime_fixture.hpp"

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using grove_test::wait_until_parked;

namespace {

constexpr const char* asio_wait = "an Asio operation awaited with grove::use_fiber";

// A listening socket on 127.0.0.1 with a kernel-chosen port.
tcp::acceptor loopback_acceptor(asio::io_context& io) {
  return tcp::acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
}

// A connected pair of loopback sockets, accepted and connected by two tasks.
struct socket_pair {
  tcp::socket client;
  tcp::socket server;
};

socket_pair connect_pair(asio::io_context& io) {
  tcp::acceptor acceptor = loopback_acceptor(io);
  tcp::socket client(io);
  tcp::socket server(io);
  grove::open_nursery([&](grove::nursery& n) {
    n.start_soon([&] { acceptor.async_accept(server, grove::use_fiber); });
    client.async_connect(acceptor.local_endpoint(), grove::use_fiber);
  });
  return {std::move(client), std::move(server)};
}

// Echoes what it reads until the peer closes.
void echo_until_closed(tcp::socket& socket) {
  std::array<char, 4096> buffer;
  for (;;) {
    boost::system::error_code ec;
    const std::size_t n = socket.async_read_some(asio::buffer(buffer), grove::use_fiber[ec]);
    if (ec == asio::error::eof) return;
    REQUIRE_FALSE(ec);
    asio::async_write(socket, asio::buffer(buffer.data(), n), grove::use_fiber);
  }
}

}  // namespace

TEST_CASE("use_fiber outside a task is a usage_error and starts nothing") {
  grove::runtime rt{grove::runtime_options{.workers = 1}};
  asio::steady_timer timer(rt.io_context(), std::chrono::hours(1));
  CHECK_THROWS_AS(timer.async_wait(grove::use_fiber), grove::usage_error);
  CHECK(timer.cancel() == 0);  // no wait was queued on the timer
}

TEST_CASE("a timer wait parks the task and returns when the timer fires") {
  grove::runtime rt{grove::runtime_options{.workers = 2}};
  rt.run([&] {
    asio::steady_timer timer(rt.io_context(), std::chrono::milliseconds(5));
    const auto start = std::chrono::steady_clock::now();
    timer.async_wait(grove::use_fiber);
    CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds(5));
  });
}

TEST_CASE("a posted completion with no result returns void") {
  grove::runtime rt{grove::runtime_options{.workers = 1}};
  int ran = 0;
  rt.run([&] {
    asio::post(rt.io_context(), grove::use_fiber);
    ++ran;
  });
  CHECK(ran == 1);
}

TEST_CASE("a parked Asio operation frees its worker for other tasks") {
  grove::runtime rt{grove::runtime_options{.workers = 1}};
  rt.run([&] {
    asio::steady_timer timer(rt.io_context(), std::chrono::hours(1));
    bool other_ran = false;
    grove::open_nursery([&](grove::nursery& n) {
      n.start_soon([&] { CHECK_THROWS_AS(timer.async_wait(grove::use_fiber), grove::cancelled); });
      n.start_soon([&] {
        wait_until_parked(asio_wait);
        other_ran = true;  // on the only worker, while the other task waits
        n.cancel_scope().cancel();
      });
    });
    CHECK(other_ran);
  });
}

TEST_CASE("cancelling the scope cancels a pending timer wait through its cancellation slot") {
  grove::runtime rt{grove::runtime_options{.workers = 2}};
  rt.run([&] {
    asio::steady_timer timer(rt.io_context(), std::chrono::hours(1));
    grove::cancel_scope scope;
    bool threw_cancelled = false;
    grove::open_nursery([&](grove::nursery& n) {
      n.start_soon([&] {
        scope.run([&] {
          try {
            timer.async_wait(grove::use_fiber);
          } catch (const grove::cancelled&) {
            threw_cancelled = true;
            throw;
          }
        });
      });
      wait_until_parked(asio_wait);
      scope.cancel();
    });
    CHECK(threw_cancelled);
    CHECK(scope.cancelled_caught());
    // The handler ran (with operation_aborted) and nothing waits on the timer any more.
    CHECK(timer.cancel() == 0);
  });
}

TEST_CASE("a use_fiber operation in a cancelled task throws cancelled before it starts") {
  grove::runtime rt{grove::runtime_options{.workers = 1}};
  rt.run([&] {
    asio::steady_timer timer(rt.io_context(), std::chrono::hours(1));
    grove::cancel_scope scope;
    scope.cancel();
    scope.run([&] { CHECK_THROWS_AS(timer.async_wait(grove::use_fiber), grove::cancelled); });
    CHECK(timer.cancel() == 0);
  });
}

TEST_CASE("echo over loopback with many concurrent connections") {
  grove::runtime rt{grove::runtime_options{.workers = 2}};
  constexpr int connections = 32;
  constexpr int messages = 20;
  std::atomic<int> verified{0};
  rt.run([&] {
    tcp::acceptor acceptor = loopback_acceptor(rt.io_context());
    const tcp::endpoint where = acceptor.local_endpoint();
    grove::open_nursery([&](grove::nursery& n) {
      // The server: a task per accepted connection.
      n.start_soon([&] {
        grove::open_nursery([&](grove::nursery& handlers) {
          for (int c = 0; c < connections; ++c) {
            auto socket = std::make_shared<tcp::socket>(acceptor.async_accept(grove::use_fiber));
            handlers.start_soon([socket] { echo_until_closed(*socket); });
          }
        });
      });
      for (int c = 0; c < connections; ++c) {
        n.start_soon([&, c] {
          tcp::socket socket(rt.io_context());
          socket.async_connect(where, grove::use_fiber);
          for (int m = 0; m < messages; ++m) {
            const std::string sent = "connection " + std::to_string(c) + " message " +
                                     std::to_string(m) + std::string(std::size_t(c * 37), 'x');
            asio::async_write(socket, asio::buffer(sent), grove::use_fiber);
            std::string received(sent.size(), '\0');
            asio::async_read(socket, asio::buffer(received), grove::use_fiber);
            REQUIRE(received == sent);
          }
          socket.shutdown(tcp::socket::shutdown_send);
          ++verified;
        });
      }
    });
  });
  CHECK(verified.load() == connections);
}

TEST_CASE("a pending read cancelled by move_on_after leaves the socket usable") {
  grove::runtime rt{grove::runtime_options{.workers = 2}};
  rt.run([&] {
    auto [client, server] = connect_pair(rt.io_context());
    std::array<char, 16> buffer{};
    const bool finished = grove::move_on_after(std::chrono::milliseconds(20), [&] {
      server.async_read_some(asio::buffer(buffer), grove::use_fiber);
    });
    CHECK_FALSE(finished);
    // The same socket reads what comes next.
    asio::async_write(client, asio::buffer(std::string("after")), grove::use_fiber);
    std::string received(5, '\0');
    asio::async_read(server, asio::buffer(received), grove::use_fiber);
    CHECK(received == "after");
  });
}

TEST_CASE("a read cancelled from another task returns promptly with cancelled") {
  grove::runtime rt{grove::runtime_options{.workers = 2}};
  rt.run([&] {
    auto [client, server] = connect_pair(rt.io_context());
    std::array<char, 16> buffer{};
    bool cancelled = false;
    grove::open_nursery([&](grove::nursery& n) {
      n.start_soon([&] {
        try {
          server.async_read_some(asio::buffer(buffer), grove::use_fiber);
        } catch (const grove::cancelled&) {
          cancelled = true;
          throw;
        }
      });
      wait_until_parked(asio_wait);
      n.cancel_scope().cancel();
    });
    CHECK(cancelled);
    CHECK(server.is_open());
  });
}

TEST_CASE("use_fiber[ec] reports failures through the error_code; use_fiber throws them") {
  grove::runtime rt{grove::runtime_options{.workers = 2}};
  rt.run([&] {
    auto [client, server] = connect_pair(rt.io_context());
    client.close();
    std::array<char, 16> buffer{};
    boost::system::error_code ec = asio::error::timed_out;
    const std::size_t n = server.async_read_some(asio::buffer(buffer), grove::use_fiber[ec]);
    CHECK(ec == asio::error::eof);
    CHECK(n == 0);

    // A refused connection: throws system_error, or reports through ec.
    tcp::endpoint closed_port;
    {
      tcp::acceptor probe = loopback_acceptor(rt.io_context());
      closed_port = probe.local_endpoint();
    }
    tcp::socket socket(rt.io_context());
    CHECK_THROWS_AS(socket.async_connect(closed_port, grove::use_fiber),
                    boost::system::system_error);
    tcp::socket again(rt.io_context());
    again.async_connect(closed_port, grove::use_fiber[ec]);
    CHECK(ec == asio::error::connection_refused);
    // Success clears ec.
    asio::post(rt.io_context(), grove::use_fiber[ec]);
    CHECK_FALSE(ec);
  });
}

TEST_CASE("graceful shutdown: cancelling the server's scope closes every open connection") {
  grove::runtime rt{grove::runtime_options{.workers = 2}};
  constexpr int connections = 8;
  std::atomic<int> handlers_ended{0};
  rt.run([&] {
    tcp::acceptor acceptor = loopback_acceptor(rt.io_context());
    std::vector<tcp::socket> clients;
    grove::open_nursery([&](grove::nursery& n) {
      n.start_soon([&] {
        grove::open_nursery([&](grove::nursery& handlers) {
          for (;;) {
            auto socket = std::make_shared<tcp::socket>(acceptor.async_accept(grove::use_fiber));
            handlers.start_soon([socket, &handlers_ended] {
              struct count_end {
                std::atomic<int>& ended;
                ~count_end() { ++ended; }
              } counted{handlers_ended};
              echo_until_closed(*socket);
            });
          }
        });
      });
      for (int c = 0; c < connections; ++c) {
        clients.emplace_back(rt.io_context());
        clients.back().async_connect(acceptor.local_endpoint(), grove::use_fiber);
      }
      // The acceptor and every handler are parked in reads.
      wait_until_parked(asio_wait, connections + 1);
      n.cancel_scope().cancel();
    });
    CHECK(handlers_ended.load() == connections);
    // Every server-side socket is closed: each client reads end-of-file.
    for (tcp::socket& client : clients) {
      std::array<char, 4> buffer{};
      boost::system::error_code ec;
      client.async_read_some(asio::buffer(buffer), grove::use_fiber[ec]);
      CHECK(ec == asio::error::eof);
    }
  });
}

TEST_CASE("under a mock clock, a deadline around a pending read fires in virtual time") {
  grove::testing::mock_clock clock;
  clock.set_autojump_threshold(std::chrono::milliseconds(0));
  grove::runtime rt{grove::runtime_options{.workers = 2, .virtual_clock = &clock}};
  rt.run([&] {
    auto [client, server] = connect_pair(rt.io_context());
    std::array<char, 16> buffer{};
    const auto start = std::chrono::steady_clock::now();
    const bool finished = grove::move_on_after(std::chrono::hours(1), [&] {
      server.async_read_some(asio::buffer(buffer), grove::use_fiber);
    });
    CHECK_FALSE(finished);
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::minutes(10));
  });
}
