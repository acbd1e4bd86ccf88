// The trio server pattern, shared by the tests that race it: a listener start()ed in `n` spawns
// handlers that park for good, then calls started(); start() returns once it has.
#pragma once

#include <grove/grove.hpp>

namespace grove_test {

inline void start_listener_with_parked_handlers(grove::nursery& n, int handlers = 3) {
  n.start([handlers](grove::task_status<>& status) {
    grove::open_nursery([&](grove::nursery& inner) {
      for (int h = 0; h < handlers; ++h) {
        inner.start_soon([] {
          grove::event never;
          never.wait();
        });
      }
      status.started();
    });
  });
}

}  // namespace grove_test
