// What the scheduler records when runtime_options::trace_path is set: fixed-size events in a
// buffer per worker (written only by its owner: no lock, no allocation) and one shared buffer,
// under a lock, for threads that are not workers (run() callers, the io thread's wake-ups).
// A full buffer drops new events and counts them; the count goes into the trace file.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <typeinfo>

namespace grove::detail {

enum class trace_kind : std::uint8_t {
  slice,      // a task ran on this track from `at` to `value` (first_run: its first run)
  spawn,      // a task was created (its life begins; flow from here to its first run)
  complete,   // a task finished (its life ends)
  steal,      // this track took `task` from the deque of track `value`
  park,       // `task` suspended to wait on `label` (a string)
  wake,       // `task` was made ready again
  cancel,     // a cancel scope was cancelled
  first_run,  // `task` first ran at `at` on track `value` (an inline child that then parked,
              // whose slice was never recorded)
};

// 32 bytes: two events per cache line, so that recording stays cheap beside a 40 ns spawn.
struct trace_event {
  static constexpr std::uint8_t first_run = 1;      // slice: the task's first run starts it
  static constexpr std::uint8_t label_is_type = 2;  // spawn: label is the callable's type_info

  std::int64_t at;     // trace_clock_ticks()
  std::int64_t value;  // slice: end ticks; spawn: the parent task (0: none); steal: victim
  std::uint64_t word;  // task id (48 bits) | flags << 48 | kind << 56
  const void* label;   // spawn: the name (char*) or the callable's type; park: what (char*)

  static trace_event make(trace_kind kind, std::uint64_t task, std::int64_t at,
                          std::int64_t value = 0, const void* label = nullptr,
                          std::uint8_t flags = 0) noexcept {
    return {at, value,
            (task & task_mask) | std::uint64_t{flags} << 48 |
                std::uint64_t{static_cast<std::uint8_t>(kind)} << 56,
            label};
  }
  trace_kind kind() const noexcept { return static_cast<trace_kind>(word >> 56); }
  std::uint8_t flags() const noexcept { return static_cast<std::uint8_t>(word >> 48); }
  std::uint64_t task() const noexcept { return word & task_mask; }

 private:
  static constexpr std::uint64_t task_mask = (std::uint64_t{1} << 48) - 1;
};

// The trace's clock: the TSC on x86-64 (a few ns to read; the writer maps it to nanoseconds
// with two readings of the steady clock, at the start and the end of the trace), elsewhere
// the steady clock's nanoseconds.
inline std::int64_t trace_clock_ticks() noexcept {
#if defined(__x86_64__)
  return static_cast<std::int64_t>(__builtin_ia32_rdtsc());
#else
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
#endif
}

class trace_buffer {
 public:
  // Value-initialised: every page is touched now, when the runtime starts, rather than as a
  // page fault in the middle of a traced task.
  explicit trace_buffer(std::size_t capacity)
      : events_(new trace_event[capacity]()), capacity_(capacity) {}

  void record(const trace_event& e) noexcept {
    if (size_ < capacity_) {
      events_[size_++] = e;
    } else {
      ++dropped_;
    }
  }
  // A copy of a task's name that lives as long as the trace (the task may not). Allocates: only
  // named tasks, only while tracing.
  const char* keep_name(std::string_view name) { return names_.emplace_back(name).c_str(); }

  const trace_event* begin() const noexcept { return events_.get(); }
  const trace_event* end() const noexcept { return events_.get() + size_; }
  std::uint64_t dropped() const noexcept { return dropped_; }

 private:
  std::unique_ptr<trace_event[]> events_;
  std::size_t capacity_;
  std::size_t size_ = 0;
  std::uint64_t dropped_ = 0;
  std::deque<std::string> names_;
};

// The shared buffer of the threads that are not workers.
struct locked_trace_buffer {
  explicit locked_trace_buffer(std::size_t capacity) : buffer(capacity) {}
  std::mutex mutex;
  trace_buffer buffer;  // guarded by mutex
};

}  // namespace grove::detail
