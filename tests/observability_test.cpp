// Looking inside a running program: the task-tree dump (text and JSON), names, per-worker
// statistics, the dump on SIGUSR1 and GROVE_SCHEDTRACE.
#include <doctest/doctest.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json/src.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <grove/grove.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/dump_reading.hpp"
#include "support/runtime_fixture.hpp"

namespace {

using grove_test::count_of;
using grove_test::eventually;
using grove_test::generous;
using grove_test::id_on_line_with;
using grove_test::json_dump;
using grove_test::line_with;
using grove_test::text_dump;

// Sends what this process writes to stderr into a file while it exists.
class stderr_capture {
 public:
  stderr_capture() {
    std::fflush(stderr);
    char name[] = "/tmp/grove_stderr_XXXXXX";
    file_ = ::mkstemp(name);
    path_ = name;
    saved_ = ::dup(STDERR_FILENO);
    ::dup2(file_, STDERR_FILENO);
  }
  ~stderr_capture() {
    std::fflush(stderr);
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
    ::close(file_);
    ::unlink(path_.c_str());
  }
  std::string text() const {
    std::fflush(stderr);
    std::ifstream in(path_);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }

 private:
  int file_ = -1;
  int saved_ = -1;
  std::string path_;
};

}  // namespace

TEST_CASE("a known tree: three children parked on an event, an inline child, a joining root") {
  grove::runtime rt{grove::runtime_options{.workers = 1}};
  grove::event release;
  std::thread caller([&] {
    rt.run([&] {
      grove::open_nursery([&](grove::nursery& n) {
        for (int i = 0; i < 3; ++i)
          n.start_soon(grove::task_name{"waiter"}, [&] { release.wait(); });
        // Spawned last, so the joining root runs it first, on its own stack (one worker: LIFO).
        n.start_soon(grove::task_name{"inline"}, [&] { release.wait(); });
      });
    });
  });
  // Waits for the four parks without dumping: a dump while the root is still spawning could
  // find its worker descheduled and move the queued children away from its join.
  REQUIRE(eventually([&] { return rt.stats().parks >= 4; }));
  const std::string tree = text_dump(rt);
  INFO(tree);
  CHECK(count_of(tree, ": parked on grove::event::wait") == 4);
  const std::string root_id = id_on_line_with(tree, "root task");
  const std::string inline_id = id_on_line_with(tree, "[inline]");
  const std::string root_line = line_with(tree, "root task " + root_id + " [");
  CHECK(root_line.find(": joining a nursery; its child task " + inline_id + " runs on its stack") !=
        std::string::npos);
  CHECK(root_line.find("DOCTEST_ANON_FUNC") != std::string::npos);  // named after its callable
  CHECK(tree.find("task " + inline_id + " [inline]: parked on grove::event::wait") !=
        std::string::npos);
  CHECK(count_of(tree, "[waiter]: parked on grove::event::wait") == 3);
  CHECK(tree.find("nursery (4 live children)") != std::string::npos);
  CHECK(tree.find(" more, ") == std::string::npos);  // every child is listed

  const boost::json::value json = json_dump(rt);
  const auto& root = json.at("roots").at(0);
  CHECK(root.at("state").as_string() == "joining");
  CHECK(std::to_string(root.at("inline_child").as_int64()) == inline_id);
  CHECK(root.at("root").as_bool());
  const auto& children = root.at("nurseries").at(0).at("children").as_array();
  REQUIRE(children.size() == 4);
  std::vector<std::int64_t> ids{root.at("id").as_int64()};
  for (const auto& child : children) {
    CHECK(child.at("state").as_string() == "parked");
    CHECK(child.at("parked_on").as_string() == "grove::event::wait");
    CHECK(child.at("worker").as_int64() == 0);
    ids.push_back(child.at("id").as_int64());
  }
  std::sort(ids.begin(), ids.end());
  CHECK(std::adjacent_find(ids.begin(), ids.end()) == ids.end());
  release.set();
  caller.join();
  CHECK(json_dump(rt).at("roots").as_array().empty());
}

TEST_CASE("a running task shows its worker; a cancelled nursery and its deadline are shown") {
  grove::runtime rt{grove::runtime_options{.workers = 2}};
  std::atomic<bool> stop{false};
  std::atomic<grove::cancel_scope*> scope{nullptr};
  std::thread caller([&] {
    rt.run([&] {
      grove::open_nursery([&](grove::nursery& n) {
        n.cancel_scope().set_deadline(grove::now() + std::chrono::hours(1));
        // start(): the child runs on a fiber of its own, so the dump lists it while it runs.
        n.start(grove::task_name{"spinner"}, [&](grove::task_status<>& status) {
          status.started();
          while (!stop.load()) {
          }
        });
        scope.store(&n.cancel_scope());
      });
    });
  });
  std::string tree;
  CHECK(eventually([&] {
    tree = text_dump(rt);
    return tree.find("[spinner]: running on worker") != std::string::npos &&
           tree.find("parked on joining a nursery") != std::string::npos;
  }));
  INFO(tree);
  CHECK(tree.find("deadline in 3") != std::string::npos);  // 3599.x s
  boost::json::value json = json_dump(rt);
  const auto& nursery = json.at("roots").at(0).at("nurseries").at(0);
  CHECK(nursery.at("deadline_in_seconds").as_double() > 3000);
  const auto& spinner = nursery.at("children").at(0);
  CHECK(spinner.at("state").as_string() == "running");
  const std::int64_t worker = spinner.at("worker").as_int64();
  CHECK((worker == 0 || worker == 1));
  CHECK(tree.find("[spinner]: running on worker " + std::to_string(worker)) != std::string::npos);

  REQUIRE(eventually([&] { return scope.load() != nullptr; }));
  scope.load()->cancel();
  tree = text_dump(rt);
  CHECK(tree.find("cancelled") != std::string::npos);
  CHECK(tree.find("[spinner]: running on worker " + std::to_string(worker) +
                  " (cancel requested)") != std::string::npos);
  json = json_dump(rt);
  CHECK(json.at("roots").at(0).at("nurseries").at(0).at("cancelled").as_bool());
  stop.store(true);
  caller.join();
}

TEST_CASE("an unnamed task shows its callable's type; the JSON form needs a task") {
  grove::runtime rt{grove::runtime_options{.workers = 2}};
  struct download_page {
    grove::event* release;
    void operator()() const { release->wait(); }
  };
  grove::event release;
  std::thread caller([&] {
    rt.run([&] {
      grove::open_nursery([&](grove::nursery& n) { n.start_soon(download_page{&release}); });
    });
  });
  std::string tree;
  CHECK(eventually([&] {
    tree = text_dump(rt);
    return tree.find("parked on grove::event::wait") != std::string::npos;
  }));
  CHECK(tree.find("download_page]: parked on grove::event::wait") != std::string::npos);
  release.set();
  caller.join();
  std::ostringstream out;
  CHECK_THROWS_AS(grove::dump_task_tree_json(out), grove::usage_error);
}

TEST_CASE(
    "per-worker figures add up to the runtime's, and spawned equals completed after the join") {
  grove::runtime rt{grove::runtime_options{.workers = 2}};
  rt.run([] {
    grove::open_nursery([](grove::nursery& n) {
      for (int i = 0; i < 200; ++i) {
        n.start_soon([] {
          grove::open_nursery([](grove::nursery& inner) {
            for (int j = 0; j < 4; ++j) inner.start_soon([] { grove::checkpoint(); });
          });
        });
      }
    });
  });
  const grove::runtime_stats s = rt.stats();
  REQUIRE(s.workers.size() == 2);
  CHECK(s.tasks_spawned == s.tasks_completed);
  CHECK(s.tasks_spawned == 1 + 200 + 800);
  std::uint64_t run = 0, inlined = 0, steals = 0, parks = 0;
  std::chrono::nanoseconds busy{0};
  for (const grove::worker_stats& w : s.workers) {
    run += w.tasks_run;
    inlined += w.tasks_inlined;
    steals += w.steals;
    parks += w.parks;
    busy += w.busy_time;
  }
  CHECK(run == s.context_switches);
  CHECK(inlined == s.tasks_inlined);
  CHECK(steals == s.steals);
  CHECK(parks == s.parks);
  CHECK(busy.count() > 0);
}

TEST_CASE("queue depth counts the tasks waiting in a worker's deque; idle workers sleep") {
  grove::runtime rt{grove::runtime_options{.workers = 1}};
  rt.run([&] {
    grove::open_nursery([&](grove::nursery& n) {
      for (int i = 0; i < 10; ++i) n.start_soon([] {});
      CHECK(rt.stats().workers.at(0).queue_depth >= 10);
    });
    CHECK(rt.stats().workers.at(0).queue_depth == 0);
  });
  CHECK(eventually([&] { return rt.stats().workers.at(0).sleeps > 0; }));
}

TEST_CASE(
    "SIGUSR1 dumps the task tree to stderr from a grove thread; later, with no runtime, it is "
    "ignored") {
  stderr_capture captured;
  {
    grove::runtime rt{grove::runtime_options{.workers = 2, .dump_on_signal = true}};
    grove::event release;
    std::thread caller([&] {
      rt.run([&] {
        grove::open_nursery([&](grove::nursery& n) {
          n.start_soon(grove::task_name{"signal target"}, [&] { release.wait(); });
        });
      });
    });
    CHECK(eventually(
        [&] { return text_dump(rt).find("[signal target]: parked on") != std::string::npos; }));
    std::raise(SIGUSR1);
    CHECK(eventually([&] {
      return captured.text().find("[signal target]: parked on grove::event::wait") !=
             std::string::npos;
    }));
    release.set();
    caller.join();
  }
  const std::size_t dumps = count_of(captured.text(), "grove task tree");
  std::raise(SIGUSR1);  // the handler stays installed and nobody listens: nothing happens
  grove::runtime later{grove::runtime_options{.workers = 1, .dump_on_signal = true}};
  CHECK(count_of(captured.text(), "grove task tree") == dumps);
  // The request made while nobody listened was dropped: this one gives exactly one dump.
  std::raise(SIGUSR1);
  CHECK(eventually([&] { return count_of(captured.text(), "grove task tree") > dumps; }));
  CHECK(count_of(captured.text(), "grove task tree") == dumps + 1);
}

TEST_CASE("GROVE_DUMP_ON_SIGNAL=1 turns the dump on for runtimes created while it is set") {
  stderr_capture captured;
  ::setenv("GROVE_DUMP_ON_SIGNAL", "1", 1);
  grove::runtime rt{grove::runtime_options{.workers = 1}};
  ::unsetenv("GROVE_DUMP_ON_SIGNAL");
  std::raise(SIGUSR1);
  CHECK(eventually(
      [&] { return captured.text().find("grove task tree (1 workers)") != std::string::npos; }));
}

TEST_CASE("GROVE_SCHEDTRACE prints a line per interval with every worker's figures") {
  stderr_capture captured;
  ::setenv("GROVE_SCHEDTRACE", "5", 1);
  {
    grove::runtime rt{grove::runtime_options{.workers = 2}};
    ::unsetenv("GROVE_SCHEDTRACE");
    rt.run([] {
      grove::open_nursery([](grove::nursery& n) {
        for (int i = 0; i < 50; ++i) n.start_soon([] { grove::checkpoint(); });
      });
    });
    CHECK(eventually([&] { return count_of(captured.text(), "grove schedtrace") >= 2; }));
  }
  const std::string text = captured.text();
  INFO(text);
  CHECK(text.find("workers=2 spawned=+") != std::string::npos);
  CHECK(text.find("[w0 run=+") != std::string::npos);
  CHECK(text.find("[w1 run=+") != std::string::npos);
  CHECK(text.find("busy=") != std::string::npos);
}

TEST_CASE("a GROVE_SCHEDTRACE that is not a number is reported and ignored") {
  stderr_capture captured;
  ::setenv("GROVE_SCHEDTRACE", "often", 1);
  {
    grove::runtime rt{grove::runtime_options{.workers = 1}};
    ::unsetenv("GROVE_SCHEDTRACE");
    rt.run([] {});
  }
  const std::string text = captured.text();
  CHECK(text.find("GROVE_SCHEDTRACE=often is not a number of milliseconds; ignored") !=
        std::string::npos);
  CHECK(text.find("grove schedtrace") == std::string::npos);
}
