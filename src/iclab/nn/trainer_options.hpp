// The options of one Transformer training run: its data, AdamW and schedule, and the log line
// (torch-free). Used by TransformerTrainer (one model) and EnsembleTrainer (many at once).
//
// Data conventions (recorded in every output through to_json):
//   l = int(alpha d) context examples plus a query; n = int(tau d^2) pretraining contexts, one fixed draw;
//   k = int(kappa d) pretraining tasks (kappa = inf: a fresh task per context), each context picks one
//   uniformly at random; x ~ N(0, I/d); w ~ N(0, C_train) (C_train = I unless ctrain is given);
//   y = link(x . w) + N(0, rho). Token i = [x_i ; y_i], the query's label is 0 (no positional encoding).
// Every random draw is a function of (seed, the data's parameters, purpose, index) through the
// counter-based streams: the dataset does not depend on the architecture, the network's initialisation
// not on the data, and a checkpointed run continues exactly as an uninterrupted one.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "iclab/nn/architecture.hpp"
#include "iclab/params/model_params.hpp"
#include "iclab/sampling/link.hpp"

namespace iclab::nn {

struct PretrainingData {
  long d = 10;
  double alpha = 1.0;
  double tau = 4.0;
  double kappa = kInfinity;
  double rho = 0.01;
  std::string ctrain;  // covariance spec of the pretraining tasks; "" : I_d
  Link link = Link::linear;

  ModelParams model_params() const;  // d, alpha, tau, kappa, rho; gaussian tasks, random assignment
  long context_length() const;       // l = int(alpha d)
  long num_contexts() const;         // n = int(tau d^2)
  long num_tasks() const;            // k = int(kappa d), or n for kappa = inf
  void validate() const;             // throws InvalidArgument naming the parameter
  nlohmann::json to_json() const;
  std::string canonical() const;  // the key of the dataset's random streams
  // The key of its fresh-task test sets' streams: the test's own parameters (d, l, rho, link), not tau,
  // kappa or C_train, so that a figure's points along those axes are tested on the same contexts.
  std::string test_canonical() const;
};

struct TrainingOptions {
  // AdamW as optax.adamw's defaults: decoupled decay p <- p - lr (adam_step + wd p) on every parameter.
  double learning_rate = 1e-4;
  double weight_decay = 1e-4;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-8;
  double batch_fraction = 0.1;  // B = max(1, int(fraction * n)) (Lu et al.)
  long batch_size = 0;          // > 0 overrides the fraction (Letey et al.: 16)
  long epochs = 0;              // an epoch is 1 + floor(n / B) steps, as in the authors' loop
  long steps = 0;               // > 0: exactly this many steps (instead of epochs)
  std::uint64_t seed = 1;
  std::string device = "cpu";  // "cpu" or "cuda" / "cuda:N" (needs a CUDA build of libtorch)
  int threads = 1;             // torch intra-op threads; 1 is fastest for these small models

  void validate() const;
  nlohmann::json to_json() const;
};

// One line of the training log, after each epoch (or each logged chunk of steps).
struct EpochLog {
  long epoch = 0;
  long step = 0;
  double batch_loss = 0.0;           // mean minibatch loss over the epoch's steps
  std::optional<double> train_loss;  // on the full training set, when requested
  double seconds = 0.0;              // since training started
};

// The schedule of a training run on `data`: the minibatch size B (batch_size, or max(1, int(batch_fraction
// n))), an epoch's 1 + floor(n / B) steps, and the steps it runs (steps, or epochs x steps per epoch).
long minibatch_size(const PretrainingData& data, const TrainingOptions& training);
long steps_per_epoch(const PretrainingData& data, const TrainingOptions& training);
long scheduled_steps(const PretrainingData& data, const TrainingOptions& training);

// What every Transformer output records about the data and training conventions.
nlohmann::json transformer_conventions();

// The inverses of to_json (checkpoints).
PretrainingData pretraining_data_from_json(const nlohmann::json& j);
TrainingOptions training_options_from_json(const nlohmann::json& j);
ArchitectureOptions architecture_from_json(const nlohmann::json& j);

}  // namespace iclab::nn
