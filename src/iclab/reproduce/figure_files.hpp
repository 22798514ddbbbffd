// The experiment files of the figure folders (figures/<figure>/<scale>/*.toml), compiled into the
// library by cmake/iclabFigures.cmake: a figure at a scale is data, read from here by `iclab reproduce`.
#pragma once

#include <string>
#include <vector>

namespace iclab {

struct FigureFile {
  std::string path;  // relative to figures/, e.g. "lu2024-fig5/paper/fig5-softmax.toml"
  std::string text;
};

// Every embedded file, sorted by path.
const std::vector<FigureFile>& figure_files();

}  // namespace iclab
