// expect: grove::open_nursery(body): body must be callable as body(grove::nursery&)
#include <grove/grove.hpp>
void use() {
  grove::open_nursery([](int) {});
}
