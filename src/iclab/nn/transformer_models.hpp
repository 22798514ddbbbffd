// The Transformers of spec A1.2 as one torch module (internal to iclab_nn: includes torch).
// Parameters follow flax's naming and initialisation: Dense kernels lecun_normal (a normal truncated
// at two standard deviations, rescaled to variance 1/fan_in), biases 0, LayerNorm scale 1 and bias 0.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "iclab/nn/architecture.hpp"
#include "iclab/random/streams.hpp"

namespace iclab::nn {

class TransformerModel : public torch::nn::Module {
 public:
  TransformerModel(long d, ArchitectureOptions options);

  // tokens (B, l+1, d+1) -> the query prediction (B). The last block computes the query's row only:
  // the readout sees nothing else, so this is exact and saves most of that block's work.
  torch::Tensor forward(const torch::Tensor& tokens);
  // The readout applied to every token (B, l+1): for tests of the mask and of the shortcut above.
  torch::Tensor forward_all_tokens(const torch::Tensor& tokens);

  // Kernels from the network stream of `address` (unit = the parameter's index): the initial weights do
  // not depend on torch's global generator, the device or the thread count.
  void initialise(StreamAddress address);

  const ArchitectureOptions& options() const { return options_; }
  long dim() const { return d_; }
  long hidden() const { return h_; }
  // Parameter names in registration order, and each kernel's fan-in (0 for biases and LayerNorms).
  const std::vector<std::string>& parameter_names() const { return names_; }

 private:
  struct Dense {
    torch::Tensor weight, bias;  // weight (out, in); bias undefined when absent
    torch::Tensor operator()(const torch::Tensor& x) const;
  };
  struct LayerNormParams {
    torch::Tensor weight, bias;
  };
  struct Block {
    torch::Tensor query, key, value;  // (h, h), no bias
    LayerNormParams norm1, norm2;
    Dense mlp1, mlp2;  // mlp2 only with gelu_mlp
  };

  Dense add_dense(const std::string& name, long in, long out, bool bias);
  LayerNormParams add_layer_norm(const std::string& name, long width);
  torch::Tensor add(const std::string& name, std::vector<long> shape, long fan_in);
  torch::Tensor layer_norm(const torch::Tensor& x, const LayerNormParams& p) const;
  torch::Tensor block_forward(const Block& block, const torch::Tensor& u, bool query_only);
  torch::Tensor linear_attention(const torch::Tensor& tokens, bool query_only) const;
  torch::Tensor hidden_states(const torch::Tensor& tokens, bool query_only);
  const torch::Tensor& causal_mask(long tokens, const torch::Device& device);

  long d_ = 0;
  long h_ = 0;
  ArchitectureOptions options_;
  Dense embedding_, readout_;
  Dense la_query_, la_key_, la_value_;  // linear attention (model 1)
  std::vector<Block> blocks_;
  std::vector<std::string> names_;
  std::vector<long> fan_in_;
  torch::Tensor mask_;  // additive causal mask, cached per (length, device)
};

}  // namespace iclab::nn
