// expect: reduce must be callable as reduce(T, T) returning T
#include <grove/grove.hpp>
#include <string>
double use() {
  return grove::parallel_reduce(
      0, 10, 0.0, [](int, int) { return 1.0; },
      [](std::string, std::string) { return std::string(); });
}
