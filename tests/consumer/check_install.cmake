# CTest install_consumer (cmake -P): installs the build into a temporary prefix, then checks that a
# program can use it as a user would: the installed headers are self-contained (no internal, torch or
# Boost header), find_package(iclab 0.2) and its version rule, a CMake build of tests/consumer, and
# pkg-config (a direct compile with `pkg-config --cflags --libs iclab`). The prefix is removed at the end.
#
# Inputs (-D): BUILD_DIR, CONSUMER_DIR, LIBDIR (CMAKE_INSTALL_LIBDIR), GENERATOR, BUILD_TYPE, CXX_COMPILER,
# CXX_FLAGS, LINKER_FLAGS (the build's, so that e.g. sanitizer builds link), PKG_CONFIG (may be empty),
# WITH_NN (also configure against the component nn).
cmake_minimum_required(VERSION 3.25)

string(RANDOM LENGTH 8 suffix)
set(work "${BUILD_DIR}/install-check-${suffix}")
set(prefix "${work}/prefix")
set(expected "iclab [0-9.]+: e_ICL = 0\\.569365\ntau = 1 refused\n")  # spec checkpoint (10, 4, 2, 0.25)

function(fail what)
  file(REMOVE_RECURSE "${work}")
  message(FATAL_ERROR "${what}")
endfunction()

# Runs a command; fails with its output unless it exits 0. Its output is left in `output`.
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT status EQUAL 0)
    string(REPLACE ";" " " command "${ARGN}")
    fail("${command}\nexited with ${status}:\n${out}${err}")
  endif()
  set(output "${out}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${work}")
run("${CMAKE_COMMAND}" --install "${BUILD_DIR}" --prefix "${prefix}")

# Headers: every quoted include of an installed header is installed too, and none pulls in torch or Boost.
file(GLOB_RECURSE headers "${prefix}/include/iclab/*.hpp")
list(LENGTH headers count)
if(count LESS 10 OR NOT EXISTS "${prefix}/include/iclab/error.hpp" OR NOT EXISTS "${prefix}/include/iclab/version.hpp")
  fail("only ${count} headers installed under ${prefix}/include/iclab")
endif()
foreach(header IN LISTS headers)
  file(STRINGS "${header}" includes REGEX "^#include [<\"]")
  foreach(line IN LISTS includes)
    if(line MATCHES "^#include \"([^\"]+)\"" AND NOT EXISTS "${prefix}/include/${CMAKE_MATCH_1}")
      fail("${header} includes ${CMAKE_MATCH_1}, which is not installed (internal?)")
    endif()
    if(line MATCHES "^#include <(torch|boost)/")
      fail("${header} is public but includes <${CMAKE_MATCH_1}/...>: list it in ICLAB_INTERNAL_HEADERS")
    endif()
  endforeach()
endforeach()
foreach(internal IN ITEMS model/solver_kernels.hpp numerics/roots.hpp nn/torch_support.hpp)
  if(EXISTS "${prefix}/include/iclab/${internal}")
    fail("internal header iclab/${internal} was installed")
  endif()
endforeach()

# The figure folders are installed as data (share/iclab/figures/<figure>/<scale>/*.toml) and embedded in the
# programs: the installed iclab reproduces a figure from a directory that holds no figures/ folder.
foreach(figure_file IN ITEMS lu2024-fig1/cpu/fig1ab-theory.toml lu2024-fig1/quick/fig1ab-theory.toml
                             lu2024-fig5/paper/fig5-theory.toml)
  if(NOT EXISTS "${prefix}/share/iclab/figures/${figure_file}")
    fail("figures/${figure_file} was not installed under ${prefix}/share/iclab/figures")
  endif()
endforeach()
execute_process(COMMAND "${prefix}/bin/iclab" reproduce letey2025-fig5 --quick --out "${work}/fig5"
                WORKING_DIRECTORY "${work}" RESULT_VARIABLE status ERROR_VARIABLE err OUTPUT_QUIET)
if(NOT status EQUAL 0 OR NOT EXISTS "${work}/fig5/fig5-k-spectrum/results.csv")
  fail("the installed iclab did not reproduce letey2025-fig5 from ${work} (exit ${status}):\n${err}")
endif()

# The version rule: 0.2 and 0.2.0 accept this 0.2.x; 0.1, 0.3 and 1.0 do not.
foreach(request_compatible IN ITEMS 0.2:TRUE 0.2.0:TRUE 0.1:FALSE 0.3:FALSE 1.0:FALSE)
  string(REPLACE ":" ";" pair "${request_compatible}")
  list(GET pair 0 PACKAGE_FIND_VERSION)
  list(GET pair 1 want)
  string(REPLACE "." ";" parts "${PACKAGE_FIND_VERSION}.0")
  list(GET parts 0 PACKAGE_FIND_VERSION_MAJOR)
  list(GET parts 1 PACKAGE_FIND_VERSION_MINOR)
  list(GET parts 2 PACKAGE_FIND_VERSION_PATCH)
  unset(PACKAGE_VERSION_COMPATIBLE)
  include("${prefix}/${LIBDIR}/cmake/iclab/iclabConfigVersion.cmake")
  if((want AND NOT PACKAGE_VERSION_COMPATIBLE) OR (NOT want AND PACKAGE_VERSION_COMPATIBLE))
    fail("find_package(iclab ${PACKAGE_FIND_VERSION}) compatible: '${PACKAGE_VERSION_COMPATIBLE}', expected ${want}")
  endif()
endforeach()

# CMake: configure (only this prefix may provide iclab), build and run the consumer.
set(configure_args -G "${GENERATOR}" "-DCMAKE_PREFIX_PATH=${prefix}" -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF
    "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}"
    "-DCMAKE_EXE_LINKER_FLAGS=${LINKER_FLAGS}")
run("${CMAKE_COMMAND}" -S "${CONSUMER_DIR}" -B "${work}/build" ${configure_args})
file(STRINGS "${work}/build/CMakeCache.txt" found REGEX "^iclab_DIR:")
string(FIND "${found}" "=${prefix}/" at)
if(at EQUAL -1)
  fail("the consumer found iclab outside the test prefix: ${found}")
endif()
run("${CMAKE_COMMAND}" --build "${work}/build")
run("${work}/build/consumer")
if(NOT output MATCHES "^${expected}$")
  fail("the consumer printed\n${output}expected (regex)\n${expected}")
endif()
message(STATUS "CMake consumer: ${output}")
if(WITH_NN)
  run("${CMAKE_COMMAND}" -S "${CONSUMER_DIR}" -B "${work}/build-nn" ${configure_args} -DICLAB_CONSUMER_NN=ON)
endif()

# pkg-config: the flags resolve, point into the prefix, and build the same program.
if(PKG_CONFIG)
  set(ENV{PKG_CONFIG_PATH} "${prefix}/${LIBDIR}/pkgconfig")
  run("${PKG_CONFIG}" --cflags --libs iclab)
  string(STRIP "${output}" flags)
  string(FIND "${flags}" "-I${prefix}/" at)
  if(at EQUAL -1 OR NOT flags MATCHES "(^| )-liclab( |$)")
    fail("pkg-config --cflags --libs iclab gave '${flags}'")
  endif()
  separate_arguments(flags UNIX_COMMAND "${flags}")
  separate_arguments(cxx_flags UNIX_COMMAND "${CXX_FLAGS}")
  separate_arguments(linker_flags UNIX_COMMAND "${LINKER_FLAGS}")
  run("${CXX_COMPILER}" ${cxx_flags} -std=c++20 "${CONSUMER_DIR}/main.cpp" -o "${work}/consumer-pc" ${flags}
      ${linker_flags})
  run("${work}/consumer-pc")
  if(NOT output MATCHES "^${expected}$")
    fail("the pkg-config build printed\n${output}")
  endif()
  message(STATUS "pkg-config consumer: ${output}")
else()
  message(STATUS "pkg-config not found: iclab.pc not checked")
endif()

file(REMOVE_RECURSE "${work}")
