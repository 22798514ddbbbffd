# Installation rules beyond the targets' own (the programs in apps/cli, the libraries and their public
# headers in src/CMakeLists.txt, which says which headers are public): the CMake package `iclab`
# (iclab::iclab; iclab::nn as the component nn), iclab.pc for pkg-config, and the documentation.
# Included by the top-level CMakeLists.txt once the targets exist; DEVELOPERS.md, "Using iclab as a
# library", has the user's side.
include(CMakePackageConfigHelpers)
set(ICLAB_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/iclab)
install(EXPORT iclabTargets NAMESPACE iclab:: DESTINATION ${ICLAB_CMAKE_DIR})
get_target_property(iclab_type iclab TYPE)
string(COMPARE EQUAL "${iclab_type}" STATIC_LIBRARY ICLAB_STATIC)
set(ICLAB_NN_STATIC FALSE)
if(ICLAB_NN)
  install(EXPORT iclabNnTargets NAMESPACE iclab:: DESTINATION ${ICLAB_CMAKE_DIR})
  get_target_property(iclab_nn_type iclab_nn TYPE)
  string(COMPARE EQUAL "${iclab_nn_type}" STATIC_LIBRARY ICLAB_NN_STATIC)
endif()
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/iclabConfig.cmake.in ${PROJECT_BINARY_DIR}/iclabConfig.cmake
                              INSTALL_DESTINATION ${ICLAB_CMAKE_DIR})
# Before 1.0 a minor version may change the interface: find_package(iclab 0.2) accepts 0.2.* only.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/iclabConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/iclabConfig.cmake ${PROJECT_BINARY_DIR}/iclabConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/iclabDependencies.cmake DESTINATION ${ICLAB_CMAKE_DIR})

# iclab.pc, its paths relative to its own directory (${pcfiledir}), so that `cmake --install --prefix`
# anywhere gives a working file, unless the install dirs are absolute.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(ICLAB_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH ICLAB_PC_PREFIX "/p/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/p")
  string(REGEX REPLACE "/$" "" ICLAB_PC_PREFIX "${ICLAB_PC_PREFIX}")
  set(ICLAB_PC_PREFIX "\${pcfiledir}/${ICLAB_PC_PREFIX}")
endif()
foreach(kind IN ITEMS INCLUDEDIR LIBDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${kind}}")
    set(ICLAB_PC_${kind} "${CMAKE_INSTALL_${kind}}")
  else()
    set(ICLAB_PC_${kind} "\${prefix}/${CMAKE_INSTALL_${kind}}")
  endif()
endforeach()
string(STRIP "-DEIGEN_USE_BLAS ${OpenMP_CXX_FLAGS}" ICLAB_PC_CFLAGS)
if(NOT RANDOM123_INCLUDE_DIR IN_LIST CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES)
  string(APPEND ICLAB_PC_CFLAGS " -I${RANDOM123_INCLUDE_DIR}")
endif()
set(ICLAB_PC_DEPENDENCY_LIBS "")
foreach(lib IN ITEMS ${LAPACKE_LIB} ${OPENBLAS_LIB})
  get_filename_component(dir "${lib}" DIRECTORY)
  get_filename_component(name "${lib}" NAME_WE)
  string(REGEX REPLACE "^lib" "" name "${name}")
  if(NOT dir IN_LIST CMAKE_CXX_IMPLICIT_LINK_DIRECTORIES)
    list(APPEND ICLAB_PC_DEPENDENCY_LIBS "-L${dir}")
  endif()
  list(APPEND ICLAB_PC_DEPENDENCY_LIBS "-l${name}")
endforeach()
list(APPEND ICLAB_PC_DEPENDENCY_LIBS ${OpenMP_CXX_FLAGS})
list(JOIN ICLAB_PC_DEPENDENCY_LIBS " " ICLAB_PC_DEPENDENCY_LIBS)
set(ICLAB_PC_REQUIRES "eigen3 >= 3.4, nlohmann_json >= 3.10")
if(ICLAB_STATIC)
  # A static libiclab needs its dependencies on every link line, not only with --static.
  string(APPEND ICLAB_PC_REQUIRES ", tomlplusplus >= 3")
  set(ICLAB_PC_REQUIRES_PRIVATE "")
  set(ICLAB_PC_LIBS "${ICLAB_PC_DEPENDENCY_LIBS}")
  set(ICLAB_PC_LIBS_PRIVATE "")
else()
  set(ICLAB_PC_REQUIRES_PRIVATE "tomlplusplus >= 3")
  set(ICLAB_PC_LIBS "")
  set(ICLAB_PC_LIBS_PRIVATE "${ICLAB_PC_DEPENDENCY_LIBS}")
endif()
configure_file(${PROJECT_SOURCE_DIR}/cmake/iclab.pc.in ${PROJECT_BINARY_DIR}/iclab.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/iclab.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

install(FILES ${PROJECT_SOURCE_DIR}/README.md ${PROJECT_SOURCE_DIR}/DEVELOPERS.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR})
# The figure folders (figures/: each figure's experiment files per scale), as data beside the docs, where
# the tree has them (re-run cmake after adding the folder).
if(EXISTS ${PROJECT_SOURCE_DIR}/figures)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/figures/ DESTINATION ${CMAKE_INSTALL_DATADIR}/iclab/figures)
endif()
