#include "iclab/nn/architecture.hpp"

#include <cmath>
#include <stdexcept>

#include "iclab/experiments/schema.hpp"
#include "iclab/params/model_params.hpp"

namespace iclab::nn {

const std::vector<std::string>& architecture_names() {
  const std::vector<std::string>& names = experiment_schema().values("model");  // src/iclab/nn/schema.toml
  if (names.size() != 4) throw std::logic_error("src/iclab/nn/schema.toml: `model` must list the 4 architectures");
  return names;
}

Architecture parse_architecture(const std::string& text) {
  if (const auto at = position_of(architecture_names(), text)) return static_cast<Architecture>(*at);
  throw InvalidArgument("model: expected " + quoted_choices(architecture_names()) + ", got '" + text + "'");
}

std::string to_string(Architecture architecture) {
  return architecture_names().at(static_cast<std::size_t>(architecture));
}

long ArchitectureOptions::blocks() const {
  switch (architecture) {
    case Architecture::linear_attention:
      return 0;
    case Architecture::softmax:
      return 1;
    case Architecture::softmax_mlp2:
      return 2;
    case Architecture::softmax_mlp3:
      return 3;
  }
  return 0;
}

bool ArchitectureOptions::has_mlp() const {
  return architecture == Architecture::softmax_mlp2 || architecture == Architecture::softmax_mlp3;
}

namespace {
std::string mlp_models() {
  return to_string(Architecture::softmax_mlp2) + " and " + to_string(Architecture::softmax_mlp3);
}
}  // namespace

void ArchitectureOptions::validate() const {
  if (hidden < 0) throw InvalidArgument("hidden: must be >= 1 (or 0 for h = d)");
  if (!(layer_norm_epsilon > 0.0) || !std::isfinite(layer_norm_epsilon))
    throw InvalidArgument("layer_norm_epsilon: must be a finite number > 0");
  if (gelu_mlp && !has_mlp()) throw InvalidArgument("gelu_mlp: only the " + mlp_models() + " models have an MLP");
  if (!mlp_residual && !has_mlp())
    throw InvalidArgument("mlp_residual: only the " + mlp_models() + " models have an MLP");
  if (!attention_residual && architecture == Architecture::linear_attention)
    throw InvalidArgument("attention_residual: linear attention has no residual connection");
}

nlohmann::json ArchitectureOptions::to_json() const {
  return {{"model", to_string(architecture)},
          {"hidden", hidden},
          {"blocks", blocks()},
          {"gelu_mlp", gelu_mlp},
          {"mlp_residual", mlp_residual},
          {"attention_residual", attention_residual},
          {"layer_norm_epsilon", layer_norm_epsilon}};
}

}  // namespace iclab::nn
