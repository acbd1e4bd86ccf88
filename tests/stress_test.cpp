// Seeded stress test: random trees of nurseries, cancel scopes, failures, sleeps, checkpoints,
// channel traffic (a producer and a consumer over a random capacity) and lock traffic (tasks
// incrementing a plain counter under a grove::mutex),
// built from a seed, run on two workers, and checked against a sequential model of what must
// happen whatever the interleaving: which errors surface (and how they are grouped), and which
// scopes report cancelled_caught() where that is decided by the rules alone.
//
// Determinism by construction: failing leaves throw before any checkpoint (so they always throw);
// a leaf that parks forever is generated only where some enclosing scope or nursery is certain to
// be cancelled (so every tree ends).
//
// GROVE_STRESS_SEED and GROVE_STRESS_COUNT override the first seed and the number of trees;
// GROVE_STRESS_FRESH picks (and prints) a new first seed. Each seed is also the runtime's
// schedule_seed.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <grove/grove.hpp>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "support/runtime_fixture.hpp"
#include "support/server_pattern.hpp"

namespace {

using namespace std::chrono_literals;

enum class kind { fail, park, work, nap, nursery, scope, channel, lock };
enum class scope_kind { plain, self_cancel, deadline_zero, deadline_short, shielded_self_cancel };
enum class tri { no, yes, unknown };

struct node {
  kind what = kind::work;
  int id = 0;           // fail: the error's id; scope: the index of its verdict slot
  int checkpoints = 0;  // work
  scope_kind scope = scope_kind::plain;
  std::vector<std::unique_ptr<node>> children;  // nursery: the children; scope: one body
};

class generator {
 public:
  explicit generator(std::uint64_t seed) : random_(seed) {}

  std::unique_ptr<node> tree() { return nursery(0, false); }
  int scopes() const { return scope_count_; }

 private:
  int pick(int below) { return std::uniform_int_distribution<int>(0, below - 1)(random_); }

  std::unique_ptr<node> nursery(int depth, bool doomed) {
    auto n = std::make_unique<node>();
    n->what = kind::nursery;
    const bool has_fail = pick(10) < 3;
    const int count = 1 + pick(4);
    for (int i = 0; i < count; ++i) n->children.push_back(any(depth + 1, doomed || has_fail));
    if (has_fail) {
      auto f = std::make_unique<node>();
      f->what = kind::fail;
      f->id = next_error_++;
      n->children.insert(n->children.begin() + pick(count + 1), std::move(f));
    }
    return n;
  }

  std::unique_ptr<node> scope(int depth, bool doomed) {
    auto s = std::make_unique<node>();
    s->what = kind::scope;
    s->id = scope_count_++;
    s->scope = static_cast<scope_kind>(pick(5));
    const bool cancels = s->scope != scope_kind::plain;
    const bool shielded = s->scope == scope_kind::shielded_self_cancel;
    s->children.push_back(any(depth + 1, cancels || (doomed && !shielded)));
    return s;
  }

  std::unique_ptr<node> any(int depth, bool doomed) {
    const int choice = pick(depth >= 4 ? 4 : 6);
    auto leaf = std::make_unique<node>();
    switch (choice) {
      case 0:
        leaf->what = kind::fail;
        leaf->id = next_error_++;
        return leaf;
      case 1:
        leaf->what = doomed ? kind::park : kind::work;
        leaf->checkpoints = 1;
        return leaf;
      case 2:
        leaf->what = kind::work;
        leaf->checkpoints = pick(4);
        return leaf;
      case 3:
        leaf->what = static_cast<kind>(std::array{kind::nap, kind::channel, kind::lock}[pick(3)]);
        leaf->checkpoints = 1 + pick(20);  // channel: values; lock: rounds per task
        leaf->id = pick(4);                // channel: capacity class; lock: extra tasks
        return leaf;
      case 4:
        return nursery(depth, doomed);
      default:
        return scope(depth, doomed);
    }
  }

  std::mt19937_64 random_;
  int next_error_ = 0;
  int scope_count_ = 0;
};

// ---- the model ----

struct model_result {
  std::string error;  // "" none, "7" one error, "[1,2]" a group (sorted)
};

std::string group_of(std::vector<std::string> errors) {
  std::sort(errors.begin(), errors.end());
  std::string s = "[";
  for (std::size_t i = 0; i < errors.size(); ++i) s += (i ? "," : "") + errors[i];
  return s + "]";
}

// Whether a subtree raises an error: every fail leaf always throws and errors cross every scope.
bool raises_error(const node& n) {
  if (n.what == kind::fail) return true;
  return std::any_of(n.children.begin(), n.children.end(),
                     [](const auto& c) { return raises_error(*c); });
}

// Whether a cancellation of an enclosing scope, reaching this subtree, makes `cancelled` come out
// of it: some checkpoint it certainly reaches, not behind a shield (a shielded scope absorbs
// its own cancellation and keeps the outer one out).
bool raises_cancelled(const node& n) {
  switch (n.what) {
    case kind::park:
    case kind::nap:
    case kind::channel:  // receive / lock are checkpoints even when they need not wait
    case kind::lock:
      return true;
    case kind::work:
      return n.checkpoints > 0;
    case kind::scope:
      return n.scope != scope_kind::shielded_self_cancel && raises_cancelled(*n.children.front());
    case kind::nursery:
      return std::any_of(n.children.begin(), n.children.end(),
                         [](const auto& c) { return raises_cancelled(*c); });
    case kind::fail:
      return false;
  }
  return false;
}

// Whether the subtree certainly stays parked until an enclosing cancellation reaches it.
bool waits_for_outer_cancel(const node& n) {
  switch (n.what) {
    case kind::park:
      return true;
    case kind::scope:
      return n.scope == scope_kind::plain && waits_for_outer_cancel(*n.children.front());
    case kind::nursery:
      return std::any_of(n.children.begin(), n.children.end(),
                         [](const auto& c) { return waits_for_outer_cancel(*c); });
    default:
      return false;
  }
}

model_result model(const node& n, bool outer_cancelled, std::vector<tri>& caught) {
  switch (n.what) {
    case kind::fail:
      return {std::to_string(n.id)};
    case kind::park:
    case kind::work:
    case kind::nap:
    case kind::channel:
    case kind::lock:
      return {};
    case kind::nursery: {
      std::vector<std::string> errors;
      model_result r;
      // A child's error cancels the nursery's scope, and with it every sibling.
      const bool cancelled = outer_cancelled || raises_error(n);
      for (const auto& c : n.children) {
        model_result sub = model(*c, cancelled, caught);
        if (!sub.error.empty()) errors.push_back(sub.error);
      }
      r.error = errors.empty() ? "" : errors.size() == 1 ? errors.front() : group_of(errors);
      return r;
    }
    case kind::scope: {
      const bool cancels = n.scope != scope_kind::plain;
      const bool shielded = n.scope == scope_kind::shielded_self_cancel;
      const bool outer_reaches = outer_cancelled && !shielded;
      model_result body = model(*n.children.front(), cancels || outer_reaches, caught);
      tri verdict = tri::no;
      if (cancels && body.error.empty()) {
        if (outer_reaches) {
          verdict = tri::unknown;  // which cancelled scope is outermost at that moment is a race
        } else if (n.scope == scope_kind::deadline_short) {
          verdict = waits_for_outer_cancel(*n.children.front()) ? tri::yes : tri::unknown;
        } else {
          verdict = raises_cancelled(*n.children.front()) ? tri::yes : tri::no;
        }
      }
      caught[static_cast<std::size_t>(n.id)] = verdict;
      return body;
    }
  }
  return {};
}

void print(const node& n, int depth, std::ostringstream& out) {
  static const char* kinds[] = {"fail",    "park",  "work",    "nap",
                                "nursery", "scope", "channel", "lock"};
  static const char* scopes[] = {"plain", "self_cancel", "deadline_zero", "deadline_short",
                                 "shielded_self_cancel"};
  out << std::string(static_cast<std::size_t>(depth) * 2, ' ') << kinds[static_cast<int>(n.what)];
  if (n.what == kind::fail || n.what == kind::scope) out << ' ' << n.id;
  if (n.what == kind::scope) out << ' ' << scopes[static_cast<int>(n.scope)];
  if (n.what == kind::work) out << " x" << n.checkpoints;
  out << '\n';
  for (const auto& c : n.children) print(*c, depth + 1, out);
}

std::string print(const node& n) {
  std::ostringstream out;
  print(n, 0, out);
  return out.str();
}

// ---- running a tree ----

// A producer sends 1..values, a consumer receives until end_of_channel. Unless the producer was
// cut short by a cancellation, every value must arrive exactly once, in order; a mismatch is an
// error the model does not expect, so the tree fails.
void channel_traffic(int values, int capacity_class) {
  static constexpr std::size_t capacities[] = {0, 1, 3, grove::unbounded};
  auto [tx, rx] = grove::open_channel<int>(capacities[capacity_class]);
  bool producer_completed = false;
  std::atomic<bool> consumer_cancelled{false};
  grove::open_nursery([&](grove::nursery& n) {
    n.start_soon(
        [&producer_completed, &consumer_cancelled, values](grove::sender<int> out) {
          try {
            for (int v = 1; v <= values; ++v) out.send(v);
          } catch (const grove::broken_resource_error&) {
            // Legitimate only when the consumer was cancelled and closed its end while we were
            // blocked in send (rule 6: closing the last receiver wakes senders this way).
            if (!consumer_cancelled.load()) throw;
            return;
          }
          producer_completed = true;
        },
        std::move(tx));
    n.start_soon(
        [&producer_completed, &consumer_cancelled, values](grove::receiver<int> in) {
          int expected = 1;
          try {
            for (int v : in) {
              if (v != expected++) throw std::logic_error("channel: out of order or duplicated");
            }
          } catch (const grove::cancelled&) {
            consumer_cancelled = true;  // before our end closes (when this task's arguments die)
            throw;
          }
          // The producer's last send happened before end_of_channel reached us.
          if (producer_completed && expected != values + 1) {
            throw std::logic_error("channel: values lost");
          }
        },
        std::move(rx));
  });
}

// `tasks` tasks each add 1 to a plain counter `rounds` times under a grove::mutex, with a
// checkpoint inside the critical section. Unless cancelled, the total must be exact.
void lock_traffic(int rounds, int tasks) {
  grove::mutex m;
  long counter = 0;
  std::atomic<int> completed{0};
  grove::open_nursery([&](grove::nursery& n) {
    for (int t = 0; t < tasks; ++t) {
      n.start_soon([&] {
        for (int r = 0; r < rounds; ++r) {
          std::scoped_lock hold(m);
          const long seen = counter;
          grove::checkpoint();
          counter = seen + 1;
        }
        completed.fetch_add(1);
      });
    }
  });
  if (completed.load() == tasks && counter != static_cast<long>(rounds) * tasks) {
    throw std::logic_error("lock: lost updates");
  }
}

struct run_state {
  std::vector<std::unique_ptr<grove::cancel_scope>> scopes;
};

void execute(const node& n, run_state& state) {
  switch (n.what) {
    case kind::fail:
      throw std::runtime_error(std::to_string(n.id));
    case kind::park:
      grove::sleep_for(1h);
      return;
    case kind::work:
      for (int i = 0; i < n.checkpoints; ++i) grove::checkpoint();
      return;
    case kind::nap:
      grove::sleep_for(20us);
      return;
    case kind::channel:
      channel_traffic(n.checkpoints, n.id);
      return;
    case kind::lock:
      lock_traffic(n.checkpoints, 2 + n.id);
      return;
    case kind::nursery:
      grove::open_nursery([&](grove::nursery& nursery) {
        for (const auto& c : n.children) {
          const node* child = c.get();
          nursery.start_soon([child, &state] { execute(*child, state); });
        }
      });
      return;
    case kind::scope: {
      grove::cancel_scope& scope = *state.scopes[static_cast<std::size_t>(n.id)];
      switch (n.scope) {
        case scope_kind::plain:
          break;
        case scope_kind::self_cancel:
          scope.cancel();
          break;
        case scope_kind::deadline_zero:
          scope.set_deadline(grove::now());
          break;
        case scope_kind::deadline_short:
          scope.set_deadline(grove::now() + 1ms);
          break;
        case scope_kind::shielded_self_cancel:
          scope.set_shield(true);
          scope.cancel();
          break;
      }
      scope.run([&] { execute(*n.children.front(), state); });
      return;
    }
  }
}

std::string describe(const std::exception_ptr& error) {
  try {
    std::rethrow_exception(error);
  } catch (const grove::exception_group& group) {
    std::vector<std::string> parts;
    for (const auto& e : group.exceptions()) parts.push_back(describe(e));
    return group_of(parts);
  } catch (const std::runtime_error& e) {
    return e.what();
  } catch (const grove::cancelled&) {
    return "cancelled";
  } catch (...) {
    return "unexpected exception";
  }
}

std::uint64_t from_environment(const char* name, std::uint64_t fallback) {
  const char* text = std::getenv(name);
  return text != nullptr ? std::strtoull(text, nullptr, 10) : fallback;
}

// The first seed: GROVE_STRESS_SEED, or with GROVE_STRESS_FRESH set a new one each run (printed,
// so that a failure replays), or 1.
std::uint64_t first_seed() {
  if (std::getenv("GROVE_STRESS_FRESH") != nullptr && std::getenv("GROVE_STRESS_SEED") == nullptr) {
    const std::uint64_t fresh = std::random_device{}() % 1000000000u + 1000000u;
    std::printf("grove stress: fresh first seed %llu (replay: GROVE_STRESS_SEED=%llu)\n",
                static_cast<unsigned long long>(fresh), static_cast<unsigned long long>(fresh));
    return fresh;
  }
  return from_environment("GROVE_STRESS_SEED", 1);
}

}  // namespace

TEST_CASE("random nursery trees end as the sequential model says, whatever the interleaving") {
  const std::uint64_t first = first_seed();
  const std::uint64_t count = from_environment("GROVE_STRESS_COUNT", 2000);
  std::uint64_t failures = 0;
  for (std::uint64_t seed = first; seed < first + count && failures < 5; ++seed) {
    // The seed drives the scheduler too (random ready-task choice, steal victims, extra
    // yields), so a failing tree replays with the same interleaving decisions.
    grove::runtime rt{grove::runtime_options{.workers = 2, .schedule_seed = seed}};
    generator make(seed);
    const std::unique_ptr<node> tree = make.tree();
    std::vector<tri> expected_caught(static_cast<std::size_t>(make.scopes()), tri::unknown);
    const std::string expected = model(*tree, false, expected_caught).error;

    run_state state;
    for (int i = 0; i < make.scopes(); ++i)
      state.scopes.push_back(std::make_unique<grove::cancel_scope>());
    std::string actual;
    try {
      rt.run([&] { execute(*tree, state); });
    } catch (...) {
      actual = describe(std::current_exception());
    }
    std::string caught_mismatches;
    for (int i = 0; i < make.scopes(); ++i) {
      const tri want = expected_caught[static_cast<std::size_t>(i)];
      if (want == tri::unknown) continue;
      if (state.scopes[static_cast<std::size_t>(i)]->cancelled_caught() != (want == tri::yes)) {
        caught_mismatches += " scope " + std::to_string(i) +
                             (want == tri::yes ? " should" : " should not") + " have caught;";
      }
    }
    if (actual != expected || !caught_mismatches.empty()) {
      ++failures;
      FAIL_CHECK("stress tree seed=" << seed << " (rerun with GROVE_STRESS_SEED=" << seed
                                     << " GROVE_STRESS_COUNT=1): expected '" << expected
                                     << "', got '" << actual << "';" << caught_mismatches << "\n"
                                     << print(*tree));
    }
  }
  CHECK(failures == 0);
}

// ---- the cancel tree's edges, raced at random ----
//
// Per seed, on runtimes replaced every 25 seeds (runtime churn): a foreign std::thread calls
// set_deadline / set_shield / cancel on a scope while its task leaves it; inside the scope the
// task either start()s a child that fails before started(), or start()s a listener that calls
// started() while its handlers park and then cancels the nursery (the server pattern), or parks
// until a deadline. Scopes are destroyed only after the runtime they ran on (they outlive it).
// Checked: every seed ends (a watchdog aborts with the seed after grove_test::generous), and
// start() reports the child's own error or the scope's cancellation, nothing else.
TEST_CASE("the cancel tree's edges survive random races of foreign threads, start() and churn") {
  const std::uint64_t first = first_seed();
  const std::uint64_t count = from_environment("GROVE_STRESS_COUNT", 2000) / 4;
  std::atomic<std::uint64_t> current_seed{first};
  std::atomic<bool> done{false};
  std::mutex watchdog_mutex;
  std::condition_variable watchdog_wake;
  std::thread watchdog([&] {
    std::unique_lock guard(watchdog_mutex);
    std::uint64_t seen = current_seed.load();
    while (!done.load()) {
      if (watchdog_wake.wait_for(guard, grove_test::generous,
                                 [&] { return done.load() || current_seed.load() != seen; })) {
        seen = current_seed.load();
        continue;
      }
      std::fprintf(stderr, "grove stress: seed %llu hung (GROVE_STRESS_SEED=%llu)\n",
                   static_cast<unsigned long long>(seen), static_cast<unsigned long long>(seen));
      std::abort();
    }
  });

  std::unique_ptr<grove::runtime> rt;
  std::vector<std::unique_ptr<grove::cancel_scope>> outliving;
  int unexpected = 0;
  for (std::uint64_t seed = first; seed < first + count; ++seed) {
    if ((seed - first) % 25 == 0) {
      rt.reset();
      outliving.clear();  // after their runtime is gone
      rt = std::make_unique<grove::runtime>(
          grove::runtime_options{.workers = 2, .schedule_seed = seed});
    }
    std::mt19937_64 random(seed);
    const int foreign_op = static_cast<int>(random() % 4);
    const int delay = static_cast<int>(random() % 2000);
    const int shape = static_cast<int>(random() % 3);
    auto scope = std::make_unique<grove::cancel_scope>();
    std::atomic<bool> go{false};
    std::thread foreign([&] {
      while (!go.load()) std::this_thread::yield();
      for (int i = 0; i < delay; ++i) grove::detail::spin_pause();
      switch (foreign_op) {
        case 0:
          scope->set_deadline(grove::clock::now() + std::chrono::microseconds(delay / 10));
          break;
        case 1:
          scope->set_shield(true);
          scope->set_shield(false);
          break;
        case 2:
          scope->cancel();
          break;
        default:
          scope->set_deadline(grove::clock::now() - 1s);
          break;
      }
    });
    std::string outcome = "none";
    rt->run([&] {
      grove::open_nursery([&](grove::nursery& n) {
        scope->run([&] {
          go = true;
          if (shape == 0) {
            try {
              n.start([](grove::task_status<>&) {
                grove::sleep_for(20us);
                throw std::runtime_error("before started");
              });
              outcome = "start returned";
            } catch (const std::runtime_error&) {
              outcome = "child error";
            }
          } else if (shape == 1) {
            grove_test::start_listener_with_parked_handlers(n);
            n.cancel_scope().cancel();
          } else {
            grove::move_on_after(std::chrono::microseconds(delay / 4),
                                 [] { grove::sleep_for(1h); });
          }
        });
      });
    });
    foreign.join();
    // A cancelled scope may end start() with `cancelled` (absorbed: outcome stays "none").
    if (shape == 0 && outcome != "child error" && !(outcome == "none" && scope->cancel_called())) {
      ++unexpected;
      FAIL_CHECK("edge seed=" << seed << ": start() ended with '" << outcome << "'");
    }
    outliving.push_back(std::move(scope));
    current_seed.store(seed + 1);
    watchdog_wake.notify_one();
  }
  rt.reset();
  outliving.clear();
  done.store(true);
  watchdog_wake.notify_one();
  watchdog.join();
  CHECK(unexpected == 0);
}
