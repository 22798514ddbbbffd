// The torch-free half of the repr quantities (docs/experiments.md, "Representations"): the `repr_gap`
// quantity's evaluator, and what the training evaluator (repr_evaluator.hpp, iclab_nn) shares with it, in
// iclab_modules, so that plain `iclab` runs a repr_gap experiment without libtorch.
//
// repr_gap: at every point, the gap of ridge(m tau) to the best ridge(N tau) averaged over `dictionaries`
// dictionary draws of `prompts` prompts each (repr/theory.hpp, performance_gap); one row
// (gap, gap_std, ridge_error, best_error) after the point's parameters.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "iclab/experiments/evaluate.hpp"
#include "iclab/experiments/experiment.hpp"
#include "iclab/repr/task.hpp"

namespace iclab::repr {

// Whether the experiment computes `repr_gap` (the torch-free quantity of src/iclab/repr/schema.toml).
bool computes_repr_gap(const Experiment& experiment);

// The experiment that `iclab repr gap` evaluates: repr_gap of `task` (its N unused) over a grid of the prompt
// lengths `lengths`, `dictionaries` draws of `prompts` prompts each; seed = task.seed. Points in the order
// of `lengths`. Plain data: nothing is checked here (the evaluator checks each point).
Experiment gap_experiment(const TaskSpec& task, const std::vector<long>& lengths, long dictionaries, long prompts);

// The task of a point (d, m, K, N, tau, features; seed = the experiment's), validated.
TaskSpec point_task(const Experiment& experiment, const ExperimentPoint& point);
// The point's parameter cells, the leading columns of repr_columns(experiment): point, d, m, K, N, tau, the
// other keys of `option_keys` (repr_columns.hpp), seed.
std::vector<Cell> point_cells(const Experiment& experiment, const std::vector<std::string>& option_keys,
                              const ExperimentPoint& point);

class ReprGapEvaluator : public Evaluator {
 public:
  // InvalidArgument unless the experiment computes repr_gap alone.
  explicit ReprGapEvaluator(Experiment experiment);

  // repr_columns(experiment).columns (repr/repr_columns.hpp).
  const std::vector<std::string>& columns() const override { return columns_; }
  long work_units() const override { return 1; }
  std::vector<std::vector<Cell>> evaluate(const ExperimentPoint& point,
                                          const std::function<void()>& on_unit = {}) override;
  void validate(const ExperimentPoint& point) override;
  nlohmann::json description() const override;

 private:
  Experiment experiment_;
  std::vector<std::string> option_keys_;  // the repr keys set, besides d and tau, in column order
  std::vector<std::string> columns_;
};

// The description of Yang et al.'s task, shared by both repr evaluators' metadata.
std::string task_description();

}  // namespace iclab::repr
