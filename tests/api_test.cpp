// Touches every public name of docs/reference.md with the exact spelling and shape the contract
// gives, so a rename or a changed signature fails to compile here first.
#include <doctest/doctest.h>

#include <grove/grove.hpp>
#include <grove/testing.hpp>
#if __has_include(<Eigen/Core>)
#include <grove/eigen.hpp>
#define GROVE_API_TEST_EIGEN 1
#endif

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <limits>
#include <mutex>
#include <optional>
#include <sstream>
#include <type_traits>

namespace {

// §1
static_assert(std::is_same_v<grove::clock, std::chrono::steady_clock>);
static_assert(std::is_same_v<decltype(grove::runtime_options{}.workers), unsigned>);
static_assert(std::is_same_v<decltype(grove::runtime_options{}.stack_size), std::size_t>);
static_assert(std::is_same_v<decltype(grove::runtime_options{}.trace_path), std::string>);
static_assert(!std::is_copy_constructible_v<grove::runtime> &&
              !std::is_move_constructible_v<grove::runtime>);
static_assert(std::is_same_v<decltype(std::declval<grove::runtime&>().worker_count()), unsigned>);
static_assert(noexcept(std::declval<grove::runtime&>().worker_count()));
static_assert(
    std::is_same_v<decltype(std::declval<grove::runtime&>().stats()), grove::runtime_stats>);
static_assert(std::is_same_v<decltype(std::declval<grove::runtime&>().io_context()),
                             boost::asio::io_context&>);
static_assert(std::is_same_v<decltype(grove::in_task()), bool>&& noexcept(grove::in_task()));
static_assert(grove::default_stack_size >= 64 * 1024);

// §2
static_assert(!std::is_copy_constructible_v<grove::nursery>);
static_assert(
    std::is_same_v<decltype(std::declval<grove::nursery&>().cancel_scope()), grove::cancel_scope&>);
static_assert(
    std::is_same_v<decltype(std::declval<const grove::nursery&>().child_count()), std::size_t>);

// §3
static_assert(!std::is_base_of_v<std::exception, grove::cancelled>);
static_assert(std::is_default_constructible_v<grove::cancel_scope>);
static_assert(noexcept(std::declval<grove::cancel_scope&>().cancel()));
static_assert(std::is_same_v<decltype(std::declval<grove::cancel_scope&>().run([] {})), bool>);
static_assert(std::is_same_v<decltype(std::declval<grove::cancel_scope&>().run([] { return 1; })),
                             std::optional<int>>);
static_assert(std::is_same_v<decltype(std::declval<grove::cancel_scope&>().deadline()),
                             grove::clock::time_point>);
static_assert(std::is_same_v<decltype(grove::cancel_requested()), bool>&& noexcept(
    grove::cancel_requested()));

// §4
static_assert(
    std::is_same_v<decltype(grove::move_on_after(grove::clock::duration{}, [] {})), bool>);
static_assert(
    std::is_same_v<decltype(grove::move_on_at(grove::clock::time_point{}, [] { return 1; })),
                   std::optional<int>>);
static_assert(
    std::is_same_v<decltype(grove::fail_after(grove::clock::duration{}, [] { return 1; })), int>);
static_assert(std::is_same_v<decltype(grove::fail_at(grove::clock::time_point{}, [] {})), void>);

// §5
static_assert(noexcept(std::declval<grove::event&>().set()));
static_assert(std::is_same_v<decltype(std::declval<const grove::event&>().is_set()), bool>);
static_assert(std::is_same_v<decltype(std::declval<grove::mutex&>().try_lock()), bool>);
static_assert(std::is_constructible_v<grove::semaphore, std::size_t>);
static_assert(
    std::is_same_v<decltype(std::declval<const grove::semaphore&>().value()), std::size_t>);
static_assert(std::is_constructible_v<grove::capacity_limiter, std::size_t>);
static_assert(
    std::is_same_v<decltype(std::declval<const grove::capacity_limiter&>().borrowed_tokens()),
                   std::size_t>);
static_assert(
    std::is_same_v<decltype(std::declval<const grove::capacity_limiter&>().total_tokens()),
                   std::size_t>);
static_assert(std::is_same_v<decltype(std::declval<grove::condition_variable&>().wait(
                                 std::declval<std::unique_lock<grove::mutex>&>())),
                             void>);

// §6
static_assert(grove::unbounded == std::numeric_limits<std::size_t>::max());
static_assert(std::is_same_v<decltype(grove::open_channel<int>(0)),
                             std::pair<grove::sender<int>, grove::receiver<int>>>);
static_assert(!std::is_copy_constructible_v<grove::sender<int>> &&
              std::is_move_constructible_v<grove::sender<int>>);
static_assert(!std::is_copy_constructible_v<grove::receiver<int>> &&
              std::is_move_constructible_v<grove::receiver<int>>);
static_assert(std::is_same_v<decltype(std::declval<grove::sender<int>&>().try_send(1)), bool>);
static_assert(std::is_same_v<decltype(std::declval<grove::receiver<int>&>().try_receive()),
                             std::optional<int>>);
static_assert(std::is_same_v<decltype(std::declval<grove::receiver<int>&>().receive()), int>);

// §7
static_assert(std::is_same_v<grove::grain_t<int>, int>);
static_assert(std::is_same_v<grove::grain_t<std::vector<int>::iterator>, std::ptrdiff_t>);

// §9
static_assert(std::is_base_of_v<std::logic_error, grove::usage_error>);
static_assert(std::is_base_of_v<std::runtime_error, grove::too_slow_error>);
static_assert(std::is_base_of_v<std::exception, grove::exception_group>);
static_assert(std::is_base_of_v<std::runtime_error, grove::end_of_channel>);
static_assert(std::is_base_of_v<std::logic_error, grove::closed_resource_error>);
static_assert(std::is_base_of_v<std::runtime_error, grove::broken_resource_error>);
static_assert(std::is_same_v<decltype(grove::runtime_stats{}.tasks_spawned), std::uint64_t>);
static_assert(std::is_same_v<decltype(grove::runtime_stats{}.context_switches), std::uint64_t>);

// §11
static_assert(std::is_same_v<decltype(grove::now()), grove::clock::time_point>);
static_assert(std::is_same_v<decltype(std::declval<const grove::testing::mock_clock&>().now()),
                             grove::clock::time_point>);
static_assert(std::is_constructible_v<grove::testing::mock_clock, double> &&
              std::is_default_constructible_v<grove::testing::mock_clock>);
static_assert(
    std::is_same_v<decltype(grove::runtime_options{}.virtual_clock), grove::testing::mock_clock*>);
static_assert(
    std::is_same_v<decltype(grove::runtime_options{}.schedule_seed), std::optional<std::uint64_t>>);

}  // namespace

TEST_CASE("the testing names are usable as the contract spells them") {
  grove::testing::mock_clock clock(0.0);
  clock.jump(grove::clock::duration(1));
  clock.set_autojump_threshold(grove::clock::duration::zero());
  grove::runtime_options options;
  options.workers = 1;
  options.virtual_clock = &clock;
  options.schedule_seed = 7;
  grove::runtime rt(options);
  const int turns = rt.run([] {
    grove::testing::wait_all_tasks_blocked();
    grove::testing::wait_all_tasks_blocked(grove::clock::duration::zero());
    grove::testing::sequencer seq;
    { auto first = seq(std::size_t{0}); }
    auto second = seq(1);
    return 2;
  });
  std::size_t ran = 0;
  grove::testing::for_each_seed(std::uint64_t{1}, std::size_t{2}, [&](std::uint64_t) { ++ran; });
  CHECK(turns == 2);
  CHECK(ran == 2);
}

TEST_CASE("every name of docs/reference.md is usable as the contract spells it") {
  grove::runtime rt{
      grove::runtime_options{.workers = 2, .stack_size = 128 * 1024, .trace_path = {}}};
  const int value = rt.run([] {
    grove::checkpoint();
    grove::sleep_for(std::chrono::milliseconds(0));
    grove::sleep_until(grove::clock::now());
    int sum = 0;
    grove::open_nursery([&](grove::nursery& n) {
      n.start_soon([](int k) { (void)k; }, 1);
      sum += n.start<int>([](grove::task_status<int>& status) { status.started(2); });
      n.start([](grove::task_status<>& status) { status.started(); });
      n.cancel_scope().set_shield(false);
    });
    grove::event e;
    e.set();
    e.wait();
    grove::mutex m;
    { std::scoped_lock hold(m); }
    grove::semaphore sem(1);
    sem.acquire();
    sem.release();
    grove::capacity_limiter limiter(2);
    limiter.acquire();
    limiter.release();
    grove::condition_variable cv;
    cv.notify_all();
    auto [tx, rx] = grove::open_channel<int>(grove::unbounded);
    tx.send(5);
    sum += rx.receive() - 5;
    grove::parallel_for(0, 4, [&](int) {});
    sum += grove::parallel_reduce(
        0, 4, 0, [](int b, int e) { return e - b; }, [](int a, int b) { return a + b; });
#if defined(GROVE_API_TEST_EIGEN)
    Eigen::VectorXd v = Eigen::VectorXd::Ones(10);
    sum += static_cast<int>(grove::eigen::parallel_sum(v));
    sum += static_cast<int>(
        grove::eigen::map_chunks(v, 2, [](const auto& s) { return s.size(); }).size());
    sum += static_cast<int>(grove::eigen::array_split(v, 3).size());
#else
    sum += 10 + 2 + 3;
#endif
    std::ostringstream tree;
    grove::dump_task_tree(tree);
    return sum;
  });
  CHECK(value == 2 + 4 + 10 + 2 + 3);
  CHECK(rt.stats().tasks_spawned >= 4);
}
