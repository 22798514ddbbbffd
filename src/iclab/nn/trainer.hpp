// Training and evaluation of the Transformers of the nonlinear checks (spec: transformers-and-
// representations.md, A1.1-A1.4 and A2). Torch-free interface: the torch state sits behind a pointer.
// A TransformerTrainer is an EnsembleTrainer of one member (ensemble.hpp), with checkpoints.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "iclab/linalg/dense.hpp"
#include "iclab/nn/architecture.hpp"
#include "iclab/nn/trainer_options.hpp"
#include "iclab/params/model_params.hpp"
#include "iclab/sampling/link.hpp"

namespace iclab::nn {

class TransformerTrainer {
 public:
  TransformerTrainer(PretrainingData data, ArchitectureOptions architecture, TrainingOptions training);
  ~TransformerTrainer();
  TransformerTrainer(TransformerTrainer&&) noexcept;
  TransformerTrainer& operator=(TransformerTrainer&&) noexcept;

  const PretrainingData& data() const;
  const ArchitectureOptions& architecture() const;
  const TrainingOptions& training() const;
  long batch_size() const;
  long steps_per_epoch() const;
  long total_steps() const;  // what train() runs to
  long steps_done() const;
  long num_parameters() const;
  // Changes the training length (e.g. to continue a loaded checkpoint for more epochs).
  void set_schedule(long epochs, long steps);

  // Runs the remaining steps up to total_steps(). `on_epoch` is called after every epoch (steps mode:
  // every steps_per_epoch() steps and at the end); the full-set train loss is computed for it every
  // `train_loss_every` epochs (0: never).
  void train(const std::function<void(const EpochLog&)>& on_epoch = {}, long train_loss_every = 0);

  double train_loss();  // MSE of the query prediction on the whole training set
  // Fresh-task test error: tasks from `ctest` (a covariance spec; "" : the pretraining law), fresh x and
  // noise, `contexts` contexts. IDG: tasks from the pretraining pool (kappa = inf: the same as ICL on the
  // pretraining law). Both are plain MSEs of the query prediction (no 1/2).
  double icl_error(const std::string& ctest, long contexts);
  double idg_error(long contexts);

  // Predictions for explicit contexts: tokens[c] is an (l+1) x (d+1) matrix (last label ignored).
  Vector predict(const std::vector<Matrix>& tokens);

  // Model, optimizer state, step count and the three option sets; written atomically.
  void save(const std::string& path) const;
  static TransformerTrainer load(const std::string& path, const std::string& device = "cpu");

  nlohmann::json to_json() const;  // data, architecture, training and the conventions

 private:
  struct State;
  explicit TransformerTrainer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace iclab::nn
