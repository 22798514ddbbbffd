// Reading a covariance (or its diagonal) from a file: NumPy .npy or comma-separated text.
// No Debian package ships an NPY reader for C++, so the (small) v1/v2/v3 header is parsed here.
#pragma once

#include <string>

#include "iclab/linalg/dense.hpp"

namespace iclab {

// The numbers in a .npy or .csv file as a matrix; a 1-D array or a single row/column comes back as a
// column vector (cols() == 1). .npy: dtype '<f8' (little-endian float64), C or Fortran order, 1-D or 2-D.
// .csv: one row per line, values separated by commas (blank lines and lines starting with '#' skipped).
// Throws InvalidArgument("<option>: <path>: <problem>") for unreadable or malformed files.
Matrix read_matrix_file(const std::string& path, const std::string& option);

}  // namespace iclab
