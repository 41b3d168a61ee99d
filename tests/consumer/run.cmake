# Installs the already-built project into a scratch prefix, then configures, builds and runs the
# consumer project against it. Run by ctest (test consumer_find_package) as
#   cmake -DSOURCE_DIR=<repo> -DBUILD_DIR=<build> -DWORK_DIR=<scratch> -P tests/consumer/run.cmake
cmake_minimum_required(VERSION 3.25)

foreach(var SOURCE_DIR BUILD_DIR WORK_DIR)
  if(NOT DEFINED ${var} OR "${${var}}" STREQUAL "")
    message(FATAL_ERROR "consumer: pass -D${var}=... (see the header of this script)")
  endif()
endforeach()

# Runs one step; any non-zero exit fails the test with the step's output.
function(step name)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "consumer: step '${name}' failed (${rc}):\n${ARGN}\n${out}")
  endif()
  message(STATUS "consumer: ${name}: ok")
endfunction()

# Build the consumer like the library: same compiler, build type and sanitizer link flags
# (an ASan-instrumented static library needs the ASan runtime at link time).
load_cache("${BUILD_DIR}" READ_WITH_PREFIX lib_
           CMAKE_CXX_COMPILER CMAKE_BUILD_TYPE SCULPT_SANITIZE)
set(extra_args "")
if(lib_CMAKE_CXX_COMPILER)
  list(APPEND extra_args "-DCMAKE_CXX_COMPILER=${lib_CMAKE_CXX_COMPILER}")
endif()
if(lib_CMAKE_BUILD_TYPE)
  list(APPEND extra_args "-DCMAKE_BUILD_TYPE=${lib_CMAKE_BUILD_TYPE}")
endif()
if(lib_SCULPT_SANITIZE)
  list(APPEND extra_args "-DCMAKE_CXX_FLAGS=-fsanitize=address,undefined"
                         "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=address,undefined")
endif()

set(prefix "${WORK_DIR}/prefix")
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

step(install ${CMAKE_COMMAND} --install "${BUILD_DIR}" --prefix "${prefix}")
file(GLOB config "${prefix}/lib*/cmake/Sculpt/SculptConfig.cmake")
# Only the public API is installed: include/sculpt/*.h, none of src/.
file(GLOB_RECURSE headers RELATIVE "${prefix}/include" "${prefix}/include/*")
list(FILTER headers EXCLUDE REGEX "^sculpt/[a-z_]+\\.h$")
if(headers)
  message(FATAL_ERROR "consumer: the install has headers beyond the public API: ${headers}")
endif()
if(NOT EXISTS "${prefix}/include/sculpt/sculpt.h" OR NOT config)
  file(GLOB_RECURSE found RELATIVE "${prefix}" "${prefix}/*")
  message(FATAL_ERROR "consumer: the install lacks sculpt/sculpt.h or SculptConfig.cmake; "
                      "it has:\n${found}")
endif()
step(configure ${CMAKE_COMMAND} -S "${SOURCE_DIR}/tests/consumer" -B "${WORK_DIR}/build"
     "-DCMAKE_PREFIX_PATH=${prefix}" ${extra_args})
step(build ${CMAKE_COMMAND} --build "${WORK_DIR}/build")
step(run "${WORK_DIR}/build/consumer" "${WORK_DIR}")
