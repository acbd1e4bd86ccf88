// Compile-time checks of what users pass to grove's templates, so that a wrong argument gives
// one message naming the call, instead of an instantiation backtrace from inside <tuple>. Each
// check is `if constexpr (!ok) static_assert(dependent_false<...>, "...")` around the real body,
// so nothing else is instantiated once it fails; result types fall back to void when the call
// is ill-formed, for the same reason.
#pragma once

#include <type_traits>

namespace grove::detail {

template <class...>
inline constexpr bool dependent_false = false;

// std::invoke_result_t<F, A...> when F is invocable so, else void (the static_assert reports it).
template <class F, class... A>
struct call_result {
  using type = void;
};
template <class F, class... A>
requires std::is_invocable_v<F, A...>
struct call_result<F, A...> {
  using type = std::invoke_result_t<F, A...>;
};
template <class F, class... A>
using call_result_t = typename call_result<F, A...>::type;

}  // namespace grove::detail
