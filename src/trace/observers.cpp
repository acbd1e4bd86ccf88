// Which observers a new runtime gets (observers.hpp).
#include "trace/observers.hpp"

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "scheduler/runtime_core.hpp"
#include "trace/schedtrace.hpp"
#include "trace/signal_dump.hpp"

namespace grove::detail {
namespace {

// GROVE_SCHEDTRACE's interval: a positive number of milliseconds, or none (unset, 0, or not a
// number: a typo must not take a program down, so it is reported once and ignored).
std::chrono::milliseconds schedtrace_interval() {
  const char* text = std::getenv("GROVE_SCHEDTRACE");
  if (text == nullptr || *text == '\0') return std::chrono::milliseconds(0);
  char* end = nullptr;
  const long long value = std::strtoll(text, &end, 10);
  if (end == text || *end != '\0' || value < 0) {
    std::fprintf(stderr, "grove: GROVE_SCHEDTRACE=%s is not a number of milliseconds; ignored\n",
                 text);
    return std::chrono::milliseconds(0);
  }
  return std::chrono::milliseconds(value);
}

bool dump_on_signal_from_environment() {
  const char* text = std::getenv("GROVE_DUMP_ON_SIGNAL");
  return text != nullptr && std::strcmp(text, "1") == 0;
}

}  // namespace

void attach_observers(runtime_core& runtime) {
  if (runtime.options().dump_on_signal || dump_on_signal_from_environment()) {
    runtime.add_observer(std::make_unique<signal_dump_listener>(runtime));
  }
  if (const auto interval = schedtrace_interval(); interval.count() > 0) {
    runtime.add_observer(std::make_unique<schedtrace_printer>(runtime, interval));
  }
}

}  // namespace grove::detail
