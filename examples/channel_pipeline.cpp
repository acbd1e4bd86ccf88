// A three-stage pipeline over bounded channels: one producer -> N parallel workers -> one
// consumer. The bounded capacities give back-pressure (a fast producer parks instead of filling
// memory); shutdown needs no flags: the producer closes its sender, the workers' loops end when
// the channel runs dry, their result senders close as they leave, and the consumer's loop ends.
//
//   channel_pipeline [--items 200000] [--workers 4] [--capacity 64]
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <grove/grove.hpp>
#include <iostream>
#include <string>

#include "example_support.hpp"

namespace {

struct job {
  std::uint64_t index;
  std::uint64_t seed;
};

struct result {
  std::uint64_t index;
  std::uint64_t digest;
};

// Stand-in for real per-item work: a few hundred rounds of a 64-bit mix (splitmix64).
std::uint64_t digest_of(std::uint64_t x) {
  for (int round = 0; round < 256; ++round) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    x ^= x >> 31;
  }
  return x;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t items = 200000;
  std::uint64_t workers = 4;
  std::uint64_t capacity = 64;
  CLI::App app{"A producer -> N workers -> consumer pipeline over bounded grove channels.",
               "channel_pipeline"};
  app.add_option("--items", items, "items through the pipeline")
      ->check(example::positive_integer())
      ->capture_default_str();
  app.add_option("--workers", workers, "worker tasks between producer and consumer")
      ->check(example::positive_integer())
      ->capture_default_str();
  app.add_option("--capacity", capacity, "each channel's buffer (0: rendezvous)")
      ->check(example::non_negative_integer())
      ->capture_default_str();
  example::parse_or_exit(app, argc, argv);

  grove::runtime rt;
  const auto start = std::chrono::steady_clock::now();
  const auto [received, checksum] = rt.run([&] {
    // Each pair is {sender, receiver}.
    auto jobs = grove::open_channel<job>(capacity);
    auto results = grove::open_channel<result>(capacity);
    std::uint64_t count = 0;
    std::uint64_t sum = 0;
    grove::open_nursery([&](grove::nursery& n) {
      // Each stage owns its handles (moved or cloned in), so each closes them when it ends.
      n.start_soon(
          [items](grove::sender<job> out) {
            for (std::uint64_t i = 0; i < items; ++i) out.send(job{i, i * 7919 + 1});
          },
          std::move(jobs.first));
      for (std::uint64_t w = 0; w < workers; ++w) {
        n.start_soon(
            [](grove::receiver<job> in, grove::sender<result> out) {
              for (job& j : in) out.send(result{j.index, digest_of(j.seed)});
            },
            jobs.second.clone(), results.first.clone());
      }
      jobs.second.close();
      results.first.close();
      // The consumer: the nursery body itself.
      for (result& r : results.second) {
        ++count;
        sum += r.digest;
      }
    });
    return std::pair{count, sum};
  });
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;

  std::uint64_t expected = 0;
  for (std::uint64_t i = 0; i < items; ++i) expected += digest_of(i * 7919 + 1);
  std::cout << received << " items through " << workers << " workers on " << rt.worker_count()
            << " threads (capacity " << capacity << ") in " << elapsed.count()
            << " s: " << static_cast<double>(received) / elapsed.count() << " items/s\n";
  if (received != items || checksum != expected) {
    std::cerr << "channel_pipeline: lost or duplicated items\n";
    return EXIT_FAILURE;
  }
  return EXIT_SUCCESS;
}
