// to_thread: a blocking call (a legacy library, file I/O, DNS) run on the runtime's bounded pool
// of helper threads while the calling task parks, so that its worker stays free for other
// tasks. Like trio's to_thread.run_sync (docs/reference.md §12).
#pragma once

#include <exception>
#include <grove/cancel.hpp>
#include <grove/detail/export.hpp>
#include <grove/detail/foreign_completion.hpp>
#include <grove/detail/requirements.hpp>
#include <grove/detail/result_holder.hpp>
#include <memory>
#include <type_traits>
#include <utility>

namespace grove {

struct to_thread_options {
  // false (the default): a cancelled task still waits for fn and gets its result; the
  // cancellation surfaces at the task's next checkpoint. true: the task stops waiting at once
  // and throws `cancelled`; fn runs on to the end on its helper thread and its result is
  // dropped, so fn must own everything it uses (capture by value).
  bool abandon_on_cancel = false;
};

namespace detail {

// One call handed to a helper thread; shared by the task and the helper, because an abandoned
// call outlives the task's wait.
struct blocking_job {
  explicit blocking_job(const char* what) : completion(what) {}
  virtual ~blocking_job() = default;
  // Runs the call on a helper thread, keeps its result or exception, then completes.
  virtual void run() noexcept = 0;

  foreign_completion completion;
};

// Queues `job` on the calling task's runtime's helper threads (starting one if all are busy and
// the pool is below runtime_options::helper_threads).
GROVE_API void submit_blocking_job(std::shared_ptr<blocking_job> job);

template <class F>
struct blocking_call_of final : blocking_job {
  using result = std::invoke_result_t<F&>;

  explicit blocking_call_of(F&& f) : blocking_job("grove::to_thread"), fn(std::move(f)) {}

  void run() noexcept override {
    try {
      value.emplace_from(fn);
    } catch (...) {
      error = std::current_exception();
    }
    completion.complete();
  }

  result take() {
    if (error) std::rethrow_exception(error);
    return value.take();
  }

  F fn;
  result_holder<result> value;
  std::exception_ptr error;
};

}  // namespace detail

// Runs fn() on a helper thread and returns its result (or rethrows its exception); the calling
// task parks meanwhile. A checkpoint on entry; needs a task (usage_error outside one).
template <class F>
detail::call_result_t<std::decay_t<F>&> to_thread(F&& fn, to_thread_options options = {}) {
  if constexpr (!std::is_invocable_v<std::decay_t<F>&>) {
    static_assert(detail::dependent_false<F>,
                  "grove::to_thread(fn): fn must be callable with no arguments");
  } else {
    using call = detail::blocking_call_of<std::decay_t<F>>;
    auto job = std::make_shared<call>(std::decay_t<F>(std::forward<F>(fn)));
    detail::submit_blocking_job(job);
    if (options.abandon_on_cancel) {
      if (!job->completion.wait_or_abandon()) throw cancelled{};
    } else {
      job->completion.wait_uncancellable();
    }
    return job->take();
  }
}

}  // namespace grove
