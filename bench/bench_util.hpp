// Helpers shared by the benchmark programs: peak/current RSS from /proc/self/status, resetting
// the peak, process CPU time, running a measurement in a forked child so that its memory (and its
// threads) are its own, and timing a task-parallel call with per-task counters.
#pragma once

#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <optional>
#include <string>
#include <type_traits>

namespace bench {

// A field of /proc/self/status in KiB ("VmHWM", "VmRSS"); 0 when it cannot be read.
inline double status_kib(const char* field) {
  std::ifstream in("/proc/self/status");
  std::string line;
  const std::string key = std::string(field) + ":";
  while (std::getline(in, line)) {
    if (line.compare(0, key.size(), key) == 0) return std::stod(line.substr(key.size()));
  }
  return 0;
}
inline double peak_rss_mib() { return status_kib("VmHWM") / 1024.0; }
inline double rss_mib() { return status_kib("VmRSS") / 1024.0; }

// Resets VmHWM to the current RSS (Linux >= 4.0: "5" > /proc/self/clear_refs).
inline bool reset_peak_rss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return static_cast<bool>(out);
}

// User + system CPU time of the whole process, in milliseconds.
inline double process_cpu_ms() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  auto ms = [](const timeval& t) { return t.tv_sec * 1e3 + t.tv_usec / 1e3; };
  return ms(usage.ru_utime) + ms(usage.ru_stime);
}

inline double ns_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - start).count();
}

// Runs fn() in a forked child and returns what it returned (a trivially copyable struct), or
// nullopt if the child failed. Only call this from a process that has no other threads.
template <class F>
auto run_forked(F&& fn) -> std::optional<std::invoke_result_t<F>> {
  using result = std::invoke_result_t<F>;
  static_assert(std::is_trivially_copyable_v<result>);
  int fds[2];
  if (::pipe(fds) != 0) return std::nullopt;
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return std::nullopt;
  if (pid == 0) {
    ::close(fds[0]);
    const result r = fn();
    const ssize_t written = ::write(fds[1], &r, sizeof r);
    ::_exit(written == static_cast<ssize_t>(sizeof r) ? 0 : 1);
  }
  ::close(fds[1]);
  result r{};
  std::size_t got = 0;
  while (got < sizeof r) {
    const ssize_t n = ::read(fds[0], reinterpret_cast<char*>(&r) + got, sizeof r - got);
    if (n <= 0) break;
    got += static_cast<std::size_t>(n);
  }
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (got != sizeof r || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return r;
}

// Runs `once` per iteration and reports ns per task (tasks = spawns per call), tasks per second
// (a Google Benchmark rate counter) and peak RSS. The benchmarks use UseManualTime: the time
// Google Benchmark reports is that of `once` alone.
template <class F>
void measure_tasks(benchmark::State& state, long tasks, long expected, F&& once) {
  reset_peak_rss();
  const double rss_before = rss_mib();
  double total_ns = 0;
  for (auto _ : state) {
    const auto start = std::chrono::steady_clock::now();
    const long r = once();
    const double ns = ns_since(start);
    state.SetIterationTime(ns / 1e9);
    total_ns += ns;
    benchmark::DoNotOptimize(r);
    if (r != expected) {
      state.SkipWithError("wrong result");
      break;
    }
  }
  state.counters["tasks"] = static_cast<double>(tasks);
  state.counters["tasks_per_s"] =
      benchmark::Counter(static_cast<double>(tasks), benchmark::Counter::kIsIterationInvariantRate);
  state.counters["ns_per_task"] =
      total_ns / (static_cast<double>(state.iterations()) * static_cast<double>(tasks));
  state.counters["peak_rss_MiB"] = peak_rss_mib();
  state.counters["rss_growth_MiB"] = peak_rss_mib() - rss_before;
}

}  // namespace bench
