// Timeouts and sleeping (API.md §4). Deadlines are cancel-scope deadlines fired by Boost.Asio
// timers on the runtime's io_context; a zero or negative duration has already passed, so the body
// is cancelled at its first checkpoint.
#pragma once

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
}  // namespace detail

// Like cancel_scope::run with a deadline: returns std::optional<R> (bool for a void body).
template <class F>
auto move_on_at(clock::time_point deadline, F&& body) {
  cancel_scope scope;
  scope.set_deadline(deadline);
  return scope.run(std::forward<F>(body));
}

template <class F>
auto move_on_after(clock::duration timeout, F&& body) {
  return move_on_at(detail::deadline_after(timeout), std::forward<F>(body));
}

// Returns the body's result; throws too_slow_error when the scope caught its own cancellation
// (its deadline, or cancel() through the scope handed to the body — as trio's fail_after).
template <class F>
auto fail_at(clock::time_point deadline, F&& body) -> detail::scope_body_result_t<F> {
  using result = detail::scope_body_result_t<F>;
  cancel_scope scope;
  scope.set_deadline(deadline);
  auto outcome = scope.run(std::forward<F>(body));
  if (scope.cancelled_caught()) throw too_slow_error();
  if constexpr (std::is_void_v<result>) {
    (void)outcome;
  } else if constexpr (std::is_reference_v<result>) {
    return **outcome;
  } else {
    return std::move(*outcome);
  }
}

template <class F>
auto fail_after(clock::duration timeout, F&& body) -> detail::scope_body_result_t<F> {
  return fail_at(detail::deadline_after(timeout), std::forward<F>(body));
}

// Suspend the calling task (a checkpoint). A time already passed still yields once.
GROVE_API void sleep_until(clock::time_point deadline);
GROVE_API void sleep_for(clock::duration duration);

}  // namespace grove
