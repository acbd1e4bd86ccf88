// Cancellation (docs/reference.md §3): cancel scopes, the `cancelled` signal, and checkpoints. A
// task is cancelled when any enclosing scope is cancelled or past its deadline, unless a shielded
// scope lies in between; delivery happens only at checkpoints.
#pragma once

#include <grove/detail/cancel_node.hpp>
#include <grove/detail/export.hpp>
#include <grove/detail/result_holder.hpp>
#include <grove/runtime.hpp>
#include <optional>
#include <type_traits>
#include <utility>

namespace grove {

// Thrown at a checkpoint of a cancelled task. Deliberately not a std::exception, so that
// `catch (const std::exception&)` does not swallow it. Catching `...` without rethrowing is a
// bug: the nursery still completes, but the cancellation is lost for that task.
struct cancelled {};

class cancel_scope;

namespace detail {
struct nursery_core;
// Enters `node` in the current task, runs `body`, leaves it. Returns false when the scope
// absorbed its own cancellation (the body did not complete); rethrows anything else.
// `what` names the call the user made, for usage errors ("grove::move_on_after").
GROVE_API bool run_in_scope(scope_node& node, callback_ref body, const char* what);
GROVE_API void cancel_node_cancel(cancel_node& node) noexcept;
GROVE_API void cancel_node_set_deadline(scope_node& node, clock::time_point deadline);
GROVE_API void cancel_node_set_shield(cancel_node& node, bool shield);
GROVE_API bool cancel_node_cancel_called(const cancel_node& node) noexcept;

// body(scope) when invocable so, otherwise body() (docs/reference.md §10 rule 1).
template <class F>
decltype(auto) invoke_scope_body(F&& body, cancel_scope& scope) {
  if constexpr (std::is_invocable_v<F, cancel_scope&>) {
    return std::invoke(std::forward<F>(body), scope);
  } else {
    return std::invoke(std::forward<F>(body));
  }
}
template <class F>
using scope_body_result_t =
    decltype(invoke_scope_body(std::declval<F>(), std::declval<cancel_scope&>()));
}  // namespace detail

class GROVE_API cancel_scope {
 public:
  cancel_scope() = default;
  // Once run() has returned, a scope is plain memory: it may outlive its runtime, and cancel(),
  // set_deadline() and set_shield() on it are harmless no-ops.
  ~cancel_scope() = default;
  cancel_scope(const cancel_scope&) = delete;
  cancel_scope& operator=(const cancel_scope&) = delete;

  // Enters the scope and runs body(scope) or body(). Returns std::optional<R> (empty when the
  // scope absorbed its own cancellation); for a void body, true when it ran to completion.
  template <class F>
  auto run(F&& body) {
    return run_as("grove::cancel_scope::run", std::forward<F>(body));
  }

  // run(), with `what` naming the caller's call in usage errors (move_on_*, fail_*).
  template <class F>
  auto run_as(const char* what, F&& body) {
    using result = detail::scope_body_result_t<F>;
    detail::result_holder<result> holder;
    auto thunk = [&] {
      holder.emplace_from(
          [&]() -> result { return detail::invoke_scope_body(std::forward<F>(body), *this); });
    };
    const bool completed = detail::run_in_scope(node_, detail::callback_ref::to(thunk), what);
    if constexpr (std::is_void_v<result>) {
      return completed;
    } else if constexpr (std::is_reference_v<result>) {
      using pointee = std::remove_reference_t<result>;
      return completed ? std::optional<pointee*>(&holder.take()) : std::nullopt;
    } else {
      return completed ? std::optional<result>(holder.take()) : std::nullopt;
    }
  }

  void cancel() noexcept { detail::cancel_node_cancel(node_); }
  bool cancel_called() const noexcept { return detail::cancel_node_cancel_called(node_); }
  bool cancelled_caught() const noexcept { return node_.caught; }
  void set_deadline(clock::time_point deadline) {
    detail::cancel_node_set_deadline(node_, deadline);
  }
  clock::time_point deadline() const noexcept {
    return clock::time_point(clock::duration(node_.deadline_ticks.load(std::memory_order_acquire)));
  }
  void set_shield(bool shield) { detail::cancel_node_set_shield(node_, shield); }
  bool shield() const noexcept { return node_.shielded.load(std::memory_order_acquire); }

 private:
  friend struct detail::nursery_core;
  detail::scope_node node_;
};

// Yields to the scheduler; throws `cancelled` if the calling task is cancelled.
GROVE_API void checkpoint();
// Non-throwing poll for CPU-bound loops; false outside a task. One atomic load when nothing
// was cancelled since the task last looked.
GROVE_API bool cancel_requested() noexcept;

}  // namespace grove
