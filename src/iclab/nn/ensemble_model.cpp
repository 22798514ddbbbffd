#include "iclab/nn/ensemble_model.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>

#include "iclab/nn/chunk_kernels.hpp"

namespace iclab::nn {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

constexpr int64_t kChunkGrain = 4;     // chunks per task of at::parallel_for
constexpr int64_t kContextGrain = 64;  // contexts per task

torch::Tensor no_bias() { return torch::empty({0}, torch::kFloat32); }

// valid: real contexts per chunk, or an empty tensor (all real); contexts per chunk.
kernels::Chunks chunk_layout(const torch::Tensor& x, const torch::Tensor& owner, const torch::Tensor& valid,
                             int64_t contexts) {
  return {owner.data_ptr<int64_t>(), x.size(0), x.size(1), valid.numel() > 0 ? valid.data_ptr<int64_t>() : nullptr,
          contexts};
}

// A dense layer with each chunk's member's kernel (and bias): x (chunks, rows, in) -> (chunks, rows, out).
// No bias: an empty tensor (a custom function's inputs must be defined tensors).
struct ChunkDense : torch::autograd::Function<ChunkDense> {
  static torch::Tensor forward(AutogradContext* context, const torch::Tensor& x, const torch::Tensor& weight,
                               const torch::Tensor& bias, const torch::Tensor& owner, const torch::Tensor& valid,
                               int64_t contexts) {
    const torch::Tensor xc = x.contiguous();
    const long in = xc.size(2), out = weight.size(1);
    torch::Tensor y = torch::empty({xc.size(0), xc.size(1), out}, xc.options());
    const kernels::Chunks layout = chunk_layout(xc, owner, valid, contexts);
    const bool has_bias = bias.numel() > 0;
    const float* b = has_bias ? bias.data_ptr<float>() : nullptr;
    at::parallel_for(0, layout.chunks, kChunkGrain, [&](int64_t begin, int64_t end) {
      kernels::dense_forward(layout, xc.data_ptr<float>(), in, weight.data_ptr<float>(), b, out, y.data_ptr<float>(),
                             begin, end);
    });
    context->save_for_backward({xc, weight, owner, valid});
    context->saved_data["bias"] = has_bias;
    context->saved_data["contexts"] = contexts;
    return y;
  }
  static variable_list backward(AutogradContext* context, variable_list grads) {
    const auto saved = context->get_saved_variables();
    const torch::Tensor &x = saved[0], &weight = saved[1], &owner = saved[2], &valid = saved[3];
    const torch::Tensor g = grads[0].contiguous();
    const long members = weight.size(0), out = weight.size(1), in = weight.size(2);
    const kernels::Chunks layout = chunk_layout(x, owner, valid, context->saved_data["contexts"].toInt());
    torch::Tensor dx;
    if (context->needs_input_grad(0)) {
      dx = torch::empty_like(x);
      at::parallel_for(0, layout.chunks, kChunkGrain, [&](int64_t begin, int64_t end) {
        kernels::dense_backward_input(layout, g.data_ptr<float>(), weight.data_ptr<float>(), in, out,
                                      dx.data_ptr<float>(), begin, end);
      });
    }
    const bool has_bias = context->saved_data["bias"].toBool();
    torch::Tensor dweight = torch::empty_like(weight);
    torch::Tensor dbias = has_bias ? torch::empty({members, out}, weight.options()) : torch::Tensor();
    const auto member_chunks = kernels::chunks_of_members(layout, members);
    at::parallel_for(0, members, 1, [&](int64_t begin, int64_t end) {
      kernels::dense_backward_parameters(member_chunks, layout, x.data_ptr<float>(), in, g.data_ptr<float>(), out,
                                         dweight.data_ptr<float>(), has_bias ? dbias.data_ptr<float>() : nullptr, begin,
                                         end);
    });
    return {dx, dweight, dbias, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

// LayerNorm over the last axis with each chunk's member's scale and shift.
struct ChunkLayerNorm : torch::autograd::Function<ChunkLayerNorm> {
  static torch::Tensor forward(AutogradContext* context, const torch::Tensor& x, const torch::Tensor& weight,
                               const torch::Tensor& bias, const torch::Tensor& owner, const torch::Tensor& valid,
                               int64_t contexts, double epsilon) {
    const torch::Tensor xc = x.contiguous();
    const long width = xc.size(2);
    torch::Tensor y = torch::empty_like(xc), xhat = torch::empty_like(xc);
    torch::Tensor rstd = torch::empty({xc.size(0), xc.size(1)}, xc.options());
    const kernels::Chunks layout = chunk_layout(xc, owner, valid, contexts);
    at::parallel_for(0, layout.chunks, kChunkGrain, [&](int64_t begin, int64_t end) {
      kernels::layer_norm_forward(layout, xc.data_ptr<float>(), width, weight.data_ptr<float>(), bias.data_ptr<float>(),
                                  epsilon, y.data_ptr<float>(), xhat.data_ptr<float>(), rstd.data_ptr<float>(), begin,
                                  end);
    });
    context->save_for_backward({xhat, rstd, weight, owner, valid});
    context->saved_data["contexts"] = contexts;
    return y;
  }
  static variable_list backward(AutogradContext* context, variable_list grads) {
    const auto saved = context->get_saved_variables();
    const torch::Tensor &xhat = saved[0], &rstd = saved[1], &weight = saved[2], &owner = saved[3], &valid = saved[4];
    const torch::Tensor g = grads[0].contiguous();
    const long members = weight.size(0), width = weight.size(1);
    const kernels::Chunks layout = chunk_layout(xhat, owner, valid, context->saved_data["contexts"].toInt());
    torch::Tensor dx = torch::empty_like(xhat);
    at::parallel_for(0, layout.chunks, kChunkGrain, [&](int64_t begin, int64_t end) {
      kernels::layer_norm_backward_input(layout, g.data_ptr<float>(), xhat.data_ptr<float>(), rstd.data_ptr<float>(),
                                         width, weight.data_ptr<float>(), dx.data_ptr<float>(), begin, end);
    });
    torch::Tensor dweight = torch::empty_like(weight), dbias = torch::empty_like(weight);
    const auto member_chunks = kernels::chunks_of_members(layout, members);
    at::parallel_for(0, members, 1, [&](int64_t begin, int64_t end) {
      kernels::layer_norm_backward_parameters(member_chunks, layout, g.data_ptr<float>(), xhat.data_ptr<float>(), width,
                                              dweight.data_ptr<float>(), dbias.data_ptr<float>(), begin, end);
    });
    return {dx, dweight, dbias, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

// Attention of every context: q (N, queries, h), k and v (N, tokens, h) -> (N, queries, h).
struct ContextAttention : torch::autograd::Function<ContextAttention> {
  static torch::Tensor forward(AutogradContext* context, const torch::Tensor& q, const torch::Tensor& k,
                               const torch::Tensor& v, double scale, bool softmax, const torch::Tensor& valid,
                               int64_t contexts) {
    const torch::Tensor qc = q.contiguous(), kc = k.contiguous(), vc = v.contiguous();
    const kernels::Attention shape{qc.size(1), kc.size(1),
                                   qc.size(2), static_cast<float>(scale),
                                   softmax,    valid.numel() > 0 ? valid.data_ptr<int64_t>() : nullptr,
                                   contexts};
    torch::Tensor out = torch::empty_like(qc);
    torch::Tensor probabilities = torch::empty({qc.size(0), shape.queries, shape.tokens}, qc.options());
    at::parallel_for(0, qc.size(0), kContextGrain, [&](int64_t begin, int64_t end) {
      kernels::attention_forward(shape, qc.data_ptr<float>(), kc.data_ptr<float>(), vc.data_ptr<float>(),
                                 out.data_ptr<float>(), probabilities.data_ptr<float>(), begin, end);
    });
    context->save_for_backward({qc, kc, vc, probabilities, valid});
    context->saved_data["scale"] = scale;
    context->saved_data["softmax"] = softmax;
    context->saved_data["contexts"] = contexts;
    return out;
  }
  static variable_list backward(AutogradContext* context, variable_list grads) {
    const auto saved = context->get_saved_variables();
    const torch::Tensor &q = saved[0], &k = saved[1], &v = saved[2], &probabilities = saved[3], &valid = saved[4];
    const torch::Tensor g = grads[0].contiguous();
    const kernels::Attention shape{q.size(1),
                                   k.size(1),
                                   q.size(2),
                                   static_cast<float>(context->saved_data["scale"].toDouble()),
                                   context->saved_data["softmax"].toBool(),
                                   valid.numel() > 0 ? valid.data_ptr<int64_t>() : nullptr,
                                   context->saved_data["contexts"].toInt()};
    torch::Tensor dq = torch::empty_like(q), dk = torch::empty_like(k), dv = torch::empty_like(v);
    at::parallel_for(0, q.size(0), kContextGrain, [&](int64_t begin, int64_t end) {
      kernels::attention_backward(shape, q.data_ptr<float>(), k.data_ptr<float>(), v.data_ptr<float>(),
                                  probabilities.data_ptr<float>(), g.data_ptr<float>(), dq.data_ptr<float>(),
                                  dk.data_ptr<float>(), dv.data_ptr<float>(), begin, end);
    });
    return {dq, dk, dv, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

EnsembleModel::EnsembleModel(long members, long d, ArchitectureOptions options, const torch::Device& device)
    : members_(members),
      d_(d),
      h_(options.hidden_for(d)),
      options_(std::move(options)),
      device_(device),
      kernels_(device.is_cpu()) {
  options_.validate();
  if (members_ < 1) throw std::invalid_argument("EnsembleModel: members must be >= 1");
  // Registration order and shapes are TransformerModel's of old: the same seed gives the same weights.
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
      blocks_.push_back(block);
    }
  }
  readout_ = add_dense("readout", h_, 1, true);

  const auto float_options = torch::TensorOptions().dtype(torch::kFloat32).device(device_);
  flat_ = torch::zeros({per_member_ * members_}, float_options);
  flat_grad_ = torch::zeros({per_member_ * members_}, float_options);
  for (Parameter& p : parameters_) {
    const long numel = p.numel;
    std::vector<int64_t> stacked{members_};
    stacked.insert(stacked.end(), p.shape.begin(), p.shape.end());
    // A leaf that aliases the flat buffer (detach shares the storage), whose gradient aliases flat_grad:
    // AdamW then sees one tensor, and autograd accumulates into it in place.
    p.value = flat_.narrow(0, p.offset, numel * members_).view(stacked).detach().requires_grad_(true);
    p.value.mutable_grad() = flat_grad_.narrow(0, p.offset, numel * members_).view(stacked);
  }
}

int EnsembleModel::add(const std::string& name, std::vector<int64_t> shape, long fan_in) {
  Parameter p;
  p.name = name;
  p.shape = std::move(shape);
  p.fan_in = fan_in;
  p.offset = per_member_ * members_;
  p.numel = 1;
  for (int64_t s : p.shape) p.numel *= s;
  per_member_ += p.numel;
  parameters_.push_back(std::move(p));
  return static_cast<int>(parameters_.size() - 1);
}

EnsembleModel::Dense EnsembleModel::add_dense(const std::string& name, long in, long out, bool bias) {
  Dense dense;
  dense.weight = add(name + ".weight", {out, in}, in);
  if (bias) dense.bias = add(name + ".bias", {out}, 0);
  return dense;
}

EnsembleModel::LayerNormIndex EnsembleModel::add_layer_norm(const std::string& name, long width) {
  LayerNormIndex p;
  p.weight = add(name + ".weight", {width}, -1);
  p.bias = add(name + ".bias", {width}, 0);
  return p;
}

void EnsembleModel::initialise(long member, StreamAddress address) {
  torch::NoGradGuard no_grad;
  // flax lecun_normal: truncated to [-2, 2] standard units, then scaled so the variance is 1/fan_in.
  constexpr double kTruncatedStd = 0.87962566103423978;
  for (std::size_t i = 0; i < parameters_.size(); ++i) {
    const Parameter& p = parameters_[i];
    torch::Tensor slot = p.value.select(0, member);
    if (p.fan_in == 0) {
      slot.zero_();
    } else if (p.fan_in < 0) {
      slot.fill_(1.0);
    } else {
      address.unit = i;
      RandomStream stream(StreamId::network, address);
      const double scale = std::sqrt(1.0 / static_cast<double>(p.fan_in)) / kTruncatedStd;
      std::vector<float> values(static_cast<std::size_t>(slot.numel()));
      for (float& v : values) {
        double z = stream.normal();
        while (std::abs(z) > 2.0) z = stream.normal();
        v = static_cast<float>(scale * z);
      }
      slot.copy_(torch::from_blob(values.data(), slot.sizes(), torch::kFloat32));
    }
  }
}

torch::Tensor EnsembleModel::member_values(long member) const {
  std::vector<torch::Tensor> parts;
  for (const Parameter& p : parameters_) parts.push_back(p.value.detach().select(0, member).reshape({-1}));
  return torch::cat(parts).to(torch::kCPU);
}

void EnsembleModel::set_member_values(long member, const torch::Tensor& values) {
  if (values.numel() != per_member_) throw std::invalid_argument("EnsembleModel: wrong number of values");
  torch::NoGradGuard no_grad;
  const torch::Tensor source = values.to(device_, torch::kFloat32).contiguous();
  long offset = 0;
  for (const Parameter& p : parameters_) {
    torch::Tensor slot = p.value.select(0, member);
    slot.copy_(source.narrow(0, offset, slot.numel()).view(slot.sizes()));
    offset += slot.numel();
  }
}

torch::Tensor EnsembleModel::take(int index, const torch::Tensor& owner) const {
  return parameters_[static_cast<std::size_t>(index)].value.index_select(0, owner);
}

torch::Tensor EnsembleModel::project(const torch::Tensor& x, int weight, const Chunking& chunks) const {
  if (kernels_)
    return ChunkDense::apply(x, parameters_[static_cast<std::size_t>(weight)].value, no_bias(), chunks.owner,
                             chunks.valid, chunks.contexts);
  // x (chunks, rows, in) times each chunk's kernel (out, in), transposed: one GEMM per chunk.
  return torch::bmm(x, take(weight, chunks.owner).transpose(1, 2));
}

torch::Tensor EnsembleModel::dense(const torch::Tensor& x, const Dense& layer, const Chunking& chunks) const {
  if (kernels_)
    return ChunkDense::apply(x, parameters_[static_cast<std::size_t>(layer.weight)].value,
                             layer.bias >= 0 ? parameters_[static_cast<std::size_t>(layer.bias)].value : no_bias(),
                             chunks.owner, chunks.valid, chunks.contexts);
  torch::Tensor y = project(x, layer.weight, chunks);
  if (layer.bias >= 0) y = y + take(layer.bias, chunks.owner).unsqueeze(1);
  return y;
}

torch::Tensor EnsembleModel::layer_norm(const torch::Tensor& x, const LayerNormIndex& p, const Chunking& chunks) const {
  if (kernels_)
    return ChunkLayerNorm::apply(x, parameters_[static_cast<std::size_t>(p.weight)].value,
                                 parameters_[static_cast<std::size_t>(p.bias)].value, chunks.owner, chunks.valid,
                                 chunks.contexts, options_.layer_norm_epsilon);
  const torch::Tensor normalised = torch::layer_norm(x, {h_}, {}, {}, options_.layer_norm_epsilon);
  return normalised * take(p.weight, chunks.owner).unsqueeze(1) + take(p.bias, chunks.owner).unsqueeze(1);
}

torch::Tensor EnsembleModel::attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                                       bool softmax, const Chunking& chunks) const {
  const double scale = 1.0 / std::sqrt(static_cast<double>(h_));
  if (kernels_) return ContextAttention::apply(q, k, v, scale, softmax, chunks.valid, chunks.contexts);
  torch::Tensor scores = torch::bmm(q, k.transpose(1, 2)).mul_(scale);
  if (!softmax) return torch::bmm(scores, v);
  if (q.size(1) > 1) {
    // -inf above the diagonal (key j > query i); the authors' int32 minimum gives the same softmax. A
    // single query row is the last token, which sees every key.
    const long tokens = k.size(1);
    const torch::Tensor mask =
        torch::full({tokens, tokens}, -std::numeric_limits<float>::infinity(), scores.options()).triu(1);
    scores = scores + mask;
  }
  return torch::bmm(torch::softmax(scores, -1), v);
}

torch::Tensor EnsembleModel::block_forward(const Block& block, const torch::Tensor& u, long tokens, bool query_only,
                                           const Chunking& owner) const {
  const long chunks = u.size(0), contexts = u.size(1) / tokens;
  const torch::Tensor key = project(u, block.key, owner).reshape({chunks * contexts, tokens, h_});
  const torch::Tensor value = project(u, block.value, owner).reshape({chunks * contexts, tokens, h_});
  // The query is the last token: it attends to every token, so it needs no mask.
  const torch::Tensor input = query_only ? u.reshape({chunks, contexts, tokens, h_}).select(2, tokens - 1) : u;
  const long rows = query_only ? 1 : tokens;
  const torch::Tensor query = project(input, block.query, owner).reshape({chunks * contexts, rows, h_});
  const torch::Tensor attended = attention(query, key, value, true, owner).reshape({chunks, contexts * rows, h_});
  const torch::Tensor r = options_.attention_residual ? input + attended : attended;
  const torch::Tensor p = layer_norm(r, block.norm1, owner);
  if (!options_.has_mlp()) {
    // Quirk of the authors' block without MLP: the output is LN2(r + LN1(r)).
    return layer_norm(r + p, block.norm2, owner);
  }
  torch::Tensor m = dense(p, block.mlp1, owner);
  if (options_.gelu_mlp) m = dense(torch::gelu(m), block.mlp2, owner);
  return layer_norm(options_.mlp_residual ? m + p : m, block.norm2, owner);
}

torch::Tensor EnsembleModel::hidden_states(const torch::Tensor& tokens, const Chunking& owner, bool query_only) const {
  const long chunks = tokens.size(0), contexts = tokens.size(1), length = tokens.size(2), width = tokens.size(3);
  const torch::Tensor all = tokens.reshape({chunks, contexts * length, width});
  if (options_.architecture == Architecture::linear_attention) {
    // A = q k^T / sqrt(h) over all pairs (no mask, no softmax), o = A v.
    const long rows = query_only ? 1 : length;
    const torch::Tensor queries = query_only ? tokens.select(2, length - 1) : all;
    const torch::Tensor q = dense(queries, la_query_, owner).reshape({chunks * contexts, rows, h_});
    const torch::Tensor k = dense(all, la_key_, owner).reshape({chunks * contexts, length, h_});
    const torch::Tensor v = dense(all, la_value_, owner).reshape({chunks * contexts, length, h_});
    return attention(q, k, v, false, owner).reshape({chunks, contexts * rows, h_});
  }
  torch::Tensor u = dense(all, embedding_, owner);
  for (std::size_t b = 0; b < blocks_.size(); ++b)
    u = block_forward(blocks_[b], u, length, query_only && b + 1 == blocks_.size(), owner);
  return u;
}

torch::Tensor EnsembleModel::forward(const torch::Tensor& tokens, const torch::Tensor& owner,
                                     const torch::Tensor& valid) const {
  const Chunking chunks{owner, valid.defined() ? valid : torch::empty({0}, torch::kInt64), tokens.size(1)};
  return dense(hidden_states(tokens, chunks, true), readout_, chunks).reshape({tokens.size(0), tokens.size(1)});
}

torch::Tensor EnsembleModel::forward_all_tokens(const torch::Tensor& tokens, const torch::Tensor& owner) const {
  const Chunking chunks{owner, torch::empty({0}, torch::kInt64), tokens.size(1)};
  return dense(hidden_states(tokens, chunks, false), readout_, chunks)
      .reshape({tokens.size(0), tokens.size(1), tokens.size(2)});
}

}  // namespace iclab::nn
