// expect: grove::runtime::run(fn): fn must be callable with no arguments
#include <grove/grove.hpp>
void use(grove::runtime& rt) {
  rt.run([](int) { return 1; });
}
