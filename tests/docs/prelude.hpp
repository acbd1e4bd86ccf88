// Stand-ins for the helpers the documentation's code blocks call without defining them
// (fetch(url), serve(port), x and y arrays, ...), and the harness that runs each block.
#pragma once

#include <Eigen/Dense>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <exception>
#include <functional>
#include <grove/grove.hpp>
#include <iostream>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

using namespace std::chrono_literals;

namespace grove_docs {

inline int failures = 0;

// The runtime the fragments run on (the guide's `rt`).
inline grove::runtime& rt_instance() {
  static grove::runtime runtime{grove::runtime_options{.workers = 2}};
  return runtime;
}
inline grove::runtime& rt = rt_instance();

inline std::string url = "https://example.org/";
inline std::vector<std::string> urls = {"https://example.org/a", "https://example.org/b",
                                        "https://example.org/c", "https://example.org/d",
                                        "https://example.org/e", "https://example.org/f"};
inline void download(std::string where) {
  grove::sleep_for(std::chrono::microseconds(where.size()));
}
inline std::string fetch(const std::string& where) {
  grove::sleep_for(100us);
  return "<html>" + where + "</html>";
}
inline void fetch_everything() {
  for (const auto& u : urls) fetch(u);
}
inline void parse(const std::string& page) {
  if (page.empty()) throw std::runtime_error("empty page");
}
inline int bind_listener() { return 8080; }
inline void serve(int) { grove::checkpoint(); }
inline void serve_forever() { grove::sleep_for(std::chrono::hours(1)); }
inline void wait_for_ctrl_c() {}
struct connection_stand_in {
  void close_gracefully() { grove::sleep_for(1ms); }
};
inline connection_stand_in connection;

inline constexpr int n = 1000;
inline double x_storage[n];
inline double y_storage[n];
inline double* x = x_storage;
inline double* y = y_storage;
inline double f(double v) { return v * 2; }
inline void kernel(const double* in, double* out, int count) {
  for (int i = 0; i < count; ++i) out[i] = in[i] + 1;
}

inline Eigen::VectorXd v = Eigen::VectorXd::LinSpaced(10, 0, 9);
inline Eigen::MatrixXd m = Eigen::MatrixXd::Ones(16, 4);
inline Eigen::VectorXd big = Eigen::VectorXd::Ones(1 << 16);

inline void report_failure(const char* where, const char* what) {
  std::fprintf(stderr, "%s: the documented code failed: %s\n", where, what);
  ++failures;
}

template <class F>
void run_program(const char* where, F&& program) {
  try {
    if (program() != 0) report_failure(where, "main() returned non-zero");
  } catch (const std::exception& e) {
    report_failure(where, e.what());
  }
}

inline void run_fragment(const char* where, void (*body)()) {
  try {
    rt.run(body);
  } catch (const std::exception& e) {
    report_failure(where, e.what());
  }
}

inline int report() {
  std::printf("documentation code blocks: %d failed\n", failures);
  return failures == 0 ? 0 : 1;
}

}  // namespace grove_docs
