// The seed article's threaded matrix-multiply benchmark, with grove:
//
//   with ThreadPoolExecutor(max_workers=num_threads) as executor:
//       futures = [executor.submit(np.dot, a, b) for _ in range(10)]
//
// Ten products of two random 1000 x 1000 matrices, sequentially and as ten grove tasks on
// 1..N workers (Eigen single-threaded inside each task), printed as the article's table:
// workers, sequential time, grove time, speedup; plus the same with oneTBB when it is available.
// --json prints the same figures as one JSON object instead (bench/seed_python/side_by_side.py
// reads it). Built twice when Debian's single-threaded OpenBLAS is installed: matmul_threads
// (Eigen's own kernels) and matmul_threads_openblas (EIGEN_USE_BLAS: every product is one dgemm).
#include <Eigen/Dense>
#include <grove/eigen.hpp>
#include <grove/grove.hpp>

#if defined(GROVE_EXAMPLE_WITH_TBB)
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#endif

#include <unistd.h>

#include <cstdio>
#include <thread>
#include <vector>

#include "blas_info.hpp"
#include "example_support.hpp"

int main(int argc, char** argv) {
  long size = 1000;
  long products = 10;
  long max_workers = static_cast<long>(std::thread::hardware_concurrency());
  int repeat = 3;
  bool json = false;
  CLI::App app{
      "The seed article's threaded matrix-multiply benchmark with grove: K products of "
      "two random N x N matrices, sequentially and as K tasks on 1..W workers.",
      "matmul_threads"};
  app.add_option("--size", size, "matrix side N")
      ->check(example::positive_integer())
      ->capture_default_str();
  app.add_option("--products", products, "number of products K")
      ->check(example::positive_integer())
      ->capture_default_str();
  app.add_option("--max-workers", max_workers, "largest worker count W in the table")
      ->check(example::positive_integer())
      ->capture_default_str();
  app.add_option("--repeat", repeat, "runs per measurement (median and spread are printed)")
      ->check(example::positive_integer())
      ->capture_default_str();
  app.add_flag("--json", json,
               "print one JSON object: {\"products\", \"size\", \"blas\", \"rows\": [{\"workers\", "
               "\"sequential_s\", \"grove_s\", \"tbb_s\"}]}, seconds per product (medians)");
  example::parse_or_exit(app, argc, argv);

  Eigen::setNbThreads(1);  // one core per product: the parallelism is grove's
  const Eigen::MatrixXd a = Eigen::MatrixXd::Random(size, size);
  const Eigen::MatrixXd b = Eigen::MatrixXd::Random(size, size);
  std::vector<Eigen::MatrixXd> results(static_cast<std::size_t>(products));

  // The default run takes some 20 s on two cores: say what is being measured, on a terminal.
  const bool show_progress = ::isatty(STDERR_FILENO) != 0;
  auto progress = [&](const char* what, long workers) {
    if (show_progress)
      std::fprintf(stderr, "\rmeasuring %s (%ld workers, %d runs)...   ", what, workers, repeat);
  };
  std::vector<example::timing> timings;
  progress("sequential", 1);
  const example::timing sequential = example::measure(repeat, [&] {
    for (auto& c : results) c.noalias() = a * b;
  });
  timings.push_back(sequential);
  const double checksum = results.front().sum();

  struct row {
    long workers;
    double grove_s;
    double tbb_s;  // negative: oneTBB not built in
  };
  std::vector<row> rows;
  bool all_equal = true;
  const double per = static_cast<double>(products);
  for (long workers = 1; workers <= max_workers; ++workers) {
    grove::runtime rt{grove::runtime_options{.workers = static_cast<unsigned>(workers)}};
    progress("grove", workers);
    const example::timing with_grove = example::measure(repeat, [&] {
      for (auto& c : results) c.setZero();
      rt.run([&] {
        grove::open_nursery([&](grove::nursery& n) {
          for (auto& c : results) n.start_soon([&a, &b, &c] { c.noalias() = a * b; });
        });
      });
    });
    timings.push_back(with_grove);
    for (const auto& c : results) all_equal = all_equal && c.sum() == checksum;
    double tbb_s = -1;
#if defined(GROVE_EXAMPLE_WITH_TBB)
    tbb::task_arena arena(static_cast<int>(workers));
    progress("oneTBB", workers);
    const example::timing with_tbb = example::measure(repeat, [&] {
      arena.execute([&] {
        tbb::parallel_for(std::size_t{0}, results.size(),
                          [&](std::size_t k) { results[k].noalias() = a * b; });
      });
    });
    timings.push_back(with_tbb);
    tbb_s = with_tbb.median / per;
#endif
    rows.push_back({workers, with_grove.median / per, tbb_s});
  }
  if (show_progress) std::fputs("\r\033[K", stderr);  // clear the progress line
  const double sequential_s = sequential.median / per;

  if (json) {
    std::printf(
        "{\"products\": %ld, \"size\": %ld, \"repeat\": %d, \"blas\": \"%s\", "
        "\"blas_threads\": %d, \"results_equal\": %s, \"rows\": [",
        products, size, repeat, example::json_escaped(example::blas_description()).c_str(),
        example::blas_threads(), all_equal ? "true" : "false");
    for (std::size_t i = 0; i < rows.size(); ++i) {
      std::printf("%s{\"workers\": %ld, \"sequential_s\": %.9g, \"grove_s\": %.9g", i ? ", " : "",
                  rows[i].workers, sequential_s, rows[i].grove_s);
      if (rows[i].tbb_s >= 0) std::printf(", \"tbb_s\": %.9g", rows[i].tbb_s);
      std::printf("}");
    }
    std::printf("]}\n");
    return all_equal ? 0 : 1;
  }

  std::printf("%ld products of %ldx%ld matrices (median of %d runs, seconds per product)\n",
              products, size, size, repeat);
  std::printf("kernels: %s\n", example::blas_description().c_str());
#if defined(GROVE_EXAMPLE_WITH_TBB)
  std::printf("%8s %14s %12s %9s %12s %9s\n", "workers", "sequential", "grove", "speedup", "oneTBB",
              "speedup");
#else
  std::printf("%8s %14s %12s %9s\n", "workers", "sequential", "grove", "speedup");
#endif
  for (const row& r : rows) {
    std::printf("%8ld %14.4f %12.4f %8.2fx", r.workers, sequential_s, r.grove_s,
                sequential_s / r.grove_s);
    if (r.tbb_s >= 0) std::printf(" %12.4f %8.2fx", r.tbb_s, sequential_s / r.tbb_s);
    std::printf("\n");
  }
  example::warn_if_loaded(timings);
  if (!all_equal) std::printf("RESULTS DIFFER from the sequential products\n");
  return all_equal ? 0 : 1;
}
