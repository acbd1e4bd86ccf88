// The seed article's threaded matrix-multiply benchmark, with grove:
//
//   with ThreadPoolExecutor(max_workers=num_threads) as executor:
//       futures = [executor.submit(np.dot, a, b) for _ in range(10)]
//
// Ten products of two random 1000 x 1000 matrices, sequentially and as ten grove tasks on
// 1..N workers (Eigen single-threaded inside each task), printed as the article's table:
// workers, sequential time, grove time, speedup; plus the same with oneTBB when it is available.
#include <Eigen/Dense>
#include <grove/eigen.hpp>
#include <grove/grove.hpp>

#if defined(GROVE_EXAMPLE_WITH_TBB)
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>
#endif

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

[[noreturn]] void usage(const char* program, const std::string& problem) {
  std::fprintf(stderr,
               "%s: %s\nusage: %s [--size N] [--products K] [--max-workers W]\n"
               "  defaults: --size 1000 --products 10 --max-workers <CPUs>\n",
               program, problem.c_str(), program);
  std::exit(2);
}

}  // namespace

int main(int argc, char** argv) {
  long size = 1000;
  long products = 10;
  long max_workers = static_cast<long>(std::thread::hardware_concurrency());
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) usage(argv[0], "missing value after " + flag);
    char* end = nullptr;
    const long value = std::strtol(argv[++i], &end, 10);
    if (*end != '\0' || value <= 0) usage(argv[0], flag + " needs a positive integer");
    if (flag == "--size") {
      size = value;
    } else if (flag == "--products") {
      products = value;
    } else if (flag == "--max-workers") {
      max_workers = value;
    } else {
      usage(argv[0], "unknown flag " + flag);
    }
  }
  Eigen::setNbThreads(1);  // one core per product: the parallelism is grove's
  const Eigen::MatrixXd a = Eigen::MatrixXd::Random(size, size);
  const Eigen::MatrixXd b = Eigen::MatrixXd::Random(size, size);
  std::vector<Eigen::MatrixXd> results(static_cast<std::size_t>(products));

  auto sequential_start = std::chrono::steady_clock::now();
  for (auto& c : results) c.noalias() = a * b;
  const double sequential = seconds_since(sequential_start);
  const double checksum = results.front().sum();

  std::printf("%ld products of %ldx%ld matrices (average seconds per product)\n", products, size,
              size);
#if defined(GROVE_EXAMPLE_WITH_TBB)
  std::printf("%8s %14s %12s %9s %12s %9s\n", "workers", "sequential", "grove", "speedup", "oneTBB",
              "speedup");
#else
  std::printf("%8s %14s %12s %9s\n", "workers", "sequential", "grove", "speedup");
#endif
  bool all_equal = true;
  for (long workers = 1; workers <= max_workers; ++workers) {
    grove::runtime rt{grove::runtime_options{.workers = static_cast<unsigned>(workers)}};
    for (auto& c : results) c.setZero();
    const auto start = std::chrono::steady_clock::now();
    rt.run([&] {
      grove::open_nursery([&](grove::nursery& n) {
        for (auto& c : results) n.start_soon([&a, &b, &c] { c.noalias() = a * b; });
      });
    });
    const double with_grove = seconds_since(start);
    for (const auto& c : results) all_equal = all_equal && c.sum() == checksum;
    const double per = static_cast<double>(products);
#if defined(GROVE_EXAMPLE_WITH_TBB)
    tbb::task_arena arena(static_cast<int>(workers));
    const auto tbb_start = std::chrono::steady_clock::now();
    arena.execute([&] {
      tbb::parallel_for(std::size_t{0}, results.size(),
                        [&](std::size_t k) { results[k].noalias() = a * b; });
    });
    const double with_tbb = seconds_since(tbb_start);
    std::printf("%8ld %14.4f %12.4f %8.2fx %12.4f %8.2fx\n", workers, sequential / per,
                with_grove / per, sequential / with_grove, with_tbb / per, sequential / with_tbb);
#else
    std::printf("%8ld %14.4f %12.4f %8.2fx\n", workers, sequential / per, with_grove / per,
                sequential / with_grove);
#endif
  }
  if (!all_equal) std::printf("RESULTS DIFFER from the sequential products\n");
  return all_equal ? 0 : 1;
}
