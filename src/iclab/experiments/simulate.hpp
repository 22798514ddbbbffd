// Simulation of the reduced model at one grid point: draw the task pool and the pretraining
// contexts, fit Gamma* for every lambda on that one draw, and evaluate its exact ICL/IDG error.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include "iclab/covariances/covariance_spec.hpp"
#include "iclab/evaluation/test_error.hpp"
#include "iclab/model/ridge_solver.hpp"
#include "iclab/params/model_params.hpp"
#include "iclab/sampling/context_sampler.hpp"
#include "iclab/sampling/task_pool.hpp"

namespace iclab {

// Which tasks pretrain and test the model. Default: the isotropic model (tasks as ModelParams::task_norm
// says, one ICL test with the same law). With a C_train, pretraining tasks are t ~ N(0, C_train)
// (renormalised to ||t||^2 = tr C_train for TaskNorm::sphere); each C_test is one ICL test t ~ N(0, C_test).
struct TaskSetting {
  std::optional<TaskCovariance> train;
  std::vector<TaskCovariance> tests;  // empty: the isotropic ICL test
  // Context lengths l_test at which the ICL tests are scored (test-time context length); empty: the
  // pretraining l. The IDG test always uses the pretraining l.
  std::vector<long> test_context_lengths;
  ErrorForm form = ErrorForm::exact;
  std::size_t num_tests() const { return tests.empty() ? 1 : tests.size(); }
  std::size_t num_test_lengths() const { return test_context_lengths.empty() ? 1 : test_context_lengths.size(); }
  // ICL results are laid out test-major: index = test * num_test_lengths() + length.
  std::size_t num_icl() const { return num_tests() * num_test_lengths(); }
};

struct RepetitionResult {
  std::vector<double> icl_errors;  // one per (ICL test, test length), see TaskSetting::num_icl
  double idg_error = 0.0;
  SolverReport report;
};

// Summary over repetitions for one (point, lambda).
struct SimulationResult {
  ModelParams model;
  double lambda = 0.0;
  std::vector<RepetitionResult> repetitions;
  std::vector<double> icl_mean, icl_std;  // one per (ICL test, test length); std: population (ddof = 0)
  double idg_mean = 0.0, idg_std = 0.0;
};

// The random draws of a point depend on (seed, the point's model parameters and C_train, repetition)
// only: not on lambda (a lambda list reuses the draw), the test covariances, or the rest of the grid.
std::uint64_t simulation_point_key(const ModelParams& model, const TaskSetting& setting = {});

// Throws InvalidArgument when one repetition's data (features, task pool) and solver would not fit in
// the available memory: checked before any sampling, and by front ends before any output.
void require_simulation_memory(const ModelParams& model, const RidgeSolver& solver);

// The pretraining data of one repetition: the task pool, each context's task and the features the fit
// needs. simulate_repetition fits exactly this draw, so a caller can refit it with its own solver.
struct PretrainingDraw {
  TaskPool pool;
  std::vector<long> task_of;  // task index of each of the n contexts
  FeatureBatch batch;
};
// `stop` (here and below, optional): polled per block of contexts, per solver iteration or lambda and
// per repetition; a requested stop throws Cancelled (iclab/cancel.hpp). Results never depend on it.
PretrainingDraw draw_pretraining(const ModelParams& model, const TaskSetting& setting, std::uint64_t seed,
                                 std::uint64_t repetition, const std::stop_token& stop = {});

// One repetition: a fit per lambda on one draw, each evaluated on every test.
std::vector<RepetitionResult> simulate_repetition(const ModelParams& model, const TaskSetting& setting,
                                                  std::span<const double> lambdas, std::uint64_t seed,
                                                  std::uint64_t repetition, const RidgeSolver& solver,
                                                  const std::stop_token& stop = {});

// All repetitions of a point (in parallel where that is faster; results do not depend on it).
// `on_repetition` (optional) is called after each finished repetition, e.g. for a progress bar; when it
// (or a repetition) throws, no further repetition starts and the first exception is rethrown.
std::vector<SimulationResult> simulate_point(const ModelParams& model, const TaskSetting& setting,
                                             std::span<const double> lambdas, long repeats, std::uint64_t seed,
                                             const RidgeSolver& solver, const std::function<void()>& on_repetition = {},
                                             const std::stop_token& stop = {});

// Population mean and standard deviation (ddof = 0), as in the authors' files.
std::pair<double, double> mean_and_population_std(const std::vector<double>& values);

}  // namespace iclab
