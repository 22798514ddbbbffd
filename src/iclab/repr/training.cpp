// The only translation unit of iclab::repr that includes torch headers.
#include "iclab/repr/training.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "iclab/experiments/schema.hpp"
#include "iclab/params/model_params.hpp"
#include "iclab/random/streams.hpp"

namespace iclab::repr {
namespace {

const auto kDouble = torch::TensorOptions().dtype(torch::kFloat64);

// Torch's intra-op threads (TrainOptions::threads) for one call of the Trainer, restored afterwards: a
// library object never changes the process's setting beyond its calls. (Unlike nn::TorchThreadScope it
// leaves OpenBLAS's pool alone, as the trainer always has.)
class IntraOpThreads {
 public:
  explicit IntraOpThreads(int threads) : previous_(at::get_num_threads()) {
    if (threads != previous_) at::set_num_threads(threads);
  }
  ~IntraOpThreads() {
    if (at::get_num_threads() != previous_) at::set_num_threads(previous_);
  }
  IntraOpThreads(const IntraOpThreads&) = delete;
  IntraOpThreads& operator=(const IntraOpThreads&) = delete;

 private:
  int previous_;
};

torch::Tensor to_tensor(const Matrix& m) {
  // Eigen is column-major: strides (1, rows).
  return torch::from_blob(const_cast<double*>(m.data()), {m.rows(), m.cols()}, {1, m.rows()}, kDouble).clone();
}

Matrix to_matrix(const torch::Tensor& t) {
  const torch::Tensor c = t.detach().to(torch::kFloat64).contiguous();
  using RowMajor = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  return Eigen::Map<const RowMajor>(c.data_ptr<double>(), c.size(0), c.size(1));
}

// The baseline Transformer: per-token in-projection, encoder stack, per-token readout.
struct BaselineImpl : torch::nn::Module {
  BaselineImpl(long d, const TransformerOptions& o)
      : in(register_module("in", torch::nn::Linear(d + 1, o.d_model))),
        encoder(register_module(
            "encoder",
            torch::nn::TransformerEncoder(torch::nn::TransformerEncoderOptions(
                torch::nn::TransformerEncoderLayerOptions(o.d_model, o.heads).dim_feedforward(o.d_ff).dropout(0.0),
                o.layers)))),
        out(register_module("out", torch::nn::Linear(o.d_model, 1))) {}

  // tokens: (B, K, d+1) -> predictions (B, K).
  torch::Tensor forward(const torch::Tensor& tokens) {
    torch::Tensor h = in->forward(tokens).transpose(0, 1);  // libtorch 1.13 wants (sequence, batch, feature)
    h = encoder->forward(h).transpose(0, 1);
    return out->forward(h).squeeze(-1);
  }

  torch::nn::Linear in;
  torch::nn::TransformerEncoder encoder;
  torch::nn::Linear out;
};
TORCH_MODULE(Baseline);

}  // namespace

const std::vector<std::string>& model_names() {
  const std::vector<std::string>& names = experiment_schema().values("network");  // src/iclab/repr/schema.toml
  if (names.size() != 2) throw std::logic_error("src/iclab/repr/schema.toml: `network` must list 2 models");
  return names;
}

ModelKind parse_model(const std::string& text) {
  if (const auto at = position_of(model_names(), text)) return static_cast<ModelKind>(*at);
  throw InvalidArgument("--model: '" + text + "' is not one of " + model_names()[0] + ", " + model_names()[1]);
}
// The `optimizer` and `objective` values of src/iclab/repr/schema.toml, in enum order.
OptimizerKind parse_optimizer(const std::string& text) {
  const std::vector<std::string>& names = experiment_schema().values("optimizer");
  if (const auto at = position_of(names, text)) return static_cast<OptimizerKind>(*at);
  throw InvalidArgument("--optimizer: '" + text + "' is not one of " + names.at(0) + ", " + names.at(1));
}
Objective parse_objective(const std::string& text) {
  const std::vector<std::string>& names = experiment_schema().values("objective");
  if (const auto at = position_of(names, text)) return static_cast<Objective>(*at);
  throw InvalidArgument("--objective: '" + text + "' is not one of " + names.at(0) + ", " + names.at(1));
}
std::string to_string(ModelKind kind) { return model_names().at(static_cast<std::size_t>(kind)); }
std::string to_string(OptimizerKind kind) {
  return experiment_schema().values("optimizer").at(static_cast<std::size_t>(kind));
}
std::string to_string(Objective objective) {
  return experiment_schema().values("objective").at(static_cast<std::size_t>(objective));
}

void TrainOptions::validate() const {
  if (heads < 1) throw InvalidArgument("--heads: must be >= 1");
  if (!(beta >= 0) || !std::isfinite(beta)) throw InvalidArgument("--beta: must be finite and >= 0");
  if (!(lr > 0) || !std::isfinite(lr)) throw InvalidArgument("--lr: must be finite and > 0");
  if (!(eta_q > 0) || !std::isfinite(eta_q)) throw InvalidArgument("--eta-q: must be finite and > 0");
  if (!(gamma > 0) || !std::isfinite(gamma)) throw InvalidArgument("--gamma: must be finite and > 0");
  if (steps < 0) throw InvalidArgument("--steps: must be >= 0");
  if (log_every < 1) throw InvalidArgument("--log-every: must be >= 1");
  if (test_prompts < 1) throw InvalidArgument("--test-prompts: must be >= 1");
  if (train_prompts < 1) throw InvalidArgument("--train-prompts: must be >= 1");
  if (batch < 1) throw InvalidArgument("--batch: must be >= 1");
  if (threads < 1) throw InvalidArgument("--threads: must be >= 1");
  if (model == ModelKind::transformer) {
    if (optimizer != OptimizerKind::adam) throw InvalidArgument("--optimizer: the transformer trains with adam only");
    if (transformer.layers < 1) throw InvalidArgument("--layers: must be >= 1");
    if (transformer.d_model < 1) throw InvalidArgument("--d-model: must be >= 1");
    if (transformer.d_ff < 1) throw InvalidArgument("--d-ff: must be >= 1");
    if (transformer.heads < 1 || transformer.d_model % transformer.heads != 0)
      throw InvalidArgument("--transformer-heads: must be >= 1 and divide --d-model");
  }
}

nlohmann::json TrainOptions::to_json() const {
  nlohmann::json j = {{"model", to_string(model)}, {"optimizer", to_string(optimizer)}, {"steps", steps},
                      {"log_every", log_every},    {"test_prompts", test_prompts},      {"threads", threads}};
  if (optimizer == OptimizerKind::adam)
    j["lr"] = lr;
  else
    j["gd"] = {{"eta_q", eta_q}, {"gamma", gamma}, {"eta_w", gamma * gamma * eta_q}};
  if (model == ModelKind::attention) {
    j["heads"] = heads;
    j["beta"] = beta;
    j["objective"] = to_string(objective);
  } else {
    j["transformer"] = {{"layers", transformer.layers}, {"d_model", transformer.d_model},    {"d_ff", transformer.d_ff},
                        {"heads", transformer.heads},   {"norm", "post-LN (libtorch 1.13)"}, {"dropout", 0.0}};
    j["objective"] = "sampled";
  }
  if (model == ModelKind::transformer || objective == Objective::sampled) {
    j["train_prompts"] = train_prompts;
    j["batch"] = batch;
  }
  return j;
}

struct Trainer::State {
  TaskSpec task;
  TrainOptions options;
  Dictionary dictionary;
  RidgeTheory theory;
  Prompts test_in, test_ood;
  Matrix limit_in, limit_ood;               // y_hat* of the test prompts (K x P)
  torch::Tensor tokens_all, tokens_prompt;  // V (d x K), V_N (d x N)
  torch::Tensor gram, optimum;              // G, A*
  torch::Tensor train_labels;               // P x K (sampled objective / transformer)
  torch::Tensor q, w;                       // (H, d, d), (H, K)
  Baseline baseline{nullptr};
  std::unique_ptr<torch::optim::Optimizer> optimizer;
  long step = 0;
  double seconds = 0.0;

  bool attention() const { return options.model == ModelKind::attention; }

  torch::Tensor attention_matrix() const {
    const torch::Tensor scores = torch::matmul(tokens_prompt.t(), torch::matmul(q, tokens_all));  // (H, N, K)
    return (w.unsqueeze(1) * torch::softmax(scores, 1)).sum(0);                                   // (N, K)
  }

  torch::Tensor population_loss() const {
    const torch::Tensor diff = attention_matrix() - optimum;
    return (diff * gram.mm(diff)).sum() / (2.0 * static_cast<double>(task.K)) + theory.min_loss;
  }

  // labels: (B, K), of which the first N are shown -> predictions (B, K).
  torch::Tensor forward(const torch::Tensor& labels) {
    if (attention()) return labels.narrow(1, 0, task.N).mm(attention_matrix());
    const long batch = labels.size(0);
    torch::Tensor shown = torch::zeros_like(labels);
    shown.narrow(1, 0, task.N).copy_(labels.narrow(1, 0, task.N));
    const torch::Tensor tokens =
        torch::cat({tokens_all.t().unsqueeze(0).expand({batch, task.K, task.d}), shown.unsqueeze(2)}, 2);
    // The baseline runs in float32 (twice as fast on a CPU; it is not compared to the theory to rounding).
    return baseline->forward(tokens.to(torch::kFloat32)).to(torch::kFloat64);
  }

  torch::Tensor sampled_loss(const torch::Tensor& labels) { return 0.5 * (forward(labels) - labels).pow(2).mean(); }

  torch::Tensor minibatch() const {
    RandomStream stream(StreamId::minibatch,
                        {task.seed, point_key(task.dictionary_key() + ";train"), 0, static_cast<std::uint64_t>(step)});
    std::vector<long> rows(static_cast<std::size_t>(options.batch));
    for (auto& r : rows) r = static_cast<long>(stream.below(static_cast<std::uint64_t>(options.train_prompts)));
    return train_labels.index_select(0, torch::tensor(rows, torch::kLong));
  }

  double pred_to_ridge(const Prompts& prompts, const Matrix& limit) {
    const Matrix predictions = predict(prompts.labels);
    return (predictions - limit).squaredNorm() / (static_cast<double>(task.K) * static_cast<double>(limit.cols()));
  }

  Matrix predict(const Matrix& labels) {
    torch::NoGradGuard no_grad;
    Matrix shown = labels.topRows(task.N);
    Matrix full = Matrix::Zero(task.K, labels.cols());
    full.topRows(task.N) = shown;
    return to_matrix(forward(to_tensor(full.transpose()))).transpose();
  }

  LogRow evaluate() {
    LogRow row;
    row.step = step;
    {
      torch::NoGradGuard no_grad;
      if (attention()) {
        row.train_loss = population_loss().item<double>();
      } else {
        // The sampled loss on (up to) the first 1000 training prompts: a fixed, cheap yardstick.
        const long rows = std::min<long>(1000, options.train_prompts);
        row.train_loss = sampled_loss(train_labels.narrow(0, 0, rows)).item<double>();
      }
    }
    row.loss_gap = row.train_loss - theory.min_loss;
    row.pred_to_ridge_in = pred_to_ridge(test_in, limit_in);
    row.pred_to_ridge_ood = pred_to_ridge(test_ood, limit_ood);
    row.seconds = seconds;
    return row;
  }

  void train_step() {
    optimizer->zero_grad();
    const bool population = attention() && options.objective == Objective::population;
    torch::Tensor loss = population ? population_loss() : sampled_loss(minibatch());
    loss.backward();
    if (options.optimizer == OptimizerKind::adam) {
      optimizer->step();
    } else {
      // The paper's GD with separate step sizes: eta_w = gamma^2 eta_Q.
      torch::NoGradGuard no_grad;
      q.sub_(options.eta_q * q.grad());
      w.sub_(options.gamma * options.gamma * options.eta_q * w.grad());
    }
    ++step;
  }

  void initialise_attention() {
    const long H = options.heads, d = task.d;
    Matrix flat(d * d, H);
    // Head h's Q depends only on (seed, d, h): runs with different H share their first heads.
    const std::uint64_t point = point_key("repr-attention;d=" + std::to_string(d));
    for (long h = 0; h < H; ++h) {
      RandomStream stream(StreamId::network, {task.seed, point, 0, static_cast<std::uint64_t>(h)});
      for (long i = 0; i < d * d; ++i) flat(i, h) = options.beta * stream.normal();
    }
    q = to_tensor(flat).t().reshape({H, d, d}).contiguous().set_requires_grad(true);
    w = torch::zeros({H, task.K}, kDouble).set_requires_grad(true);
    if (options.optimizer == OptimizerKind::adam)
      optimizer =
          std::make_unique<torch::optim::Adam>(std::vector<torch::Tensor>{q, w}, torch::optim::AdamOptions(options.lr));
    else
      optimizer = std::make_unique<torch::optim::SGD>(std::vector<torch::Tensor>{q, w},
                                                      torch::optim::SGDOptions(options.eta_q));
  }

  void initialise_transformer() {
    baseline = Baseline(task.d, options.transformer);
    baseline->to(torch::kFloat32);
    // Torch's own initialisers draw from its global generator; redraw every parameter from our streams
    // with the same laws: weights U(-1/sqrt(fan_in), 1/sqrt(fan_in)), biases 0, LayerNorm gains 1.
    const std::uint64_t point = point_key("repr-transformer;d=" + std::to_string(task.d) +
                                          ";layers=" + std::to_string(options.transformer.layers) +
                                          ";d_model=" + std::to_string(options.transformer.d_model) +
                                          ";d_ff=" + std::to_string(options.transformer.d_ff));
    torch::NoGradGuard no_grad;
    std::uint64_t unit = 0;
    for (auto& p : baseline->named_parameters()) {
      torch::Tensor& t = p.value();
      const bool norm = p.key().find("norm") != std::string::npos;
      if (t.dim() == 1) {
        t.fill_(norm && p.key().find("weight") != std::string::npos ? 1.0 : 0.0);
        continue;
      }
      RandomStream stream(StreamId::network, {task.seed, point, 0, unit++});
      const double bound = 1.0 / std::sqrt(static_cast<double>(t.size(1)));
      std::vector<double> values(static_cast<std::size_t>(t.numel()));
      for (auto& v : values) v = bound * (2.0 * stream.uniform() - 1.0);
      t.copy_(torch::tensor(values, kDouble).reshape(t.sizes()));
    }
    optimizer = std::make_unique<torch::optim::Adam>(baseline->parameters(), torch::optim::AdamOptions(options.lr));
  }
};

double estimate_bytes(const TaskSpec& task, const TrainOptions& options) {
  const auto D = [](long v) { return static_cast<double>(v); };
  const double d = D(task.d), m = D(task.m), K = D(task.K), N = D(task.N);
  // Prompts (lambda m x P, labels K x P) and the limit predictions (K x P), in float64.
  double bytes = task.memory_bytes() + 8.0 * 2.0 * D(options.test_prompts) * (m + 2.0 * K);
  const bool sampled = options.model == ModelKind::transformer || options.objective == Objective::sampled;
  if (sampled) bytes += 8.0 * D(options.train_prompts) * (m + 2.0 * K);  // + the labels' tensor copy
  const double B = D(options.batch);
  if (options.model == ModelKind::attention) {
    // Float64. Q (H x d x d), built through two d^2 H copies, and w (H x K), each with its gradient and Adam's
    // moments; the graph of one loss: Q V (H x d x K), the scores, their softmax and the weighted sum (H x N x K),
    // kept for the backward and matched by its gradients.
    const double H = D(options.heads);
    bytes += 8.0 * H * (7.0 * d * d + 4.0 * K + 2.0 * (d * K + 3.0 * N * K));
    if (sampled) bytes += 8.0 * 4.0 * B * K;
  } else {
    // Float32. Per encoder layer: attention in/out projections (4 dm^2), the feed-forward (2 dm dff) and the
    // biases and LayerNorms; times four (weights, gradients, Adam's moments), and the float64 draw of the
    // largest matrix at initialisation.
    const TransformerOptions& t = options.transformer;
    const double L = D(t.layers), dm = D(t.d_model), ff = D(t.d_ff), h = D(t.heads);
    const double parameters = L * (4.0 * dm * dm + 2.0 * dm * ff + 9.0 * dm + ff) + (d + 1.0) * dm + 2.0 * dm + 1.0;
    bytes += 4.0 * 4.0 * parameters + 16.0 * std::max({3.0 * dm * dm, dm * ff, (d + 1.0) * dm});
    // One step's saved activations per token and layer: the projections and residual stream (~10 dm), the
    // feed-forward (2 dff) and the scores with their softmax (2 h K); twice for the backward's temporaries.
    const double per_token = L * (10.0 * dm + 2.0 * ff + 2.0 * h * K) + dm + d + 1.0;
    const double step = 4.0 * 2.0 * B * K * per_token + 8.0 * 2.0 * B * K * (d + 1.0);
    // Evaluation without gradients (after a step's memory is freed): one layer at a time over up to 1000
    // training prompts or all test prompts.
    const double rows = std::max(std::min(1000.0, D(options.train_prompts)), D(options.test_prompts));
    const double evaluation =
        4.0 * rows * K * (4.0 * dm + 2.0 * h * K + ff + d + 1.0) + 8.0 * 2.0 * rows * K * (d + 1.0);
    bytes += std::max(step, evaluation);
  }
  return bytes;
}

Trainer::Trainer(TaskSpec task, TrainOptions options) : state_(std::make_unique<State>()) {
  task.validate();
  options.validate();
  // Up front, naming what is needed and what is available (an oversized --heads or --d-model used to end
  // in libtorch's "out of memory", exit 1, after the dictionary and the prompts were built).
  if (options.model == ModelKind::attention)
    require_memory(estimate_bytes(task, options), "repr train with --heads " + std::to_string(options.heads),
                   "use a smaller --heads, --d, --K or --N");
  else
    require_memory(estimate_bytes(task, options),
                   "repr train --model transformer with --layers " + std::to_string(options.transformer.layers) +
                       " --d-model " + std::to_string(options.transformer.d_model) + " --d-ff " +
                       std::to_string(options.transformer.d_ff) + " --batch " + std::to_string(options.batch),
                   "use a smaller --d-model, --d-ff, --layers or --batch");
  const IntraOpThreads threads(options.threads);
  State& s = *state_;
  s.task = task;
  s.options = options;
  s.dictionary = make_dictionary(task);
  s.theory = ridge_theory(s.dictionary, task.N, task.tau);
  s.test_in = sample_prompts(task, s.dictionary, TaskLaw::in_domain(), options.test_prompts, PromptPurpose::test);
  s.test_ood = sample_prompts(task, s.dictionary, TaskLaw::out_of_domain(), options.test_prompts, PromptPurpose::test);
  s.limit_in = s.theory.limit_predictions(s.test_in.labels);
  s.limit_ood = s.theory.limit_predictions(s.test_ood.labels);
  s.tokens_all = to_tensor(s.dictionary.tokens);
  s.tokens_prompt = s.tokens_all.narrow(1, 0, task.N).contiguous();
  s.gram = to_tensor(s.theory.gram);
  s.optimum = to_tensor(s.theory.optimum);
  if (options.model == ModelKind::transformer || options.objective == Objective::sampled) {
    const Prompts train =
        sample_prompts(task, s.dictionary, TaskLaw::in_domain(), options.train_prompts, PromptPurpose::train);
    s.train_labels = to_tensor(train.labels.transpose());
  }
  if (s.attention())
    s.initialise_attention();
  else
    s.initialise_transformer();
}

Trainer::~Trainer() = default;
Trainer::Trainer(Trainer&&) noexcept = default;
Trainer& Trainer::operator=(Trainer&&) noexcept = default;

const TaskSpec& Trainer::task() const { return state_->task; }
const TrainOptions& Trainer::options() const { return state_->options; }
const Dictionary& Trainer::dictionary() const { return state_->dictionary; }
const RidgeTheory& Trainer::theory() const { return state_->theory; }
long Trainer::steps_done() const { return state_->step; }

long Trainer::num_parameters() const {
  if (state_->attention()) return state_->q.numel() + state_->w.numel();
  long n = 0;
  for (const auto& p : state_->baseline->parameters()) n += p.numel();
  return n;
}

std::vector<LogRow> Trainer::train(const std::function<void(const LogRow&)>& on_log) {
  State& s = *state_;
  const IntraOpThreads threads(s.options.threads);
  std::vector<LogRow> rows;
  const auto log = [&] {
    rows.push_back(s.evaluate());
    if (on_log) on_log(rows.back());
  };
  if (s.step == 0) log();
  const double before = s.seconds;
  const auto start = std::chrono::steady_clock::now();
  while (s.step < s.options.steps) {
    s.train_step();
    s.seconds = before + std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (s.step % s.options.log_every == 0 || s.step == s.options.steps) log();
  }
  return rows;
}

LogRow Trainer::evaluate() {
  const IntraOpThreads threads(state_->options.threads);
  return state_->evaluate();
}

Matrix Trainer::predict(const Matrix& labels) {
  const IntraOpThreads threads(state_->options.threads);
  return state_->predict(labels);
}

Matrix Trainer::attention_matrix() const {
  if (!state_->attention()) throw std::logic_error("attention_matrix: only for the one-layer model");
  const IntraOpThreads threads(state_->options.threads);
  torch::NoGradGuard no_grad;
  return to_matrix(state_->attention_matrix());
}

double Trainer::population_loss() const {
  if (!state_->attention()) throw std::logic_error("population_loss: only for the one-layer model");
  const IntraOpThreads threads(state_->options.threads);
  torch::NoGradGuard no_grad;
  return state_->population_loss().item<double>();
}

AttentionParameters Trainer::parameters() const {
  if (!state_->attention()) throw std::logic_error("parameters: only for the one-layer model");
  AttentionParameters p;
  for (long h = 0; h < state_->options.heads; ++h) p.Q.push_back(to_matrix(state_->q[h]));
  p.W = to_matrix(state_->w);
  return p;
}

void Trainer::set_parameters(const AttentionParameters& parameters) {
  State& s = *state_;
  if (!s.attention()) throw std::logic_error("set_parameters: only for the one-layer model");
  if (static_cast<long>(parameters.Q.size()) != s.options.heads || parameters.W.rows() != s.options.heads ||
      parameters.W.cols() != s.task.K)
    throw std::invalid_argument("set_parameters: expected H matrices Q (d x d) and W (H x K)");
  const IntraOpThreads threads(s.options.threads);
  torch::NoGradGuard no_grad;
  for (long h = 0; h < s.options.heads; ++h) s.q[h].copy_(to_tensor(parameters.Q[static_cast<std::size_t>(h)]));
  s.w.copy_(to_tensor(parameters.W));
}

nlohmann::json Trainer::to_json() const {
  return {{"task", state_->task.to_json()},
          {"training", state_->options.to_json()},
          {"parameters", num_parameters()},
          {"min_loss", state_->theory.min_loss},
          {"conventions",
           {{"loss", "L = 1/(2K) E sum_k (y_hat_k - y_k)^2"},
            {"pred_to_ridge", "(1/K) ||y_hat - y_hat*||^2 averaged over test prompts"},
            {"ood", "lambda ~ N(1, 4 I_m)"},
            {"tokens", "unit-norm v_k ~ N(0, I_d) normalised"}}}};
}

}  // namespace iclab::repr
