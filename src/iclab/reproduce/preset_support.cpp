#include "iclab/reproduce/preset_support.hpp"

#include <limits>

namespace iclab {

CsvData load_results(const std::string& dir, const std::string& experiment) {
  return read_csv(dir + "/" + experiment + "/results.csv", experiment);
}

double csv_number(const std::string& text) {
  if (text.empty()) return std::numeric_limits<double>::quiet_NaN();
  if (text == "inf") return std::numeric_limits<double>::infinity();
  if (text == "-inf") return -std::numeric_limits<double>::infinity();
  return std::stod(text);
}

plot::Panel make_panel(std::string title, std::string xlabel, std::string ylabel, bool logx, bool logy) {
  plot::Panel panel;
  panel.title = std::move(title);
  panel.xlabel = std::move(xlabel);
  panel.ylabel = std::move(ylabel);
  panel.logx = logx;
  panel.logy = logy;
  return panel;
}

}  // namespace iclab
