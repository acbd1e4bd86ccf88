// Timeouts and sleeping (docs/reference.md §4). Deadlines are cancel-scope deadlines fired by
// Boost.Asio timers on the runtime's io_context; a zero or negative duration has already passed, so
// the body is cancelled at its first checkpoint.
#pragma once

#include <chrono>
#include <grove/cancel.hpp>
#include <grove/detail/export.hpp>
#include <grove/errors.hpp>
#include <grove/runtime.hpp>
#include <type_traits>
#include <utility>

namespace grove {

namespace detail {
// now() + d without overflow: saturates at the clock's range.
GROVE_API clock::time_point deadline_after(clock::duration d);

// Any std::chrono::duration as the clock's, the way std::this_thread::sleep_for converts it: a
// fractional or coarser value rounds up (a timeout never ends early), and one beyond the clock's
// range saturates.
template <class Rep, class Period>
clock::duration to_clock_duration(std::chrono::duration<Rep, Period> d) {
  using wide = std::chrono::duration<long double, clock::period>;
  const wide value = std::chrono::duration_cast<wide>(d);
  if (value >= wide(static_cast<long double>(clock::duration::max().count()))) {
    return clock::duration::max();
  }
  if (value <= wide(static_cast<long double>(clock::duration::min().count()))) {
    return clock::duration::min();
  }
  return std::chrono::ceil<clock::duration>(d);
}
// A time point of grove's clock at any resolution, rounded up to the clock's.
template <class D>
clock::time_point to_clock_time_point(std::chrono::time_point<clock, D> t) {
  return clock::time_point(to_clock_duration(t.time_since_epoch()));
}
}  // namespace detail

namespace detail {
// move_on_* and fail_*: a scope with a deadline, entered under the caller's name.
template <class F>
auto run_with_deadline(const char* what, clock::time_point deadline, F&& body) {
  cancel_scope scope;
  scope.set_deadline(deadline);
  return scope.run_as(what, std::forward<F>(body));
}

template <class F>
auto fail_with_deadline(const char* what, clock::time_point deadline, F&& body)
    -> scope_body_result_t<F> {
  using result = scope_body_result_t<F>;
  cancel_scope scope;
  scope.set_deadline(deadline);
  auto outcome = scope.run_as(what, std::forward<F>(body));
  if (scope.cancelled_caught()) throw too_slow_error();
  if constexpr (std::is_void_v<result>) {
    (void)outcome;
  } else if constexpr (std::is_reference_v<result>) {
    return **outcome;
  } else {
    return std::move(*outcome);
  }
}
}  // namespace detail

// Like cancel_scope::run with a deadline: returns std::optional<R> (bool for a void body).
template <class D, class F>
auto move_on_at(std::chrono::time_point<clock, D> deadline, F&& body) {
  return detail::run_with_deadline("grove::move_on_at", detail::to_clock_time_point(deadline),
                                   std::forward<F>(body));
}

template <class Rep, class Period, class F>
auto move_on_after(std::chrono::duration<Rep, Period> timeout, F&& body) {
  return detail::run_with_deadline("grove::move_on_after",
                                   detail::deadline_after(detail::to_clock_duration(timeout)),
                                   std::forward<F>(body));
}

// Returns the body's result; throws too_slow_error when the scope caught its own cancellation
// (its deadline, or cancel() through the scope handed to the body — as trio's fail_after).
template <class D, class F>
auto fail_at(std::chrono::time_point<clock, D> deadline, F&& body)
    -> detail::scope_body_result_t<F> {
  return detail::fail_with_deadline("grove::fail_at", detail::to_clock_time_point(deadline),
                                    std::forward<F>(body));
}

template <class Rep, class Period, class F>
auto fail_after(std::chrono::duration<Rep, Period> timeout, F&& body)
    -> detail::scope_body_result_t<F> {
  return detail::fail_with_deadline("grove::fail_after",
                                    detail::deadline_after(detail::to_clock_duration(timeout)),
                                    std::forward<F>(body));
}

// Suspend the calling task (a checkpoint). A time already passed still yields once.
GROVE_API void sleep_until(clock::time_point deadline);
GROVE_API void sleep_for(clock::duration duration);
// Any duration or time point of grove's clock, rounded up like std::this_thread::sleep_for.
template <class Rep, class Period>
void sleep_for(std::chrono::duration<Rep, Period> duration) {
  sleep_for(detail::to_clock_duration(duration));
}
template <class D>
void sleep_until(std::chrono::time_point<clock, D> deadline) {
  sleep_until(detail::to_clock_time_point(deadline));
}

}  // namespace grove
