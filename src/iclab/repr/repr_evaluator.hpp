// The `repr_training` quantity of experiment files (docs/experiments.md, "Representations"): Yang et al.'s
// training figures (2408.10147) as grids of points that the runner evaluates, resumes and shards like any
// other (iclab_nn; the torch-free `repr_gap` is ReprGapEvaluator, gap_evaluator.hpp). Torch-free header.
//
// repr_training: at every point, one model (network = "attention", the one-layer H-head softmax attention,
// or "transformer", the baseline) trained on the task (d, m, K, N, tau; seed = the experiment's seed); one
// row per training log line (step, train_loss, loss_gap, pred_to_ridge_in, pred_to_ridge_ood, seconds).
// `seconds` is wall-clock time since training started: the one column that is not a function of the
// point alone (Fig 5 draws the curves against it).
#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "iclab/experiments/evaluate.hpp"
#include "iclab/experiments/experiment.hpp"
#include "iclab/repr/task.hpp"
#include "iclab/repr/training.hpp"

namespace iclab::repr {

// The experiment that `iclab repr train` evaluates: repr_training of `task` with `options` (every key set,
// `heads` the chosen network's), one point; seed = task.seed. Plain data: the evaluator checks the point.
Experiment training_experiment(const TaskSpec& task, const TrainOptions& options);

class ReprEvaluator : public Evaluator {
 public:
  // InvalidArgument unless the experiment computes repr_training alone. `threads`: torch's intra-op
  // threads while a point trains (TrainOptions::threads; restored after each call).
  explicit ReprEvaluator(Experiment experiment, int threads = 1);

  // repr_columns(experiment).columns (repr/repr_columns.hpp: torch-free, for merge).
  const std::vector<std::string>& columns() const override { return columns_; }
  long work_units() const override;  // training steps
  std::vector<std::vector<Cell>> evaluate(const ExperimentPoint& point,
                                          const std::function<void()>& on_unit = {}) override;
  void validate(const ExperimentPoint& point) override;
  nlohmann::json description() const override;

  // The task and training options of a point (validated).
  TaskSpec task(const ExperimentPoint& point) const;
  TrainOptions training(const ExperimentPoint& point) const;

  // Optional: called with every training log line of evaluate(), e.g. for a front end's progress.
  void on_log(std::function<void(const LogRow&)> callback) { on_log_ = std::move(callback); }
  // The trainer's description (Trainer::to_json) after the last evaluate(); null before.
  const nlohmann::json& trainer_json() const { return trainer_json_; }

 private:
  Experiment experiment_;
  std::vector<std::string> option_keys_;  // the repr keys set, besides d and tau, in column order
  std::vector<std::string> columns_;
  int threads_ = 1;
  std::function<void(const LogRow&)> on_log_;
  nlohmann::json trainer_json_;
};

}  // namespace iclab::repr
