// expect: grove::parallel_for(first, last, body): body must be callable
#include <grove/grove.hpp>
#include <string>
void use() {
  grove::parallel_for(0, 10, [](std::string) {});
}
