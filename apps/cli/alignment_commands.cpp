// Task-alignment front ends (Letey et al.): `theory` with --ctrain/--ctest, `align` (the alignment
// measures and their Spearman correlation with measured errors), `heatmap` (optimal pretraining,
// Fig 4) and `kspectrum` (eigenvalues of K against C_train's, Fig 5).
#include "alignment_commands.hpp"

#include <cmath>
#include <cstdio>
#include <map>

#include "iclab/error.hpp"
#include "iclab/experiments/column_names.hpp"
#include "iclab/experiments/command_tables.hpp"
#include "iclab/io/csv_reader.hpp"
#include "iclab/io/table.hpp"
#include "iclab/params/value_list.hpp"
#include "iclab/theory/alignment.hpp"
#include "iclab/theory/general.hpp"
#include "iclab/theory/optimal_pretraining.hpp"
#include "output.hpp"

namespace iclab::cli {
namespace {

const char* kListHelp = "a value, a list 0.5,1,2, lin:START:STOP:COUNT or log:START:STOP:COUNT";

std::string with_list_help(const char* what) { return std::string(what) + ": " + kListHelp; }

long single_d(const std::string& text) {
  if (text.empty()) throw InvalidArgument("--d: required with --ctrain/--ctest");
  const auto ds = parse_integer_list(text, "--d");
  if (ds.size() != 1) throw InvalidArgument("--d: expected one value here");
  if (ds[0] < 2) throw InvalidArgument("--d: must be an integer >= 2");
  return ds[0];
}

std::vector<double> optional_alpha_tests(const std::string& text) {
  if (text.empty()) return {std::numeric_limits<double>::quiet_NaN()};
  return parse_value_list(text, "--alpha-test");
}

theory::AlignmentPoint make_point(double alpha, double alpha_test, double tau, double kappa, double rho) {
  theory::AlignmentPoint p{alpha, tau, kappa, rho, std::nullopt};
  if (!std::isnan(alpha_test)) p.alpha_test = alpha_test;
  p.validate();
  return p;
}

}  // namespace

void run_general_theory(const GeneralTheoryOptions& o, const std::string& command_line) {
  check_output_target(o.output);
  if (o.alpha.empty()) throw InvalidArgument("--alpha: required (a value or a list)");
  for (double l : parse_value_list(o.lambda, "--lambda"))
    if (l != 0.0)
      throw InvalidArgument("--lambda: the task-alignment theory is ridgeless (lambda -> 0+); only 0 is allowed");
  const long d = single_d(o.d);
  const auto trains = parse_covariance_list(o.ctrain.empty() ? "iso" : o.ctrain, d, "--ctrain");
  const auto tests = parse_covariance_list(o.ctest.empty() ? "iso" : o.ctest, d, "--ctest");
  const auto alphas = parse_value_list(o.alpha, "--alpha");
  const auto alpha_tests = optional_alpha_tests(o.alpha_test);
  const auto taus = parse_value_list(o.tau, "--tau");
  const auto kappas = parse_value_list(o.kappa, "--kappa", {.allow_infinity = true});
  const auto rhos = parse_value_list(o.rho, "--rho");
  const GridIndex grid({alphas.size(), alpha_tests.size(), taus.size(), kappas.size(), rhos.size()});
  std::vector<theory::AlignmentPoint> points;
  for (std::size_t i = 0; i < grid.size(); ++i) {
    const auto ix = grid.at(i);
    points.push_back(make_point(alphas[ix[0]], alpha_tests[ix[1]], taus[ix[2]], kappas[ix[3]], rhos[ix[4]]));
  }
  RunInfo info;
  info.command_line = command_line;
  const CommandTable result = alignment_theory_table(d, trains, tests, points);
  info.extra.update(result.meta);
  emit(result.table, info, o.output);
}

namespace {

struct AlignOptions {
  std::string d, ctrain, ctest, alpha, alpha_test, tau, kappa, rho, spearman_against, error_column = columns::icl_mean;
  OutputOptions output;
};

// Spearman of each measure with the measured errors in FILE (rows matched on ctest and kappa).
// A Spearman correlation is undefined (0/0) when a column is constant: an empty cell, not NaN.
Cell defined(double correlation) { return std::isnan(correlation) ? Cell{} : Cell{correlation}; }

Table spearman_table(const AlignOptions& o, const std::vector<double>& kappas, const std::vector<TaskCovariance>& tests,
                     const std::vector<std::vector<theory::AlignmentMeasures>>& measures) {
  const CsvData data = read_csv(o.spearman_against, "--spearman-against");
  const auto c_test = data.column(columns::ctest, "--spearman-against", o.spearman_against);
  const auto c_kappa = data.column(columns::kappa, "--spearman-against", o.spearman_against);
  const auto c_error = data.column(o.error_column, "--error-column", o.spearman_against);
  Table table({columns::kappa, columns::spearman_e_misalign, columns::spearman_resolvent, columns::spearman_trace,
               columns::spearman_inv_cka});
  theory::AlignmentSpearman mean{};
  for (std::size_t ki = 0; ki < kappas.size(); ++ki) {
    std::vector<double> errors;
    for (const TaskCovariance& test : tests) {
      std::optional<double> found;
      for (const auto& row : data.rows) {
        const double kappa = parse_value_list(row[c_kappa], "--spearman-against", {.allow_infinity = true})[0];
        const bool same_kappa = kappa == kappas[ki] || std::fabs(kappa - kappas[ki]) <= 1e-9 * std::fabs(kappas[ki]);
        if (row[c_test] == test.spec() && same_kappa)
          found = parse_csv_number(row[c_error], "--spearman-against", o.spearman_against, o.error_column);
      }
      if (!found)
        throw InvalidArgument("--spearman-against: " + o.spearman_against + " has no row with ctest '" + test.spec() +
                              "' and kappa " + format_number(kappas[ki]));
      errors.push_back(*found);
    }
    const auto s = theory::alignment_spearman(measures[ki], errors);
    table.add_row(
        {kappas[ki], defined(s.misalignment), defined(s.resolvent), defined(s.trace), defined(s.inverse_cka)});
    mean.misalignment += s.misalignment / static_cast<double>(kappas.size());
    mean.resolvent += s.resolvent / static_cast<double>(kappas.size());
    mean.trace += s.trace / static_cast<double>(kappas.size());
    mean.inverse_cka += s.inverse_cka / static_cast<double>(kappas.size());
  }
  table.add_row({std::string("mean"), defined(mean.misalignment), defined(mean.resolvent), defined(mean.trace),
                 defined(mean.inverse_cka)});
  return table;
}

void run_align(const AlignOptions& o, const std::string& command_line) {
  check_output_target(o.output);
  const long d = single_d(o.d);
  if (o.ctrain.empty()) throw InvalidArgument("--ctrain: required");
  if (o.ctest.empty()) throw InvalidArgument("--ctest: required");
  const TaskCovariance train = parse_covariance(o.ctrain, d, "--ctrain");
  const auto tests = parse_covariance_list(o.ctest, d, "--ctest");
  const auto alpha = parse_value_list(o.alpha, "--alpha");
  const auto tau = parse_value_list(o.tau, "--tau");
  const auto rho = parse_value_list(o.rho, "--rho");
  if (alpha.size() != 1 || tau.size() != 1 || rho.size() != 1)
    throw InvalidArgument("--alpha/--tau/--rho: one value each for align (kappa may be a list)");
  const auto kappas = parse_value_list(o.kappa, "--kappa", {.allow_infinity = true});
  const auto alpha_tests = optional_alpha_tests(o.alpha_test);
  if (alpha_tests.size() != 1)  // it used the first value silently
    throw InvalidArgument("--alpha-test: one value for align (kappa may be a list)");
  const double alpha_test = alpha_tests.front();
  std::vector<theory::AlignmentPoint> points;
  for (double kappa : kappas) points.push_back(make_point(alpha[0], alpha_test, tau[0], kappa, rho[0]));
  const AlignTable result = align_table(train, tests, points);
  if (result.trace_singular)
    std::fprintf(stderr, "iclab: warning: C_train is singular: the trace measure is reported as inf\n");
  RunInfo info;
  info.command_line = command_line;
  info.extra.update(result.meta);
  if (!o.spearman_against.empty()) {
    info.extra["spearman_against"] = {{"file", o.spearman_against}, {"error_column", o.error_column}};
    emit(spearman_table(o, kappas, tests, result.measures), info, o.output);
    return;
  }
  emit(result.table, info, o.output);
}

struct HeatmapOptions {
  std::string d = "100", ptest, alpha, tau, rho, dp, kappa;
  OutputOptions output;
};

void run_heatmap(const HeatmapOptions& o, const std::string& command_line) {
  check_output_target(o.output);
  auto one = [](const std::string& text, const char* option) {
    const auto v = parse_value_list(text, option);
    if (v.size() != 1) throw InvalidArgument(std::string(option) + ": expected one value");
    return v[0];
  };
  theory::HeatmapRequest request;
  request.d = single_d(o.d);
  request.p_test = one(o.ptest, "--ptest");
  request.alpha = one(o.alpha, "--alpha");
  request.tau = one(o.tau, "--tau");
  request.rho = one(o.rho, "--rho");
  request.delta_p = parse_value_list(o.dp, "--dp");
  request.kappa = parse_value_list(o.kappa, "--kappa", {.allow_infinity = true});
  RunInfo info;
  info.command_line = command_line;
  const CommandTable result = heatmap_table(request);
  info.extra.update(result.meta);
  emit(result.table, info, o.output);
}

struct KSpectrumOptions {
  std::string d, ctrain, alpha, tau, kappa, rho;
  OutputOptions output;
};

void run_kspectrum(const KSpectrumOptions& o, const std::string& command_line) {
  check_output_target(o.output);
  const long d = single_d(o.d);
  if (o.ctrain.empty()) throw InvalidArgument("--ctrain: required");
  const TaskCovariance train = parse_covariance(o.ctrain, d, "--ctrain");
  const auto alphas = parse_value_list(o.alpha, "--alpha");
  const auto taus = parse_value_list(o.tau, "--tau");
  const auto kappas = parse_value_list(o.kappa, "--kappa", {.allow_infinity = true});
  const auto rhos = parse_value_list(o.rho, "--rho");
  const GridIndex grid({alphas.size(), taus.size(), kappas.size(), rhos.size()});
  std::vector<theory::AlignmentPoint> points;
  for (std::size_t i = 0; i < grid.size(); ++i) {
    const auto ix = grid.at(i);
    points.push_back(make_point(alphas[ix[0]], std::nan(""), taus[ix[1]], kappas[ix[2]], rhos[ix[3]]));
  }
  RunInfo info;
  info.command_line = command_line;
  const CommandTable result = kspectrum_table(train, points);
  info.extra.update(result.meta);
  emit(result.table, info, o.output);
}

}  // namespace

void add_general_theory_options(CLI::App& cmd, GeneralTheoryOptions& o) {
  cmd.add_option("--d", o.d, "token dimension (with --ctrain/--ctest)");
  cmd.add_option("--ctrain", o.ctrain, "pretraining task covariance spec(s), ';'-separated (e.g. power:0.9)");
  cmd.add_option("--ctest", o.ctest, "test task covariance specs, ';'-separated (one row each)");
  cmd.add_option("--alpha-test", o.alpha_test, with_list_help("test context length ratio (default: alpha)"));
}

Runner add_alignment_commands(CLI::App& app) {
  // align
  auto a = std::make_shared<AlignOptions>();
  CLI::App* align = app.add_subcommand("align", "Alignment measures of test covariances against C_train");
  align->add_option("--d", a->d, "token dimension")->required();
  align->add_option("--ctrain", a->ctrain, "pretraining task covariance spec")->required();
  align->add_option("--ctest", a->ctest, "test covariance specs, ';'-separated")->required();
  align->add_option("--alpha", a->alpha, "context length ratio")->required();
  align->add_option("--alpha-test", a->alpha_test, "test context length ratio (default: alpha)");
  align->add_option("--tau", a->tau, "pretraining contexts ratio")->required();
  align->add_option("--kappa", a->kappa, with_list_help("task diversity"))->required();
  align->add_option("--rho", a->rho, "label-noise variance")->required();
  align->add_option("--spearman-against", a->spearman_against,
                    "CSV with columns ctest, kappa and an error column: output the Spearman correlation of each "
                    "measure with that error, per kappa and the mean over kappa");
  align->add_option("--error-column", a->error_column, "error column of --spearman-against (default icl_mean)");
  a->output.add_to(*align);
  // heatmap
  auto h = std::make_shared<HeatmapOptions>();
  CLI::App* heat = app.add_subcommand("heatmap", "Optimal pretraining: % improvement over dp = p_train - p_test, kappa");
  heat->add_option("--d", h->d, "token dimension (default 100)");
  heat->add_option("--ptest", h->ptest, "power-law exponent of C_test")->required();
  heat->add_option("--alpha", h->alpha, "context length ratio")->required();
  heat->add_option("--tau", h->tau, "pretraining contexts ratio")->required();
  heat->add_option("--rho", h->rho, "label-noise variance")->required();
  heat->add_option("--dp", h->dp, with_list_help("p_train - p_test"))->required();
  heat->add_option("--kappa", h->kappa, with_list_help("task diversity"))->required();
  h->output.add_to(*heat);
  // kspectrum
  auto k = std::make_shared<KSpectrumOptions>();
  CLI::App* ks = app.add_subcommand("kspectrum", "Eigenvalues of the alignment matrix K against C_train's (Fig 5)");
  ks->add_option("--d", k->d, "token dimension")->required();
  ks->add_option("--ctrain", k->ctrain, "pretraining task covariance spec")->required();
  ks->add_option("--alpha", k->alpha, with_list_help("context length ratio"))->required();
  ks->add_option("--tau", k->tau, with_list_help("pretraining contexts ratio"))->required();
  ks->add_option("--kappa", k->kappa, with_list_help("task diversity"))->required();
  ks->add_option("--rho", k->rho, with_list_help("label-noise variance"))->required();
  k->output.add_to(*ks);
  return [align, heat, ks, a, h, k](const std::string& line) {
    if (align->parsed()) run_align(*a, line);
    if (heat->parsed()) run_heatmap(*h, line);
    if (ks->parsed()) run_kspectrum(*k, line);
  };
}

}  // namespace iclab::cli
