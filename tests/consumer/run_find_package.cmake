# consumer.find_package: install the grove of GROVE_BUILD_DIR into GROVE_PREFIX, then build and run
# a project that finds it with find_package(grove CONFIG REQUIRED).
# Inputs (-D): GROVE_BUILD_DIR GROVE_PREFIX CONSUMER_SOURCE_DIR CONSUMER_BINARY_DIR CXX_COMPILER,
#              optional MAKE_PROGRAM, CONFIG.
include("${CMAKE_CURRENT_LIST_DIR}/consumer_common.cmake")
consumer_require(GROVE_BUILD_DIR GROVE_PREFIX CONSUMER_SOURCE_DIR CONSUMER_BINARY_DIR CXX_COMPILER)

file(REMOVE_RECURSE "${GROVE_PREFIX}")
set(install_args --install "${GROVE_BUILD_DIR}" --prefix "${GROVE_PREFIX}")
if(NOT "${CONFIG}" STREQUAL "")
  list(APPEND install_args --config "${CONFIG}")
endif()
consumer_step("install grove into ${GROVE_PREFIX}" "${CMAKE_COMMAND}" ${install_args})

consumer_build("-DCMAKE_PREFIX_PATH=${GROVE_PREFIX}")
