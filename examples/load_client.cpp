// A load generator for echo_server: C connections to 127.0.0.1, each a grove task that sends M
// messages of S bytes one at a time and checks every echoed byte. It stops by itself (a bounded
// count, and --timeout bounds the time), exits 1 on any mismatch, failure or timeout, and
// reports requests/s and the p50/p99 round-trip latency.
//
//   load_client [--port 7000] [--connections 50] [--messages 1000] [--size 64] [--timeout 60]
#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <cstdio>
#include <grove/asio.hpp>
#include <grove/grove.hpp>
#include <iostream>
#include <mutex>
#include <string>
#include <vector>

#include "example_support.hpp"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using seconds = std::chrono::duration<double>;

struct load_settings {
  unsigned port = 7000;
  unsigned connections = 50;
  unsigned messages = 1000;
  unsigned size = 64;
  unsigned timeout_seconds = 60;
};

// Message m of connection c: bytes a mix-up on the server (or a lost chunk) cannot reproduce.
void fill_message(std::string& out, unsigned connection, unsigned message) {
  std::uint32_t x = connection * 2654435761u ^ (message + 1) * 40503u;
  for (char& byte : out) {
    x = x * 1664525u + 1013904223u;
    byte = static_cast<char>(x >> 24);
  }
}

// One connection's round trips; its latencies are appended to `latencies`.
void drive_connection(asio::io_context& io, const load_settings& settings, unsigned connection,
                      std::vector<double>& latencies) {
  tcp::socket socket(io);
  socket.async_connect(
      tcp::endpoint(asio::ip::address_v4::loopback(), static_cast<unsigned short>(settings.port)),
      grove::use_fiber);
  socket.set_option(tcp::no_delay(true));
  std::string sent(settings.size, '\0');
  std::string received(settings.size, '\0');
  latencies.reserve(settings.messages);
  for (unsigned m = 0; m < settings.messages; ++m) {
    fill_message(sent, connection, m);
    const auto start = std::chrono::steady_clock::now();
    asio::async_write(socket, asio::buffer(sent), grove::use_fiber);
    asio::async_read(socket, asio::buffer(received), grove::use_fiber);
    latencies.push_back(seconds(std::chrono::steady_clock::now() - start).count());
    if (received != sent) {
      throw std::runtime_error("connection " + std::to_string(connection) + ", message " +
                               std::to_string(m) + ": the echo differs from what was sent");
    }
  }
}

double percentile(const std::vector<double>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto at = static_cast<std::size_t>(p * static_cast<double>(sorted.size() - 1));
  return sorted[at];
}

}  // namespace

int main(int argc, char** argv) {
  load_settings settings;
  unsigned workers = 0;
  CLI::App app{"Opens connections to an echo server on 127.0.0.1 and checks every echoed byte.",
               "load_client"};
  app.add_option("--port", settings.port, "the server's TCP port on 127.0.0.1")
      ->check(CLI::Range(1, 65535))
      ->capture_default_str();
  app.add_option("--connections", settings.connections, "connections at once")
      ->check(example::positive_integer())
      ->capture_default_str();
  app.add_option("--messages", settings.messages, "round trips per connection")
      ->check(example::positive_integer())
      ->capture_default_str();
  app.add_option("--size", settings.size, "bytes per message")
      ->check(example::positive_integer())
      ->capture_default_str();
  app.add_option("--timeout", settings.timeout_seconds, "seconds before giving up")
      ->check(example::positive_integer())
      ->capture_default_str();
  app.add_option("--workers", workers, "worker threads (0: one per CPU)")
      ->check(example::non_negative_integer())
      ->capture_default_str();
  example::parse_or_exit(app, argc, argv);

  grove::runtime rt{grove::runtime_options{.workers = workers}};
  std::vector<std::vector<double>> latencies(settings.connections);
  const auto start = std::chrono::steady_clock::now();
  try {
    rt.run([&] {
      grove::fail_after(std::chrono::seconds(settings.timeout_seconds), [&] {
        grove::open_nursery([&](grove::nursery& n) {
          for (unsigned c = 0; c < settings.connections; ++c) {
            n.start_soon([&, c] { drive_connection(rt.io_context(), settings, c, latencies[c]); });
          }
        });
      });
    });
  } catch (const grove::too_slow_error&) {
    std::cerr << "load_client: not done after " << settings.timeout_seconds << " s\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "load_client: " << e.what() << "\n";
    return 1;
  }
  const double elapsed = seconds(std::chrono::steady_clock::now() - start).count();

  std::vector<double> all;
  for (const auto& one : latencies) all.insert(all.end(), one.begin(), one.end());
  std::sort(all.begin(), all.end());
  std::printf(
      "%zu round trips of %u bytes over %u connections in %.3f s: %.0f requests/s, "
      "p50 %.1f us, p99 %.1f us; every byte verified\n",
      all.size(), settings.size, settings.connections, elapsed,
      static_cast<double>(all.size()) / elapsed, percentile(all, 0.50) * 1e6,
      percentile(all, 0.99) * 1e6);
  return 0;
}
