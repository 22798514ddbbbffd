// Training the models of 2408.10147 (spec B4, B5, B7, B8): the one-layer H-head softmax attention with
// trainable Q_h in R^{d x d} and w_h in R^K, and a standard multi-layer Transformer baseline (libtorch).
// Torch-free interface: the torch state sits behind a pointer.
//
// One-layer model: s_hk = softmax_i(v_i^T Q_h v_k) over the N prompt tokens (no 1/sqrt(d)),
// a_k = sum_h w_hk s_hk in R^N, y_hat_k = y_{1:N}^T a_k for all K tokens. Init Q ~ N(0, beta^2), w = 0.
// Float64 throughout. Trained on the closed-form population loss (default) or on sampled prompts.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "iclab/linalg/dense.hpp"
#include "iclab/repr/task.hpp"
#include "iclab/repr/theory.hpp"

namespace iclab::repr {

enum class ModelKind { attention, transformer };  // the `network` values of src/iclab/repr/schema.toml
enum class OptimizerKind { adam, gd };
enum class Objective {
  population,  // the closed form L(theta) (attention only): deterministic, no sampling
  sampled,     // 1/(2K) sum_k (y_hat_k - y_k)^2 on minibatches of a fixed set of training prompts
};
ModelKind parse_model(const std::string& text);  // InvalidArgument naming --model
const std::vector<std::string>& model_names();   // the schema's `network` values, in enum order
OptimizerKind parse_optimizer(const std::string& text);
Objective parse_objective(const std::string& text);
std::string to_string(ModelKind kind);
std::string to_string(OptimizerKind kind);
std::string to_string(Objective objective);

// The baseline: tokens [v_k; y_k] (y_k = 0 for k > N) -> Linear(d+1, d_model) -> TransformerEncoder (post-LN:
// libtorch 1.13 has no norm_first; ReLU, dropout 0, no mask, no positional encoding) -> Linear(d_model, 1)
// per token. Float32 (the one-layer model is float64).
struct TransformerOptions {
  long layers = 4;
  long d_model = 64;
  long d_ff = 128;
  long heads = 4;
};

struct TrainOptions {
  ModelKind model = ModelKind::attention;
  long heads = 16;    // H of the one-layer model
  double beta = 1.0;  // Q_h^(0) entries ~ N(0, beta^2)
  OptimizerKind optimizer = OptimizerKind::adam;
  double lr = 1e-4;                             // Adam's learning rate
  double eta_q = 0.1;                           // GD: step size of Q
  double gamma = 1.0;                           // GD: eta_w = gamma^2 eta_q
  Objective objective = Objective::population;  // the transformer always trains on sampled prompts
  long train_prompts = 10000;
  long batch = 256;
  long steps = 2000;
  long log_every = 100;
  long test_prompts = 200;  // in-domain and out-of-domain test prompts (each)
  TransformerOptions transformer;
  int threads = 1;  // torch intra-op threads

  void validate() const;  // throws InvalidArgument naming the option
  nlohmann::json to_json() const;
};

// Bytes a Trainer of (task, options) needs at its peak, estimated from the sizes alone: the task's
// dictionary and theory, the test (and training) prompts, the parameters with their gradients and Adam's two
// moments, and one step's saved activations (the transformer: or its largest evaluation pass). The
// Trainer refuses (InvalidArgument "memory: ...") a run that does not fit, before it allocates anything.
double estimate_bytes(const TaskSpec& task, const TrainOptions& options);

// One line of the training log.
struct LogRow {
  long step = 0;
  double train_loss = 0.0;         // attention: the population loss L(theta); transformer: mean minibatch loss
                                   // since the previous row (at step 0: the loss on the first minibatch)
  double loss_gap = 0.0;           // train_loss - L* (L* = the one-layer model's optimum)
  double pred_to_ridge_in = 0.0;   // (1/K) ||y_hat - y_hat*||^2 over the in-domain test prompts
  double pred_to_ridge_ood = 0.0;  // the same for out-of-domain tasks lambda ~ N(1, 4 I_m)
  double seconds = 0.0;            // since training started
};

// Parameters of the one-layer model: Q[h] (d x d) and W (H x K, row h = w_h).
struct AttentionParameters {
  std::vector<Matrix> Q;
  Matrix W;
};

class Trainer {
 public:
  Trainer(TaskSpec task, TrainOptions options);
  ~Trainer();
  Trainer(Trainer&&) noexcept;
  Trainer& operator=(Trainer&&) noexcept;

  const TaskSpec& task() const;
  const TrainOptions& options() const;
  const Dictionary& dictionary() const;
  const RidgeTheory& theory() const;
  long num_parameters() const;
  long steps_done() const;

  // Runs the remaining steps up to options().steps, logging at step 0 (if not done yet), every log_every
  // steps and at the end. Returns the rows it logged.
  std::vector<LogRow> train(const std::function<void(const LogRow&)>& on_log = {});
  LogRow evaluate();  // the current row (train_loss as at step 0 for the transformer)

  // Predictions y_hat (K x P) for prompt labels (K x P or N x P; only the first N rows are read).
  Matrix predict(const Matrix& labels);
  // The one-layer model's attention matrix a (N x K); its population loss is theory().population_loss(a).
  Matrix attention_matrix() const;
  double population_loss() const;  // computed by the torch model (attention only)
  AttentionParameters parameters() const;
  void set_parameters(const AttentionParameters& parameters);

  nlohmann::json to_json() const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace iclab::repr
