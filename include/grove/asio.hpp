// Boost.Asio from grove tasks: the completion token grove::use_fiber makes an Asio operation a
// checkpoint that parks the calling task (its worker runs other tasks meanwhile) and returns the
// operation's result; cancelling an enclosing scope cancels the operation (docs/reference.md §12).
#pragma once

#include <atomic>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>
#include <cstddef>
#include <exception>
#include <grove/cancel.hpp>
#include <grove/detail/export.hpp>
#include <grove/detail/foreign_completion.hpp>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

namespace grove {

// The completion token. `use_fiber` throws boost::system::system_error on failure;
// `use_fiber[ec]` stores the error in ec instead (and clears ec on success). Either form throws
// grove::cancelled when an enclosing scope's cancellation cancelled the operation.
struct use_fiber_t {
  boost::system::error_code* error_out = nullptr;

  constexpr use_fiber_t operator[](boost::system::error_code& ec) const noexcept {
    return use_fiber_t{&ec};
  }
};

inline constexpr use_fiber_t use_fiber{};

namespace detail {

class io_driver;

// Counts one use_fiber operation of the calling task's runtime as in flight (while any is, idle
// workers run the io_context themselves, so completions wake their tasks where they run) until
// end_fiber_operation. usage_error outside a task.
GROVE_API io_driver& begin_fiber_operation();
GROVE_API void end_fiber_operation(io_driver& driver) noexcept;
// The runtime's io_context: where a stop request goes for an operation whose initiation names
// no executor.
GROVE_API boost::asio::io_context& io_context_of(io_driver& driver) noexcept;

// Keeps one operation counted for its lifetime.
class counted_fiber_operation {
 public:
  counted_fiber_operation() : driver_(begin_fiber_operation()) {}
  ~counted_fiber_operation() { end_fiber_operation(driver_); }
  counted_fiber_operation(const counted_fiber_operation&) = delete;
  counted_fiber_operation& operator=(const counted_fiber_operation&) = delete;
  io_driver& driver() const noexcept { return driver_; }

 private:
  io_driver& driver_;
};

template <class T>
inline constexpr bool is_error_code = std::is_same_v<std::decay_t<T>, boost::system::error_code>;
template <class T>
inline constexpr bool is_exception_pointer = std::is_same_v<std::decay_t<T>, std::exception_ptr>;

// What use_fiber returns for a completion signature void(Args...): the arguments after a leading
// error_code or exception_ptr; none: void, one: that value, more: a std::tuple.
template <class... Values>
struct fiber_result {
  using type = std::tuple<Values...>;
};
template <>
struct fiber_result<> {
  using type = void;
};
template <class Value>
struct fiber_result<Value> {
  using type = Value;
};

template <class... Args>
struct fiber_signature {
  using result = typename fiber_result<std::decay_t<Args>...>::type;
  static constexpr bool reports_error = false;
};
template <class First, class... Rest>
struct fiber_signature<First, Rest...> {
  static constexpr bool reports_error = is_error_code<First> || is_exception_pointer<First>;
  using result =
      std::conditional_t<reports_error, typename fiber_result<std::decay_t<Rest>...>::type,
                         typename fiber_result<std::decay_t<First>, std::decay_t<Rest>...>::type>;
};

// One Asio operation awaited by a task. It lives on the task's stack for the whole operation:
// the task returns only after the handler has run and after any stop request it posted has been
// delivered (`outstanding_` counts both), so neither ever finds it gone.
template <class... Args>
class fiber_operation {
  using signature = fiber_signature<Args...>;
  static constexpr std::size_t first_value = signature::reports_error ? 1 : 0;

 public:
  using result_type = typename signature::result;

  explicit fiber_operation(boost::system::error_code* error_out)
      : completion_("an Asio operation awaited with grove::use_fiber"), error_out_(error_out) {}

  // The completion handler Asio invokes (on whichever thread runs the I/O object's executor).
  struct handler {
    fiber_operation* operation;

    using cancellation_slot_type = boost::asio::cancellation_slot;
    cancellation_slot_type get_cancellation_slot() const noexcept {
      return operation->stop_.slot();
    }
    void operator()(Args... args) {
      operation->values_.emplace(std::move(args)...);
      operation->release_one();
    }
  };

  template <class Initiation, class... InitArgs>
  result_type run(Initiation&& initiation, InitArgs&&... args) {
    // A cancellation slot is not thread-safe: a stop request runs on the operation's executor.
    if constexpr (requires { initiation.get_executor(); }) {
      stop_executor_ = initiation.get_executor();
    } else {
      stop_executor_ = io_context_of(counted_.driver()).get_executor();
    }
    std::forward<Initiation>(initiation)(handler{this}, std::forward<InitArgs>(args)...);
    const bool interrupted = completion_.wait_cancelling(&request_stop, this);
    return finish(interrupted);
  }

 private:
  // The task's cancellation won its park: post a stop request, unless the handler already ran.
  static void request_stop(void* context) {
    auto* self = static_cast<fiber_operation*>(context);
    int expected = self->outstanding_.load(std::memory_order_acquire);
    do {
      if (expected == 0) return;  // the handler ran; complete() is on its way
    } while (!self->outstanding_.compare_exchange_weak(expected, expected + 1,
                                                       std::memory_order_acq_rel));
    boost::asio::post(self->stop_executor_, [self] {
      self->stop_.emit(boost::asio::cancellation_type::terminal);
      self->release_one();
    });
  }

  void release_one() {
    if (outstanding_.fetch_sub(1, std::memory_order_acq_rel) == 1) completion_.complete();
  }

  // An operation that failed after the task's cancellation interrupted it (normally with
  // operation_aborted) reports `cancelled`; one that succeeded regardless returns its result,
  // so no completed read or write is lost, and the task's next checkpoint raises `cancelled`.
  result_type finish(bool interrupted) {
    if constexpr (signature::reports_error) {
      auto& error = std::get<0>(*values_);
      if constexpr (is_exception_pointer<decltype(error)>) {
        if (error) {
          if (interrupted) throw cancelled{};
          std::rethrow_exception(error);
        }
      } else {
        if (error) {
          if (interrupted) throw cancelled{};
          if (error_out_ == nullptr) throw boost::system::system_error(error);
          *error_out_ = error;
          return take_values(std::make_index_sequence<sizeof...(Args) - first_value>{});
        }
      }
    }
    if (error_out_ != nullptr) error_out_->clear();
    return take_values(std::make_index_sequence<sizeof...(Args) - first_value>{});
  }

  template <std::size_t... I>
  result_type take_values(std::index_sequence<I...>) {
    if constexpr (std::is_void_v<result_type>) {
      return;
    } else if constexpr (sizeof...(I) == 1) {
      return std::move(std::get<first_value>(*values_));
    } else {
      return result_type(std::move(std::get<I + first_value>(*values_))...);
    }
  }

  foreign_completion completion_;  // first: it checks the caller is a task
  counted_fiber_operation counted_;
  boost::system::error_code* error_out_;
  std::optional<std::tuple<std::decay_t<Args>...>> values_;
  boost::asio::cancellation_signal stop_;
  boost::asio::any_io_executor stop_executor_;
  std::atomic<int> outstanding_{1};  // the handler, plus a posted stop request
};

}  // namespace detail
}  // namespace grove

// Asio's customisation point: an initiating function called with grove::use_fiber runs the
// operation as a fiber_operation of the calling task and returns its result.
namespace boost::asio {
template <class... Args>
class async_result<grove::use_fiber_t, void(Args...)> {
 public:
  using return_type = typename grove::detail::fiber_operation<Args...>::result_type;

  template <class Initiation, class... InitArgs>
  static return_type initiate(Initiation&& initiation, grove::use_fiber_t token,
                              InitArgs&&... args) {
    grove::detail::fiber_operation<Args...> operation(token.error_out);
    return operation.run(std::forward<Initiation>(initiation), std::forward<InitArgs>(args)...);
  }
};
}  // namespace boost::asio
