// expect: fn cannot be called as fn(status, args...)
#include <grove/grove.hpp>
int use(grove::nursery& n) {
  return n.start<int>([](grove::task_status<long>& s) { s.started(1); });
}
