// Figure presets: a figure is its folder of experiment files, figures/<name>/<scale>/*.toml (compiled
// in: figure_files.hpp), plus the plot that turns their results into the figure. Computation is the
// experiment runner's; plotting only reads the results CSVs.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace iclab {

struct PresetExperiment {
  std::string name;  // sub-directory of the preset's output, and the experiment's name
  std::string toml;  // the experiment file (written beside its results; rerun it with `iclab run`)
};

struct PlotOptions {
  bool quick = false;
  std::string reference_data;  // a directory with the authors' published numbers, overlaid where they exist
};

struct Preset {
  std::string name;         // e.g. "lu2024-fig1"
  std::string description;  // one line for `iclab reproduce --list`
  // Reads DIR/<experiment>/results.csv for each experiment and writes DIR/<name>.{png,svg,gp}.
  std::function<void(const std::string& dir, const PlotOptions& options)> plot;
};

// The presets of the two linear-model papers (the neural-network ones live in iclab_nn).
const std::vector<Preset>& presets();
// Throws InvalidArgument listing the known names.
const Preset& find_preset(const std::string& name, const std::vector<Preset>& among);
inline const Preset& find_preset(const std::string& name) { return find_preset(name, presets()); }

// A figure folder without a plot function of its own plots with plot_figure_folder: one panel per
// experiment (DIR/<experiment>/results.csv), its main quantity (e_icl, icl_mean, icl_error, g_task, gap,
// train_loss, ...) against its first grid axis, a series per value of its second; labels from the run.
void plot_figure_folder(const std::string& name, const std::string& dir, const PlotOptions& options);
// A preset with that plot for every figure folder that no preset of `known` names (so that a new figure
// can be a folder alone).
std::vector<Preset> folder_presets(const std::vector<Preset>& known);

// The experiments of a preset at a scale ("quick", "cpu", "paper", ...), run by the experiment runner
// (resumable, shardable): the files of its figure folder figures/NAME/SCALE/. Throws InvalidArgument naming
// the preset's scales for a scale it does not have.
std::vector<PresetExperiment> preset_experiments(const Preset& preset, const std::string& scale);
// The scales a preset has, sorted.
std::vector<std::string> preset_scales(const Preset& preset);

}  // namespace iclab
