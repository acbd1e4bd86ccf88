// Irregular recursion: nqueens(11) with one task per valid placement of the next queen, and a
// UTS-style binomial tree (2 860 297 nodes) with one task per node. grove nurseries vs oneTBB
// task_group, at 1 and 2 workers, in one process, so the ns-per-task ratios are meaningful.
#include <benchmark/benchmark.h>
#include <tbb/task_arena.h>
#include <tbb/task_group.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <grove/nursery.hpp>
#include <grove/runtime.hpp>
#include <vector>

#include "bench_util.hpp"

namespace {

// ---- nqueens: one task per valid placement of the next queen (the libfork/BOTS shape) ----

constexpr int queens = 11;
constexpr long queens_solutions = 2680;
using board = std::array<char, queens>;

bool queens_ok(int n, const char* a) {
  for (int i = 0; i < n; ++i) {
    const char p = a[i];
    for (int j = i + 1; j < n; ++j) {
      const char q = a[j];
      if (q == p || q == p - (j - i) || q == p + (j - i)) return false;
    }
  }
  return true;
}

std::atomic<long> queens_spawns{0};

long serial_queens(int row, const board& a, bool count_spawns) {
  if (row == queens) return 1;
  long sum = 0;
  board b = a;
  for (int i = 0; i < queens; ++i) {
    b[static_cast<std::size_t>(row)] = static_cast<char>(i);
    if (queens_ok(row + 1, b.data())) {
      if (count_spawns) queens_spawns.fetch_add(1, std::memory_order_relaxed);
      sum += serial_queens(row + 1, b, count_spawns);
    }
  }
  return sum;
}

long grove_queens(int row, const board& a) {
  if (row == queens) return 1;
  std::array<board, queens> boards;
  std::array<long, queens> parts{};
  grove::open_nursery([&](grove::nursery& nursery) {
    for (int i = 0; i < queens; ++i) {
      board& b = boards[static_cast<std::size_t>(i)];
      b = a;
      b[static_cast<std::size_t>(row)] = static_cast<char>(i);
      if (queens_ok(row + 1, b.data())) {
        nursery.start_soon([&parts, &b, row, i] {
          parts[static_cast<std::size_t>(i)] = grove_queens(row + 1, b);
        });
      }
    }
  });
  long sum = 0;
  for (long p : parts) sum += p;
  return sum;
}

long tbb_queens(int row, const board& a) {
  if (row == queens) return 1;
  std::array<board, queens> boards;
  std::array<long, queens> parts{};
  tbb::task_group g;
  for (int i = 0; i < queens; ++i) {
    board& b = boards[static_cast<std::size_t>(i)];
    b = a;
    b[static_cast<std::size_t>(row)] = static_cast<char>(i);
    if (queens_ok(row + 1, b.data())) {
      g.run([&parts, &b, row, i] { parts[static_cast<std::size_t>(i)] = tbb_queens(row + 1, b); });
    }
  }
  g.wait();
  long sum = 0;
  for (long p : parts) sum += p;
  return sum;
}

long count_queens_spawns() {
  queens_spawns.store(0);
  serial_queens(0, board{}, true);
  return queens_spawns.load();
}

void BM_nqueens_serial(benchmark::State& state) {
  bench::measure_tasks(state, count_queens_spawns(), queens_solutions,
                       [] { return serial_queens(0, board{}, false); });
}

void BM_nqueens_grove(benchmark::State& state) {
  grove::runtime rt({.workers = static_cast<unsigned>(state.range(0))});
  bench::measure_tasks(state, count_queens_spawns(), queens_solutions,
                       [&] { return rt.run([] { return grove_queens(0, board{}); }); });
}

void BM_nqueens_tbb(benchmark::State& state) {
  tbb::task_arena arena(static_cast<int>(state.range(0)));
  bench::measure_tasks(state, count_queens_spawns(), queens_solutions,
                       [&] { return arena.execute([] { return tbb_queens(0, board{}); }); });
}

// ---- UTS: the Unbalanced Tree Search benchmark's binomial shape (Olivier et al., LCPC 2006) ----
// The root has uts_root_children children; every other node has uts_children children with
// probability uts_q, else none (q·m = 0.999: a critical-ish tree, deep and lopsided, whose work
// no static split can balance). UTS derives a node's children from SHA-1 of its parent; here a
// splitmix64 step stands in, so the tree is fixed by uts_seed: 2 860 297 nodes, depth 1 107.

constexpr int uts_root_children = 2000;
constexpr int uts_children = 8;
constexpr double uts_q = 0.124875;
constexpr std::uint64_t uts_seed = 56;
constexpr long uts_nodes = 2'860'297;

std::uint64_t splitmix64(std::uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// A node is its 64-bit state; it has children when the state falls below q · 2^64.
const std::uint64_t uts_threshold = static_cast<std::uint64_t>(uts_q * 18446744073709551616.0);
bool uts_has_children(std::uint64_t node) { return node < uts_threshold; }
std::uint64_t uts_child(std::uint64_t node, int i) {
  return splitmix64(node + static_cast<std::uint64_t>(i + 1) * 0xd1b54a32d192ed03ULL);
}
std::uint64_t uts_root() { return splitmix64(uts_seed); }
std::uint64_t uts_root_child(int i) {
  return splitmix64(uts_root() ^ (static_cast<std::uint64_t>(i) * 0x100000001b3ULL));
}

long serial_uts(std::uint64_t node) {
  if (!uts_has_children(node)) return 1;
  long sum = 1;
  for (int i = 0; i < uts_children; ++i) sum += serial_uts(uts_child(node, i));
  return sum;
}

long serial_uts_tree() {
  long sum = 1;
  for (int i = 0; i < uts_root_children; ++i) sum += serial_uts(uts_root_child(i));
  return sum;
}

long grove_uts(std::uint64_t node) {
  if (!uts_has_children(node)) return 1;
  std::array<long, uts_children> parts{};
  grove::open_nursery([&](grove::nursery& nursery) {
    for (int i = 0; i < uts_children; ++i) {
      nursery.start_soon([&parts, node, i] {
        parts[static_cast<std::size_t>(i)] = grove_uts(uts_child(node, i));
      });
    }
  });
  long sum = 1;
  for (long p : parts) sum += p;
  return sum;
}

long grove_uts_tree() {
  std::vector<long> parts(uts_root_children);
  grove::open_nursery([&](grove::nursery& nursery) {
    for (int i = 0; i < uts_root_children; ++i) {
      nursery.start_soon(
          [&parts, i] { parts[static_cast<std::size_t>(i)] = grove_uts(uts_root_child(i)); });
    }
  });
  long sum = 1;
  for (long p : parts) sum += p;
  return sum;
}

long tbb_uts(std::uint64_t node) {
  if (!uts_has_children(node)) return 1;
  std::array<long, uts_children> parts{};
  tbb::task_group g;
  for (int i = 0; i < uts_children; ++i) {
    g.run([&parts, node, i] { parts[static_cast<std::size_t>(i)] = tbb_uts(uts_child(node, i)); });
  }
  g.wait();
  long sum = 1;
  for (long p : parts) sum += p;
  return sum;
}

long tbb_uts_tree() {
  std::vector<long> parts(uts_root_children);
  tbb::task_group g;
  for (int i = 0; i < uts_root_children; ++i) {
    g.run([&parts, i] { parts[static_cast<std::size_t>(i)] = tbb_uts(uts_root_child(i)); });
  }
  g.wait();
  long sum = 1;
  for (long p : parts) sum += p;
  return sum;
}

// Every node but the root is spawned once.
constexpr long uts_spawns = uts_nodes - 1;

void BM_uts_serial(benchmark::State& state) {
  bench::measure_tasks(state, uts_spawns, uts_nodes, [] { return serial_uts_tree(); });
}

void BM_uts_grove(benchmark::State& state) {
  grove::runtime rt({.workers = static_cast<unsigned>(state.range(0))});
  bench::measure_tasks(state, uts_spawns, uts_nodes, [&] { return rt.run(grove_uts_tree); });
  const grove::runtime_stats s = rt.stats();
  state.counters["steals"] = static_cast<double>(s.steals);
  state.counters["inlined_pct"] =
      100.0 * static_cast<double>(s.tasks_inlined) / static_cast<double>(s.tasks_spawned);
}

void BM_uts_tbb(benchmark::State& state) {
  tbb::task_arena arena(static_cast<int>(state.range(0)));
  bench::measure_tasks(state, uts_spawns, uts_nodes, [&] { return arena.execute(tbb_uts_tree); });
}

}  // namespace

// Args: {workers}. Fixed iteration counts keep the suite short on 2 cores.
BENCHMARK(BM_nqueens_serial)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_nqueens_grove)
    ->Arg(1)
    ->Arg(2)
    ->Iterations(3)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_nqueens_tbb)
    ->Arg(1)
    ->Arg(2)
    ->Iterations(3)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_uts_serial)->Iterations(3)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_uts_grove)
    ->Arg(1)
    ->Arg(2)
    ->Iterations(3)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_uts_tbb)
    ->Arg(1)
    ->Arg(2)
    ->Iterations(3)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
