// Reading the embedded figure folders (figure_files.hpp), and the experiments of a preset at a scale.
#include <algorithm>

#include "iclab/error.hpp"
#include "iclab/reproduce/figure_files.hpp"
#include "iclab/reproduce/presets.hpp"

namespace iclab {
namespace {

// "FIGURE/SCALE/STEM.toml" split at its slashes; false for a path of another shape.
bool split_path(const std::string& path, std::string& figure, std::string& scale, std::string& file) {
  const std::size_t first = path.find('/');
  if (first == std::string::npos) return false;
  const std::size_t second = path.find('/', first + 1);
  if (second == std::string::npos || path.find('/', second + 1) != std::string::npos) return false;
  figure = path.substr(0, first);
  scale = path.substr(first + 1, second - first - 1);
  file = path.substr(second + 1);
  return true;
}

}  // namespace

std::vector<PresetExperiment> figure_experiments(const std::string& figure, const std::string& scale) {
  std::vector<PresetExperiment> out;
  const std::string suffix = ".toml";
  for (const FigureFile& f : figure_files()) {
    std::string fig, sc, file;
    if (!split_path(f.path, fig, sc, file) || fig != figure || sc != scale) continue;
    if (file.size() <= suffix.size() || file.compare(file.size() - suffix.size(), suffix.size(), suffix) != 0) continue;
    out.push_back({file.substr(0, file.size() - suffix.size()), f.text});
  }
  return out;
}

std::vector<std::string> figure_scales(const std::string& figure) {
  std::vector<std::string> out;
  for (const FigureFile& f : figure_files()) {
    std::string fig, sc, file;
    if (split_path(f.path, fig, sc, file) && fig == figure && std::find(out.begin(), out.end(), sc) == out.end())
      out.push_back(sc);
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> preset_scales(const Preset& preset) { return figure_scales(preset.name); }

std::vector<PresetExperiment> preset_experiments(const Preset& preset, const std::string& scale) {
  std::vector<PresetExperiment> out = figure_experiments(preset.name, scale);
  if (!out.empty()) return out;
  std::string scales, have;
  for (const std::string& s : preset_scales(preset)) scales += (scales.empty() ? "" : ", ") + s;
  std::vector<std::string> figures;
  for (const FigureFile& f : figure_files()) {
    std::string fig, sc, file;
    if (split_path(f.path, fig, sc, file) && sc == scale &&
        std::find(figures.begin(), figures.end(), fig) == figures.end())
      figures.push_back(fig);
  }
  for (const std::string& fig : figures) have += (have.empty() ? "" : ", ") + fig;
  throw InvalidArgument("--scale: '" + scale + "' is not a scale of " + preset.name + " (" + scales +
                        (have.empty() ? "" : "; '" + scale + "' exists for " + have) + ")");
}

}  // namespace iclab
