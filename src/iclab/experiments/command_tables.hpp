// The tables of the direct commands: `iclab theory`, `simulate`, `align`, `heatmap`, `kspectrum`, and the
// Python module's functions of the same names. One function per table, called by both front ends, so each
// table (its columns, its rows, its checks and what its metadata says) is built here once. Each point is
// evaluated through point_evaluation.hpp, the functions the runner's PointEvaluator calls, so a table
// only lays out their values (a command and an experiment file agree to the bit on the same point;
// heatmap's cells are theory::optimal_pretraining_heatmap, which the runner has no quantity for).
// A front end parses its arguments (messages name its options: "--alpha: ..."), builds the points, calls
// one of these and emits the table with the metadata. Column names are the vocabulary of
// iclab/experiments/columns.hpp.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "iclab/covariances/covariance_spec.hpp"
#include "iclab/experiments/simulate.hpp"
#include "iclab/io/table.hpp"
#include "iclab/model/ridge_solver.hpp"
#include "iclab/params/model_params.hpp"
#include "iclab/theory/alignment.hpp"
#include "iclab/theory/general.hpp"
#include "iclab/theory/isotropic.hpp"
#include "iclab/theory/optimal_pretraining.hpp"

namespace iclab {

// A command's result: its table and what its numbers are (merged into FILE.meta.json by the front end).
struct CommandTable {
  Table table{std::vector<std::string>{}};
  nlohmann::json meta = nlohmann::json::object();
};

// Isotropic theory (Lu et al.): a row per point. The points must have been checked (theory::validate).
// `on_point` is called after each point (progress bars, cancellation).
CommandTable isotropic_theory_table(const std::vector<theory::IsotropicPoint>& points,
                                    const std::function<void()>& on_point = {});

// The alpha minimising e_ICL or e_IDG at each (tau, kappa, rho, lambda) of `points` (alpha unused).
CommandTable alpha_min_table(theory::Observable observable, const std::vector<theory::IsotropicPoint>& points,
                             const std::function<void()>& on_point = {});

// Task-alignment theory (Letey et al.), ridgeless: a row per (C_train, point, C_test), points checked.
CommandTable alignment_theory_table(long d, const std::vector<TaskCovariance>& trains,
                                    const std::vector<TaskCovariance>& tests,
                                    const std::vector<theory::AlignmentPoint>& points);

// The alignment measures of each C_test against C_train: a row per (point, C_test), points checked.
struct AlignTable : CommandTable {
  std::vector<std::vector<theory::AlignmentMeasures>> measures;  // [point][test]
  bool trace_singular = false;                                   // C_train singular: trace is inf
};
AlignTable align_table(const TaskCovariance& train, const std::vector<TaskCovariance>& tests,
                       const std::vector<theory::AlignmentPoint>& points);

// Optimal pretraining (Letey et al. Fig 4): a row per (dp, kappa). Checks the request first
// (InvalidArgument naming --d, --dp, --alpha, --tau, --kappa, --rho).
CommandTable heatmap_table(const theory::HeatmapRequest& request);

// Eigenvalues of the alignment matrix K against C_train's (Letey et al. Fig 5): a row per (point,
// eigen-direction), points checked.
CommandTable kspectrum_table(const TaskCovariance& train, const std::vector<theory::AlignmentPoint>& points);

// Gamma* fits on sampled data with exact test errors, optionally beside the asymptotic theory.
struct SimulationRequest {
  std::vector<ModelParams> points;       // in row order
  std::map<long, TaskSetting> settings;  // the task setting of each d (covariances parsed once per d)
  bool general = false;                  // C_train/C_test given: ctrain and ctest columns
  std::vector<double> lambdas{0.0};      // a list reuses each draw
  long repeats = 10;
  std::uint64_t seed = 0;
  const RidgeSolver* solver = nullptr;
  bool with_theory = false;
  std::stop_token stop;  // polled by the simulation (iclab/cancel.hpp); default: never stops (the CLI)
};
// "exact" or "asymptotic" (--error-form).
ErrorForm parse_error_form(const std::string& text);
// Checks everything before any work: --repeats, --lambda, each point's sizes, tau = 1 with lambda = 0
// and the memory of every point (the host's, and the device's for a device solver).
void validate(const SimulationRequest& request);
// Validates, then a row per (point, lambda, C_test). `on_repetition` is called after each repetition.
CommandTable simulation_table(const SimulationRequest& request, const std::function<void()>& on_repetition = {});

}  // namespace iclab
