// grove's version, for code that must know it at compile time. While the major version is 0, a
// minor release may change the API and ABI (the shared library's soname carries the minor).
#pragma once

#define GROVE_VERSION_MAJOR 0
#define GROVE_VERSION_MINOR 1
#define GROVE_VERSION_PATCH 0
// MAJOR * 10000 + MINOR * 100 + PATCH, for #if comparisons.
#define GROVE_VERSION \
  (GROVE_VERSION_MAJOR * 10000 + GROVE_VERSION_MINOR * 100 + GROVE_VERSION_PATCH)
