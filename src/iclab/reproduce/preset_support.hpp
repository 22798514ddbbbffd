// Building blocks shared by every figure preset (the linear-model ones here, the neural-network ones in
// iclab_nn): reading a run's results, and panels. Internal: not installed
// (src/CMakeLists.txt, ICLAB_INTERNAL_HEADERS).
#pragma once

#include <string>

#include "iclab/io/csv_reader.hpp"
#include "iclab/plot/figure.hpp"

namespace iclab {

// DIR/EXPERIMENT/results.csv.
CsvData load_results(const std::string& dir, const std::string& experiment);

// A results cell as a number: "" is NaN; "inf" and "-inf" are infinities; anything but a whole number
// (e.g. "0.5abc") throws std::runtime_error naming the cell.
double csv_number(const std::string& text);

// The value of `column` in the rows as a label shows it, so that labels come from the run's results and
// not from literals: one value as its text ("inf" as ∞), several as "{a, b, ...}" in order of first
// appearance, "?" for no rows.
std::string column_value(const CsvData& data, const std::string& column);

// A covariance spec as a label: "power:0.9" -> "power law 0.9", "linear" -> "uniform spectrum",
// "lowrank:0.5" -> "low rank 0.5", "iso" -> "I", "spike:3" -> "spike at i = 3".
std::string covariance_name(const std::string& spec);

plot::Panel make_panel(std::string title, std::string xlabel, std::string ylabel, bool logx, bool logy);

}  // namespace iclab
