// What runs an example's Eigen kernels, printed by the examples so that a timing is never read
// without it: Eigen's own kernels (and the instruction sets they were compiled for) or the BLAS
// that EIGEN_USE_BLAS hands products to, with its thread count.
#pragma once

#include <Eigen/Core>
#include <string>

#if defined(EIGEN_USE_BLAS)
#include <dlfcn.h>
extern "C" int openblas_get_num_threads(void);
extern "C" char* openblas_get_config(void);
#endif

namespace example {

inline std::string blas_description() {
#if defined(EIGEN_USE_BLAS)
  // The library the dynamic linker actually bound dgemm_ to: Debian installs several OpenBLAS
  // builds side by side, and which one a program gets is decided at run time.
  std::string library = "?";
  Dl_info info{};
  if (void* dgemm = ::dlsym(RTLD_DEFAULT, "dgemm_");
      dgemm != nullptr && ::dladdr(dgemm, &info) != 0 && info.dli_fname != nullptr) {
    library = info.dli_fname;
  }
  return std::string("BLAS ") + openblas_get_config() + " from " + library + ", " +
         std::to_string(openblas_get_num_threads()) + " thread(s) per call";
#else
  return std::string("no BLAS: Eigen's own kernels (") + Eigen::SimdInstructionSetsInUse() + ")";
#endif
}

// The number of threads one BLAS call may use (1 for Eigen's own kernels, which examples run
// with Eigen::setNbThreads(1)).
inline int blas_threads() {
#if defined(EIGEN_USE_BLAS)
  return openblas_get_num_threads();
#else
  return 1;
#endif
}

}  // namespace example
