// The seed article's trio pipeline, natively and in parallel with grove:
//
//   async def heavy_compute(data_chunk):
//       await trio.sleep(0)
//       return np.sum(np.random.rand(N, N) * data_chunk)
//   async with trio.open_nursery() as nursery:
//       for chunk in np.array_split(data, 8):
//           nursery.start_soon(heavy_compute, chunk)
//
// Each chunk's random matrix is streamed row by row (see pipeline_kernel.hpp), so memory stays at
// one row per task instead of N x N x chunks doubles.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <grove/eigen.hpp>
#include <grove/grove.hpp>
#include <mutex>
#include <string>
#include <vector>

#include "pipeline_kernel.hpp"

namespace {

struct settings {
  long n = 10000;  // the seed's rand(10000, 10000); also each chunk's length
  long chunks = 8;
  unsigned workers = 0;  // 0: every CPU we may run on
  unsigned long long seed = 2024;
};

[[noreturn]] void usage(const char* program, const std::string& problem) {
  std::fprintf(stderr,
               "%s: %s\n"
               "usage: %s [--n N] [--chunks C] [--workers W] [--seed S]\n"
               "  --n N        each chunk computes sum(rand(N, len(chunk)) * chunk); data has N*C "
               "values (default 10000, as the seed)\n"
               "  --chunks C   number of chunks, as np.array_split(data, C) (default 8)\n"
               "  --workers W  grove workers (default: the CPUs this process may use)\n"
               "  --seed S     random seed (default 2024)\n",
               program, problem.c_str(), program);
  std::exit(2);
}

long parse_positive(const char* program, const std::string& flag, const char* text) {
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || value <= 0) usage(program, flag + " needs a positive integer");
  return value;
}

settings parse(int argc, char** argv) {
  settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") usage(argv[0], "help");
    if (i + 1 >= argc) usage(argv[0], "missing value after " + flag);
    const char* value = argv[++i];
    if (flag == "--n") {
      s.n = parse_positive(argv[0], flag, value);
    } else if (flag == "--chunks") {
      s.chunks = parse_positive(argv[0], flag, value);
    } else if (flag == "--workers") {
      s.workers = static_cast<unsigned>(parse_positive(argv[0], flag, value));
    } else if (flag == "--seed") {
      s.seed = static_cast<unsigned long long>(parse_positive(argv[0], flag, value));
    } else {
      usage(argv[0], "unknown flag " + flag);
    }
  }
  return s;
}

class progress_bar {
 public:
  progress_bar(long total, bool enabled) : total_(total), enabled_(enabled) {}
  void chunk_done() {
    const long done = ++done_;
    if (!enabled_) return;
    std::lock_guard guard(mutex_);
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
  std::atomic<long> done_{0};
  std::mutex mutex_;  // only around the terminal write
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
        nursery.start_soon([&, k] {
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
  pipeline::random_stream data_random(s.seed);
  Eigen::ArrayXd data(s.n * s.chunks);
  for (Eigen::Index i = 0; i < data.size(); ++i) data[i] = data_random.next_unit();

  grove::runtime rt{grove::runtime_options{.workers = s.workers}};
  std::printf("grove chunked pipeline: %ld chunks, each sum(rand(%ld, %ld) * chunk), %u workers\n",
              s.chunks, s.n, s.n, rt.worker_count());
  std::printf(
      "(random matrices are streamed one row at a time: %.0f KiB in use instead of %.0f MiB)\n",
      static_cast<double>(s.n) * 8.0 * static_cast<double>(rt.worker_count()) / 1024.0,
      static_cast<double>(s.n) * static_cast<double>(s.n) * 8.0 * static_cast<double>(s.chunks) /
          (1 << 20));

  progress_bar progress(s.chunks, ::isatty(STDERR_FILENO) != 0);
  const auto parallel_start = std::chrono::steady_clock::now();
  const std::vector<double> results = run_pipeline(rt, data, s, &progress);
  const double parallel_seconds = seconds_since(parallel_start);

  double total = 0.0;
  for (std::size_t k = 0; k < results.size(); ++k) {
    std::printf("  chunk %zu: %.6f\n", k, results[k]);
    total += results[k];
  }
  std::printf("total: %.6f\n", total);

  grove::runtime one{grove::runtime_options{.workers = 1}};
  const auto serial_start = std::chrono::steady_clock::now();
  const std::vector<double> serial = run_pipeline(one, data, s, nullptr);
  const double serial_seconds = seconds_since(serial_start);
  const bool same = serial == results;

  std::printf("time: %.3f s on %u workers, %.3f s on 1 worker: speedup %.2fx%s\n", parallel_seconds,
              rt.worker_count(), serial_seconds, serial_seconds / parallel_seconds,
              same ? "" : "  (RESULTS DIFFER)");
  return same ? 0 : 1;
}
