// testing::mock_clock: virtual time = virtual_base + rate * (real now - real_base). A jump moves
// the base; the attached runtime is told, so that timers now due fire and the rest re-arm.
#include <cmath>
#include <grove/testing.hpp>

#include "scheduler/runtime_core.hpp"
#include "testing/mock_clock_access.hpp"

namespace grove {
namespace testing {

mock_clock::mock_clock(double rate)
    : rate_(rate), real_base_(clock::now()), virtual_base_(real_base_) {
  if (!(rate >= 0.0)) throw usage_error("grove::testing::mock_clock: the rate must be >= 0");
}

mock_clock::~mock_clock() = default;

clock::time_point mock_clock::now_locked(clock::time_point real) const {
  if (rate_ == 0.0) return virtual_base_;
  const double elapsed = static_cast<double>((real - real_base_).count()) * rate_;
  return virtual_base_ + clock::duration(static_cast<clock::rep>(elapsed));
}

clock::time_point mock_clock::now() const {
  std::lock_guard guard(mutex_);
  return now_locked(clock::now());
}

void mock_clock::jump(clock::duration by) {
  if (by < clock::duration::zero()) {
    throw usage_error("grove::testing::mock_clock::jump: a negative jump (time never goes back)");
  }
  detail::runtime_core* runtime = nullptr;
  {
    std::lock_guard guard(mutex_);
    const clock::time_point real = clock::now();
    const clock::time_point from = now_locked(real);
    virtual_base_ = from > clock::time_point::max() - by ? clock::time_point::max() : from + by;
    real_base_ = real;
    runtime = attached_;
  }
  if (runtime != nullptr) runtime->clock_changed();
}

void mock_clock::set_autojump_threshold(clock::duration threshold) {
  if (threshold < clock::duration::zero()) {
    throw usage_error("grove::testing::mock_clock::set_autojump_threshold: a negative threshold");
  }
  detail::runtime_core* runtime = nullptr;
  {
    std::lock_guard guard(mutex_);
    autojump_threshold_ = threshold;
    runtime = attached_;
  }
  if (runtime != nullptr) runtime->clock_changed();
}

}  // namespace testing

namespace detail {

void mock_clock_access::attach(testing::mock_clock& c, runtime_core* runtime) {
  std::lock_guard guard(c.mutex_);
  if (c.attached_ != nullptr) {
    throw usage_error(
        "grove::runtime: this testing::mock_clock already serves another live runtime (one clock "
        "serves one runtime at a time)");
  }
  c.attached_ = runtime;
}

void mock_clock_access::detach(testing::mock_clock& c) noexcept {
  std::lock_guard guard(c.mutex_);
  c.attached_ = nullptr;
}

clock::time_point mock_clock_access::real_time_at(const testing::mock_clock& c,
                                                  clock::time_point when) {
  std::lock_guard guard(c.mutex_);
  if (when <= c.virtual_base_) return c.real_base_;
  if (c.rate_ == 0.0) return clock::time_point::max();
  const double wait = std::ceil(static_cast<double>((when - c.virtual_base_).count()) / c.rate_);
  if (wait >= static_cast<double>((clock::time_point::max() - c.real_base_).count())) {
    return clock::time_point::max();
  }
  // +1 tick: never wake before the virtual time is reached (the conversion rounds).
  return c.real_base_ + clock::duration(static_cast<clock::rep>(wait) + 1);
}

clock::duration mock_clock_access::autojump_threshold(const testing::mock_clock& c) {
  std::lock_guard guard(c.mutex_);
  return c.autojump_threshold_;
}

}  // namespace detail
}  // namespace grove
