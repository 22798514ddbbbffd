// The Transformer presets' figures, in the style of the linear-model presets (reproduce/preset_plots.cpp):
// trained networks as markers with error bars (population std over the training seeds), theory as lines.
#include "iclab/nn/transformer_plots.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "iclab/experiments/column_names.hpp"
#include "iclab/experiments/schema.hpp"
#include "iclab/io/atomic_file.hpp"
#include "iclab/io/csv_reader.hpp"
#include "iclab/io/table.hpp"
#include "iclab/nn/architecture.hpp"
#include "iclab/params/model_params.hpp"
#include "iclab/plot/figure.hpp"
#include "iclab/plot/gnuplot.hpp"
#include "iclab/reproduce/preset_support.hpp"
#include "iclab/theory/rank_correlation.hpp"

namespace iclab::nn {
namespace {

using plot::Figure;
using plot::Panel;
using plot::Series;
using plot::SeriesStyle;

std::string first(const CsvData& data, const std::string& column) {
  return data.rows.empty() ? std::string("?") : data.rows.front()[data.column(column, "plot", "results")];
}

struct MeanStd {
  double mean = 0.0, std = 0.0;
  long count = 0;
};

MeanStd mean_std(const std::vector<double>& values) {
  MeanStd s;
  s.count = static_cast<long>(values.size());
  if (values.empty()) return s;
  for (double v : values) s.mean += v / static_cast<double>(values.size());
  for (double v : values) s.std += (v - s.mean) * (v - s.mean) / static_cast<double>(values.size());
  s.std = std::sqrt(s.std);
  return s;
}

// Mean and population std of `y` over the rows sharing (x, group): the training seeds of a point.
std::map<double, std::map<double, MeanStd>> seed_means(const CsvData& data, const std::string& x, const std::string& y,
                                                       const std::string& group = "") {
  const std::size_t cx = data.column(x, "plot", "results"), cy = data.column(y, "plot", "results");
  std::map<double, std::map<double, std::vector<double>>> values;
  for (const auto& row : data.rows) {
    const double g = group.empty() ? 0.0 : csv_number(row[data.column(group, "plot", "results")]);
    values[g][csv_number(row[cx])].push_back(csv_number(row[cy]));
  }
  std::map<double, std::map<double, MeanStd>> out;
  for (const auto& [g, by_x] : values)
    for (const auto& [xv, ys] : by_x) out[g][xv] = mean_std(ys);
  return out;
}

Series markers(const std::map<double, MeanStd>& by_x, const std::string& label, int color,
               SeriesStyle style = SeriesStyle::line_points) {
  Series s;
  s.label = label;
  s.color = color;
  s.style = style;
  for (const auto& [x, stat] : by_x) {
    s.x.push_back(x);
    s.y.push_back(stat.mean);
    s.yerr.push_back(stat.std);
  }
  return s;
}

// The plot label of a model: the `model` key's labels in src/iclab/nn/schema.toml.
std::string model_label(const std::string& model) {
  const KeySpec& key = *experiment_schema().find_key("model");
  if (const auto at = position_of(key.values, model); at && *at < key.labels.size()) return key.labels[*at];
  return plot::escape_enhanced(model);
}

std::string scale_note(const CsvData& data) {
  std::string note = "d = " + first(data, columns::d) + ", " + first(data, columns::steps) + " steps";
  std::set<std::string> seeds;
  if (!data.rows.empty())
    for (const auto& row : data.rows) seeds.insert(row[data.column(columns::repeat, "plot", "results")]);
  return note + ", " + std::to_string(seeds.size()) + (seeds.size() == 1 ? " seed" : " seeds");
}

void render(const Figure& figure, const std::string& dir, const std::string& name) {
  plot::render(figure, dir + "/" + name);
}

}  // namespace

void plot_lu2024_fig5(const std::string& dir, [[maybe_unused]] const PlotOptions& options) {
  const CsvData theory = load_results(dir, "fig5-theory");
  Figure f;
  f.columns = 2;
  Panel threshold = make_panel("D  train loss; τ^*: it reaches " + format_number(kInterpolationThreshold) + " (1 + ρ)",
                               "τ = n/d^2", "train loss", false, true);
  Table tau_star({columns::model, columns::tau_star, columns::threshold});
  std::string note, parameters;
  double limit_line = 0.0;
  int color = 0;
  for (const std::string& model : architecture_names()) {
    const CsvData data = load_results(dir, std::string("fig5-") + model);
    if (note.empty()) note = scale_note(data);
    if (parameters.empty())
      parameters = "α = " + column_value(data, columns::alpha) + ", κ = " + column_value(data, columns::kappa);
    const double rho = csv_number(first(data, columns::rho));
    const double limit = kInterpolationThreshold * (1.0 + rho);
    limit_line = limit;
    // tau*: the smallest tau whose seed-mean final train loss is no longer ~0, after one that is
    // (none: the network interpolates nowhere, or everywhere, on this grid).
    const auto train = seed_means(data, columns::tau, columns::train_loss)[0.0];
    std::optional<double> star;
    bool interpolated = false;
    for (const auto& [tau, stat] : train) {
      if (stat.mean < limit) interpolated = true;
      if (stat.mean >= limit && interpolated) {
        star = tau;
        break;
      }
    }
    tau_star.add_row({std::string(model), optional_cell(star), limit});
    threshold.series.push_back(markers(train, model_label(model), color));
    if (star) threshold.vlines.push_back(*star);
    if (model == to_string(Architecture::softmax_mlp3)) {
      // Panel C shows both MLP models, so that the peak's move to the right with depth is visible.
      Panel& c = f.panels.back();
      c.title = "C  2 × and 3 × (softmax + MLP)";
      c.series.front().label = model_label(to_string(Architecture::softmax_mlp2));
      c.series.push_back(markers(seed_means(data, columns::tau, columns::icl_error)[0.0], model_label(model), color));
      if (star) c.vlines.push_back(*star);
    } else {
      // Only panel A needs a log axis (the theory diverges at tau = 1).
      Panel panel = make_panel(std::string(color == 0   ? "A  "
                                           : color == 1 ? "B  "
                                                        : "C  ") +
                                   model_label(model),
                               "τ = n/d^2", "e_{ICL}", false, color == 0);
      panel.series.push_back(markers(seed_means(data, columns::tau, columns::icl_error)[0.0], "trained", color));
      if (color == 0) {
        auto line = plot::series_from_csv(theory, columns::tau, columns::e_icl, "", "", SeriesStyle::line);
        for (auto& s : line) {
          s.label = "theory, d → ∞";
          s.color = color;
          panel.series.push_back(std::move(s));
        }
        panel.yrange = std::make_pair(0.3, 40.0);
        panel.xrange = std::make_pair(0.0, train.empty() ? 10.0 : 1.1 * train.rbegin()->first);
        panel.legend_position = "top right";
      }
      panel.hlines = {1.0 + rho};
      if (star) panel.vlines = {*star};
      if (panel.legend_position.empty()) panel.legend_position = "top right";
      f.panels.push_back(std::move(panel));
    }
    ++color;
  }
  threshold.hlines = {limit_line};
  // Room below the curves for the legend: the losses of interest are above ~1e-5.
  threshold.yrange = std::make_pair(1e-7, 3.0);
  threshold.legend_position = "bottom right";
  f.panels.push_back(std::move(threshold));
  f.title = "Lu et al. Fig 5: double descent, " + parameters + " (" + note + ")";
  write_file_atomically(dir + "/tau-star.csv", tau_star.to_csv());
  render(f, dir, "lu2024-fig5");
}

void plot_lu2024_fig6(const std::string& dir, [[maybe_unused]] const PlotOptions& options) {
  const CsvData data = load_results(dir, "fig6-kappa");
  const double rho = csv_number(first(data, columns::rho));
  Panel errors = make_panel("A  ICL and IDG error (grey: 1 + ρ; κ = ∞)", "κ = K/d", "test error", true, false);
  errors.series.push_back(markers(seed_means(data, columns::kappa, columns::icl_error)[0.0], "e_{ICL}", 0));
  errors.series.push_back(markers(seed_means(data, columns::kappa, columns::idg_error)[0.0], "e_{IDG}", 1));
  errors.hlines = {1.0 + rho};
  errors.vlines = {0.5};
  Panel gap = make_panel("B  task generalisation gap", "κ = K/d", "g_{task} = e_{ICL} - e_{IDG}", true, false);
  gap.series.push_back(markers(seed_means(data, columns::kappa, columns::g_task)[0.0], "g_{task}", 2));
  gap.hlines = {0.0};
  gap.vlines = {0.5};
  // kappa = inf (a fresh task per context) has no place on the log axis: shown as a grey line instead.
  const auto icl = seed_means(data, columns::kappa, columns::icl_error)[0.0];
  if (const auto it = icl.find(std::numeric_limits<double>::infinity()); it != icl.end())
    errors.hlines.push_back(it->second.mean);
  Figure f;
  f.title = "Lu et al. Fig 6: " + model_label(column_value(data, columns::model)) +
            ", α = " + column_value(data, columns::alpha) + ", τ = " + column_value(data, columns::tau) + " (" +
            scale_note(data) + ")";
  f.panels = {std::move(errors), std::move(gap)};
  render(f, dir, "lu2024-fig6");
}

void plot_letey2025_fig3(const std::string& dir, [[maybe_unused]] const PlotOptions& options) {
  const CsvData net = load_results(dir, "fig3-transformer"), measures = load_results(dir, "fig3-measures");
  // Seed-mean ICL error per (kappa, ctest), keyed by their CSV texts (both files format them alike).
  const std::size_t nk = net.column(columns::kappa, "plot", "results"),
                    nt = net.column(columns::ctest, "plot", "results"),
                    ne = net.column(columns::icl_error, "plot", "results");
  std::map<std::pair<std::string, std::string>, std::vector<double>> errors;
  for (const auto& row : net.rows) errors[{row[nk], row[nt]}].push_back(csv_number(row[ne]));
  const std::size_t mk = measures.column(columns::kappa, "plot", "results"),
                    mt = measures.column(columns::ctest, "plot", "results");
  const struct {
    const char* column;
    const char* label;
  } kinds[] = {{columns::e_misalign, "e_{misalign} = <C_{test} K>"},
               {columns::resolvent, "<C_{test} F_κ(σ)>"},
               {columns::trace, "<C_{train}^{-1} C_{test}>"},
               {columns::inv_cka, "1/CKA(C_{train}, C_{test})"}};
  Table spearman({columns::measure, columns::kappa, columns::spearman, columns::tests});
  Figure f;
  f.columns = 2;
  for (const auto& m : kinds) {
    const std::size_t cm = measures.column(m.column, "plot", "results");
    // Per kappa, the tests in the file's order (the matched test counts as the authors' 17th point).
    std::map<double, std::pair<std::vector<double>, std::vector<double>>> by_kappa;
    std::map<double, std::string> kappa_text;
    for (const auto& row : measures.rows) {
      const auto it = errors.find({row[mk], row[mt]});
      if (it == errors.end()) continue;
      const double kappa = csv_number(row[mk]);
      kappa_text[kappa] = row[mk];
      by_kappa[kappa].first.push_back(csv_number(row[cm]));
      by_kappa[kappa].second.push_back(mean_std(it->second).mean);
    }
    double mean = 0.0;
    Panel panel = make_panel("", m.label, "e_{ICL} of the trained Transformer", false, false);
    int color = 0;
    for (const auto& [kappa, xy] : by_kappa) {
      const double rho_s =
          xy.first.size() >= 2 ? theory::spearman(xy.first, xy.second) : std::numeric_limits<double>::quiet_NaN();
      mean += rho_s / static_cast<double>(by_kappa.size());
      spearman.add_row({std::string(m.column), kappa_text[kappa], rho_s, static_cast<long>(xy.first.size())});
      Series s;
      s.label = "κ = " + kappa_text[kappa];
      s.style = SeriesStyle::points;
      s.color = color++;
      s.x = xy.first;
      s.y = xy.second;
      panel.series.push_back(std::move(s));
    }
    spearman.add_row({std::string(m.column), std::string("mean"), mean, std::monostate()});
    char title[96];
    std::snprintf(title, sizeof title, "Spearman averaged over κ: %.2f", mean);
    panel.title = title;
    f.panels.push_back(std::move(panel));
  }
  f.title =
      "Letey et al. Fig 3: trained Transformer, C_{train} = " + covariance_name(column_value(net, columns::ctrain)) +
      ", α = " + column_value(net, columns::alpha) + ", τ = " + column_value(net, columns::tau) + ", " +
      scale_note(net);
  write_file_atomically(dir + "/spearman.csv", spearman.to_csv());
  render(f, dir, "letey2025-fig3");
}

}  // namespace iclab::nn
