#include "tables.hpp"

#include <pybind11/numpy.h>

#include <limits>

namespace py = pybind11;
using namespace pybind11::literals;

namespace iclab::python {

py::dict table_to_columns(const Table& table) {
  py::dict out;
  const auto& rows = table.rows();
  const auto n = static_cast<py::ssize_t>(rows.size());
  for (std::size_t c = 0; c < table.columns().size(); ++c) {
    bool all_long = !rows.empty(), numeric = true;
    for (const auto& row : rows) {
      const Cell& cell = row[c];
      all_long = all_long && std::holds_alternative<long>(cell);
      numeric = numeric && !std::holds_alternative<std::string>(cell);
    }
    if (all_long) {
      py::array_t<std::int64_t> column(n);
      auto* data = column.mutable_data();
      for (py::ssize_t i = 0; i < n; ++i) data[i] = std::get<long>(rows[static_cast<std::size_t>(i)][c]);
      out[py::str(table.columns()[c])] = std::move(column);
    } else if (numeric) {
      py::array_t<double> column(n);
      auto* data = column.mutable_data();
      for (py::ssize_t i = 0; i < n; ++i) {
        const Cell& cell = rows[static_cast<std::size_t>(i)][c];
        if (const auto* d = std::get_if<double>(&cell))
          data[i] = *d;
        else if (const auto* l = std::get_if<long>(&cell))
          data[i] = static_cast<double>(*l);
        else
          data[i] = std::numeric_limits<double>::quiet_NaN();
      }
      out[py::str(table.columns()[c])] = std::move(column);
    } else {
      py::list values;
      for (const auto& row : rows) {
        const Cell& cell = row[c];
        if (const auto* s = std::get_if<std::string>(&cell))
          values.append(py::str(*s));
        else if (const auto* d = std::get_if<double>(&cell))
          values.append(py::float_(*d));
        else if (const auto* l = std::get_if<long>(&cell))
          values.append(py::int_(*l));
        else
          values.append(py::none());
      }
      out[py::str(table.columns()[c])] = py::module_::import("numpy").attr("array")(values, "dtype"_a = "object");
    }
  }
  return out;
}

}  // namespace iclab::python
