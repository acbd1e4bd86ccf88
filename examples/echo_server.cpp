// A TCP echo server on 127.0.0.1: a nursery for the listener, a task per connection, a
// capacity_limiter on concurrent connections, an idle timeout per connection (move_on_after),
// and graceful shutdown: SIGINT or SIGTERM cancels the root scope, every connection closes, and
// the program exits 0.
//
//   echo_server [--port 7000] [--max-connections 1024] [--idle-timeout 30] [--workers N]
//
// --port 0 lets the kernel choose; the first line printed names the port either way.
#include <signal.h>

#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <grove/asio.hpp>
#include <grove/grove.hpp>
#include <iostream>

#include "example_support.hpp"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

struct server_settings {
  unsigned port = 7000;
  unsigned max_connections = 1024;
  unsigned idle_timeout_seconds = 30;  // 0: none
};

struct server_counts {
  std::atomic<std::uint64_t> connections{0};
  std::atomic<std::uint64_t> timed_out{0};
  std::atomic<std::uint64_t> failed{0};
};

// Echoes until the peer closes, goes quiet for the idle timeout, or fails. Returns normally in
// all three cases: one connection's trouble is never its siblings'.
void serve_connection(tcp::socket socket, const server_settings& settings, server_counts& counts) {
  std::array<char, 64 * 1024> buffer;
  const auto idle = settings.idle_timeout_seconds == 0
                        ? std::chrono::seconds::max()
                        : std::chrono::seconds(settings.idle_timeout_seconds);
  try {
    for (;;) {
      boost::system::error_code ec;
      // One read and the write of what it read must finish within the idle timeout: a peer
      // that stops reading our replies is as idle as one that stops sending.
      const bool in_time = grove::move_on_after(idle, [&] {
        const std::size_t n = socket.async_read_some(asio::buffer(buffer), grove::use_fiber[ec]);
        if (!ec) asio::async_write(socket, asio::buffer(buffer.data(), n), grove::use_fiber[ec]);
      });
      if (!in_time) {
        ++counts.timed_out;
        return;
      }
      if (ec == asio::error::eof) return;  // the peer closed (or half-closed) its side
      if (ec) {
        ++counts.failed;  // reset, broken pipe: this connection only
        return;
      }
    }
  } catch (const boost::system::system_error&) {
    ++counts.failed;
  }
}

// Accepts forever. Each connection's task takes a limiter token before it accepts, so at the
// limit the listener stops accepting (the kernel's backlog holds new peers) instead of piling up
// connections it cannot serve.
void listen(tcp::acceptor& acceptor, grove::capacity_limiter& limiter,
            const server_settings& settings, server_counts& counts) {
  grove::open_nursery([&](grove::nursery& connections) {
    for (;;) {
      connections.start([&](grove::task_status<>& status) {
        grove::scoped_acquire token(limiter);
        tcp::socket socket = acceptor.async_accept(grove::use_fiber);
        ++counts.connections;
        status.started();  // the listener goes on to the next accept
        serve_connection(std::move(socket), settings, counts);
      });
    }
  });
}

}  // namespace

int main(int argc, char** argv) {
  server_settings settings;
  unsigned workers = 0;
  CLI::App app{"A TCP echo server on 127.0.0.1, a grove task per connection.", "echo_server"};
  app.add_option("--port", settings.port, "TCP port on 127.0.0.1 (0: the kernel chooses)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option("--max-connections", settings.max_connections, "connections served at once")
      ->check(example::positive_integer())
      ->capture_default_str();
  app.add_option("--idle-timeout", settings.idle_timeout_seconds,
                 "seconds a connection may stay quiet before it is closed (0: never)")
      ->check(example::non_negative_integer())
      ->capture_default_str();
  app.add_option("--workers", workers, "worker threads (0: one per CPU)")
      ->check(example::non_negative_integer())
      ->capture_default_str();
  example::parse_or_exit(app, argc, argv);

  grove::runtime rt{grove::runtime_options{.workers = workers}};
  tcp::acceptor acceptor(rt.io_context());
  try {
    const tcp::endpoint where(asio::ip::address_v4::loopback(),
                              static_cast<unsigned short>(settings.port));
    acceptor.open(where.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(where);
    acceptor.listen();
  } catch (const boost::system::system_error& e) {
    std::cerr << "echo_server: cannot listen on 127.0.0.1:" << settings.port << ": "
              << e.code().message() << "\n";
    return 1;
  }
  std::cout << "listening on 127.0.0.1:" << acceptor.local_endpoint().port() << std::endl;

  server_counts counts;
  grove::capacity_limiter limiter(settings.max_connections);
  asio::signal_set stop_signals(rt.io_context(), SIGINT, SIGTERM);
  rt.run([&] {
    grove::open_nursery([&](grove::nursery& n) {
      n.start_soon([&] { listen(acceptor, limiter, settings, counts); });
      n.start_soon([&] {
        const int signal_number = stop_signals.async_wait(grove::use_fiber);
        std::cout << "echo_server: " << (signal_number == SIGINT ? "SIGINT" : "SIGTERM")
                  << ", closing every connection" << std::endl;
        n.cancel_scope().cancel();
      });
    });
  });
  std::cout << "echo_server: served " << counts.connections.load() << " connections ("
            << counts.timed_out.load() << " idle timeouts, " << counts.failed.load() << " failed)"
            << std::endl;
  return 0;
}
