// expect: cannot tell the value fn passes to started()
#include <grove/grove.hpp>
struct overloaded {
  void operator()(grove::task_status<int>& s) const { s.started(1); }
  void operator()(grove::task_status<long>& s) const { s.started(1); }
};
int use(grove::nursery& n) { return n.start(overloaded{}); }
