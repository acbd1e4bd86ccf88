// The runtime's optional observers: the task-tree dump on SIGUSR1 and the periodic schedtrace
// line. They only read the runtime (stats, the task tree) and never change what it does.
#pragma once

namespace grove::detail {

class runtime_core;

// Attaches what runtime_options and the environment ask for: runtime_options::dump_on_signal
// or GROVE_DUMP_ON_SIGNAL=1, and GROVE_SCHEDTRACE=<milliseconds>.
void attach_observers(runtime_core& runtime);

}  // namespace grove::detail
