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

// A results cell as a number: "" is NaN; "inf" and "-inf" are infinities.
double csv_number(const std::string& text);

plot::Panel make_panel(std::string title, std::string xlabel, std::string ylabel, bool logx, bool logy);

}  // namespace iclab
