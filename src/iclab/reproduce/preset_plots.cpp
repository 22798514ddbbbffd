// The presets' figures in the papers' style: theory as lines, simulations as markers with error bars
// (population std over repetitions) in the colour of their theory line, log axes where the papers use
// them. Only reads the results CSVs; never computes a model quantity.
#include "iclab/reproduce/preset_plots.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "iclab/experiments/column_names.hpp"
#include "iclab/io/atomic_file.hpp"
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

// "κ = 0.5, ρ = 0.01": the values of the given columns in the rows (column_value), in order; d is its own
// symbol.
std::string parameters_note(const CsvData& data, const std::vector<std::string>& columns) {
  static const std::map<std::string, std::string> symbols = {{columns::d, columns::d}, {columns::alpha, "α"},
                                                             {columns::tau, "τ"},      {columns::kappa, "κ"},
                                                             {columns::rho, "ρ"},      {columns::lambda, "λ"}};
  std::string out;
  for (const auto& c : columns) out += (out.empty() ? "" : ", ") + symbols.at(c) + " = " + column_value(data, c);
  return out;
}

// "ridgeless" for lambda = 0, else "λ = ...".
std::string ridge_note(const CsvData& data) {
  const std::string lambda = column_value(data, columns::lambda);
  return lambda == "0" ? "ridgeless" : "λ = " + lambda;
}

// The authors' published numbers' d, for their legend entry.
std::string authors_label(const CsvData& authors) {
  for (const auto& c : authors.columns)
    if (c == columns::d) return "authors, d = " + column_value(authors, columns::d);
  return "authors";
}

// A ratio of CSV numbers for a label: 6 significant digits (1.2/6 prints 0.2).
std::string short_number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.6g", value);
  return text;
}

// The sorted distinct numbers of a column.
std::vector<double> distinct_numbers(const CsvData& data, const std::string& column) {
  std::set<double> values;
  const std::size_t c = data.column(column, "plot", "results");
  for (const auto& row : data.rows) values.insert(csv_number(row[c]));
  return {values.begin(), values.end()};
}

// The distinct texts of a column, ordered by their numbers (ties: first appearance).
std::vector<std::string> distinct_texts(const CsvData& data, const std::string& column) {
  std::vector<std::string> out;
  const std::size_t c = data.column(column, "plot", "results");
  for (const auto& row : data.rows)
    if (std::find(out.begin(), out.end(), row[c]) == out.end()) out.push_back(row[c]);
  std::stable_sort(out.begin(), out.end(),
                   [](const std::string& a, const std::string& b) { return csv_number(a) < csv_number(b); });
  return out;
}

// The fraction f of a "lowrank:f" spec (NaN for another spec).
double lowrank_fraction(const std::string& spec) {
  return spec.rfind("lowrank:", 0) == 0 ? csv_number(spec.substr(8)) : std::numeric_limits<double>::quiet_NaN();
}

std::string scale_note(const CsvData& sim) {
  if (sim.rows.empty()) return "";
  std::string note = "d = " + cell(sim, sim.rows.front(), columns::d);
  for (const auto& column : sim.columns)
    if (column == columns::repeats) note += ", " + cell(sim, sim.rows.front(), columns::repeats) + " draws";
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

// A figure of one panel, 6 x 4.2 in (the heatmap and the single-panel figures).
void render_one_panel(Panel panel, const std::string& title, const std::string& dir, const std::string& name) {
  Figure f;
  f.title = title;
  f.panels = {std::move(panel)};
  f.panel_width_in = 6.0;
  f.panel_height_in = 4.2;
  render(f, dir, name);
}

}  // namespace

void plot_lu2024_fig1(const std::string& dir, [[maybe_unused]] const PlotOptions& options) {
  const CsvData th = load_results(dir, "fig1ab-theory"), sim = load_results(dir, "fig1ab-simulation");
  const CsvData thc = load_results(dir, "fig1c-theory"), simc = load_results(dir, "fig1c-simulation");
  Figure f;
  f.title = "Lu et al. Fig 1: double descent in τ (simulations: " + scale_note(sim) + ")";
  const std::string ab = parameters_note(th, {columns::kappa, columns::rho}) + ", " + ridge_note(th);
  const struct {
    std::string title;
    const char* theory;
    const char* mean;
    const char* std;
    const char* ylabel;
  } panels[] = {{"A  ICL, " + ab, columns::e_icl, columns::icl_mean, columns::icl_std, "e_{ICL}"},
                {"B  IDG, " + ab, columns::e_idg, columns::idg_mean, columns::idg_std, "e_{IDG}"}};
  for (const auto& p : panels) {
    Panel panel = make_panel(p.title, "τ = n/d^2", p.ylabel, false, true);
    add_theory_and_simulations(panel, th, p.theory, sim, p.mean, p.std, columns::tau, columns::alpha);
    panel.yrange = log_range_of_markers(panel);
    if (const auto authors = authors_data(options, "lu2024_fig1_d100.csv"))
      panel.series.push_back(authors_markers(*authors, columns::tau, p.mean, p.std, authors_label(*authors)));
    panel.vlines = {1.0};
    f.panels.push_back(std::move(panel));
  }
  Panel c = make_panel("C  ridge ICL, " + parameters_note(thc, {columns::alpha, columns::kappa}), "τ = n/d^2",
                       "e_{ICL}", false, true);
  add_theory_and_simulations(c, thc, columns::e_icl, simc, columns::icl_mean, columns::icl_std, columns::tau,
                             columns::lambda);
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
  } panels[] = {{"fig2a", "A  IDG", columns::e_idg, columns::idg_mean, columns::idg_std, "e_{IDG}"},
                {"fig2b", "B  ICL", columns::e_icl, columns::icl_mean, columns::icl_std, "e_{ICL}"},
                {"fig2c", "C  ICL", columns::e_icl, columns::icl_mean, columns::icl_std, "e_{ICL}"}};
  for (const auto& p : panels) {
    const CsvData th = load_results(dir, std::string(p.name) + "-theory"),
                  sim = load_results(dir, std::string(p.name) + "-simulation");
    Panel panel = make_panel(
        std::string(p.title) + ", " + parameters_note(th, {columns::tau, columns::rho}) + " (" + scale_note(sim) + ")",
        "α = ℓ/d", p.ylabel, true, true);
    add_theory_and_simulations(panel, th, p.theory, sim, p.mean, p.std, columns::alpha, columns::kappa);
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
  // ICL and IDG at the smallest tau, ICL at every other one (the paper: tau = 0.5 and 20).
  struct PanelOf {
    std::string tau;  // as in the CSV
    const char* column;
    const char* what;
  };
  std::vector<PanelOf> panels;
  for (const std::string& tau : distinct_texts(data, columns::tau)) {
    panels.push_back({tau, columns::alpha_min_icl, "ICL"});
    if (panels.size() == 1) panels.push_back({tau, columns::alpha_min_idg, "IDG"});
  }
  for (const auto& p : panels) {
    const std::size_t ct = data.column(columns::tau, "plot", "results");
    const CsvData rows = where(data, [&](const auto& row) { return row[ct] == p.tau; });
    const std::size_t c = rows.column(p.column, "plot", "results");
    Panel panel = make_panel(std::string(p.what) + ", τ = " + p.tau, "κ = k/d", "ρ", false, false);
    panel.heatmap = heatmap_of(rows, columns::kappa, columns::rho, [&](const auto& row) { return csv_number(row[c]); });
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
  // tau = c alpha along the [zip] (the paper: c = 0.2); the panels show the first and the last three alphas.
  std::set<std::string> ratios;
  for (const auto& row : sim.rows)
    ratios.insert(short_number(csv_number(cell(sim, row, columns::tau)) / csv_number(cell(sim, row, columns::alpha))));
  const std::string ratio = ratios.size() == 1 ? ", τ = " + *ratios.begin() + "α" : "";
  f.title = "Lu et al. Fig 4: g_{task} against κ" + ratio + " (Γ*: " + scale_note(sim) + "; dashed: dMMSE)";
  const std::vector<double> alphas = distinct_numbers(sim, columns::alpha);
  const std::size_t shown = std::min<std::size_t>(3, alphas.size());
  const std::set<double> panel_alphas[] = {{alphas.begin(), alphas.begin() + static_cast<long>(shown)},
                                           {alphas.end() - static_cast<long>(shown), alphas.end()}};
  std::string titles[2];
  for (int i = 0; i < 2; ++i) {
    std::string list;
    for (double a : panel_alphas[i]) list += (list.empty() ? "" : ", ") + format_number(a);
    titles[i] = plot::escape_enhanced(std::string(i == 0 ? "A" : "B") + "  α ∈ {" + list + "}");
  }
  for (int i = 0; i < 2; ++i) {
    Panel panel = make_panel(titles[i], "κ = k/d", "g_{task} = e_{ICL} - e_{IDG}", true, true);
    add_theory_and_simulations(panel, where_number(th, columns::alpha, panel_alphas[i]), columns::g_task,
                               where_number(sim, columns::alpha, panel_alphas[i]), columns::gtask_mean,
                               columns::gtask_std, columns::kappa, columns::alpha);
    panel.yrange = log_range_of_markers(panel, 0.3, 3.0);
    auto bayes = plot::series_from_csv(where_number(dmmse, columns::alpha, panel_alphas[i]), columns::kappa,
                                       columns::dmmse_gtask_mean, "", columns::alpha, SeriesStyle::dashed);
    add(panel, std::move(bayes));
    panel.vlines = {1.0};
    f.panels.push_back(std::move(panel));
  }
  render(f, dir, "lu2024-fig4");
}

void plot_letey2025_fig1(const std::string& dir, [[maybe_unused]] const PlotOptions& options) {
  const CsvData th = load_results(dir, "fig1-theory");
  const CsvData sim = load_results(dir, "fig1-simulation");
  const std::size_t mean = sim.column(columns::icl_mean, "plot", "results"),
                    scalar = sim.column(columns::e_scalar, "plot", "results");
  // Simulated e_misalign = simulated E(Gamma*) - theoretical e_scalar (spec §6.1).
  const CsvData sim_mis = with_column(sim, "misalign_sim",
                                      [&](const auto& row) { return csv_number(row[mean]) - csv_number(row[scalar]); });
  const std::string ctrain = column_value(sim, columns::ctrain);
  auto label = [&](const std::string& l) { return covariance_label(l, ctrain); };
  Figure f;
  f.title = "Letey et al. Fig 1: C_{train} = " + covariance_name(ctrain) + ", " +
            parameters_note(sim, {columns::d, columns::alpha, columns::tau}) + " (" +
            column_value(sim, columns::repeats) + " draws)";
  Panel left = make_panel("ICL error", "κ = k/d", "e_{ICL}", false, false);
  add_theory_and_simulations(left, th, columns::e_icl, sim, columns::icl_mean, columns::icl_std, columns::kappa,
                             columns::ctest, label);
  Panel right = make_panel("misalignment error", "κ = k/d", "e_{misalign}", false, false);
  add_theory_and_simulations(right, th, columns::e_misalign, sim_mis, "misalign_sim", columns::icl_std, columns::kappa,
                             columns::ctest, label);
  f.panels = {std::move(left), std::move(right)};
  render(f, dir, "letey2025-fig1");
}

void plot_letey2025_fig2(const std::string& dir, [[maybe_unused]] const PlotOptions& options) {
  const CsvData data = load_results(dir, "fig2-measures");
  const struct {
    const char* column;
    const char* label;
  } measures[] = {{columns::e_misalign, "e_{misalign} = <C_{test} K>"},
                  {columns::resolvent, "<C_{test} F_κ(σ)>"},
                  {columns::trace, "<C_{train}^{-1} C_{test}>"},
                  {columns::inv_cka, "1/CKA(C_{train}, C_{test})"}};
  Figure f;
  f.columns = 2;
  f.title = "Letey et al. Fig 2: theory e_{ICL} against the alignment measures (C_{train} = " +
            covariance_name(column_value(data, columns::ctrain)) + ", d = " + column_value(data, columns::d) + ")";
  // The Spearman correlations in the panels' titles, also as data (the format of letey2025-fig3's).
  Table spearman({columns::measure, columns::kappa, columns::spearman, columns::tests});
  std::map<double, std::string> kappa_text;
  for (const auto& row : data.rows)
    kappa_text[csv_number(row[data.column(columns::kappa, "plot", "results")])] =
        row[data.column(columns::kappa, "plot", "results")];
  const std::size_t ck = data.column(columns::kappa, "plot", "results"),
                    ce = data.column(columns::e_icl, "plot", "results");
  for (const auto& m : measures) {
    const std::size_t cm = data.column(m.column, "plot", "results");
    // Spearman over the tests at each kappa, averaged over kappa (the authors' protocol, spec §4).
    std::map<double, std::pair<std::vector<double>, std::vector<double>>> by_kappa;
    for (const auto& row : data.rows) {
      by_kappa[csv_number(row[ck])].first.push_back(csv_number(row[cm]));
      by_kappa[csv_number(row[ck])].second.push_back(csv_number(row[ce]));
    }
    double mean = 0.0;
    for (const auto& [kappa, xy] : by_kappa) {
      const double rho_s = theory::spearman(xy.first, xy.second);
      mean += rho_s / static_cast<double>(by_kappa.size());
      spearman.add_row({std::string(m.column), kappa_text[kappa], rho_s, static_cast<long>(xy.first.size())});
    }
    spearman.add_row({std::string(m.column), std::string("mean"), mean, std::monostate()});
    char title[96];
    std::snprintf(title, sizeof title, "mean Spearman %.2f", mean);
    Panel panel = make_panel(title, m.label, "e_{ICL}", false, false);
    add(panel, plot::series_from_csv(data, m.column, columns::e_icl, "", columns::kappa, SeriesStyle::points));
    f.panels.push_back(std::move(panel));
  }
  write_file_atomically(dir + "/spearman.csv", spearman.to_csv());
  render(f, dir, "letey2025-fig2");
}

void plot_letey2025_fig4(const std::string& dir, [[maybe_unused]] const PlotOptions& options) {
  const CsvData data = load_results(dir, "fig4-optimal-pretraining");
  const std::size_t ct = data.column(columns::ctrain, "plot", "results"),
                    ck = data.column(columns::kappa, "plot", "results"),
                    ce = data.column(columns::e_icl, "plot", "results");
  auto p_train = [&](const std::vector<std::string>& row) { return csv_number(row[ct].substr(row[ct].find(':') + 1)); };
  const std::string ctest = column_value(data, columns::ctest);  // one power law
  const double p_test = csv_number(ctest.substr(ctest.find(':') + 1));
  std::map<double, double> matched;  // kappa -> e_ICL with C_train = C_test
  for (const auto& row : data.rows)
    if (row[ct] == ctest) matched[csv_number(row[ck])] = csv_number(row[ce]);
  const CsvData cells = with_column(data, columns::dp, [&](const auto& row) { return p_train(row) - p_test; });
  Panel panel = make_panel(
      "C_{test} = " + covariance_name(ctest) + ", " + parameters_note(data, {columns::d, columns::alpha, columns::tau}),
      "κ = k/d", "Δp = p_{train} - p_{test}", false, false);
  panel.heatmap = heatmap_of(cells, columns::kappa, columns::dp, [&](const auto& row) {
    const double e = csv_number(row[ce]), m = matched.at(csv_number(row[ck]));
    return -100.0 * (e - m) / m;
  });
  panel.heatmap->colorbar_label = "improvement of e_{ICL} over C_{train} = C_{test} (%)";
  panel.heatmap->diverging = true;
  panel.hlines = {0.0};
  render_one_panel(std::move(panel), "Letey et al. Fig 4: optimal pretraining", dir, "letey2025-fig4");
}

void plot_letey2025_fig5(const std::string& dir, [[maybe_unused]] const PlotOptions& options) {
  const CsvData data = load_results(dir, "fig5-k-spectrum");
  Figure f;
  f.title = "Letey et al. Fig 5: eigenvalues of K against those of C_{train} (" +
            covariance_name(column_value(data, columns::ctrain)) + ", " +
            parameters_note(data, {columns::tau, columns::d}) + ")";
  std::set<double> alphas;
  for (const auto& row : data.rows) alphas.insert(csv_number(cell(data, row, columns::alpha)));
  for (double alpha : alphas) {
    Panel panel = make_panel("α = " + format_number(alpha), "eigenvalue λ_i of C_{train}", "k_i", true, true);
    add(panel, plot::series_from_csv(where_number(data, columns::alpha, {alpha}), columns::train_eigenvalue,
                                     columns::k_eigenvalue, "", columns::kappa, SeriesStyle::line_points));
    f.panels.push_back(std::move(panel));
  }
  render(f, dir, "letey2025-fig5");
}

void plot_letey2025_fig6(const std::string& dir, [[maybe_unused]] const PlotOptions& options) {
  const CsvData th = load_results(dir, "fig6-theory"), sim = load_results(dir, "fig6-simulation");
  const std::string ctrain = column_value(sim, columns::ctrain);
  auto label = [&](const std::string& l) { return covariance_label(l, ctrain); };
  const std::string alpha = column_value(sim, columns::alpha), tau = column_value(sim, columns::tau);
  Panel panel =
      make_panel("C_{train} = " + covariance_name(ctrain) + ", " +
                     (alpha == tau ? "α = τ = " + alpha : parameters_note(sim, {columns::alpha, columns::tau})) + " (" +
                     scale_note(sim) + ")",
                 "κ = k/d", "e_{ICL}", false, true);
  add_theory_and_simulations(panel, th, columns::e_icl, sim, columns::icl_mean, columns::icl_std, columns::kappa,
                             columns::ctest, label);
  if (const auto authors = authors_data(options, "letey2025_fig6_halfmanifold_d80.csv"))
    panel.series.push_back(
        authors_markers(*authors, columns::kappa, columns::icl_mean, columns::icl_std, authors_label(*authors)));
  panel.hlines = distinct_numbers(sim, columns::rho);                         // the label noise
  if (const double f = lowrank_fraction(ctrain); f == f) panel.vlines = {f};  // kappa = rank(C_train)/d
  render_one_panel(std::move(panel), "Letey et al. Fig 6: the task-diversity transition sits at κ = rank(C_{train})/d",
                   dir, "letey2025-fig6");
}

void plot_letey2025_testtime(const std::string& dir, [[maybe_unused]] const PlotOptions& options) {
  const CsvData th = load_results(dir, "testtime-theory"), sim = load_results(dir, "testtime-simulation");
  auto label = [](const std::string& l) {
    const std::string value = l.substr(l.find("= ") == std::string::npos ? 0 : l.find("= ") + 2);
    return "C_{train} = C_{test} = " + covariance_label("= " + value, "");
  };
  Panel panel = make_panel("pretrained at " + parameters_note(sim, {columns::alpha, columns::tau, columns::kappa}) +
                               " (" + scale_note(sim) + ")",
                           "α_{test} = ℓ_{test}/d", "e_{ICL}", true, true);
  add_theory_and_simulations(panel, th, columns::e_icl, sim, columns::icl_mean, columns::icl_std, columns::alpha_test,
                             columns::ctrain, label);
  panel.vlines = distinct_numbers(sim, columns::alpha);  // the pretraining context length
  render_one_panel(std::move(panel), "Letey et al.: ICL error against the test-time context length", dir,
                   "letey2025-testtime");
}

}  // namespace iclab
