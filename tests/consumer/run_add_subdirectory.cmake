# consumer.add_subdirectory: build and run a project that pulls grove in with add_subdirectory().
# Inputs (-D): GROVE_SOURCE_DIR CONSUMER_SOURCE_DIR CONSUMER_BINARY_DIR CXX_COMPILER,
#              optional MAKE_PROGRAM, CONFIG.
include("${CMAKE_CURRENT_LIST_DIR}/consumer_common.cmake")
consumer_require(GROVE_SOURCE_DIR CONSUMER_SOURCE_DIR CONSUMER_BINARY_DIR CXX_COMPILER)

# Only the library: grove's own tests, benchmarks and examples are not the consumer's business.
consumer_build("-DGROVE_SOURCE_DIR=${GROVE_SOURCE_DIR}"
               -DGROVE_BUILD_TESTS=OFF -DGROVE_BUILD_BENCH=OFF -DGROVE_BUILD_EXAMPLES=OFF)
