// Which children a task-tree dump lists: children still queued behind a busy worker, a child
// running inline on its parent's stack since before the dump, and a chain of inline children
// whose innermost one parked. Every one is shown with its own id and state, none as a bare count.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <boost/json/src.hpp>
#include <grove/grove.hpp>
#include <string>
#include <thread>
#include <vector>

#include "support/dump_reading.hpp"

namespace {

using grove_test::count_of;
using grove_test::eventually;
using grove_test::id_on_line_with;
using grove_test::json_dump;
using grove_test::line_with;
using grove_test::text_dump;

bool all_unique(std::vector<std::int64_t> ids) {
  std::sort(ids.begin(), ids.end());
  return std::adjacent_find(ids.begin(), ids.end()) == ids.end();
}

}  // namespace

TEST_CASE("children queued behind a busy worker are listed, not started, by name") {
  grove::runtime rt{grove::runtime_options{.workers = 1}};
  std::atomic<bool> spawned{false};
  std::atomic<bool> stop{false};
  std::atomic<int> ran{0};
  std::thread caller([&] {
    rt.run([&] {
      grove::open_nursery([&](grove::nursery& n) {
        for (int i = 0; i < 3; ++i) n.start_soon(grove::task_name{"queued"}, [&] { ++ran; });
        spawned.store(true);
        // The only worker stays in this body, so the children stay in its queue.
        while (!stop.load()) std::this_thread::yield();
      });
    });
  });
  REQUIRE(eventually([&] { return spawned.load(); }));
  const std::string tree = text_dump(rt);
  INFO(tree);
  CHECK(count_of(tree, "[queued]: not started (queued)") == 3);
  CHECK(tree.find("nursery (3 live children)") != std::string::npos);
  CHECK(tree.find(" more, ") == std::string::npos);
  CHECK(line_with(tree, "root task").find(": running on worker 0") != std::string::npos);

  // A second dump finds them where the first put them back: the same tasks, still queued.
  const boost::json::value json = json_dump(rt);
  const auto& root = json.at("roots").at(0);
  const auto& children = root.at("nurseries").at(0).at("children").as_array();
  REQUIRE(children.size() == 3);
  std::vector<std::int64_t> ids{root.at("id").as_int64()};
  for (const auto& child : children) {
    CHECK(child.at("state").as_string() == "not_started");
    CHECK(child.at("name").as_string() == "queued");
    CHECK(child.at("worker").as_int64() == -1);
    const std::string id = std::to_string(child.at("id").as_int64());
    CHECK(tree.find("task " + id + " [queued]: not started (queued)") != std::string::npos);
    ids.push_back(child.at("id").as_int64());
  }
  CHECK(all_unique(ids));
  CHECK(ran.load() == 0);

  stop.store(true);
  caller.join();
  CHECK(ran.load() == 3);  // lifted out of the queue and put back: none lost
  const grove::runtime_stats stats = rt.stats();
  CHECK(stats.tasks_spawned == stats.tasks_completed);
}

TEST_CASE("a child running inline since before the dump is listed from its parent") {
  grove::runtime rt{grove::runtime_options{.workers = 1}};
  std::atomic<bool> entered{false};
  std::atomic<bool> stop{false};
  std::thread caller([&] {
    rt.run([&] {
      grove::open_nursery([&](grove::nursery& n) {
        // The joining root runs it on its own stack; it never parks.
        n.start_soon([&] {
          entered.store(true);
          while (!stop.load()) std::this_thread::yield();
        });
      });
    });
  });
  REQUIRE(eventually([&] { return entered.load(); }));
  const std::string tree = text_dump(rt);
  INFO(tree);
  const std::string root_line = line_with(tree, "root task");
  const std::string marker = ": joining a nursery; its child task ";
  REQUIRE(root_line.find(marker) != std::string::npos);
  const auto id_at = root_line.find(marker) + marker.size();
  const std::string child_id = root_line.substr(id_at, root_line.find(' ', id_at) - id_at);
  const std::string child_line = line_with(tree, "\n      task " + child_id + " [");
  CHECK(child_line.find("DOCTEST_ANON_FUNC") != std::string::npos);  // its callable's type
  CHECK(child_line.find(": running inline on its parent's stack, on worker 0 (since before") !=
        std::string::npos);
  CHECK(tree.find(" more, ") == std::string::npos);

  const boost::json::value json = json_dump(rt);
  const auto& child = json.at("roots").at(0).at("nurseries").at(0).at("children").at(0);
  CHECK(std::to_string(child.at("id").as_int64()) == child_id);
  CHECK(child.at("state").as_string() == "running_inline");
  CHECK(child.at("seen_from_parent").as_bool());
  stop.store(true);
  caller.join();
}

TEST_CASE("an inline child of an inline child that parks is reachable, and so is its parent") {
  grove::runtime rt{grove::runtime_options{.workers = 1}};
  grove::event release;
  std::thread caller([&] {
    rt.run([&] {
      grove::open_nursery([&](grove::nursery& outer) {
        outer.start_soon(grove::task_name{"middle"}, [&] {
          grove::open_nursery([&](grove::nursery& inner) {
            inner.start_soon(grove::task_name{"leaf"}, [&] { release.wait(); });
          });
        });
      });
    });
  });
  // The park, seen without dumping (a dump meanwhile could move a queued child away from the
  // join that would run it inline).
  REQUIRE(eventually([&] { return rt.stats().parks >= 1; }));
  const std::string tree = text_dump(rt);
  INFO(tree);
  CHECK(tree.find("[leaf]: parked on grove::event::wait") != std::string::npos);
  const std::string middle = id_on_line_with(tree, "[middle]");
  const std::string leaf = id_on_line_with(tree, "[leaf]");
  CHECK(line_with(tree, "root task")
            .find(": joining a nursery; its child task " + middle + " runs on its stack") !=
        std::string::npos);
  CHECK(line_with(tree, "[middle]")
            .find(": joining a nursery; its child task " + leaf + " runs on its stack") !=
        std::string::npos);
  // The leaf is under the middle task's nursery, one level deeper than the middle task.
  CHECK(tree.find("\n      task " + middle + " [middle]") != std::string::npos);
  CHECK(tree.find("\n          task " + leaf + " [leaf]") != std::string::npos);
  CHECK(tree.find(" more, ") == std::string::npos);
  release.set();
  caller.join();
}

namespace {

// fib(n) with a task per call, named, each child joined by its parent's nursery: spawns, inline
// runs, steals and joins all the time, for dumps to race with.
long fib_tasks(int n) {
  if (n < 2) return n;
  long a = 0;
  long b = 0;
  grove::open_nursery([&](grove::nursery& nursery) {
    nursery.start_soon(grove::task_name{"fib"}, [&a, n] { a = fib_tasks(n - 1); });
    b = fib_tasks(n - 2);
  });
  return a + b;
}

// Every id in a JSON dump, depth first.
void collect_ids(const boost::json::value& task, std::vector<std::int64_t>& ids) {
  ids.push_back(task.at("id").as_int64());
  for (const auto& n : task.at("nurseries").as_array()) {
    for (const auto& child : n.at("children").as_array()) collect_ids(child, ids);
  }
}

}  // namespace

TEST_CASE("dumps racing a fork-join tree: every dump parses, ids stay unique, nothing is lost") {
  grove::runtime rt{grove::runtime_options{.workers = 2}};
  std::atomic<bool> stop{false};
  std::atomic<int> rounds{0};
  bool all_right = true;
  std::thread computing([&] {
    while (!stop.load()) {
      all_right = all_right && rt.run([] { return fib_tasks(16); }) == 987;
      ++rounds;
    }
  });
  for (int dump = 0; dump < 150; ++dump) {
    const boost::json::value json = json_dump(rt);
    std::vector<std::int64_t> ids;
    for (const auto& root : json.at("roots").as_array()) collect_ids(root, ids);
    CHECK(all_unique(ids));
    CHECK(text_dump(rt).find("grove task tree (2 workers)") == 0);
  }
  stop.store(true);
  computing.join();
  CHECK(all_right);
  CHECK(rounds.load() > 0);
  const grove::runtime_stats stats = rt.stats();
  CHECK(stats.tasks_spawned == stats.tasks_completed);
}
