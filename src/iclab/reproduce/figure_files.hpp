// The experiment files of the figure folders (figures/<figure>/<scale>/*.toml), compiled into the
// library by cmake/iclabFigures.cmake: a figure at a scale is data, read from here by `iclab reproduce`.
#pragma once

#include <string>
#include <vector>

#include "iclab/reproduce/presets.hpp"

namespace iclab {

struct FigureFile {
  std::string path;  // relative to figures/, e.g. "lu2024-fig5/paper/fig5-softmax.toml"
  std::string text;
};

// Every embedded file, sorted by path.
const std::vector<FigureFile>& figure_files();

// The experiments of figures/FIGURE/SCALE/, in file-name order: each named by its file's stem (the
// experiment's name, which every scale of a figure shares), its text the file's. Empty when there is no
// such folder.
std::vector<PresetExperiment> figure_experiments(const std::string& figure, const std::string& scale);

// The scales (sub-folders) of figures/FIGURE/, sorted; empty for a figure without a folder.
std::vector<std::string> figure_scales(const std::string& figure);

}  // namespace iclab
