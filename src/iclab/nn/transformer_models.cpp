#include "iclab/nn/transformer_models.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace iclab::nn {

torch::Tensor TransformerModel::Dense::operator()(const torch::Tensor& x) const {
  return bias.defined() ? torch::linear(x, weight, bias) : torch::linear(x, weight);
}

TransformerModel::TransformerModel(long d, ArchitectureOptions options)
    : d_(d), h_(options.hidden_for(d)), options_(std::move(options)) {
  options_.validate();
  const long width = d_ + 1;  // token [x ; y]
  if (options_.architecture == Architecture::linear_attention) {
    la_query_ = add_dense("query", width, h_, true);
    la_key_ = add_dense("key", width, h_, true);
    la_value_ = add_dense("value", width, h_, true);
  } else {
    embedding_ = add_dense("embedding", width, h_, true);
    for (long b = 0; b < options_.blocks(); ++b) {
      const std::string prefix = "block" + std::to_string(b) + ".";
      Block block;
      block.query = add(prefix + "query.weight", {h_, h_}, h_);
      block.key = add(prefix + "key.weight", {h_, h_}, h_);
      block.value = add(prefix + "value.weight", {h_, h_}, h_);
      block.norm1 = add_layer_norm(prefix + "norm1", h_);
      if (options_.has_mlp()) {
        block.mlp1 = add_dense(prefix + "mlp1", h_, h_, true);
        if (options_.gelu_mlp) block.mlp2 = add_dense(prefix + "mlp2", h_, h_, true);
      }
      block.norm2 = add_layer_norm(prefix + "norm2", h_);
      blocks_.push_back(std::move(block));
    }
  }
  readout_ = add_dense("readout", h_, 1, true);
}

torch::Tensor TransformerModel::add(const std::string& name, std::vector<long> shape, long fan_in) {
  std::vector<int64_t> sizes(shape.begin(), shape.end());
  // torch forbids dots in a module's own parameter names; the dotted name is kept for messages.
  std::string key = name;
  std::replace(key.begin(), key.end(), '.', '_');
  torch::Tensor t = register_parameter(key, torch::zeros(sizes, torch::kFloat32));
  names_.push_back(name);
  fan_in_.push_back(fan_in);
  return t;
}

TransformerModel::Dense TransformerModel::add_dense(const std::string& name, long in, long out, bool bias) {
  Dense dense;
  dense.weight = add(name + ".weight", {out, in}, in);
  if (bias) dense.bias = add(name + ".bias", {out}, 0);
  return dense;
}

TransformerModel::LayerNormParams TransformerModel::add_layer_norm(const std::string& name, long width) {
  LayerNormParams p;
  p.weight = add(name + ".weight", {width}, -1);  // fan-in -1 marks a LayerNorm scale (initialised to 1)
  p.bias = add(name + ".bias", {width}, 0);
  return p;
}

void TransformerModel::initialise(StreamAddress address) {
  torch::NoGradGuard no_grad;
  // flax lecun_normal: truncated to [-2, 2] standard units, then scaled so the variance is 1/fan_in.
  constexpr double kTruncatedStd = 0.87962566103423978;
  const auto params = parameters();
  for (std::size_t i = 0; i < params.size(); ++i) {
    torch::Tensor p = params[i];
    if (fan_in_[i] == 0) {
      p.zero_();
    } else if (fan_in_[i] < 0) {
      p.fill_(1.0);
    } else {
      address.unit = i;
      RandomStream stream(StreamId::network, address);
      const double scale = std::sqrt(1.0 / static_cast<double>(fan_in_[i])) / kTruncatedStd;
      std::vector<float> values(static_cast<std::size_t>(p.numel()));
      for (float& v : values) {
        double z = stream.normal();
        while (std::abs(z) > 2.0) z = stream.normal();
        v = static_cast<float>(scale * z);
      }
      p.copy_(torch::from_blob(values.data(), p.sizes(), torch::kFloat32));
    }
  }
}

torch::Tensor TransformerModel::layer_norm(const torch::Tensor& x, const LayerNormParams& p) const {
  return torch::layer_norm(x, {h_}, p.weight, p.bias, options_.layer_norm_epsilon);
}

const torch::Tensor& TransformerModel::causal_mask(long tokens, const torch::Device& device) {
  if (!mask_.defined() || mask_.size(0) != tokens || mask_.device() != device) {
    // -inf above the diagonal (key j > query i); the authors' int32 minimum gives the same softmax.
    mask_ = torch::full({tokens, tokens}, -std::numeric_limits<float>::infinity(),
                        torch::TensorOptions().dtype(torch::kFloat32).device(device))
                .triu(1);
  }
  return mask_;
}

torch::Tensor TransformerModel::block_forward(const Block& block, const torch::Tensor& u, bool query_only) {
  const double scale = 1.0 / std::sqrt(static_cast<double>(h_));
  const torch::Tensor key = torch::linear(u, block.key);
  const torch::Tensor value = torch::linear(u, block.value);
  torch::Tensor input = u;
  torch::Tensor scores;
  if (query_only) {
    // The query is the last token: it attends to every token, so no mask is needed.
    input = u.narrow(1, u.size(1) - 1, 1);
    scores = torch::matmul(torch::linear(input, block.query), key.transpose(1, 2)).mul_(scale);
  } else {
    scores = torch::matmul(torch::linear(u, block.query), key.transpose(1, 2)).mul_(scale);
    scores = scores + causal_mask(u.size(1), u.device());
  }
  const torch::Tensor attended = torch::matmul(torch::softmax(scores, -1), value);
  const torch::Tensor r = options_.attention_residual ? input + attended : attended;
  const torch::Tensor p = layer_norm(r, block.norm1);
  if (!options_.has_mlp()) {
    // Quirk of the authors' block without MLP: the residual variable is not overwritten, so the output
    // is LN2(r + LN1(r)).
    return layer_norm(r + p, block.norm2);
  }
  torch::Tensor m = block.mlp1(p);
  if (options_.gelu_mlp) m = block.mlp2(torch::gelu(m));
  return layer_norm(options_.mlp_residual ? m + p : m, block.norm2);
}

torch::Tensor TransformerModel::linear_attention(const torch::Tensor& tokens, bool query_only) const {
  // A = q k^T / sqrt(h) over all pairs (no mask, no softmax), o = A v.
  const double scale = 1.0 / std::sqrt(static_cast<double>(h_));
  const torch::Tensor queries = query_only ? tokens.narrow(1, tokens.size(1) - 1, 1) : tokens;
  const torch::Tensor scores = torch::matmul(la_query_(queries), la_key_(tokens).transpose(1, 2)).mul_(scale);
  return torch::matmul(scores, la_value_(tokens));
}

torch::Tensor TransformerModel::hidden_states(const torch::Tensor& tokens, bool query_only) {
  if (options_.architecture == Architecture::linear_attention) return linear_attention(tokens, query_only);
  torch::Tensor u = embedding_(tokens);
  for (std::size_t b = 0; b < blocks_.size(); ++b)
    u = block_forward(blocks_[b], u, query_only && b + 1 == blocks_.size());
  return u;
}

torch::Tensor TransformerModel::forward(const torch::Tensor& tokens) {
  return readout_(hidden_states(tokens, true)).reshape({tokens.size(0)});
}

torch::Tensor TransformerModel::forward_all_tokens(const torch::Tensor& tokens) {
  return readout_(hidden_states(tokens, false)).squeeze(-1);
}

}  // namespace iclab::nn
