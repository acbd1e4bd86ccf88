// Uses grove built in-tree through add_subdirectory().
#include <cstdio>
#include <grove/grove.hpp>

int main() {
  grove::runtime rt{grove::runtime_options{.workers = 2}};
  int v = rt.run([] { return 41 + 1; });
  const bool outside = !grove::in_task();
  std::printf("grove consumer: run returned %d; in_task() after run: %s\n", v,
              outside ? "false" : "true");
  return v == 42 && outside ? 0 : 1;
}
