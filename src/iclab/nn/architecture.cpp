#include "iclab/nn/architecture.hpp"

#include <cmath>

#include "iclab/params/model_params.hpp"

namespace iclab::nn {

Architecture parse_architecture(const std::string& text) {
  if (text == "linear-attention") return Architecture::linear_attention;
  if (text == "softmax") return Architecture::softmax;
  if (text == "softmax-mlp2") return Architecture::softmax_mlp2;
  if (text == "softmax-mlp3") return Architecture::softmax_mlp3;
  throw InvalidArgument("model: expected 'linear-attention', 'softmax', 'softmax-mlp2' or 'softmax-mlp3', got '" +
                        text + "'");
}

std::string to_string(Architecture architecture) {
  switch (architecture) {
    case Architecture::linear_attention:
      return "linear-attention";
    case Architecture::softmax:
      return "softmax";
    case Architecture::softmax_mlp2:
      return "softmax-mlp2";
    case Architecture::softmax_mlp3:
      return "softmax-mlp3";
  }
  return "?";
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

void ArchitectureOptions::validate() const {
  if (hidden < 0) throw InvalidArgument("hidden: must be >= 1 (or 0 for h = d)");
  if (!(layer_norm_epsilon > 0.0) || !std::isfinite(layer_norm_epsilon))
    throw InvalidArgument("layer_norm_epsilon: must be a finite number > 0");
  if (gelu_mlp && !has_mlp())
    throw InvalidArgument("gelu_mlp: only the softmax-mlp2 and softmax-mlp3 models have an MLP");
  if (!mlp_residual && !has_mlp())
    throw InvalidArgument("mlp_residual: only the softmax-mlp2 and softmax-mlp3 models have an MLP");
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
