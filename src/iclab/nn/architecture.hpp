// The Transformers of the linear-attention papers' nonlinear checks (spec: transformers-and-
// representations.md, A1.2), as plain options. This header is torch-free; the modules that implement
// them live in transformer_models.hpp (internal to iclab_nn).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace iclab::nn {

// In the order of the `model` key's values in src/iclab/nn/schema.toml, which names them.
enum class Architecture {
  linear_attention,  // model 1: q, k, v = Dense(d+1 -> h) with bias on raw tokens, A = q k^T / sqrt(h), no mask
  softmax,           // model 2: embedding, 1 softmax block without MLP (its quirky output LN2(r + LN1(r)))
  softmax_mlp2,      // model 3: embedding, 2 softmax blocks with a one-Dense "MLP"
  softmax_mlp3,      // model 4: embedding, 3 such blocks
};
Architecture parse_architecture(const std::string& text);  // a name of architecture_names()
std::string to_string(Architecture architecture);
const std::vector<std::string>& architecture_names();  // the schema's `model` values, in enum order

struct ArchitectureOptions {
  Architecture architecture = Architecture::softmax_mlp2;
  long hidden = 0;  // h; 0 means h = d (Lu et al.); Letey et al. use h = d + 1
  // Intended variants (off: exactly the models the authors ran).
  bool gelu_mlp = false;             // MLP = Dense-GELU-Dense instead of the single affine map
  bool mlp_residual = true;          // block output LN2(MLP(p) + p); false: LN2(MLP(p))
  bool attention_residual = true;    // r = u + SHA(u); false: r = SHA(u) (the bug in the saved kappa runs, A1.7)
  double layer_norm_epsilon = 1e-6;  // flax's default (PyTorch's is 1e-5)

  long blocks() const;   // 0 for linear attention
  bool has_mlp() const;  // models 3 and 4
  long hidden_for(long d) const { return hidden > 0 ? hidden : d; }
  void validate() const;  // throws InvalidArgument naming the option
  nlohmann::json to_json() const;
};

}  // namespace iclab::nn
