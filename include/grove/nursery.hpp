// Nurseries (docs/reference.md §2): a scope that spawns child tasks and does not return until every
// child has finished; a failing child cancels its siblings and its error surfaces, none dropped.
#pragma once

#include <cstddef>
#include <exception>
#include <functional>
#include <grove/cancel.hpp>
#include <grove/detail/callable.hpp>
#include <grove/detail/export.hpp>
#include <grove/detail/requirements.hpp>
#include <grove/detail/result_holder.hpp>
#include <grove/errors.hpp>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>

namespace grove {

class nursery;
template <class T>
class task_status;

// A child task's name, shown by dump_task_tree: n.start_soon(grove::task_name{"fetch"}, fn).
// The text is copied at the spawn. Unnamed tasks show their callable's type.
struct task_name {
  std::string_view text;
};

namespace detail {

struct nursery_core;

// The part of a task record that templates fill in; the rest is private to src/.
struct task_header {
  callable_slot body;
  // The user's callable type, for dump_task_tree when the task has no name (static storage).
  const std::type_info* callable_type = nullptr;
};

// How start<T>() and its task meet: the caller parks until the task calls started() or ends.
struct start_handshake {
  void* result = nullptr;  // the caller's result_holder<T>
  void* state = nullptr;   // the caller's wait, private to src/nursery
};

// An object owned by a nursery (nursery::emplace): destroyed after the join.
struct nursery_owned {
  nursery_owned() = default;
  nursery_owned(const nursery_owned&) = delete;
  nursery_owned& operator=(const nursery_owned&) = delete;
  virtual ~nursery_owned() = default;
  nursery_owned* next = nullptr;  // the nursery's list, newest first
};
template <class T>
struct nursery_owned_value final : nursery_owned {
  template <class... A>
  explicit nursery_owned_value(A&&... args) : value(std::forward<A>(args)...) {}
  T value;
};
// Hands `object` to the nursery, which deletes it after the join. Any task; no allocation.
GROVE_API void nursery_adopt(nursery_core& n, nursery_owned* object) noexcept;

// Allocates a task record for a child of `n` (per-worker free list; no lock).
GROVE_API task_header* new_child_task(nursery_core& n);
// Gives back a record whose callable could not be built.
GROVE_API void discard_task(task_header* t) noexcept;
// Gives a prepared record its name (copies the text; may throw bad_alloc).
GROVE_API void name_task(task_header* t, std::string_view name);
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
// Opens a nursery in the current task, runs body, joins, reports errors (docs/reference.md §2, §10
// rule 2). Returns false when the body did not complete because the nursery's own scope absorbed
// it.
GROVE_API bool run_nursery(nursery_body_ref body);

template <class F, class... A>
auto bind_task(F&& fn, A&&... args) {
  return [fn = std::decay_t<F>(std::forward<F>(fn)),
          arguments = std::tuple<std::decay_t<A>...>(std::forward<A>(args)...)]() mutable {
    std::apply([&](auto&... a) { std::invoke(std::move(fn), std::move(a)...); }, arguments);
  };
}

// Fills a fresh record and hands it to `publish`; gives the record back if building throws.
// `User` is the user's callable type, shown by dumps of an unnamed task.
template <class User, class Body, class Publish>
void with_new_task(nursery_core& n, const task_name* name, Body&& body, Publish&& publish) {
  task_header* t = new_child_task(n);
  try {
    t->callable_type = &typeid(User);
    if (name != nullptr) name_task(t, name->text);
    t->body.emplace(std::forward<Body>(body));
  } catch (...) {
    discard_task(t);
    throw;
  }
  publish(t);
}

}  // namespace detail

namespace detail {
// What task_status<T> and task_status<void> share. Copies of one status share its `called`
// flag (which lives in the task's frame), so a second started() through any copy is
// usage_error, raised in the calling task, rather than a hand-off to a start() that returned.
class task_status_base {
 protected:
  task_status_base(start_handshake* handshake, bool* called)
      : handshake_(handshake), called_(called) {}
  void claim() {
    if (*called_) throw usage_error("grove::task_status::started called twice");
    *called_ = true;
  }
  start_handshake* handshake_;
  bool* called_;
};
}  // namespace detail

template <class T = void>
class task_status : detail::task_status_base {
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
  task_status(detail::start_handshake* handshake, bool* called)
      : task_status_base(handshake, called) {}
};

template <>
class task_status<void> : detail::task_status_base {
 public:
  void started() {
    claim();
    detail::signal_started(handshake_);
  }

 private:
  friend class nursery;
  task_status(detail::start_handshake* handshake, bool* called)
      : task_status_base(handshake, called) {}
};

namespace detail {
// nursery::start without <T>: T is deduced from the task's first parameter, `task_status<T>&`,
// when the callable has one plain (non-template) call operator or is a function; void when it
// accepts a task_status<void>&. Otherwise start<T> must be spelled out.
struct deduce_started_value {};
template <class P>
struct status_value {};
template <class T>
struct status_value<task_status<T>&> {
  using type = T;
};
template <class S>
struct first_parameter {};
template <class R, class P, class... Rest>
struct first_parameter<R(P, Rest...)> {
  using type = P;
};
template <class S>
struct call_signature {};
template <class C, class R, class... P>
struct call_signature<R (C::*)(P...)> {
  using type = R(P...);
};
template <class C, class R, class... P>
struct call_signature<R (C::*)(P...) const> {
  using type = R(P...);
};
template <class C, class R, class... P>
struct call_signature<R (C::*)(P...) noexcept> {
  using type = R(P...);
};
template <class C, class R, class... P>
struct call_signature<R (C::*)(P...) const noexcept> {
  using type = R(P...);
};
template <class F, class = void>
struct signature_of {};
template <class F>
struct signature_of<F, std::void_t<decltype(&F::operator())>>
    : call_signature<decltype(&F::operator())> {};
template <class R, class... P>
struct signature_of<R (*)(P...)> {
  using type = R(P...);
};
template <class R, class... P>
struct signature_of<R(P...)> {
  using type = R(P...);
};
template <class F, class = void>
struct declared_status_value {
  using type = deduce_started_value;  // cannot tell: the static_assert in start() says so
};
template <class F>
struct declared_status_value<F, std::void_t<typename status_value<typename first_parameter<
                                    typename signature_of<F>::type>::type>::type>> {
  using type =
      typename status_value<typename first_parameter<typename signature_of<F>::type>::type>::type;
};
template <class T, class F, class... A>
struct started_value {
  using type = T;
};
template <class F, class... A>
struct started_value<deduce_started_value, F, A...> {
  using type = std::conditional_t<std::is_invocable_v<F, task_status<void>&, A...>, void,
                                  typename declared_status_value<F>::type>;
};
template <class T, class F, class... A>
using started_type = typename started_value<T, std::decay_t<F>, std::decay_t<A>...>::type;
}  // namespace detail

class GROVE_API nursery {
 public:
  nursery(const nursery&) = delete;
  nursery& operator=(const nursery&) = delete;

  // Schedules fn(args...) as a child task and returns at once. Arguments are decay-copied now,
  // passed as rvalues, and destroyed when the child finishes.
  template <class F, class... A>
  requires(!std::is_same_v<std::decay_t<F>, task_name>) void start_soon(F&& fn, A&&... args) {
    spawn_soon(nullptr, std::forward<F>(fn), std::forward<A>(args)...);
  }
  // The same, with a name for dump_task_tree.
  template <class F, class... A>
  void start_soon(const task_name& name, F&& fn, A&&... args) {
    spawn_soon(&name, std::forward<F>(fn), std::forward<A>(args)...);
  }

  // Runs fn(status, args...) as a child and blocks until it calls status.started(v); returns v.
  // Without <T>, T is deduced from fn's `task_status<T>&` parameter (void if it takes
  // task_status<>&).
  template <class T = detail::deduce_started_value, class F, class... A>
  requires(!std::is_same_v<std::decay_t<F>, task_name>) detail::started_type<T, F, A...> start(
      F&& fn, A&&... args) {
    return start_task<T>(nullptr, std::forward<F>(fn), std::forward<A>(args)...);
  }
  // The same, with a name for dump_task_tree.
  template <class T = detail::deduce_started_value, class F, class... A>
  detail::started_type<T, F, A...> start(const task_name& name, F&& fn, A&&... args) {
    return start_task<T>(&name, std::forward<F>(fn), std::forward<A>(args)...);
  }

  // Constructs a T that the nursery owns and returns it. It lives until every child has
  // finished: it is destroyed after the join (newest first), just before open_nursery returns.
  // The place for state the children share, since the body's own locals die when the body
  // returns, before the join (see docs/guide.md, "What children may refer to").
  template <class T, class... A>
  T& emplace(A&&... args) {
    auto* object = new detail::nursery_owned_value<T>(std::forward<A>(args)...);
    detail::nursery_adopt(*core_, object);
    return object->value;
  }

  grove::cancel_scope& cancel_scope() noexcept { return detail::nursery_scope(*core_); }
  std::size_t child_count() const noexcept { return detail::nursery_child_count(*core_); }

 private:
  friend struct detail::nursery_core;
  explicit nursery(detail::nursery_core* core) : core_(core) {}

  template <class T, class F, class... A>
  detail::started_type<T, F, A...> start_task(const task_name* name, F&& fn, A&&... args) {
    using value = typename detail::started_value<T, std::decay_t<F>, std::decay_t<A>...>::type;
    if constexpr (std::is_same_v<value, detail::deduce_started_value>) {
      static_assert(
          detail::dependent_false<F>,
          "grove::nursery::start(fn, args...): cannot tell the value fn passes to "
          "started(); give fn a grove::task_status<T>& parameter, or write start<T>(...)");
    } else if constexpr (!std::is_invocable_v<std::decay_t<F>, task_status<value>&,
                                              std::decay_t<A>...>) {
      static_assert(detail::dependent_false<F>,
                    "grove::nursery::start<T>(fn, args...): fn cannot be called as fn(status, "
                    "args...) with status a grove::task_status<T>& and the arguments "
                    "decay-copied");
    } else {
      detail::start_checkpoint();
      detail::result_holder<value> result;
      detail::start_handshake handshake;
      handshake.result = &result;
      return start_impl<value>(name, std::forward<F>(fn), handshake, result,
                               std::forward<A>(args)...);
    }
  }

  template <class F, class... A>
  void spawn_soon(const task_name* name, F&& fn, A&&... args) {
    if constexpr (!std::is_invocable_v<std::decay_t<F>, std::decay_t<A>...>) {
      static_assert(detail::dependent_false<F>,
                    "grove::nursery::start_soon(fn, args...): fn cannot be called as fn(args...) "
                    "with the arguments decay-copied and passed as rvalues (like std::thread)");
    } else {
      detail::with_new_task<std::decay_t<F>>(
          *core_, name, detail::bind_task(std::forward<F>(fn), std::forward<A>(args)...),
          [&](detail::task_header* t) { detail::spawn_child(*core_, t); });
    }
  }

  template <class T, class F, class... A>
  T start_impl(const task_name* name, F&& fn, detail::start_handshake& handshake,
               detail::result_holder<T>& result, A&&... args);

  detail::nursery_core* core_;
};

template <class T, class F, class... A>
T nursery::start_impl(const task_name* name, F&& fn, detail::start_handshake& handshake,
                      detail::result_holder<T>& result, A&&... args) {
  auto body = [handshake = &handshake, fn = std::decay_t<F>(std::forward<F>(fn)),
               arguments = std::tuple<std::decay_t<A>...>(std::forward<A>(args)...)]() mutable {
    bool called = false;
    task_status<T> status(handshake, &called);
    std::apply([&](auto&... a) { std::invoke(std::move(fn), status, std::move(a)...); }, arguments);
  };
  detail::with_new_task<std::decay_t<F>>(
      *core_, name, std::move(body),
      [&](detail::task_header* t) { detail::run_start(*core_, t, handshake); });
  return result.take();
}

// Runs body(n) in the calling task, then waits until every child of n has finished, and only
// then returns body's value (or reports the errors, see docs/guide.md, "Nurseries").
//
// Lifetimes: body's local variables are destroyed when body returns, which is BEFORE the join.
// A child must not refer to them: give it copies (start_soon decay-copies its arguments), state
// declared before open_nursery, or state the nursery owns (n.emplace<T>(...)).
template <class F>
detail::call_result_t<F, nursery&> open_nursery(F&& body) {
  if constexpr (!std::is_invocable_v<F, nursery&>) {
    static_assert(detail::dependent_false<F>,
                  "grove::open_nursery(body): body must be callable as body(grove::nursery&)");
  } else {
    using result_type = std::invoke_result_t<F, nursery&>;
    detail::result_holder<result_type> holder;
    auto thunk = [&](nursery& n) { holder.emplace_from(std::forward<F>(body), n); };
    detail::nursery_body_ref ref{
        [](void* c, nursery& n) { (*static_cast<decltype(thunk)*>(c))(n); }, &thunk};
    detail::run_nursery(ref);
    if constexpr (std::is_void_v<result_type>) {
      return;
    } else {
      if (holder.has_value()) return holder.take();
      // The nursery's own scope absorbed a cancellation of the body (docs/reference.md §10
      // rule 3).
      if constexpr (std::is_default_constructible_v<result_type>) {
        return result_type{};
      } else {
        throw usage_error(
            "grove::open_nursery: the body was cancelled by the nursery's own scope and its "
            "result type is not default-constructible");
      }
    }
  }
}

}  // namespace grove
