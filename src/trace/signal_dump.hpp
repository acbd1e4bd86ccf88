// While it exists, SIGUSR1 prints its runtime's task tree to stderr (signal_dump.cpp explains
// the signal-safe hand-off).
#pragma once

#include "scheduler/runtime_core.hpp"

namespace grove::detail {

class signal_dump_listener final : public runtime_service {
 public:
  explicit signal_dump_listener(runtime_core& runtime);
  ~signal_dump_listener() override;

 private:
  runtime_core* runtime_;
};

}  // namespace grove::detail
