# consumer.find_package: install the grove of GROVE_BUILD_DIR into GROVE_PREFIX, then build and run
# a project that finds it with find_package(grove CONFIG REQUIRED).
# It asks for COMPONENTS eigen when WITH_EIGEN is on (and mpi when WITH_MPI is), and builds the same program again with the
# flags `pkg-config --cflags --libs grove` gives from GROVE_PREFIX, which is not the prefix grove
# was configured with.
# Inputs (-D): GROVE_BUILD_DIR GROVE_PREFIX GROVE_LIBDIR CONSUMER_SOURCE_DIR CONSUMER_BINARY_DIR
#              CXX_COMPILER, optional MAKE_PROGRAM, CONFIG, WITH_EIGEN, WITH_MPI.
include("${CMAKE_CURRENT_LIST_DIR}/consumer_common.cmake")
consumer_require(GROVE_BUILD_DIR GROVE_PREFIX GROVE_LIBDIR CONSUMER_SOURCE_DIR CONSUMER_BINARY_DIR
                 CXX_COMPILER)

file(REMOVE_RECURSE "${GROVE_PREFIX}")
set(install_args --install "${GROVE_BUILD_DIR}" --prefix "${GROVE_PREFIX}")
if(NOT "${CONFIG}" STREQUAL "")
  list(APPEND install_args --config "${CONFIG}")
endif()
consumer_step("install grove into ${GROVE_PREFIX}" "${CMAKE_COMMAND}" ${install_args})

consumer_build("-DCMAKE_PREFIX_PATH=${GROVE_PREFIX}" "-DGROVE_CONSUMER_EIGEN=${WITH_EIGEN}"
               "-DGROVE_CONSUMER_MPI=${WITH_MPI}")

# pkg-config, from the prefix it was installed to (not the one configured: grove.pc relocates).
find_program(PKG_CONFIG pkg-config REQUIRED)
set(ENV{PKG_CONFIG_PATH} "${GROVE_PREFIX}/${GROVE_LIBDIR}/pkgconfig")
execute_process(COMMAND "${PKG_CONFIG}" --cflags --libs grove OUTPUT_VARIABLE pc_flags
                OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "consumer test: pkg-config --cflags --libs grove failed (${rc})")
endif()
message(STATUS "consumer test: pkg-config gives ${pc_flags}")
separate_arguments(pc_flags UNIX_COMMAND "${pc_flags}")
file(MAKE_DIRECTORY "${CONSUMER_BINARY_DIR}/pkg-config")
consumer_step("build with pkg-config's flags" "${CXX_COMPILER}" "${CONSUMER_SOURCE_DIR}/../main.cpp"
              -o "${CONSUMER_BINARY_DIR}/pkg-config/grove_consumer" ${pc_flags})
consumer_step("run the pkg-config build" "${CONSUMER_BINARY_DIR}/pkg-config/grove_consumer")
