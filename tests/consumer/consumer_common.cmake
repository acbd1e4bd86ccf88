# Shared by run_find_package.cmake and run_add_subdirectory.cmake (cmake -P scripts).

# Stops the script unless every named variable was passed with -D and is non-empty.
function(consumer_require)
  foreach(var IN LISTS ARGN)
    if("${${var}}" STREQUAL "")
      message(FATAL_ERROR "consumer test: -D${var}=... is required")
    endif()
  endforeach()
endfunction()

# consumer_step(<what> <command>...): runs the command, echoing it; stops the script if it fails.
function(consumer_step what)
  message(STATUS "consumer test: ${what}")
  execute_process(COMMAND ${ARGN} COMMAND_ECHO STDOUT RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "consumer test: ${what} failed (${rc})")
  endif()
endfunction()

# consumer_build(<extra configure args>...): configures CONSUMER_SOURCE_DIR from scratch in
# CONSUMER_BINARY_DIR with Ninja and the given compiler, builds it and runs grove_consumer.
function(consumer_build)
  file(REMOVE_RECURSE "${CONSUMER_BINARY_DIR}")
  set(configure_args -G Ninja -S "${CONSUMER_SOURCE_DIR}" -B "${CONSUMER_BINARY_DIR}"
                     "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
  if(NOT "${MAKE_PROGRAM}" STREQUAL "")
    list(APPEND configure_args "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
  endif()
  if(NOT "${CONFIG}" STREQUAL "")
    list(APPEND configure_args "-DCMAKE_BUILD_TYPE=${CONFIG}")
  endif()
  consumer_step("configure ${CONSUMER_SOURCE_DIR}" "${CMAKE_COMMAND}" ${configure_args} ${ARGN})
  consumer_step("build" "${CMAKE_COMMAND}" --build "${CONSUMER_BINARY_DIR}")
  consumer_step("run" "${CONSUMER_BINARY_DIR}/grove_consumer")
endfunction()
