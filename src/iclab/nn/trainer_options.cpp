#include "iclab/nn/trainer_options.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "iclab/covariances/covariance_spec.hpp"
#include "iclab/nn/torch_support.hpp"

namespace iclab::nn {
ModelParams PretrainingData::model_params() const {
  ModelParams p;
  p.d = d;
  p.alpha = alpha;
  p.tau = tau;
  p.kappa = kappa;
  p.rho = rho;
  return p;  // gaussian tasks, random assignment: the authors' FiniteSampler
}

long PretrainingData::context_length() const { return model_params().context_length(); }
long PretrainingData::num_contexts() const { return model_params().num_contexts(); }
long PretrainingData::num_tasks() const { return model_params().num_tasks(); }

void PretrainingData::validate() const {
  model_params().validate();
  if (!ctrain.empty()) parse_covariance(ctrain, d, "ctrain");
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

std::string PretrainingData::test_canonical() const {
  char text[192];
  std::snprintf(text, sizeof text, "nn-test:d=%ld;l=%ld;rho=%.17g;link=%s", d, context_length(), rho,
                to_string(link).c_str());
  return text;
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

long minibatch_size(const PretrainingData& data, const TrainingOptions& training) {
  if (training.batch_size > 0) return training.batch_size;
  return std::max(1L, static_cast<long>(training.batch_fraction * static_cast<double>(data.num_contexts())));
}

long steps_per_epoch(const PretrainingData& data, const TrainingOptions& training) {
  return 1 + data.num_contexts() / minibatch_size(data, training);
}

long scheduled_steps(const PretrainingData& data, const TrainingOptions& training) {
  return training.steps > 0 ? training.steps : training.epochs * steps_per_epoch(data, training);
}

nlohmann::json transformer_conventions() {
  return {{"tokens", "[x_i ; y_i], query label slot 0, no positional encoding, last-token readout"},
          {"covariates", "x ~ N(0, I_d/d)"},
          {"tasks", "w ~ N(0, C_train) (I_d unless ctrain); k = int(kappa d) tasks, uniform assignment"},
          {"labels", "y = link(x . w) + N(0, rho)"},
          {"sizes", "l = int(alpha d), n = int(tau d^2), one fixed training set"},
          {"loss", "mean squared error of the query prediction (no 1/2)"},
          {"epoch", "1 + floor(n / B) steps, each B indices drawn without replacement"},
          {"randomness", "Philox streams keyed by (seed, data parameters, purpose, index)"},
          {"test_contexts",
           "fresh-task tests keyed by (seed, d, l, rho, link) and the test covariance, the same contexts for every "
           "tau, kappa and C_train; IDG at finite kappa: the member's own pool, keyed by its data parameters"}};
}

PretrainingData pretraining_data_from_json(const nlohmann::json& j) {
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

TrainingOptions training_options_from_json(const nlohmann::json& j) {
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

}  // namespace iclab::nn
