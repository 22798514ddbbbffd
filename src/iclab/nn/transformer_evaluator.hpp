// The `transformer` quantity of experiment files (docs/experiments.md, "Transformers"): at every grid
// point, `repeats` Transformers trained with TransformerTrainer (one per training seed), each scored on
// every ICL test (row-level `ctest`) and on the pretraining tasks (IDG). Torch-free header.
//
// Rows: one per (repetition, test), repetitions outer. The points of a group (see groups()) are trained
// together as ensembles (nn/ensemble.hpp). Training seed of repetition r:
//   TrainingOptions.seed = training_seed(experiment seed, r)
// so it does not depend on the grid point; the trainer then addresses every draw by (seed, the data's
// parameters, purpose, index), hence a point's rows are the same whatever grid, shard or resumed run
// computes them, and two architectures at the same data parameters and repetition see the same dataset.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "iclab/experiments/evaluate.hpp"
#include "iclab/experiments/experiment.hpp"
#include "iclab/nn/architecture.hpp"
#include "iclab/nn/ensemble.hpp"
#include "iclab/nn/trainer.hpp"

namespace iclab::nn {

// Everything a point's repetition trains and scores with.
struct TransformerSetup {
  PretrainingData data;
  ArchitectureOptions architecture;
  TrainingOptions training;
  long test_contexts = 10000;
  long train_loss_every = 0;
  std::vector<std::string> tests;  // ICL test covariance specs; "" : the pretraining law
};

// A trained member's scores: its train loss, its IDG error and its ICL error on each test.
struct TransformerScores {
  double train_loss = 0.0, idg_error = 0.0;
  std::vector<double> icl_errors;  // one per test, in the order of `tests`
};

// Trains `trainer` to its schedule and scores every member: the full-set train loss, the IDG error and
// the ICL error of each of `tests` ("" : the pretraining law), each on `test_contexts` fresh contexts.
// The one code path of the runner's `transformer` quantity and `iclab train`, so that their numbers agree
// bit for bit. `on_epoch` and `on_step` are EnsembleTrainer::train's; `on_trained` runs between training
// and scoring (e.g. to save a checkpoint).
std::vector<TransformerScores> train_and_score(EnsembleTrainer& trainer, const std::vector<std::string>& tests,
                                               long test_contexts, long train_loss_every,
                                               const std::function<void(long, const EpochLog&)>& on_epoch = {},
                                               const std::function<void(long, long)>& on_step = {},
                                               const std::function<void(EnsembleTrainer&)>& on_trained = {});

class TransformerEvaluator : public Evaluator {
 public:
  explicit TransformerEvaluator(Experiment experiment);

  // transformer_columns(experiment) (nn/transformer_columns.hpp: torch-free, for merge).
  const std::vector<std::string>& columns() const override { return columns_; }
  long work_units() const override;  // 100 per repetition, advanced along training and testing
  std::vector<std::vector<Cell>> evaluate(const ExperimentPoint& point,
                                          const std::function<void()>& on_unit = {}) override;
  void validate(const ExperimentPoint& point) override;
  nlohmann::json description() const override;
  // Consecutive points that can share an ensemble (same model and variants, d, alpha, device and
  // test_contexts), at most `ensemble` models (points x repeats; default 128) per group.
  std::vector<std::vector<std::size_t>> groups(const std::vector<ExperimentPoint>& points) const override;
  // Trains the points' repetitions as ensembles (split further only where memory requires; on the
  // CPU a model's numbers do not depend on that split).
  std::vector<std::vector<std::vector<Cell>>> evaluate_group(const std::vector<const ExperimentPoint*>& points,
                                                             const std::function<void()>& on_unit = {}) override;

  // Keeps each ensemble's training state in snapshots (GroupSnapshots::stem + "-K.pt" for the group's
  // K-th ensemble), every_seconds of training apart (the last one when training ends); an ensemble whose snapshot
  // has the same key (experiment, points, members, device) continues from it, with the same numbers on
  // the CPU as an uninterrupted run (EnsembleTrainer's checkpoints continue exactly).
  void use_snapshots(const GroupSnapshots& snapshots) override { snapshots_ = snapshots; }

  // The options of repetition `repetition` at `point` (validated).
  TransformerSetup setup(const ExperimentPoint& point, long repetition) const;
  // Optional: called with every training log line (repetition, log), e.g. for a verbose front end.
  void on_epoch(std::function<void(long, const EpochLog&)> callback) { on_epoch_ = std::move(callback); }

  static std::uint64_t training_seed(std::uint64_t experiment_seed, long repetition);

 private:
  Experiment experiment_;
  std::vector<std::string> columns_;
  std::vector<std::string> variant_keys_;  // the architecture variants the experiment sets
  std::function<void(long, const EpochLog&)> on_epoch_;
  GroupSnapshots snapshots_;
};

// The front ends' choice: a TransformerEvaluator for compute = ["transformer"], the repr evaluators
// (ReprEvaluator, the torch-free ReprGapEvaluator) for Yang et al.'s quantities, else the core's
// PointEvaluator with the tensor solver (nn/tensor_solver.hpp) for a simulation's `device`.
std::unique_ptr<Evaluator> make_evaluator_with_nn(const Experiment& experiment);

}  // namespace iclab::nn
