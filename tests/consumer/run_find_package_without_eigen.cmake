# consumer.find_package_without_eigen: builds and installs a grove configured without Eigen, then
# checks that find_package(grove CONFIG REQUIRED COMPONENTS eigen) fails, saying why, while
# find_package(grove CONFIG REQUIRED) still works.
# Inputs (-D): GROVE_SOURCE_DIR WORK_DIR CONSUMER_SOURCE_DIR CXX_COMPILER, optional MAKE_PROGRAM.
include("${CMAKE_CURRENT_LIST_DIR}/consumer_common.cmake")
consumer_require(GROVE_SOURCE_DIR WORK_DIR CONSUMER_SOURCE_DIR CXX_COMPILER)

set(build "${WORK_DIR}/grove-build")
set(prefix "${WORK_DIR}/prefix")
file(REMOVE_RECURSE "${WORK_DIR}")
set(generator -G Ninja "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
if(NOT "${MAKE_PROGRAM}" STREQUAL "")
  list(APPEND generator "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
endif()
consumer_step("configure grove without Eigen" "${CMAKE_COMMAND}" ${generator} -S "${GROVE_SOURCE_DIR}"
              -B "${build}" -DCMAKE_BUILD_TYPE=Release -DCMAKE_DISABLE_FIND_PACKAGE_Eigen3=ON
              -DGROVE_BUILD_TESTS=OFF -DGROVE_BUILD_EXAMPLES=OFF -DGROVE_BUILD_BENCH=OFF)
consumer_step("build it" "${CMAKE_COMMAND}" --build "${build}")
consumer_step("install it" "${CMAKE_COMMAND}" --install "${build}" --prefix "${prefix}")

execute_process(COMMAND "${CMAKE_COMMAND}" ${generator} -S "${CONSUMER_SOURCE_DIR}"
                        -B "${WORK_DIR}/consumer" "-DCMAKE_PREFIX_PATH=${prefix}"
                        -DGROVE_CONSUMER_EIGEN=ON
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(rc EQUAL 0)
  message(FATAL_ERROR "find_package(grove COMPONENTS eigen) succeeded against a grove without Eigen")
endif()
if(NOT "${out}${err}" MATCHES "built without Eigen")
  message(FATAL_ERROR "find_package(grove COMPONENTS eigen) failed without saying why:\n${out}${err}")
endif()
file(REMOVE_RECURSE "${WORK_DIR}/consumer")
consumer_step("find_package(grove) without the component still works" "${CMAKE_COMMAND}"
              ${generator} -S "${CONSUMER_SOURCE_DIR}" -B "${WORK_DIR}/consumer"
              "-DCMAKE_PREFIX_PATH=${prefix}" -DGROVE_CONSUMER_EIGEN=OFF)
message(STATUS "consumer test: the missing eigen component is reported clearly")
