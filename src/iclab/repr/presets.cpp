// The figures of 2408.10147 at a CPU scale (docs/representations.md has the table against the paper's
// scale). Each preset's compute writes DIR/<run>/results.csv (+ run.json); its plot only reads them.
#include "iclab/repr/presets.hpp"

#include <cmath>
#include <filesystem>
#include <limits>

#include "iclab/error.hpp"
#include "iclab/io/atomic_file.hpp"
#include "iclab/io/csv_reader.hpp"
#include "iclab/io/progress.hpp"
#include "iclab/io/table.hpp"
#include "iclab/io/text_file.hpp"
#include "iclab/plot/figure.hpp"
#include "iclab/plot/gnuplot.hpp"
#include "iclab/repr/theory.hpp"
#include "iclab/repr/training.hpp"
#include "iclab/reproduce/preset_support.hpp"

namespace iclab::repr {
namespace {

using plot::Figure;
using plot::Panel;
using plot::Series;
using plot::SeriesStyle;

const std::vector<std::string> kCurveColumns = {
    "step", "train_loss", "loss_gap", "pred_to_ridge_in", "pred_to_ridge_ood", "seconds"};

void write_run(const std::string& dir, const std::string& name, const Table& table, const nlohmann::json& meta) {
  std::filesystem::create_directories(dir + "/" + name);
  write_file_atomically(dir + "/" + name + "/results.csv", table.to_csv());
  write_file_atomically(dir + "/" + name + "/run.json", meta.dump(2) + "\n");
}

std::vector<Cell> curve_cells(const LogRow& row) {
  return {row.step, row.train_loss, row.loss_gap, row.pred_to_ridge_in, row.pred_to_ridge_ood, row.seconds};
}

// Trains one model and returns its log rows as a table (with `prefix` cells in front of every row).
// One progress bar per run: a Transformer step costs a hundred one-layer steps, so runs do not share one.
void train_into(Table& table, const TaskSpec& task, const TrainOptions& options, const std::vector<Cell>& prefix,
                const std::string& label, nlohmann::json& meta) {
  Trainer trainer(task, options);
  ProgressBar progress(label, options.steps);
  long last = 0;
  trainer.train([&](const LogRow& row) {
    std::vector<Cell> cells = prefix;
    for (auto& c : curve_cells(row)) cells.push_back(std::move(c));
    table.add_row(std::move(cells));
    progress.advance(row.step - last);
    last = row.step;
  });
  progress.finish();
  meta.push_back(trainer.to_json());
}

// ---- the CPU scales (docs/representations.md) ---------------------------------------------------------

// Fig 2 / Fig 4 task: the paper's N = 30, K = 200, d = 100, m = 20 shrunk to N = 10, K = 40, d = 20, m = 8
// (keeping m < N << K); quick: N = 5, K = 20, d = 10, m = 4.
TaskSpec fig2_task(bool quick) {
  TaskSpec t;
  t.d = quick ? 10 : 20;
  t.m = quick ? 4 : 8;
  t.K = quick ? 20 : 40;
  t.N = quick ? 5 : 10;
  t.tau = 0.01;
  return t;
}

// One-layer model, H >= N, at the paper's Adam lr 1e-4: 25 000 steps (about 10 s at this size) reach the
// optimiser's noise floor. Quick raises the rate to 1e-2 for 300 steps.
TrainOptions attention_options(bool quick) {
  TrainOptions o;
  o.heads = quick ? 8 : 16;
  o.lr = quick ? 1e-2 : 1e-4;
  o.steps = quick ? 300 : 25000;
  o.log_every = quick ? 10 : 200;
  o.test_prompts = quick ? 50 : 200;
  return o;
}

// The baseline: 4 layers as the paper but d_model 32 / d_ff 64 (paper 256 / 512), Adam lr 1e-3, batch 64,
// 4000 training prompts (paper 10 000, batch 256); quick: 2 layers, 40 steps.
TrainOptions transformer_options(bool quick, long heads) {
  TrainOptions o;
  o.model = ModelKind::transformer;
  o.transformer = {quick ? 2L : 4L, 32L, 64L, heads};
  o.lr = 1e-3;
  o.train_prompts = quick ? 500 : 4000;
  o.batch = quick ? 32 : 64;
  o.steps = quick ? 40 : 1500;
  o.log_every = quick ? 10 : 50;
  o.test_prompts = quick ? 50 : 200;
  return o;
}

void compute_fig2(const std::string& dir, bool quick) {
  const TaskSpec task = fig2_task(quick);
  const TrainOptions attention = attention_options(quick), transformer = transformer_options(quick, 4);
  for (const auto& [name, options] : {std::pair{"attention", attention}, std::pair{"transformer", transformer}}) {
    Table table(kCurveColumns);
    nlohmann::json meta = nlohmann::json::array();
    train_into(table, task, options, {}, std::string("yang2024-fig2 ") + name, meta);
    write_run(dir, name, table, meta.front());
  }
}

void compute_fig3(const std::string& dir, bool quick) {
  // The paper's scale: m = 100, K = 200, d = 100, tau = 0.01, N = 50..150; quick: fewer draws.
  TaskSpec task;
  task.d = 100;
  task.m = 100;
  task.K = 200;
  task.tau = 0.01;
  const long dictionaries = quick ? 2 : 5, prompts = quick ? 10 : 40;
  Table table({"N", "gap", "gap_std", "ridge_error", "best_error"});
  const long count = quick ? 6 : 11;
  ProgressBar progress("yang2024-fig3", count);
  for (long i = 0; i < count; ++i) {
    task.N = 50 + i * 100 / (count - 1);
    const GapPoint p = performance_gap(task, dictionaries, prompts);
    table.add_row({p.N, p.gap, p.gap_std, p.ridge_error, p.best_error});
    progress.advance();
  }
  progress.finish();
  nlohmann::json meta = {{"task", task.to_json()}, {"dictionaries", dictionaries}, {"prompts", prompts}};
  meta["task"].erase("N");
  write_run(dir, "gap", table, meta);
}

std::vector<long> fig4_heads(bool quick) {
  if (quick) return {1, 2, 5, 10, 40};
  return {1, 2, 5, 10, 20, 40, 160};  // the paper's {4, 8, 16, 30, 64, 128, 400} at N = 30, scaled to N = 10
}

void compute_fig4(const std::string& dir, bool quick) {
  const TaskSpec task = fig2_task(quick);
  // Adam lr 1e-3 (10x the paper's) keeps the seven runs, up to H = 160, within a few minutes.
  TrainOptions options = attention_options(quick);
  options.lr = quick ? 1e-2 : 1e-3;
  options.steps = quick ? 200 : 5000;
  options.log_every = quick ? 10 : 50;
  const auto heads = fig4_heads(quick);
  std::vector<std::string> columns = {"H"};
  columns.insert(columns.end(), kCurveColumns.begin(), kCurveColumns.end());
  Table table(columns);
  nlohmann::json meta = nlohmann::json::array();
  for (long h : heads) {
    options.heads = h;
    train_into(table, task, options, {h}, "yang2024-fig4 H = " + std::to_string(h), meta);
  }
  write_run(dir, "heads", table, {{"runs", meta}});
}

std::vector<long> fig5_heads(bool quick) {
  if (quick) return {1, 4};
  return {1, 2, 4, 8};  // head width d_model / H = 32 ... 4 (libtorch's cost grows fast with the head count)
}

void compute_fig5(const std::string& dir, bool quick) {
  // "Other settings as Fig 3" (m = 100, K = 200, N = 30, d = 100), shrunk; a fixed step budget replaces the
  // paper's 100 s wall-clock budget (deterministic), and the curves are also drawn against time.
  TaskSpec task;
  task.d = quick ? 10 : 20;
  task.m = quick ? 10 : 20;
  task.K = quick ? 20 : 40;
  task.N = quick ? 5 : 10;
  task.tau = 0.01;
  const auto heads = fig5_heads(quick);
  std::vector<std::string> columns = {"H"};
  columns.insert(columns.end(), kCurveColumns.begin(), kCurveColumns.end());
  Table table(columns);
  nlohmann::json meta = nlohmann::json::array();
  const auto options = [&](long h) {
    TrainOptions o = transformer_options(quick, h);
    o.steps = quick ? 30 : 400;
    return o;
  };
  for (long h : heads) train_into(table, task, options(h), {h}, "yang2024-fig5 H = " + std::to_string(h), meta);
  write_run(dir, "heads", table, {{"runs", meta}});
}

// ---- plots -------------------------------------------------------------------------------------------

void add(Panel& panel, std::vector<Series> series, const std::vector<std::string>& labels = {}) {
  for (std::size_t i = 0; i < series.size(); ++i) {
    if (i < labels.size()) series[i].label = labels[i];
    panel.series.push_back(std::move(series[i]));
  }
}

// Non-positive values (a converged gap at rounding) are gaps on a log axis.
CsvData positive(CsvData data, const std::string& column) {
  const std::size_t c = data.column(column, "plot", "results");
  for (auto& row : data.rows)
    if (!row[c].empty() && !(std::stod(row[c]) > 0)) row[c] = "";
  return data;
}

// Appends column `name` = column / divisor (e.g. steps in thousands, so that tick labels stay short).
CsvData scaled(CsvData data, const std::string& column, double divisor, const std::string& name) {
  const std::size_t c = data.column(column, "plot", "results");
  data.columns.push_back(name);
  for (auto& row : data.rows) row.push_back(format_number(std::stod(row[c]) / divisor));
  return data;
}

void plot_fig2(const std::string& dir, const PlotOptions& options) {
  Figure f;
  f.title = std::string("Yang et al. Fig 2: training and inference losses") + (options.quick ? " (quick)" : "");
  Panel a = make_panel("one-layer softmax attention", "iteration / 1000", "loss", false, true);
  add(a,
      plot::series_from_csv(scaled(positive(load_results(dir, "attention"), "loss_gap"), "step", 1000, "kstep"),
                            "kstep", "loss_gap,pred_to_ridge_in,pred_to_ridge_ood", "", "", SeriesStyle::line),
      {"training loss - L^*", "inference loss (in-domain)", "inference loss (OOD)"});
  Panel b = make_panel("Transformer baseline", "iteration", "loss", false, true);
  add(b,
      plot::series_from_csv(load_results(dir, "transformer"), "step", "train_loss,pred_to_ridge_in,pred_to_ridge_ood",
                            "", "", SeriesStyle::line),
      {"training loss", "inference loss (in-domain)", "inference loss (OOD)"});
  a.legend_position = b.legend_position = "below";
  f.panel_width_in = 5.0;
  f.panel_height_in = 4.0;
  f.panels = {std::move(a), std::move(b)};
  plot::render(f, dir + "/yang2024-fig2");
}

// The run's metadata, DIR/RUN/run.json (written by write_run).
nlohmann::json load_run_meta(const std::string& dir, const std::string& run) {
  const std::string path = dir + "/" + run + "/run.json";
  const auto text = read_text_file(path);
  if (!text) throw InvalidArgument("plot: cannot read '" + path + "'");
  return nlohmann::json::parse(*text);
}

void plot_fig3(const std::string& dir, const PlotOptions& options) {
  const CsvData data = load_results(dir, "gap");
  const nlohmann::json task = load_run_meta(dir, "gap").at("task");
  const double m = task.at("m").get<double>();
  Figure f;
  f.title = "Yang et al. Fig 3: performance gap, m = " + format_number(m) +
            ", τ = " + format_number(task.at("tau").get<double>()) + (options.quick ? " (quick)" : "");
  Panel a = make_panel("gap to the best predictor", "N", "(1/K) Σ_{k>N} (ŷ^*_k - ŷ^{best}_k)^2", false, false);
  add(a, plot::series_from_csv(data, "N", "gap", "gap_std", "", SeriesStyle::line_points), {""});
  a.vlines = {m};  // N = m
  Panel b = make_panel("test errors", "N", "(1/K) Σ_{k>N} (ŷ_k - y_k)^2", false, true);
  add(b, plot::series_from_csv(data, "N", "ridge_error,best_error", "", "", SeriesStyle::line_points),
      {"limit (ridge, penalty mτ)", "best (ridge, penalty Nτ)"});
  b.vlines = {m};
  b.legend_position = "top right";
  f.panels = {std::move(a), std::move(b)};
  plot::render(f, dir + "/yang2024-fig3");
}

void plot_fig4(const std::string& dir, const PlotOptions& options) {
  Figure f;
  f.title = std::string("Yang et al. Fig 4: one-layer model vs H") + (options.quick ? " (quick)" : "");
  Panel a = make_panel("training loss - L^*", "iteration / 1000", "L(θ) - L^*", false, true);
  add(a, plot::series_from_csv(scaled(positive(load_results(dir, "heads"), "loss_gap"), "step", 1000, "kstep"), "kstep",
                               "loss_gap", "", "H", SeriesStyle::line));
  a.legend_title = plot::parameter_symbol("H");  // (a literal trips GCC 12's -Wrestrict false positive)
  f.panels = {std::move(a)};
  plot::render(f, dir + "/yang2024-fig4");
}

void plot_fig5(const std::string& dir, const PlotOptions& options) {
  const CsvData data = load_results(dir, "heads");
  // Panel (a): the last row of every H.
  const std::size_t ch = data.column("H", "plot", "results");
  CsvData last{data.columns, {}};
  for (const auto& row : data.rows) {
    if (!last.rows.empty() && last.rows.back()[ch] == row[ch])
      last.rows.back() = row;
    else
      last.rows.push_back(row);
  }
  Figure f;
  f.title = std::string("Yang et al. Fig 5: Transformer baseline, number of heads") + (options.quick ? " (quick)" : "");
  Panel a = make_panel("final losses", "heads", "loss", false, false);
  a.legend_position = "below";
  add(a, plot::series_from_csv(last, "H", "train_loss,pred_to_ridge_in", "", "", SeriesStyle::line_points),
      {"training loss", "inference loss (in-domain)"});
  Panel b = make_panel("training curves", "seconds", "training loss", false, true);
  add(b, plot::series_from_csv(data, "seconds", "train_loss", "", "H", SeriesStyle::line));
  b.legend_title = plot::parameter_symbol("H");
  f.panels = {std::move(a), std::move(b)};
  plot::render(f, dir + "/yang2024-fig5");
}

}  // namespace

std::vector<Preset> representation_presets() {
  // Assigned by member name: independent of the order of Preset's members.
  const auto preset = [](std::string name, std::string description, auto compute, auto plot) {
    Preset p;
    p.name = std::move(name);
    p.description = std::move(description);
    p.compute = compute;
    p.plot = plot;
    return p;
  };
  return {
      preset("yang2024-fig2",
             "Yang et al. 2024 Fig 2: 1-layer attention and a Transformer converge to ridge (CPU scale)", compute_fig2,
             plot_fig2),
      preset("yang2024-fig3", "Yang et al. 2024 Fig 3: gap of ridge(m tau) to the best ridge(N tau) vs N (paper scale)",
             compute_fig3, plot_fig3),
      preset("yang2024-fig4", "Yang et al. 2024 Fig 4: 1-layer training loss for several H (CPU scale)", compute_fig4,
             plot_fig4),
      preset("yang2024-fig5",
             "Yang et al. 2024 Fig 5: Transformer baseline, final and running losses vs heads (CPU scale)",
             compute_fig5, plot_fig5),
  };
}

}  // namespace iclab::repr
