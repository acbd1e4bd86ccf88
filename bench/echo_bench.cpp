// TCP echo over loopback: grove (a task per connection, grove::use_fiber) against the same server
// written with Boost.Asio C++20 coroutines (asio::awaitable, one io_context per thread), in the
// same process run. Both serve the same load: C client connections, each doing M ping-pong
// round trips of S bytes, driven by one plain-Asio client thread. Reported: requests/s and the
// p50/p99 round-trip latency. Also the hand-off cost: a task awaiting asio::post(use_fiber).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <grove/asio.hpp>
#include <grove/grove.hpp>
#include <memory>
#include <stdexcept>
#include <thread>
#include <vector>

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;

constexpr int connections = 32;
constexpr int round_trips = 500;  // per connection
constexpr std::size_t message_size = 64;
constexpr unsigned server_threads = 2;  // grove workers / Asio io_contexts

tcp::acceptor loopback_acceptor(asio::io_context& io) {
  return tcp::acceptor(io, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
}

// ---- the load: one client thread, C coroutine connections, latencies per round trip ----

struct load_result {
  double seconds = 0;
  std::vector<double> latencies;  // seconds, sorted
};

asio::awaitable<void> client_connection(tcp::endpoint server, std::vector<double>& latencies) {
  tcp::socket socket(co_await asio::this_coro::executor);
  co_await socket.async_connect(server, asio::use_awaitable);
  socket.set_option(tcp::no_delay(true));
  std::array<char, message_size> sent{};
  std::array<char, message_size> received{};
  for (int i = 0; i < round_trips; ++i) {
    sent[0] = static_cast<char>(i);
    const auto start = steady::now();
    co_await asio::async_write(socket, asio::buffer(sent), asio::use_awaitable);
    co_await asio::async_read(socket, asio::buffer(received), asio::use_awaitable);
    latencies.push_back(std::chrono::duration<double>(steady::now() - start).count());
    if (received != sent) throw std::runtime_error("echo mismatch");
  }
}

load_result drive_load(tcp::endpoint server) {
  // One thread for the whole load, the same for both servers.
  asio::io_context io(1);
  std::vector<std::vector<double>> per_connection(connections);
  std::exception_ptr failure;
  for (auto& latencies : per_connection) {
    latencies.reserve(round_trips);
    asio::co_spawn(io, client_connection(server, latencies), [&](std::exception_ptr e) {
      if (e && !failure) failure = e;
    });
  }
  const auto start = steady::now();
  io.run();
  load_result result;
  result.seconds = std::chrono::duration<double>(steady::now() - start).count();
  if (failure) std::rethrow_exception(failure);
  for (auto& latencies : per_connection) {
    result.latencies.insert(result.latencies.end(), latencies.begin(), latencies.end());
  }
  std::sort(result.latencies.begin(), result.latencies.end());
  return result;
}

// Every iteration's round trips, reported once after the loop.
class load_totals {
 public:
  void add(benchmark::State& state, load_result&& load) {
    state.SetIterationTime(load.seconds);
    seconds_ += load.seconds;
    latencies_.insert(latencies_.end(), load.latencies.begin(), load.latencies.end());
  }
  void report(benchmark::State& state) {
    std::sort(latencies_.begin(), latencies_.end());
    auto at = [&](double p) {
      return latencies_[static_cast<std::size_t>(p * static_cast<double>(latencies_.size() - 1))] *
             1e6;
    };
    state.counters["requests_per_s"] = static_cast<double>(latencies_.size()) / seconds_;
    state.counters["p50_us"] = at(0.50);
    state.counters["p99_us"] = at(0.99);
  }

 private:
  double seconds_ = 0;
  std::vector<double> latencies_;
};

// ---- grove: a nursery for the listener, a task per connection ----

void grove_echo(tcp::socket& socket) {
  std::array<char, 4096> buffer;
  for (;;) {
    boost::system::error_code ec;
    const std::size_t n = socket.async_read_some(asio::buffer(buffer), grove::use_fiber[ec]);
    if (ec) return;
    asio::async_write(socket, asio::buffer(buffer.data(), n), grove::use_fiber[ec]);
    if (ec) return;
  }
}

void BM_echo_grove(benchmark::State& state) {
  grove::runtime rt{grove::runtime_options{.workers = server_threads}};
  tcp::acceptor acceptor = loopback_acceptor(rt.io_context());
  const tcp::endpoint where = acceptor.local_endpoint();
  load_totals totals;
  for (auto _ : state) {
    load_result load;
    rt.run([&] {
      grove::open_nursery([&](grove::nursery& n) {
        n.start_soon([&] {
          grove::open_nursery([&](grove::nursery& handlers) {
            for (int c = 0; c < connections; ++c) {
              auto socket = std::make_shared<tcp::socket>(acceptor.async_accept(grove::use_fiber));
              socket->set_option(tcp::no_delay(true));
              handlers.start_soon([socket] { grove_echo(*socket); });
            }
          });
        });
        load = grove::to_thread([&] { return drive_load(where); });
      });
    });
    totals.add(state, std::move(load));
  }
  totals.report(state);
}

// ---- Asio coroutines: one io_context per thread, connections dealt round robin ----

asio::awaitable<void> coroutine_echo(tcp::socket socket) {
  std::array<char, 4096> buffer;
  for (;;) {
    auto [ec, n] =
        co_await socket.async_read_some(asio::buffer(buffer), asio::as_tuple(asio::use_awaitable));
    if (ec) co_return;
    auto [write_ec, written] = co_await asio::async_write(socket, asio::buffer(buffer.data(), n),
                                                          asio::as_tuple(asio::use_awaitable));
    if (write_ec) co_return;
    (void)written;
  }
}

asio::awaitable<void> coroutine_listener(tcp::acceptor& acceptor,
                                         std::vector<std::unique_ptr<asio::io_context>>& ios) {
  for (int c = 0; c < connections; ++c) {
    asio::io_context& home = *ios[static_cast<std::size_t>(c) % ios.size()];
    tcp::socket socket = co_await acceptor.async_accept(home, asio::use_awaitable);
    socket.set_option(tcp::no_delay(true));
    asio::co_spawn(home, coroutine_echo(std::move(socket)), asio::detached);
  }
}

void BM_echo_asio_coroutines(benchmark::State& state) {
  std::vector<std::unique_ptr<asio::io_context>> ios;
  for (unsigned i = 0; i < server_threads; ++i)
    ios.push_back(std::make_unique<asio::io_context>(1));
  tcp::acceptor acceptor = loopback_acceptor(*ios[0]);
  const tcp::endpoint where = acceptor.local_endpoint();
  load_totals totals;
  for (auto _ : state) {
    asio::co_spawn(*ios[0], coroutine_listener(acceptor, ios), asio::detached);
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> keep_running;
    std::vector<std::thread> threads;
    for (auto& io : ios) {
      keep_running.push_back(asio::make_work_guard(*io));
      threads.emplace_back([&io] { io->run(); });
    }
    load_result load = drive_load(where);
    keep_running.clear();
    for (auto& t : threads) t.join();  // each io_context runs out of work as its sockets close
    for (auto& io : ios) io->restart();
    totals.add(state, std::move(load));
  }
  totals.report(state);
}

// ---- the hand-off: a task awaiting a completion that the I/O thread runs ----

void BM_use_fiber_post_round_trip(benchmark::State& state) {
  grove::runtime rt{grove::runtime_options{.workers = 1}};
  for (auto _ : state) {
    constexpr int posts = 10'000;
    double seconds = 0;
    rt.run([&] {
      const auto start = steady::now();
      for (int i = 0; i < posts; ++i) asio::post(rt.io_context(), grove::use_fiber);
      seconds = std::chrono::duration<double>(steady::now() - start).count();
    });
    state.SetIterationTime(seconds);
    state.counters["ns_per_round_trip"] = seconds * 1e9 / posts;
  }
}

}  // namespace

BENCHMARK(BM_echo_grove)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK(BM_echo_asio_coroutines)->UseManualTime()->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK(BM_use_fiber_post_round_trip)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond)
    ->Iterations(5);

BENCHMARK_MAIN();
