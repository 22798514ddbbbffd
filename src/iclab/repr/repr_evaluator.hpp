// The `repr_training` and `repr_gap` quantities of experiment files (docs/experiments.md,
// "Representations"): Yang et al.'s figures (2408.10147) as grids of points that the runner evaluates,
// resumes and shards like any other. Torch-free header.
//
// repr_training: at every point, one model (network = "attention", the one-layer H-head softmax attention,
// or "transformer", the baseline) trained on the task (d, m, K, N, tau; seed = the experiment's seed); one
// row per training log line (step, train_loss, loss_gap, pred_to_ridge_in, pred_to_ridge_ood, seconds).
// `seconds` is wall-clock time since training started: the one column that is not a function of the
// point alone (Fig 5 draws the curves against it).
// repr_gap: at every point, the gap of ridge(m tau) to the best ridge(N tau) averaged over `dictionaries`
// dictionary draws of `prompts` prompts each; one row (gap, gap_std, ridge_error, best_error).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "iclab/experiments/evaluate.hpp"
#include "iclab/experiments/experiment.hpp"
#include "iclab/repr/task.hpp"
#include "iclab/repr/training.hpp"

namespace iclab::repr {

class ReprEvaluator : public Evaluator {
 public:
  explicit ReprEvaluator(Experiment experiment);

  // repr_columns(experiment).columns (repr/repr_columns.hpp: torch-free, for merge).
  const std::vector<std::string>& columns() const override { return columns_; }
  long work_units() const override;  // training steps (repr_training), or 1
  std::vector<std::vector<Cell>> evaluate(const ExperimentPoint& point,
                                          const std::function<void()>& on_unit = {}) override;
  void validate(const ExperimentPoint& point) override;
  nlohmann::json description() const override;

  // The task and training options of a point (validated).
  TaskSpec task(const ExperimentPoint& point) const;
  TrainOptions training(const ExperimentPoint& point) const;

 private:
  std::vector<Cell> parameter_cells(const ExperimentPoint& point) const;

  Experiment experiment_;
  bool training_ = false;                 // repr_training (else repr_gap)
  std::vector<std::string> option_keys_;  // the repr keys set, besides d and tau, in column order
  std::vector<std::string> columns_;
};

}  // namespace iclab::repr
