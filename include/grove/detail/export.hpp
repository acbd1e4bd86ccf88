// Symbol visibility for grove's compiled library: everything is hidden by default (CMake sets
// -fvisibility=hidden) and GROVE_API marks what the public headers call into.
#pragma once

#if defined(_WIN32)
#define GROVE_API
#else
#define GROVE_API __attribute__((visibility("default")))
#endif
