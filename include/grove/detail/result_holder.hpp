// Holds the value a callable returned until it can be handed back across a thread or fiber
// boundary; handles void and reference results in one place for run, open_nursery and scopes.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace grove::detail {

template <class R>
class result_holder {
 public:
  template <class F, class... A>
  void emplace_from(F&& fn, A&&... args) {
    value_.emplace(std::invoke(std::forward<F>(fn), std::forward<A>(args)...));
  }
  bool has_value() const noexcept { return value_.has_value(); }
  R take() { return std::move(*value_); }
  std::optional<R> take_optional() { return std::move(value_); }

 private:
  std::optional<R> value_;
};

template <class R>
class result_holder<R&> {
 public:
  template <class F, class... A>
  void emplace_from(F&& fn, A&&... args) {
    value_ = std::addressof(std::invoke(std::forward<F>(fn), std::forward<A>(args)...));
  }
  bool has_value() const noexcept { return value_ != nullptr; }
  R& take() { return *value_; }

 private:
  R* value_ = nullptr;
};

template <>
class result_holder<void> {
 public:
  template <class F, class... A>
  void emplace_from(F&& fn, A&&... args) {
    std::invoke(std::forward<F>(fn), std::forward<A>(args)...);
    done_ = true;
  }
  bool has_value() const noexcept { return done_; }
  void take() noexcept {}

 private:
  bool done_ = false;
};

// A plain function pointer + context pair: how templates hand a callable to compiled code that
// runs it synchronously (the caller's frame outlives the call), without type erasure costs.
struct callback_ref {
  void (*function)(void*) = nullptr;
  void* context = nullptr;

  template <class F>
  static callback_ref to(F& fn) noexcept {
    return {[](void* c) { (*static_cast<F*>(c))(); }, std::addressof(fn)};
  }
  void operator()() const { function(context); }
};

}  // namespace grove::detail
