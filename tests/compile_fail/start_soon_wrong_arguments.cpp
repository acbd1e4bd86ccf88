// expect: grove::nursery::start_soon(fn, args...): fn cannot be called
#include <grove/grove.hpp>
#include <string>
void use(grove::nursery& n) {
  n.start_soon([](int, std::string) {}, "not an int", 3);
}
