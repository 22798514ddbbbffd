#include "iclab/nn/trainer.hpp"

#include <torch/cuda.h>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <optional>

#include "iclab/covariances/task_draws.hpp"
#include "iclab/nn/token_data.hpp"
#include "iclab/nn/transformer_models.hpp"
#include "iclab/sampling/task_pool.hpp"

namespace iclab::nn {
namespace {

ModelParams model_params(const PretrainingData& data) {
  ModelParams p;
  p.d = data.d;
  p.alpha = data.alpha;
  p.tau = data.tau;
  p.kappa = data.kappa;
  p.rho = data.rho;
  return p;  // gaussian tasks, random assignment: the authors' FiniteSampler
}

TaskCovariance task_covariance(const std::string& spec, long d, const std::string& option) {
  return parse_covariance(spec.empty() ? "iso" : spec, d, option);
}

torch::Device parse_device(const std::string& text) {
  try {
    torch::Device device(text);
    if (device.is_cuda() && !torch::cuda::is_available())
      throw InvalidArgument("device: '" + text + "' needs a CUDA build of libtorch and a GPU (this build has no CUDA)");
    if (!device.is_cpu() && !device.is_cuda()) throw InvalidArgument("device: expected 'cpu' or 'cuda[:N]'");
    return device;
  } catch (const c10::Error&) {
    throw InvalidArgument("device: expected 'cpu' or 'cuda[:N]', got '" + text + "'");
  }
}

torch::Tensor to_tensor(const TokenBatch& batch, const torch::Device& device) {
  auto tokens = torch::from_blob(const_cast<float*>(batch.values.data()), {batch.contexts, batch.tokens, batch.width},
                                 torch::kFloat32);
  return tokens.to(device, /*non_blocking=*/false, /*copy=*/true);
}

torch::Tensor targets_tensor(const TokenBatch& batch, const torch::Device& device) {
  auto targets = torch::from_blob(const_cast<float*>(batch.targets.data()), {batch.contexts}, torch::kFloat32);
  return targets.to(device, false, true);
}

PretrainingData data_from_json(const nlohmann::json& j) {
  PretrainingData data;
  data.d = j.at("d");
  data.alpha = j.at("alpha");
  data.tau = j.at("tau");
  data.kappa = j.at("kappa").is_string() ? kInfinity : j.at("kappa").get<double>();
  data.rho = j.at("rho");
  data.ctrain = j.at("ctrain");
  data.link = parse_link(j.at("link"));
  return data;
}

ArchitectureOptions architecture_from_json(const nlohmann::json& j) {
  ArchitectureOptions a;
  a.architecture = parse_architecture(j.at("model"));
  a.hidden = j.at("hidden");
  a.gelu_mlp = j.at("gelu_mlp");
  a.mlp_residual = j.at("mlp_residual");
  a.attention_residual = j.at("attention_residual");
  a.layer_norm_epsilon = j.at("layer_norm_epsilon");
  return a;
}

TrainingOptions training_from_json(const nlohmann::json& j) {
  TrainingOptions t;
  t.learning_rate = j.at("learning_rate");
  t.weight_decay = j.at("weight_decay");
  t.beta1 = j.at("beta1");
  t.beta2 = j.at("beta2");
  t.epsilon = j.at("epsilon");
  t.batch_fraction = j.at("batch_fraction");
  t.batch_size = j.at("batch_size");
  t.epochs = j.at("epochs");
  t.steps = j.at("steps");
  t.seed = j.at("seed");
  t.device = j.at("device");
  t.threads = j.at("threads");
  return t;
}

constexpr long kEvaluationChunk = 4096;  // contexts per forward pass when scoring large sets

}  // namespace

// ---------------------------------------------------------------------------------------------- options

long PretrainingData::context_length() const { return model_params(*this).context_length(); }
long PretrainingData::num_contexts() const { return model_params(*this).num_contexts(); }
long PretrainingData::num_tasks() const { return model_params(*this).num_tasks(); }

void PretrainingData::validate() const {
  model_params(*this).validate();
  if (!ctrain.empty()) task_covariance(ctrain, d, "ctrain");
}

nlohmann::json PretrainingData::to_json() const {
  return {{"d", d},
          {"alpha", alpha},
          {"tau", tau},
          {"kappa", std::isinf(kappa) ? nlohmann::json("inf") : nlohmann::json(kappa)},
          {"rho", rho},
          {"ctrain", ctrain},
          {"link", to_string(link)},
          {"context_length", context_length()},
          {"num_contexts", num_contexts()},
          {"num_tasks", num_tasks()}};
}

std::string PretrainingData::canonical() const {
  char text[256];
  std::snprintf(text, sizeof text, "nn-data:d=%ld;alpha=%.17g;tau=%.17g;kappa=%.17g;rho=%.17g;link=%s;ctrain=", d,
                alpha, tau, kappa, rho, to_string(link).c_str());
  return text + ctrain;
}

void TrainingOptions::validate() const {
  auto need = [](bool ok, const char* message) {
    if (!ok) throw InvalidArgument(message);
  };
  need(std::isfinite(learning_rate) && learning_rate > 0, "lr: must be a finite number > 0");
  need(std::isfinite(weight_decay) && weight_decay >= 0, "weight_decay: must be a finite number >= 0");
  need(beta1 >= 0 && beta1 < 1 && beta2 >= 0 && beta2 < 1, "betas: must lie in [0, 1)");
  need(std::isfinite(epsilon) && epsilon > 0, "eps: must be a finite number > 0");
  need(batch_size > 0 || (batch_fraction > 0 && batch_fraction <= 1),
       "batch: a fraction must lie in (0, 1], a size must be >= 1");
  need(epochs >= 0 && steps >= 0, "epochs/steps: must be >= 0");
  need(threads >= 1, "threads: must be >= 1");
  parse_device(device);
}

nlohmann::json TrainingOptions::to_json() const {
  return {{"optimizer", "AdamW (decoupled decay on every parameter)"},
          {"learning_rate", learning_rate},
          {"weight_decay", weight_decay},
          {"beta1", beta1},
          {"beta2", beta2},
          {"epsilon", epsilon},
          {"batch_fraction", batch_fraction},
          {"batch_size", batch_size},
          {"epochs", epochs},
          {"steps", steps},
          {"seed", seed},
          {"device", device},
          {"threads", threads}};
}

// ---------------------------------------------------------------------------------------------- state

struct TransformerTrainer::State {
  PretrainingData data;
  ArchitectureOptions architecture;
  TrainingOptions training;
  torch::Device device{torch::kCPU};
  std::uint64_t data_key = 0;
  std::shared_ptr<TransformerModel> model;
  torch::Tensor flat, flat_grad;  // every parameter is a view of `flat`, every gradient of `flat_grad`
  std::unique_ptr<torch::optim::AdamW> optimizer;
  std::optional<TaskCovariance> ctrain_covariance;
  Matrix pool;  // the pretraining tasks (k x d), for the IDG test
  torch::Tensor train_tokens, train_targets;
  long n = 0, batch = 0, steps_per_epoch = 0, steps_done = 0;
  std::vector<long> order;  // identity permutation of 0..n-1, restored after each draw

  StreamAddress address(std::uint64_t point) const { return StreamAddress{training.seed, point, 0, 0}; }
  torch::Tensor draw_minibatch(long step);
  double mse(const ContextFamily& family, long contexts);
};

torch::Tensor TransformerTrainer::State::draw_minibatch(long step) {
  // B indices without replacement, a pure function of (seed, data, step): partial Fisher-Yates on the
  // identity, whose swaps are undone afterwards (O(B) per step).
  StreamAddress a = address(data_key);
  a.unit = static_cast<std::uint64_t>(step);
  RandomStream stream(StreamId::minibatch, a);
  std::vector<std::int64_t> chosen(static_cast<std::size_t>(batch));
  std::vector<long> swapped(static_cast<std::size_t>(batch));
  for (long i = 0; i < batch; ++i) {
    const long j = i + static_cast<long>(stream.below(static_cast<std::uint64_t>(n - i)));
    std::swap(order[static_cast<std::size_t>(i)], order[static_cast<std::size_t>(j)]);
    swapped[static_cast<std::size_t>(i)] = j;
    chosen[static_cast<std::size_t>(i)] = order[static_cast<std::size_t>(i)];
  }
  for (long i = batch - 1; i >= 0; --i)
    std::swap(order[static_cast<std::size_t>(i)],
              order[static_cast<std::size_t>(swapped[static_cast<std::size_t>(i)])]);
  return torch::from_blob(chosen.data(), {batch}, torch::kInt64).to(device, false, true);
}

double TransformerTrainer::State::mse(const ContextFamily& family, long contexts) {
  torch::InferenceMode inference;
  double sum = 0.0;
  for (long first = 0; first < contexts; first += kEvaluationChunk) {
    const long count = std::min(kEvaluationChunk, contexts - first);
    const TokenBatch batch_data = sample_token_batch(family, first, count);
    const torch::Tensor error = model->forward(to_tensor(batch_data, device)) - targets_tensor(batch_data, device);
    sum += error.to(torch::kFloat64).pow(2).sum().item<double>();
  }
  return sum / static_cast<double>(contexts);
}

TransformerTrainer::TransformerTrainer(PretrainingData data, ArchitectureOptions architecture, TrainingOptions training)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  data.validate();
  architecture.validate();
  training.validate();
  s.data = std::move(data);
  s.architecture = std::move(architecture);
  s.training = std::move(training);
  s.device = parse_device(s.training.device);
  // Process-wide: torch's intra-op (OpenMP) threads, and OpenBLAS's own pool, which torch's CPU GEMMs
  // use and torch::set_num_threads does not limit (its idle threads spin and steal the cores).
  at::set_num_threads(s.training.threads);
  set_blas_threads(s.training.threads);

  s.n = s.data.num_contexts();
  s.batch = s.training.batch_size > 0 ? s.training.batch_size
                                      : std::max(1L, static_cast<long>(s.training.batch_fraction * double(s.n)));
  if (s.batch > s.n)
    throw InvalidArgument("batch: " + std::to_string(s.batch) + " is more than the " + std::to_string(s.n) +
                          " pretraining contexts");
  s.steps_per_epoch = 1 + s.n / s.batch;
  s.order.resize(static_cast<std::size_t>(s.n));
  for (long i = 0; i < s.n; ++i) s.order[static_cast<std::size_t>(i)] = i;

  // The dataset: one fixed draw of n contexts (the authors' first, discarded draw has no analogue here).
  s.data_key = point_key(s.data.canonical());
  const StreamAddress data_address = s.address(s.data_key);
  s.ctrain_covariance = task_covariance(s.data.ctrain, s.data.d, "ctrain");
  const ModelParams params = model_params(s.data);
  s.pool = draw_tasks(*s.ctrain_covariance, params.num_tasks(), data_address);
  ContextFamily family;
  family.tasks = s.pool;
  family.task_of = assign_tasks(params, data_address);
  family.ell = s.data.context_length();
  family.rho = s.data.rho;
  family.link = s.data.link;
  family.address = data_address;
  const TokenBatch train = sample_token_batch(family, 0, s.n);
  s.train_tokens = to_tensor(train, s.device);
  s.train_targets = targets_tensor(train, s.device);
  if (!std::isfinite(s.data.kappa)) s.pool = Matrix();  // IDG = ICL on the pretraining law; the n tasks are not needed

  s.model = std::make_shared<TransformerModel>(s.data.d, s.architecture);
  s.model->initialise(s.address(point_key("nn-network")));
  s.model->to(s.device);
  // One flat buffer for all parameters and one for all gradients: AdamW then updates one tensor per
  // step instead of one per parameter (most of a step's cost at these sizes is per-tensor overhead).
  auto params_list = s.model->parameters();
  long total = 0;
  for (const auto& p : params_list) total += p.numel();
  const auto float_options = torch::TensorOptions().dtype(torch::kFloat32).device(s.device);
  s.flat = torch::empty({total}, float_options);
  s.flat_grad = torch::zeros({total}, float_options);
  long offset = 0;
  for (auto& p : params_list) {
    const long count = p.numel();
    torch::Tensor view = s.flat.narrow(0, offset, count).view(p.sizes());
    view.copy_(p.detach());
    p.set_data(view);
    p.mutable_grad() = s.flat_grad.narrow(0, offset, count).view(p.sizes());
    offset += count;
  }
  s.flat.mutable_grad() = s.flat_grad;
  s.optimizer = std::make_unique<torch::optim::AdamW>(std::vector<torch::Tensor>{s.flat},
                                                      torch::optim::AdamWOptions(s.training.learning_rate)
                                                          .betas({s.training.beta1, s.training.beta2})
                                                          .eps(s.training.epsilon)
                                                          .weight_decay(s.training.weight_decay));
}

TransformerTrainer::TransformerTrainer(std::unique_ptr<State> state) : state_(std::move(state)) {}
TransformerTrainer::~TransformerTrainer() = default;
TransformerTrainer::TransformerTrainer(TransformerTrainer&&) noexcept = default;
TransformerTrainer& TransformerTrainer::operator=(TransformerTrainer&&) noexcept = default;

const PretrainingData& TransformerTrainer::data() const { return state_->data; }
const ArchitectureOptions& TransformerTrainer::architecture() const { return state_->architecture; }
const TrainingOptions& TransformerTrainer::training() const { return state_->training; }
long TransformerTrainer::batch_size() const { return state_->batch; }
long TransformerTrainer::steps_per_epoch() const { return state_->steps_per_epoch; }
long TransformerTrainer::steps_done() const { return state_->steps_done; }
long TransformerTrainer::num_parameters() const { return state_->flat.numel(); }
long TransformerTrainer::total_steps() const {
  const TrainingOptions& t = state_->training;
  return t.steps > 0 ? t.steps : t.epochs * state_->steps_per_epoch;
}

void TransformerTrainer::set_schedule(long epochs, long steps) {
  if (epochs < 0 || steps < 0) throw InvalidArgument("epochs/steps: must be >= 0");
  state_->training.epochs = epochs;
  state_->training.steps = steps;
}

void TransformerTrainer::train(const std::function<void(const EpochLog&)>& on_epoch, long train_loss_every) {
  State& s = *state_;
  const auto start = std::chrono::steady_clock::now();
  const long total = total_steps();
  torch::Tensor loss_sum = torch::zeros({}, torch::TensorOptions().dtype(torch::kFloat64).device(s.device));
  long steps_in_epoch = 0;
  s.model->train();
  while (s.steps_done < total) {
    const torch::Tensor index = s.draw_minibatch(s.steps_done);
    s.flat_grad.zero_();
    const torch::Tensor prediction = s.model->forward(s.train_tokens.index_select(0, index));
    const torch::Tensor loss = (prediction - s.train_targets.index_select(0, index)).pow(2).mean();
    loss.backward();
    s.optimizer->step();
    loss_sum += loss.detach();
    ++s.steps_done;
    ++steps_in_epoch;
    if (s.steps_done % s.steps_per_epoch == 0 || s.steps_done == total) {
      EpochLog log;
      log.step = s.steps_done;
      log.epoch = (s.steps_done + s.steps_per_epoch - 1) / s.steps_per_epoch;
      log.batch_loss = loss_sum.item<double>() / static_cast<double>(steps_in_epoch);
      if (train_loss_every > 0 && (log.epoch % train_loss_every == 0 || s.steps_done == total))
        log.train_loss = train_loss();
      log.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      loss_sum.zero_();
      steps_in_epoch = 0;
      if (on_epoch) on_epoch(log);
    }
  }
}

double TransformerTrainer::train_loss() {
  State& s = *state_;
  torch::InferenceMode inference;
  double sum = 0.0;
  for (long first = 0; first < s.n; first += kEvaluationChunk) {
    const long count = std::min(kEvaluationChunk, s.n - first);
    const torch::Tensor error =
        s.model->forward(s.train_tokens.narrow(0, first, count)) - s.train_targets.narrow(0, first, count);
    sum += error.to(torch::kFloat64).pow(2).sum().item<double>();
  }
  return sum / static_cast<double>(s.n);
}

double TransformerTrainer::icl_error(const std::string& ctest, long contexts) {
  State& s = *state_;
  if (contexts < 1) throw InvalidArgument("test_contexts: must be >= 1");
  const TaskCovariance c = ctest.empty() ? *s.ctrain_covariance : task_covariance(ctest, s.data.d, "ctest");
  ContextFamily family;
  family.fresh_tasks = true;
  family.fresh_factor = covariance_factor(c);
  family.ell = s.data.context_length();
  family.rho = s.data.rho;
  family.link = s.data.link;
  // Common random numbers: every test covariance sees the same normals (tasks L_test z, covariates,
  // noise), so differences between tests are not drowned in sampling noise (the Spearman protocol
  // ranks tests whose errors differ by ~1%).
  family.address = s.address(point_key(s.data.canonical() + "|icl-test"));
  return s.mse(family, contexts);
}

double TransformerTrainer::idg_error(long contexts) {
  State& s = *state_;
  if (!std::isfinite(s.data.kappa)) return icl_error("", contexts);
  if (contexts < 1) throw InvalidArgument("test_contexts: must be >= 1");
  ContextFamily family;
  family.tasks = s.pool;
  family.address = s.address(point_key(s.data.canonical() + "|idg-test"));
  family.task_of.resize(static_cast<std::size_t>(contexts));
  for (long mu = 0; mu < contexts; ++mu) {
    StreamAddress a = family.address;
    a.unit = static_cast<std::uint64_t>(mu);
    RandomStream stream(StreamId::assignment, a);
    family.task_of[static_cast<std::size_t>(mu)] =
        static_cast<long>(stream.below(static_cast<std::uint64_t>(s.pool.rows())));
  }
  family.ell = s.data.context_length();
  family.rho = s.data.rho;
  family.link = s.data.link;
  return s.mse(family, contexts);
}

Vector TransformerTrainer::predict(const std::vector<Matrix>& tokens) {
  State& s = *state_;
  const long count = static_cast<long>(tokens.size());
  const long length = s.data.context_length() + 1, width = s.data.d + 1;
  TokenBatch batch;
  batch.contexts = count;
  batch.tokens = length;
  batch.width = width;
  batch.values.resize(static_cast<std::size_t>(count * length * width));
  for (long c = 0; c < count; ++c) {
    const Matrix& m = tokens[static_cast<std::size_t>(c)];
    if (m.rows() != length || m.cols() != width)
      throw InvalidArgument("tokens: each context must be " + std::to_string(length) + " x " + std::to_string(width));
    for (long i = 0; i < length; ++i)
      for (long j = 0; j < width; ++j)
        batch.values[static_cast<std::size_t>((c * length + i) * width + j)] =
            (i == length - 1 && j == width - 1) ? 0.0f : static_cast<float>(m(i, j));
  }
  torch::InferenceMode inference;
  const torch::Tensor out = s.model->forward(to_tensor(batch, s.device)).to(torch::kCPU, torch::kFloat64).contiguous();
  Vector result(count);
  std::copy(out.data_ptr<double>(), out.data_ptr<double>() + count, result.data());
  return result;
}

nlohmann::json TransformerTrainer::to_json() const {
  return {{"data", state_->data.to_json()},
          {"architecture", state_->architecture.to_json()},
          {"training", state_->training.to_json()},
          {"parameters", num_parameters()},
          {"batch_size", state_->batch},
          {"steps_per_epoch", state_->steps_per_epoch},
          {"conventions",
           {{"tokens", "[x_i ; y_i], query label slot 0, no positional encoding, last-token readout"},
            {"covariates", "x ~ N(0, I_d/d)"},
            {"tasks", "w ~ N(0, C_train) (I_d unless ctrain); k = int(kappa d) tasks, uniform assignment"},
            {"labels", "y = link(x . w) + N(0, rho)"},
            {"sizes", "l = int(alpha d), n = int(tau d^2), one fixed training set"},
            {"loss", "mean squared error of the query prediction (no 1/2)"},
            {"epoch", "1 + floor(n / B) steps, each B indices drawn without replacement"},
            {"randomness", "Philox streams keyed by (seed, data parameters, purpose, index)"}}}};
}

void TransformerTrainer::save(const std::string& path) const {
  const State& s = *state_;
  torch::serialize::OutputArchive archive;
  nlohmann::json meta = to_json();
  meta["steps_done"] = s.steps_done;
  meta["format"] = "iclab-transformer-checkpoint-1";
  archive.write("meta", c10::IValue(meta.dump()));
  archive.write("parameters", s.flat.detach().cpu());
  torch::serialize::OutputArchive optimizer;
  s.optimizer->save(optimizer);
  archive.write("optimizer", optimizer);
  const std::string temporary = path + ".tmp";
  try {
    archive.save_to(temporary);
    std::filesystem::rename(temporary, path);
  } catch (const std::exception& e) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    throw std::runtime_error("cannot write the checkpoint '" + path + "': " + e.what());
  }
}

TransformerTrainer TransformerTrainer::load(const std::string& path, const std::string& device) {
  if (!std::filesystem::is_regular_file(path)) throw InvalidArgument("checkpoint: '" + path + "' is not a file");
  torch::serialize::InputArchive archive;
  nlohmann::json meta;
  try {
    archive.load_from(path);
    c10::IValue text;
    archive.read("meta", text);
    meta = nlohmann::json::parse(text.toStringRef());
    if (meta.value("format", "") != "iclab-transformer-checkpoint-1") throw std::runtime_error("unknown format");
  } catch (const std::exception& e) {
    throw InvalidArgument("checkpoint: '" + path + "' is not an iclab transformer checkpoint");
  }
  TrainingOptions training = training_from_json(meta.at("training"));
  training.device = device;
  TransformerTrainer trainer(data_from_json(meta.at("data")), architecture_from_json(meta.at("architecture")),
                             training);
  State& s = *trainer.state_;
  torch::Tensor parameters;
  archive.read("parameters", parameters);
  if (parameters.numel() != s.flat.numel()) throw InvalidArgument("checkpoint: '" + path + "' has the wrong size");
  {
    torch::NoGradGuard no_grad;
    s.flat.copy_(parameters);
  }
  torch::serialize::InputArchive optimizer;
  archive.read("optimizer", optimizer);
  s.optimizer->load(optimizer);
  s.steps_done = meta.at("steps_done");
  return trainer;
}

}  // namespace iclab::nn
