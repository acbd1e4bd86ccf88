// The trace of a runtime with runtime_options::trace_path: the buffers the scheduler records
// into (trace_buffer.hpp) and, at shutdown, the Chrome trace-event JSON file made from them
// (trace_recorder.cpp gives the mapping). The file is opened by the runtime's constructor, so
// an unwritable path fails there, not at shutdown where the error would be lost.
#pragma once

#include <cstdint>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "trace/trace_buffer.hpp"

namespace grove::detail {

class trace_recorder {
 public:
  // Opens `path` for writing; std::system_error naming it if that fails.
  trace_recorder(const std::string& path, unsigned workers, std::size_t events_per_buffer);
  ~trace_recorder();
  trace_recorder(const trace_recorder&) = delete;
  trace_recorder& operator=(const trace_recorder&) = delete;

  trace_buffer& worker_buffer(unsigned index) noexcept { return *workers_[index]; }
  // For threads that are not workers (takes the shared buffer's lock).
  void record_outside(const trace_event& e);
  const char* keep_name_outside(std::string_view name);

  // Writes the file. Called once, when nothing records any more (workers and io thread
  // joined); a write error is reported on stderr (the destructor cannot throw it).
  void write_file() noexcept;

 private:
  std::ofstream file_;
  std::string path_;
  std::int64_t origin_ticks_;  // trace_clock_ticks() and the steady clock when it began
  std::int64_t origin_ns_;
  std::vector<std::unique_ptr<trace_buffer>> workers_;
  locked_trace_buffer outside_;
};

}  // namespace grove::detail
