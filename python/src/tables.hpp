// iclab::Table -> Python: one NumPy array per column, in column order (a dict keeps it). Columns of
// integers become int64, columns of numbers float64 (an empty cell is NaN), any other column an object
// array of str (empty cells None).
#pragma once

#include <pybind11/pybind11.h>

#include "iclab/io/table.hpp"

namespace iclab::python {

pybind11::dict table_to_columns(const Table& table);

}  // namespace iclab::python
