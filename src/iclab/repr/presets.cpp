// The figures of 2408.10147 at a CPU scale (docs/representations.md has the table against the paper's
// scale). Their experiment files are the figure folders figures/yang2024-fig{2,3,4,5}/{quick,cpu}
// (compute = ["repr_training"] or ["repr_gap"]: repr_evaluator.hpp), run, resumed and sharded by the
// runner; here: their plots, which only read the results.
#include "iclab/repr/presets.hpp"

#include <initializer_list>
#include <string>
#include <vector>

#include "iclab/experiments/column_names.hpp"
#include "iclab/io/csv_reader.hpp"
#include "iclab/io/table.hpp"
#include "iclab/plot/figure.hpp"
#include "iclab/plot/gnuplot.hpp"
#include "iclab/reproduce/preset_support.hpp"

namespace iclab::repr {
namespace {

using plot::Figure;
using plot::Panel;
using plot::Series;
using plot::SeriesStyle;

void add(Panel& panel, std::vector<Series> series, const std::vector<std::string>& labels = {}) {
  for (std::size_t i = 0; i < series.size(); ++i) {
    if (i < labels.size()) series[i].label = labels[i];
    panel.series.push_back(std::move(series[i]));
  }
}

// "a,b": several columns, each a series of plot::series_from_csv.
std::string joined(std::initializer_list<const char*> names) {
  std::string out;
  for (const char* c : names) out.append(out.empty() ? "" : ",").append(c);
  return out;
}

// Series grouped by the `heads` column, labelled "H = 4" as in the paper.
std::vector<Series> by_heads(std::vector<Series> series) {
  for (auto& s : series)
    if (s.label.rfind("heads = ", 0) == 0) s.label = "H = " + s.label.substr(8);
  return series;
}

// Non-positive values (a converged gap at rounding) are gaps on a log axis.
CsvData positive(CsvData data, const std::string& column) {
  const std::size_t c = data.column(column, "plot", "results");
  for (auto& row : data.rows)
    if (!row[c].empty() && !(csv_number(row[c]) > 0)) row[c] = "";
  return data;
}

// Appends column `name` = column / divisor (e.g. steps in thousands, so that tick labels stay short).
CsvData scaled(CsvData data, const std::string& column, double divisor, const std::string& name) {
  const std::size_t c = data.column(column, "plot", "results");
  data.columns.push_back(name);
  for (auto& row : data.rows) row.push_back(row[c].empty() ? "" : format_number(csv_number(row[c]) / divisor));
  return data;
}

void plot_fig2(const std::string& dir, const PlotOptions& options) {
  Figure f;
  f.title = std::string("Yang et al. Fig 2: training and inference losses") + (options.quick ? " (quick)" : "");
  Panel a = make_panel("one-layer softmax attention", "iteration / 1000", "loss", false, true);
  add(a,
      plot::series_from_csv(
          scaled(positive(load_results(dir, "attention"), columns::loss_gap), columns::step, 1000, "kstep"), "kstep",
          joined({columns::loss_gap, columns::pred_to_ridge_in, columns::pred_to_ridge_ood}), "", "",
          SeriesStyle::line),
      {"training loss - L^*", "inference loss (in-domain)", "inference loss (OOD)"});
  Panel b = make_panel("Transformer baseline", "iteration", "loss", false, true);
  add(b,
      plot::series_from_csv(load_results(dir, "transformer"), columns::step,
                            joined({columns::train_loss, columns::pred_to_ridge_in, columns::pred_to_ridge_ood}), "",
                            "", SeriesStyle::line),
      {"training loss", "inference loss (in-domain)", "inference loss (OOD)"});
  a.legend_position = b.legend_position = "below";
  f.panel_width_in = 5.0;
  f.panel_height_in = 4.0;
  f.panels = {std::move(a), std::move(b)};
  plot::render(f, dir + "/yang2024-fig2");
}

void plot_fig3(const std::string& dir, const PlotOptions& options) {
  const CsvData data = load_results(dir, "gap");
  const std::string m = column_value(data, columns::m);
  Figure f;
  f.title = "Yang et al. Fig 3: performance gap, m = " + m + ", τ = " + column_value(data, columns::tau) +
            (options.quick ? " (quick)" : "");
  Panel a = make_panel("gap to the best predictor", columns::N, "(1/K) Σ_{k>N} (ŷ^*_k - ŷ^{best}_k)^2", false, false);
  add(a, plot::series_from_csv(data, columns::N, columns::gap, columns::gap_std, "", SeriesStyle::line_points), {""});
  a.vlines = {csv_number(m)};  // N = m
  Panel b = make_panel("test errors", columns::N, "(1/K) Σ_{k>N} (ŷ_k - y_k)^2", false, true);
  add(b,
      plot::series_from_csv(data, columns::N, joined({columns::ridge_error, columns::best_error}), "", "",
                            SeriesStyle::line_points),
      {"limit (ridge, penalty mτ)", "best (ridge, penalty Nτ)"});
  b.vlines = {csv_number(m)};
  b.legend_position = "top right";
  f.panels = {std::move(a), std::move(b)};
  plot::render(f, dir + "/yang2024-fig3");
}

void plot_fig4(const std::string& dir, const PlotOptions& options) {
  Figure f;
  f.title = std::string("Yang et al. Fig 4: one-layer model vs H") + (options.quick ? " (quick)" : "");
  Panel a = make_panel("training loss - L^*", "iteration / 1000", "L(θ) - L^*", false, true);
  add(a, by_heads(plot::series_from_csv(
             scaled(positive(load_results(dir, "heads"), columns::loss_gap), columns::step, 1000, "kstep"), "kstep",
             columns::loss_gap, "", columns::heads, SeriesStyle::line)));
  a.legend_title = plot::parameter_symbol("H");  // (a literal trips GCC 12's -Wrestrict false positive)
  f.panels = {std::move(a)};
  plot::render(f, dir + "/yang2024-fig4");
}

void plot_fig5(const std::string& dir, const PlotOptions& options) {
  const CsvData data = load_results(dir, "heads");
  // Panel (a): the last row of every H.
  const std::size_t ch = data.column(columns::heads, "plot", "results");
  CsvData last{data.columns, {}};
  for (const auto& row : data.rows) {
    if (!last.rows.empty() && last.rows.back()[ch] == row[ch])
      last.rows.back() = row;
    else
      last.rows.push_back(row);
  }
  Figure f;
  f.title = std::string("Yang et al. Fig 5: Transformer baseline, number of heads") + (options.quick ? " (quick)" : "");
  Panel a = make_panel("final losses", columns::heads, "loss", false, false);
  a.legend_position = "below";
  add(a,
      plot::series_from_csv(last, columns::heads, joined({columns::train_loss, columns::pred_to_ridge_in}), "", "",
                            SeriesStyle::line_points),
      {"training loss", "inference loss (in-domain)"});
  Panel b = make_panel("training curves", columns::seconds, "training loss", false, true);
  add(b, by_heads(plot::series_from_csv(data, columns::seconds, columns::train_loss, "", columns::heads,
                                        SeriesStyle::line)));
  b.legend_title = plot::parameter_symbol("H");
  f.panels = {std::move(a), std::move(b)};
  plot::render(f, dir + "/yang2024-fig5");
}

}  // namespace

std::vector<Preset> representation_presets() {
  // Assigned by member name: independent of the order of Preset's members.
  const auto preset = [](std::string name, std::string description, auto plot) {
    Preset p;
    p.name = std::move(name);
    p.description = std::move(description);
    p.plot = plot;
    return p;
  };
  return {
      preset("yang2024-fig2",
             "Yang et al. 2024 Fig 2: 1-layer attention and a Transformer converge to ridge (CPU scale)", plot_fig2),
      preset("yang2024-fig3", "Yang et al. 2024 Fig 3: gap of ridge(m tau) to the best ridge(N tau) vs N (paper scale)",
             plot_fig3),
      preset("yang2024-fig4", "Yang et al. 2024 Fig 4: 1-layer training loss for several H (CPU scale)", plot_fig4),
      preset("yang2024-fig5",
             "Yang et al. 2024 Fig 5: Transformer baseline, final and running losses vs heads (CPU scale)", plot_fig5),
  };
}

}  // namespace iclab::repr
