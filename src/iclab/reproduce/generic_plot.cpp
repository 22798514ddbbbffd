// The plot of a figure folder that has no plot function of its own (presets.hpp, folder_presets): one
// panel per experiment, its main quantity against its first grid axis, one series per value of its second
// axis. Every label comes from the run: the experiment's name and description, the axes' keys.
#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "iclab/error.hpp"
#include "iclab/experiments/column_names.hpp"
#include "iclab/experiments/experiment.hpp"
#include "iclab/plot/figure.hpp"
#include "iclab/plot/gnuplot.hpp"
#include "iclab/reproduce/figure_files.hpp"
#include "iclab/reproduce/preset_support.hpp"
#include "iclab/reproduce/presets.hpp"

namespace iclab {
namespace {

namespace fs = std::filesystem;

// The column plotted for an experiment: the first of these its results have (with its error bars).
struct MainColumn {
  const char* y;
  const char* yerr;
};
constexpr MainColumn kMainColumns[] = {{columns::e_icl, ""},
                                       {columns::icl_mean, columns::icl_std},
                                       {columns::icl_error, ""},
                                       {columns::g_task, ""},
                                       {columns::gtask_mean, columns::gtask_std},
                                       {columns::gap, columns::gap_std},
                                       {columns::train_loss, ""},
                                       {columns::alpha_min_icl, ""},
                                       {columns::k_eigenvalue, ""}};

bool has_column(const CsvData& data, const std::string& name) {
  return std::find(data.columns.begin(), data.columns.end(), name) != data.columns.end();
}

}  // namespace

void plot_figure_folder(const std::string& name, const std::string& dir, const PlotOptions& options) {
  std::vector<std::string> experiments;  // DIR/<experiment>/ with its experiment.toml and results.csv
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (fs::exists(entry.path() / "experiment.toml") && fs::exists(entry.path() / "results.csv"))
      experiments.push_back(entry.path().filename().string());
  std::sort(experiments.begin(), experiments.end());
  if (experiments.empty()) throw InvalidArgument("plot: no experiment results under '" + dir + "'");
  plot::Figure f;
  f.title = plot::escape_enhanced(name) + (options.quick ? " (quick)" : "");
  for (const std::string& e : experiments) {
    const Experiment experiment = load_experiment(dir + "/" + e + "/experiment.toml");
    const CsvData data = load_results(dir, e);
    // x: the first grid axis (the step of a training log); by: the second axis, if any.
    std::string x = experiment.axes.empty() ? columns::point : experiment.axes.front().keys.front();
    std::string by = experiment.axes.size() > 1 ? experiment.axes[1].keys.front() : "";
    if (has_column(data, columns::step)) {
      by = x == columns::point ? "" : x;
      x = columns::step;
    }
    const MainColumn* quantity = nullptr;
    for (const MainColumn& q : kMainColumns)
      if (has_column(data, q.y)) {
        quantity = &q;
        break;
      }
    if (!quantity || !has_column(data, x)) continue;
    const std::string yerr = has_column(data, quantity->yerr) ? quantity->yerr : "";
    const std::string title =
        plot::escape_enhanced(experiment.description.empty() ? experiment.name : experiment.description);
    plot::Panel panel = make_panel(title, plot::parameter_symbol(x), plot::escape_enhanced(quantity->y), false, false);
    for (auto& s : plot::series_from_csv(data, x, quantity->y, yerr, by, plot::SeriesStyle::line_points, e))
      panel.series.push_back(std::move(s));
    f.panels.push_back(std::move(panel));
  }
  if (f.panels.empty()) throw InvalidArgument("plot: no plottable results under '" + dir + "'");
  f.columns = f.panels.size() > 1 ? 2 : 1;
  plot::render(f, dir + "/" + name);
}

std::vector<Preset> folder_presets(const std::vector<Preset>& known) {
  std::set<std::string> names;
  for (const FigureFile& file : figure_files()) names.insert(file.path.substr(0, file.path.find('/')));
  std::vector<Preset> out;
  for (const std::string& name : names) {
    if (std::any_of(known.begin(), known.end(), [&](const Preset& p) { return p.name == name; })) continue;
    Preset p;
    p.name = name;
    p.description = "figures/" + name + " (generic plot)";
    p.plot = [name](const std::string& dir, const PlotOptions& options) { plot_figure_folder(name, dir, options); };
    out.push_back(std::move(p));
  }
  return out;
}

}  // namespace iclab
