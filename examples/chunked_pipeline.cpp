// The seed article's trio pipeline, natively and in parallel with grove:
//
//   async def heavy_compute(data_chunk):
//       await trio.sleep(0)
//       return np.sum(np.random.rand(N, N) * data_chunk)
//   async with trio.open_nursery() as nursery:
//       for chunk in np.array_split(data, 8):
//           nursery.start_soon(heavy_compute, chunk)
//
// Each chunk's random matrix is generated as it is consumed, 16 values at a time in SIMD registers
// (see pipeline_kernel.hpp), so memory stays at one copy of the chunk per task instead of
// N x N x chunks doubles. --json prints the run as one JSON object
// instead of the text report (bench/seed_python/side_by_side.py reads it).
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <grove/eigen.hpp>
#include <grove/grove.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <vector>

#include "blas_info.hpp"
#include "example_support.hpp"
#include "pipeline_flags.hpp"
#include "pipeline_kernel.hpp"

namespace {

struct settings : pipeline::flags {
  int repeat = 3;
  bool json = false;
  std::string trace;  // non-empty: write a Perfetto / chrome://tracing trace of the runs there
};

settings parse(int argc, char** argv) {
  settings s;
  CLI::App app{
      "The seed article's trio pipeline with grove: each of C chunks computes "
      "sum(rand(N, len(chunk)) * chunk) in its own task.",
      "chunked_pipeline"};
  pipeline::add_flags(app, s, "grove workers (0: the CPUs this process may use)");
  app.add_option("--repeat", s.repeat, "runs per measurement (median and spread are printed)")
      ->check(example::positive_integer())
      ->capture_default_str();
  app.add_option("--trace", s.trace,
                 "write a trace of the parallel runs there (Chrome trace-event JSON: open it in "
                 "ui.perfetto.dev or chrome://tracing)");
  app.add_flag("--json", s.json,
               "print one JSON object instead of the report: {\"n\", \"chunks\", \"workers\", "
               "\"total\", \"seconds\" (median, parallel), \"serial_seconds\", ...}");
  example::parse_or_exit(app, argc, argv);
  return s;
}

class progress_bar {
 public:
  progress_bar(long total, bool enabled) : total_(total), enabled_(enabled) {}
  void chunk_done() {
    if (!enabled_) return;
    // Counted and printed under one lock, so that the lines come out in order ("8/8" last).
    std::lock_guard guard(mutex_);
    const long done = ++done_;
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    const int width = 30;
    const int filled = static_cast<int>(width * done / total_);
    std::fprintf(stderr, "\r[%.*s%*s] %ld/%ld chunks  %.1fs", filled,
                 "##############################", width - filled, "", done, total_, elapsed);
    if (done == total_) std::fputc('\n', stderr);
  }

 private:
  long total_;
  bool enabled_;
  long done_ = 0;  // guarded by mutex_
  std::mutex mutex_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

// The pipeline: one task per chunk in a nursery; returns each chunk's result.
std::vector<double> run_pipeline(grove::runtime& rt, const Eigen::ArrayXd& data, const settings& s,
                                 progress_bar* progress) {
  return rt.run([&] {
    std::vector<double> results(static_cast<std::size_t>(s.chunks));
    auto chunks = grove::eigen::array_split(data, static_cast<std::size_t>(s.chunks));
    grove::open_nursery([&](grove::nursery& nursery) {
      for (std::size_t k = 0; k < chunks.size(); ++k) {
        nursery.start_soon(grove::task_name{"chunk"}, [&, k] {
          grove::checkpoint();  // the seed's `await trio.sleep(0)`
          results[k] = pipeline::chunk_result(chunks[k], s.n, s.seed, k);
          if (progress != nullptr) progress->chunk_done();
        });
      }
    });
    return results;  // every chunk has finished here: no task outlives the nursery
  });
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  const settings s = parse(argc, argv);
  const Eigen::ArrayXd data = pipeline::make_data(s);

  std::unique_ptr<grove::runtime> traced_or_not;
  try {
    traced_or_not = std::make_unique<grove::runtime>(
        grove::runtime_options{.workers = s.workers, .trace_path = s.trace});
  } catch (const std::system_error& e) {
    std::fprintf(stderr, "chunked_pipeline: %s\n", e.what());
    return 1;
  }
  grove::runtime& rt = *traced_or_not;
  const unsigned workers = rt.worker_count();
  if (!s.json) {
    std::printf(
        "grove chunked pipeline: %ld chunks, each sum(rand(%ld, %ld) * chunk), %u workers\n",
        s.chunks, s.n, s.n, workers);
    std::printf(
        "(random matrices are generated as they are consumed: %.0f KiB in use instead of %.0f "
        "MiB)\n",
        static_cast<double>(s.n) * 8.0 * static_cast<double>(workers) / 1024.0,
        static_cast<double>(s.n) * static_cast<double>(s.n) * 8.0 * static_cast<double>(s.chunks) /
            (1 << 20));
    std::printf("kernels: %s\n", example::blas_description().c_str());
  }

  // The first run shows progress on a terminal; the repeats only time.
  progress_bar progress(s.chunks, !s.json && ::isatty(STDERR_FILENO) != 0);
  const auto first_start = std::chrono::steady_clock::now();
  const std::vector<double> results = run_pipeline(rt, data, s, &progress);
  const double first_seconds = seconds_since(first_start);
  double total = 0.0;
  for (const double r : results) total += r;

  grove::runtime one{grove::runtime_options{.workers = 1}};
  bool same = true;
  example::timing parallel{first_seconds, 0};
  if (s.repeat > 1) {
    parallel = example::measure(
        s.repeat, [&] { same = same && run_pipeline(rt, data, s, nullptr) == results; });
  }
  const example::timing serial = example::measure(
      s.repeat, [&] { same = same && run_pipeline(one, data, s, nullptr) == results; });
  if (!s.trace.empty()) traced_or_not.reset();  // the trace is written when its runtime ends

  if (s.json) {
    std::printf(
        "{\"n\": %ld, \"chunks\": %ld, \"workers\": %u, \"seed\": %llu, \"repeat\": %d, "
        "\"total\": %.17g, \"seconds\": %.9g, \"serial_seconds\": %.9g, \"results_equal\": "
        "%s, \"kernels\": \"%s\", \"chunk_results\": [",
        s.n, s.chunks, workers, s.seed, s.repeat, total, parallel.median, serial.median,
        same ? "true" : "false", example::json_escaped(example::blas_description()).c_str());
    for (std::size_t k = 0; k < results.size(); ++k) {
      std::printf("%s%.17g", k == 0 ? "" : ", ", results[k]);
    }
    std::printf("]}\n");
    return same ? 0 : 1;
  }
  for (std::size_t k = 0; k < results.size(); ++k) {
    std::printf("  chunk %zu: %.6f\n", k, results[k]);
  }
  std::printf("total: %.6f\n", total);
  std::printf(
      "time (median of %d, spread %.0f%% / %.0f%%): %.3f s on %u workers, %.3f s on 1 "
      "worker: speedup %.2fx%s\n",
      s.repeat, parallel.spread * 100, serial.spread * 100, parallel.median, workers, serial.median,
      serial.median / parallel.median, same ? "" : "  (RESULTS DIFFER)");
  example::warn_if_loaded({parallel, serial});
  if (!s.trace.empty()) {
    std::printf("trace of the %u-worker runs: %s (open it in ui.perfetto.dev)\n", workers,
                s.trace.c_str());
  }
  return same ? 0 : 1;
}
