// The presets' figures in the papers' style: theory as lines, simulations as markers with error bars
// (population std over repetitions) in the colour of their theory line, log axes where the papers use
// them. Only reads the results CSVs; never computes a model quantity.
#include "iclab/reproduce/preset_plots.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "iclab/io/csv_reader.hpp"
#include "iclab/io/table.hpp"
#include "iclab/params/model_params.hpp"
#include "iclab/plot/figure.hpp"
#include "iclab/plot/gnuplot.hpp"
#include "iclab/reproduce/preset_support.hpp"
#include "iclab/theory/rank_correlation.hpp"

namespace iclab {
namespace {

using plot::Figure;
using plot::Heatmap;
using plot::Panel;
using plot::Series;
using plot::SeriesStyle;

std::string cell(const CsvData& data, const std::vector<std::string>& row, const std::string& column) {
  return row[data.column(column, "plot", "results")];
}

// The rows for which keep(row) holds.
CsvData where(const CsvData& data, const std::function<bool(const std::vector<std::string>&)>& keep) {
  CsvData out{data.columns, {}};
  for (const auto& row : data.rows)
    if (keep(row)) out.rows.push_back(row);
  return out;
}

CsvData where_number(const CsvData& data, const std::string& column, std::set<double> values) {
  const std::size_t c = data.column(column, "plot", "results");
  return where(data, [&](const auto& row) { return values.count(csv_number(row[c])) > 0; });
}

// Appends a computed column.
CsvData with_column(CsvData data, const std::string& name,
                    const std::function<double(const std::vector<std::string>&)>& f) {
  data.columns.push_back(name);
  for (auto& row : data.rows) row.push_back(format_number(f(row)));
  return data;
}

void add(Panel& panel, std::vector<Series> series) {
  for (auto& s : series) panel.series.push_back(std::move(s));
}

// Theory lines of `theory_y` and simulation markers of `mean` with `std` error bars, grouped by `by` so that
// a group's line and markers share a colour; `label` (optional) rewrites the legend entries.
void add_theory_and_simulations(Panel& panel, const CsvData& theory, const std::string& theory_y, const CsvData& sim,
                                const std::string& mean, const std::string& std, const std::string& x,
                                const std::string& by,
                                const std::function<std::string(const std::string&)>& label = {}) {
  for (auto series : {plot::series_from_csv(theory, x, theory_y, "", by, SeriesStyle::line),
                      plot::series_from_csv(sim, x, mean, std, by, SeriesStyle::points)}) {
    if (label)
      for (auto& s : series) s.label = label(s.label);
    add(panel, std::move(series));
  }
}

// A log y-range that shows the panel's markers (simulations, with their error bars), not the theory's poles.
std::pair<double, double> log_range_of_markers(const Panel& panel, double below = 0.6, double above = 2.0) {
  double lo = std::numeric_limits<double>::infinity(), hi = 0.0;
  for (const auto& s : panel.series)
    for (std::size_t i = 0; s.style == SeriesStyle::points && i < s.y.size(); ++i) {
      const double e = s.yerr.empty() ? 0.0 : s.yerr[i];
      if (std::isfinite(s.y[i]) && s.y[i] > 0) {
        lo = std::min(lo, s.y[i] - e > 0 ? s.y[i] - e : s.y[i]);
        hi = std::max(hi, s.y[i] + e);
      }
    }
  if (!(hi > 0)) return {1e-3, 10.0};
  return {lo * below, hi * above};
}

// "ctest = spike:3" -> "spike at i = 3" etc. (labels from series_from_csv are "column = value").
std::string covariance_label(const std::string& label, const std::string& train) {
  const std::string value = label.substr(label.find("= ") == std::string::npos ? 0 : label.find("= ") + 2);
  if (value == train) return "C_{test} = C_{train}";
  if (value.rfind("spike:", 0) == 0) return "spike at i = " + value.substr(6);
  if (value == "iso") return "I";
  if (value.rfind("power:", 0) == 0) return "power law p = " + value.substr(6);
  if (value.rfind("revpower:", 0) == 0) return "reversed power law p = " + value.substr(9);
  if (value.rfind("lowrank:", 0) == 0) return "low rank " + value.substr(8);
  return plot::escape_enhanced(value);
}

std::string scale_note(const CsvData& sim) {
  if (sim.rows.empty()) return "";
  std::string note = "d = " + cell(sim, sim.rows.front(), "d");
  for (const auto& column : sim.columns)
    if (column == "repeats") note += ", " + cell(sim, sim.rows.front(), "repeats") + " draws";
  return note;
}

// A heatmap of z over the (x, y) grid of the rows; missing or empty cells are NaN (blank).
Heatmap heatmap_of(const CsvData& data, const std::string& x, const std::string& y,
                   const std::function<double(const std::vector<std::string>&)>& z) {
  std::set<double> xs, ys;
  const std::size_t cx = data.column(x, "plot", "results"), cy = data.column(y, "plot", "results");
  for (const auto& row : data.rows) {
    xs.insert(csv_number(row[cx]));
    ys.insert(csv_number(row[cy]));
  }
  Heatmap h;
  h.x.assign(xs.begin(), xs.end());
  h.y.assign(ys.begin(), ys.end());
  h.z.assign(h.x.size() * h.y.size(), std::numeric_limits<double>::quiet_NaN());
  for (const auto& row : data.rows) {
    const auto i =
        static_cast<std::size_t>(std::lower_bound(h.y.begin(), h.y.end(), csv_number(row[cy])) - h.y.begin());
    const auto j =
        static_cast<std::size_t>(std::lower_bound(h.x.begin(), h.x.end(), csv_number(row[cx])) - h.x.begin());
    h.z[i * h.x.size() + j] = z(row);
  }
  return h;
}

// The authors' published simulations (shared/reference-data) as black markers, when a directory is given.
std::optional<CsvData> authors_data(const PlotOptions& options, const std::string& file) {
  if (options.reference_data.empty()) return std::nullopt;
  const std::string path = options.reference_data + "/" + file;
  if (!std::ifstream(path)) return std::nullopt;
  return read_csv(path, "--reference-data");
}

Series authors_markers(const CsvData& data, const std::string& x, const std::string& y, const std::string& yerr,
                       const std::string& label) {
  auto series = plot::series_from_csv(data, x, y, yerr, "", SeriesStyle::points);
  Series s = std::move(series.front());
  s.label = label;
  s.color = 6;  // black in the Okabe-Ito palette
  return s;
}

void render(const Figure& figure, const std::string& dir, const std::string& name) {
  plot::render(figure, dir + "/" + name);
}

}  // namespace

void plot_lu2024_fig1(const std::string& dir, [[maybe_unused]] const PlotOptions& options) {
  const CsvData th = load_results(dir, "fig1ab-theory"), sim = load_results(dir, "fig1ab-simulation");
  const CsvData thc = load_results(dir, "fig1c-theory"), simc = load_results(dir, "fig1c-simulation");
  Figure f;
  f.title = "Lu et al. Fig 1: double descent in τ (simulations: " + scale_note(sim) + ")";
  const struct {
    const char* title;
    const char* theory;
    const char* mean;
    const char* std;
    const char* ylabel;
  } panels[] = {{"A  ICL, κ = 0.5, ρ = 0.01, ridgeless", "e_icl", "icl_mean", "icl_std", "e_{ICL}"},
                {"B  IDG, κ = 0.5, ρ = 0.01, ridgeless", "e_idg", "idg_mean", "idg_std", "e_{IDG}"}};
  for (const auto& p : panels) {
    Panel panel = make_panel(p.title, "τ = n/d^2", p.ylabel, false, true);
    add_theory_and_simulations(panel, th, p.theory, sim, p.mean, p.std, "tau", "alpha");
    panel.yrange = log_range_of_markers(panel);
    if (const auto authors = authors_data(options, "lu2024_fig1_d100.csv"))
      panel.series.push_back(authors_markers(*authors, "tau", p.mean, p.std, "authors, d = 100"));
    panel.vlines = {1.0};
    f.panels.push_back(std::move(panel));
  }
  Panel c = make_panel("C  ridge ICL, α = 10, κ = ∞", "τ = n/d^2", "e_{ICL}", false, true);
  add_theory_and_simulations(c, thc, "e_icl", simc, "icl_mean", "icl_std", "tau", "lambda");
  c.yrange = log_range_of_markers(c);
  c.vlines = {1.0};
  f.panels.push_back(std::move(c));
  render(f, dir, "lu2024-fig1");
}

void plot_lu2024_fig2(const std::string& dir, [[maybe_unused]] const PlotOptions& options) {
  Figure f;
  const struct {
    const char* name;
    const char* title;
    const char* theory;
    const char* mean;
    const char* std;
    const char* ylabel;
  } panels[] = {{"fig2a", "A  IDG, τ = 0.5, ρ = 0.5", "e_idg", "idg_mean", "idg_std", "e_{IDG}"},
                {"fig2b", "B  ICL, τ = 0.5, ρ = 0.1", "e_icl", "icl_mean", "icl_std", "e_{ICL}"},
                {"fig2c", "C  ICL, τ = 20, ρ = 0.1", "e_icl", "icl_mean", "icl_std", "e_{ICL}"}};
  for (const auto& p : panels) {
    const CsvData th = load_results(dir, std::string(p.name) + "-theory"),
                  sim = load_results(dir, std::string(p.name) + "-simulation");
    Panel panel = make_panel(std::string(p.title) + " (" + scale_note(sim) + ")", "α = ℓ/d", p.ylabel, true, true);
    add_theory_and_simulations(panel, th, p.theory, sim, p.mean, p.std, "alpha", "kappa");
    panel.yrange = log_range_of_markers(panel, 0.5, 3.0);
    f.panels.push_back(std::move(panel));
  }
  f.title = "Lu et al. Fig 2: the error is non-monotone in the context length";
  render(f, dir, "lu2024-fig2");
}

void plot_lu2024_fig3(const std::string& dir, [[maybe_unused]] const PlotOptions& options) {
  const CsvData data = load_results(dir, "fig3-alpha-minimum");
  Figure f;
  f.title = "Lu et al. Fig 3: α at the minimum of the error (blank: monotone in α)";
  const struct {
    double tau;
    const char* column;
    const char* title;
  } panels[] = {{0.5, "alpha_min_icl", "ICL, τ = 0.5"},
                {0.5, "alpha_min_idg", "IDG, τ = 0.5"},
                {20, "alpha_min_icl", "ICL, τ = 20"}};
  for (const auto& p : panels) {
    const CsvData rows = where_number(data, "tau", {p.tau});
    const std::size_t c = rows.column(p.column, "plot", "results");
    Panel panel = make_panel(p.title, "κ = k/d", "ρ", false, false);
    panel.heatmap = heatmap_of(rows, "kappa", "rho", [&](const auto& row) { return csv_number(row[c]); });
    panel.heatmap->colorbar_label = "α_{min}";
    panel.heatmap->log_color = true;
    f.panels.push_back(std::move(panel));
  }
  render(f, dir, "lu2024-fig3");
}

void plot_lu2024_fig4(const std::string& dir, [[maybe_unused]] const PlotOptions& options) {
  const CsvData th = load_results(dir, "fig4-theory"), sim = load_results(dir, "fig4-simulation"),
                dmmse = load_results(dir, "fig4-dmmse");
  Figure f;
  f.title = "Lu et al. Fig 4: g_{task} against κ, τ = 0.2α (Γ*: " + scale_note(sim) + "; dashed: dMMSE)";
  const std::set<double> panel_alphas[] = {{6, 10, 20}, {10, 20, 40}};
  const std::string titles[] = {plot::escape_enhanced("A  α ∈ {6, 10, 20}"),
                                plot::escape_enhanced("B  α ∈ {10, 20, 40}")};
  for (int i = 0; i < 2; ++i) {
    Panel panel = make_panel(titles[i], "κ = k/d", "g_{task} = e_{ICL} - e_{IDG}", true, true);
    add_theory_and_simulations(panel, where_number(th, "alpha", panel_alphas[i]), "g_task",
                               where_number(sim, "alpha", panel_alphas[i]), "gtask_mean", "gtask_std", "kappa",
                               "alpha");
    panel.yrange = log_range_of_markers(panel, 0.3, 3.0);
    auto bayes = plot::series_from_csv(where_number(dmmse, "alpha", panel_alphas[i]), "kappa", "dmmse_gtask_mean", "",
                                       "alpha", SeriesStyle::dashed);
    add(panel, std::move(bayes));
    panel.vlines = {1.0};
    f.panels.push_back(std::move(panel));
  }
  render(f, dir, "lu2024-fig4");
}

void plot_letey2025_fig1(const std::string& dir, [[maybe_unused]] const PlotOptions& options) {
  const CsvData th = load_results(dir, "fig1-theory");
  const CsvData sim = load_results(dir, "fig1-simulation");
  const std::size_t mean = sim.column("icl_mean", "plot", "results"),
                    scalar = sim.column("e_scalar", "plot", "results");
  // Simulated e_misalign = simulated E(Gamma*) - theoretical e_scalar (spec §6.1).
  const CsvData sim_mis = with_column(sim, "misalign_sim",
                                      [&](const auto& row) { return csv_number(row[mean]) - csv_number(row[scalar]); });
  auto label = [](const std::string& l) { return covariance_label(l, "linear"); };
  Figure f;
  f.title = "Letey et al. Fig 1: C_{train} = uniform spectrum, d = " + cell(sim, sim.rows.front(), "d") +
            ", α = 2, τ = 4 (" + cell(sim, sim.rows.front(), "repeats") + " draws)";
  Panel left = make_panel("ICL error", "κ = k/d", "e_{ICL}", false, false);
  add_theory_and_simulations(left, th, "e_icl", sim, "icl_mean", "icl_std", "kappa", "ctest", label);
  Panel right = make_panel("misalignment error", "κ = k/d", "e_{misalign}", false, false);
  add_theory_and_simulations(right, th, "e_misalign", sim_mis, "misalign_sim", "icl_std", "kappa", "ctest", label);
  f.panels = {std::move(left), std::move(right)};
  render(f, dir, "letey2025-fig1");
}

void plot_letey2025_fig2(const std::string& dir, [[maybe_unused]] const PlotOptions& options) {
  const CsvData data = load_results(dir, "fig2-measures");
  const struct {
    const char* column;
    const char* label;
  } measures[] = {{"e_misalign", "e_{misalign} = <C_{test} K>"},
                  {"resolvent", "<C_{test} F_κ(σ)>"},
                  {"trace", "<C_{train}^{-1} C_{test}>"},
                  {"inv_cka", "1/CKA(C_{train}, C_{test})"}};
  Figure f;
  f.columns = 2;
  f.title = "Letey et al. Fig 2: theory e_{ICL} against the alignment measures (C_{train} = power law 0.9, d = " +
            cell(data, data.rows.front(), "d") + ")";
  const std::size_t ck = data.column("kappa", "plot", "results"), ce = data.column("e_icl", "plot", "results");
  for (const auto& m : measures) {
    const std::size_t cm = data.column(m.column, "plot", "results");
    // Spearman over the tests at each kappa, averaged over kappa (the authors' protocol, spec §4).
    std::map<double, std::pair<std::vector<double>, std::vector<double>>> by_kappa;
    for (const auto& row : data.rows) {
      by_kappa[csv_number(row[ck])].first.push_back(csv_number(row[cm]));
      by_kappa[csv_number(row[ck])].second.push_back(csv_number(row[ce]));
    }
    double mean = 0.0;
    for (const auto& [kappa, xy] : by_kappa)
      mean += theory::spearman(xy.first, xy.second) / static_cast<double>(by_kappa.size());
    char title[96];
    std::snprintf(title, sizeof title, "mean Spearman %.2f", mean);
    Panel panel = make_panel(title, m.label, "e_{ICL}", false, false);
    add(panel, plot::series_from_csv(data, m.column, "e_icl", "", "kappa", SeriesStyle::points));
    f.panels.push_back(std::move(panel));
  }
  render(f, dir, "letey2025-fig2");
}

void plot_letey2025_fig4(const std::string& dir, [[maybe_unused]] const PlotOptions& options) {
  const CsvData data = load_results(dir, "fig4-optimal-pretraining");
  const std::size_t ct = data.column("ctrain", "plot", "results"), ck = data.column("kappa", "plot", "results"),
                    ce = data.column("e_icl", "plot", "results");
  auto p_train = [&](const std::vector<std::string>& row) { return csv_number(row[ct].substr(row[ct].find(':') + 1)); };
  std::map<double, double> matched;  // kappa -> e_ICL with C_train = C_test (p = 0.9)
  for (const auto& row : data.rows)
    if (row[ct] == "power:0.9") matched[csv_number(row[ck])] = csv_number(row[ce]);
  const CsvData cells = with_column(data, "dp", [&](const auto& row) { return p_train(row) - 0.9; });
  Panel panel = make_panel("C_{test} = power law 0.9, d = 100, α = 1, τ = 4", "κ = k/d", "Δp = p_{train} - p_{test}",
                           false, false);
  panel.heatmap = heatmap_of(cells, "kappa", "dp", [&](const auto& row) {
    const double e = csv_number(row[ce]), m = matched.at(csv_number(row[ck]));
    return -100.0 * (e - m) / m;
  });
  panel.heatmap->colorbar_label = "improvement of e_{ICL} over C_{train} = C_{test} (%)";
  panel.heatmap->diverging = true;
  panel.hlines = {0.0};
  Figure f;
  f.title = "Letey et al. Fig 4: optimal pretraining";
  f.panels = {std::move(panel)};
  f.panel_width_in = 6.0;
  f.panel_height_in = 4.2;
  render(f, dir, "letey2025-fig4");
}

void plot_letey2025_fig5(const std::string& dir, [[maybe_unused]] const PlotOptions& options) {
  const CsvData data = load_results(dir, "fig5-k-spectrum");
  Figure f;
  f.title = "Letey et al. Fig 5: eigenvalues of K against those of C_{train} (power law 0.9, τ = 0.5, d = " +
            cell(data, data.rows.front(), "d") + ")";
  std::set<double> alphas;
  for (const auto& row : data.rows) alphas.insert(csv_number(cell(data, row, "alpha")));
  for (double alpha : alphas) {
    Panel panel = make_panel("α = " + format_number(alpha), "eigenvalue λ_i of C_{train}", "k_i", true, true);
    add(panel, plot::series_from_csv(where_number(data, "alpha", {alpha}), "train_eigenvalue", "k", "", "kappa",
                                     SeriesStyle::line_points));
    f.panels.push_back(std::move(panel));
  }
  render(f, dir, "letey2025-fig5");
}

void plot_letey2025_fig6(const std::string& dir, [[maybe_unused]] const PlotOptions& options) {
  const CsvData th = load_results(dir, "fig6-theory"), sim = load_results(dir, "fig6-simulation");
  auto label = [](const std::string& l) { return covariance_label(l, "lowrank:0.5"); };
  Panel panel = make_panel(
      "C_{train} of rank d/2, α = τ = " + cell(sim, sim.rows.front(), "alpha") + " (" + scale_note(sim) + ")",
      "κ = k/d", "e_{ICL}", false, true);
  add_theory_and_simulations(panel, th, "e_icl", sim, "icl_mean", "icl_std", "kappa", "ctest", label);
  if (const auto authors = authors_data(options, "letey2025_fig6_halfmanifold_d80.csv"))
    panel.series.push_back(authors_markers(*authors, "kappa", "icl_mean", "icl_std", "authors, d = 80"));
  panel.hlines = {0.01};
  panel.vlines = {0.5};
  Figure f;
  f.title = "Letey et al. Fig 6: the task-diversity transition sits at κ = rank(C_{train})/d";
  f.panels = {std::move(panel)};
  f.panel_width_in = 6.0;
  f.panel_height_in = 4.2;
  render(f, dir, "letey2025-fig6");
}

void plot_letey2025_testtime(const std::string& dir, [[maybe_unused]] const PlotOptions& options) {
  const CsvData th = load_results(dir, "testtime-theory"), sim = load_results(dir, "testtime-simulation");
  auto label = [](const std::string& l) {
    const std::string value = l.substr(l.find("= ") == std::string::npos ? 0 : l.find("= ") + 2);
    return "C_{train} = C_{test} = " + covariance_label("= " + value, "");
  };
  Panel panel = make_panel("pretrained at α = 2, τ = 4, κ = 1 (" + scale_note(sim) + ")", "α_{test} = ℓ_{test}/d",
                           "e_{ICL}", true, true);
  add_theory_and_simulations(panel, th, "e_icl", sim, "icl_mean", "icl_std", "alpha_test", "ctrain", label);
  panel.vlines = {2.0};
  Figure f;
  f.title = "Letey et al.: ICL error against the test-time context length";
  f.panels = {std::move(panel)};
  f.panel_width_in = 6.0;
  f.panel_height_in = 4.2;
  render(f, dir, "letey2025-testtime");
}

}  // namespace iclab
