// Nurseries (API.md §2): a scope that spawns child tasks and does not return until every child
// has finished; a failing child cancels its siblings and its error surfaces, none dropped.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <grove/cancel.hpp>
#include <grove/detail/callable.hpp>
#include <grove/detail/export.hpp>
#include <grove/detail/result_holder.hpp>
#include <grove/errors.hpp>
#include <tuple>
#include <type_traits>
#include <utility>

namespace grove {

class nursery;
template <class T>
class task_status;

namespace detail {

struct nursery_core;

// The part of a task record that templates fill in; the rest is private to src/.
struct task_header {
  callable_slot body;
};

// How start<T>() and its task meet: the caller parks until the task calls started() or ends.
struct start_handshake {
  void* result = nullptr;  // the caller's result_holder<T>
  void* state = nullptr;   // the caller's wait, private to src/nursery
};

// Allocates a task record for a child of `n` (per-worker free list; no lock).
GROVE_API task_header* new_child_task(nursery_core& n);
// Gives back a record whose callable could not be built.
GROVE_API void discard_task(task_header* t) noexcept;
// Publishes the child: it is counted, linked for dump_task_tree and made runnable.
GROVE_API void spawn_child(nursery_core& n, task_header* t, start_handshake* start = nullptr);
// start<T>(): spawns the prepared child and parks until it calls started() or ends.
GROVE_API void run_start(nursery_core& n, task_header* t, start_handshake& handshake);
// task_status::started(): resumes the start() caller and moves the task under the nursery.
GROVE_API void signal_started(start_handshake* handshake);
GROVE_API grove::cancel_scope& nursery_scope(nursery_core& n) noexcept;
GROVE_API std::size_t nursery_child_count(const nursery_core& n) noexcept;
GROVE_API void start_checkpoint();  // start() is a checkpoint and needs a task

struct nursery_body_ref {
  void (*function)(void*, nursery&) = nullptr;
  void* context = nullptr;
};
// Opens a nursery in the current task, runs body, joins, reports errors (API.md §2, §10.2).
// Returns false when the body did not complete because the nursery's own scope absorbed it.
GROVE_API bool run_nursery(nursery_body_ref body);

template <class F, class... A>
auto bind_task(F&& fn, A&&... args) {
  return [fn = std::decay_t<F>(std::forward<F>(fn)),
          arguments = std::tuple<std::decay_t<A>...>(std::forward<A>(args)...)]() mutable {
    std::apply([&](auto&... a) { std::invoke(std::move(fn), std::move(a)...); }, arguments);
  };
}

// Fills a fresh record and hands it to `publish`; gives the record back if building throws.
template <class Body, class Publish>
void with_new_task(nursery_core& n, Body&& body, Publish&& publish) {
  task_header* t = new_child_task(n);
  try {
    t->body.emplace(std::forward<Body>(body));
  } catch (...) {
    discard_task(t);
    throw;
  }
  publish(t);
}

}  // namespace detail

template <class T = void>
class task_status {
 public:
  void started(T value) {
    claim();
    static_cast<detail::result_holder<T>*>(handshake_->result)->emplace_from([&]() -> T {
      return std::move(value);
    });
    detail::signal_started(handshake_);
  }

 private:
  friend class nursery;
  explicit task_status(detail::start_handshake* handshake) : handshake_(handshake) {}
  void claim() {
    if (called_) throw usage_error("grove::task_status::started called twice");
    called_ = true;
  }
  detail::start_handshake* handshake_;
  bool called_ = false;
};

template <>
class task_status<void> {
 public:
  void started() {
    if (called_) throw usage_error("grove::task_status::started called twice");
    called_ = true;
    detail::signal_started(handshake_);
  }

 private:
  friend class nursery;
  explicit task_status(detail::start_handshake* handshake) : handshake_(handshake) {}
  detail::start_handshake* handshake_;
  bool called_ = false;
};

class GROVE_API nursery {
 public:
  nursery(const nursery&) = delete;
  nursery& operator=(const nursery&) = delete;

  // Schedules fn(args...) as a child task and returns at once. Arguments are decay-copied now,
  // passed as rvalues, and destroyed when the child finishes.
  template <class F, class... A>
  void start_soon(F&& fn, A&&... args) {
    detail::with_new_task(*core_, detail::bind_task(std::forward<F>(fn), std::forward<A>(args)...),
                          [&](detail::task_header* t) { detail::spawn_child(*core_, t); });
  }

  // Runs fn(status, args...) as a child and blocks until it calls status.started(v); returns v.
  template <class T = void, class F, class... A>
  T start(F&& fn, A&&... args) {
    detail::start_checkpoint();
    detail::result_holder<T> result;
    detail::start_handshake handshake;
    handshake.result = &result;
    return start_impl<T>(std::forward<F>(fn), handshake, result, std::forward<A>(args)...);
  }

  grove::cancel_scope& cancel_scope() noexcept { return detail::nursery_scope(*core_); }
  std::size_t child_count() const noexcept { return detail::nursery_child_count(*core_); }

 private:
  friend struct detail::nursery_core;
  explicit nursery(detail::nursery_core* core) : core_(core) {}

  template <class T, class F, class... A>
  T start_impl(F&& fn, detail::start_handshake& handshake, detail::result_holder<T>& result,
               A&&... args);

  detail::nursery_core* core_;
};

template <class T, class F, class... A>
T nursery::start_impl(F&& fn, detail::start_handshake& handshake, detail::result_holder<T>& result,
                      A&&... args) {
  auto body = [status = task_status<T>(&handshake), fn = std::decay_t<F>(std::forward<F>(fn)),
               arguments = std::tuple<std::decay_t<A>...>(std::forward<A>(args)...)]() mutable {
    std::apply([&](auto&... a) { std::invoke(std::move(fn), status, std::move(a)...); }, arguments);
  };
  detail::with_new_task(*core_, std::move(body),
                        [&](detail::task_header* t) { detail::run_start(*core_, t, handshake); });
  return result.take();
}

template <class F>
std::invoke_result_t<F, nursery&> open_nursery(F&& body) {
  using result_type = std::invoke_result_t<F, nursery&>;
  detail::result_holder<result_type> holder;
  auto thunk = [&](nursery& n) { holder.emplace_from(std::forward<F>(body), n); };
  detail::nursery_body_ref ref{[](void* c, nursery& n) { (*static_cast<decltype(thunk)*>(c))(n); },
                               &thunk};
  detail::run_nursery(ref);
  if constexpr (std::is_void_v<result_type>) {
    return;
  } else {
    if (holder.has_value()) return holder.take();
    // The nursery's own scope absorbed a cancellation of the body (API.md §10 rule 3).
    if constexpr (std::is_default_constructible_v<result_type>) {
      return result_type{};
    } else {
      throw usage_error(
          "grove::open_nursery: the body was cancelled by the nursery's own scope and its "
          "result type is not default-constructible");
    }
  }
}

}  // namespace grove
