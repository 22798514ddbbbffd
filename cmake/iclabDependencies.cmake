# The libraries in iclab's public interface that ship no CMake package of their own: Random123 (headers,
# in iclab/random/streams.hpp), OpenBLAS (Eigen forwards to it: EIGEN_USE_BLAS) and LAPACKE. Included by
# the build and, installed, by iclabConfig.cmake, so the exported iclab::iclab names these imported
# targets instead of this machine's absolute paths. Sets ICLAB_MISSING_DEPENDENCIES to what was not found.
set(ICLAB_MISSING_DEPENDENCIES "")

find_path(RANDOM123_INCLUDE_DIR Random123/philox.h)
find_library(OPENBLAS_LIB NAMES openblas)
find_library(LAPACKE_LIB NAMES lapacke)

if(RANDOM123_INCLUDE_DIR)
  if(NOT TARGET iclab::random123)
    add_library(iclab::random123 INTERFACE IMPORTED)
    set_target_properties(iclab::random123 PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${RANDOM123_INCLUDE_DIR}")
  endif()
else()
  list(APPEND ICLAB_MISSING_DEPENDENCIES "Random123 (Random123/philox.h)")
endif()

foreach(dep IN ITEMS openblas lapacke)
  string(TOUPPER "${dep}_LIB" var)
  if(${var})
    if(NOT TARGET iclab::${dep})
      add_library(iclab::${dep} UNKNOWN IMPORTED)
      set_target_properties(iclab::${dep} PROPERTIES IMPORTED_LOCATION "${${var}}")
    endif()
  else()
    list(APPEND ICLAB_MISSING_DEPENDENCIES "lib${dep}")
  endif()
endforeach()
