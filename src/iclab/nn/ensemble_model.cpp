#include "iclab/nn/ensemble_model.hpp"

#include <Eigen/Dense>
#include <cmath>
#include <limits>
#include <stdexcept>

namespace iclab::nn {
namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// C[i] = op(A[i]) op(B[i]) for every context i; A, B contiguous CPU float tensors (N, rows, cols).
// torch's CPU bmm makes two tensor views and one BLAS call per matrix, which costs more than the
// arithmetic of an (l+1) x h attention product; here each product is an Eigen coefficient-based (lazy)
// product, computed wholly by one thread, so a context's result depends on nothing but its inputs.
torch::Tensor small_bmm(const torch::Tensor& a, bool transpose_a, const torch::Tensor& b, bool transpose_b) {
  const long count = a.size(0);
  const long m = transpose_a ? a.size(2) : a.size(1);
  const long n = transpose_b ? b.size(1) : b.size(2);
  torch::Tensor c = torch::empty({count, m, n}, a.options());
  const float* pa = a.data_ptr<float>();
  const float* pb = b.data_ptr<float>();
  float* pc = c.data_ptr<float>();
  const long a_size = a.size(1) * a.size(2), b_size = b.size(1) * b.size(2);
  at::parallel_for(0, count, 64, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const Eigen::Map<const RowMatrix> ma(pa + i * a_size, a.size(1), a.size(2));
      const Eigen::Map<const RowMatrix> mb(pb + i * b_size, b.size(1), b.size(2));
      Eigen::Map<RowMatrix> mc(pc + i * m * n, m, n);
      if (!transpose_a && !transpose_b) mc.noalias() = ma.lazyProduct(mb);
      if (!transpose_a && transpose_b) mc.noalias() = ma.lazyProduct(mb.transpose());
      if (transpose_a && !transpose_b) mc.noalias() = ma.transpose().lazyProduct(mb);
      if (transpose_a && transpose_b) mc.noalias() = ma.transpose().lazyProduct(mb.transpose());
    }
  });
  return c;
}

// a (N, m, k) times b (N, k, n), or times b^T for b (N, n, k) when transpose_b, with its gradients.
struct ContextProduct : torch::autograd::Function<ContextProduct> {
  static torch::Tensor forward(torch::autograd::AutogradContext* context, const torch::Tensor& a,
                               const torch::Tensor& b, bool transpose_b) {
    const torch::Tensor ac = a.contiguous(), bc = b.contiguous();
    context->save_for_backward({ac, bc});
    context->saved_data["transpose_b"] = transpose_b;
    return small_bmm(ac, false, bc, transpose_b);
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* context,
                                                 torch::autograd::variable_list grads) {
    const auto saved = context->get_saved_variables();
    const torch::Tensor& a = saved[0];
    const torch::Tensor& b = saved[1];
    const torch::Tensor g = grads[0].contiguous();
    if (context->saved_data["transpose_b"].toBool())  // C = A B^T: dA = G B, dB = G^T A
      return {small_bmm(g, false, b, false), small_bmm(g, true, a, false), torch::Tensor()};
    return {small_bmm(g, false, b, true), small_bmm(a, true, g, false), torch::Tensor()};  // C = A B
  }
};

// The per-context products of attention: Eigen on the CPU (see small_bmm), bmm elsewhere.
torch::Tensor context_product(const torch::Tensor& a, const torch::Tensor& b, bool transpose_b) {
  if (a.is_cpu() && a.scalar_type() == torch::kFloat32) return ContextProduct::apply(a, b, transpose_b);
  return torch::bmm(a, transpose_b ? b.transpose(1, 2) : b);
}

}  // namespace

EnsembleModel::EnsembleModel(long members, long d, ArchitectureOptions options, const torch::Device& device)
    : members_(members), d_(d), h_(options.hidden_for(d)), options_(std::move(options)), device_(device) {
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

torch::Tensor EnsembleModel::project(const torch::Tensor& x, int weight, const torch::Tensor& owner) const {
  // x (chunks, rows, in) times each chunk's kernel (out, in), transposed: one GEMM per chunk.
  return torch::bmm(x, take(weight, owner).transpose(1, 2));
}

torch::Tensor EnsembleModel::dense(const torch::Tensor& x, const Dense& layer, const torch::Tensor& owner) const {
  torch::Tensor y = project(x, layer.weight, owner);
  if (layer.bias >= 0) y = y + take(layer.bias, owner).unsqueeze(1);
  return y;
}

torch::Tensor EnsembleModel::layer_norm(const torch::Tensor& x, const LayerNormIndex& p,
                                        const torch::Tensor& owner) const {
  const torch::Tensor normalised = torch::layer_norm(x, {h_}, {}, {}, options_.layer_norm_epsilon);
  return normalised * take(p.weight, owner).unsqueeze(1) + take(p.bias, owner).unsqueeze(1);
}

torch::Tensor EnsembleModel::block_forward(const Block& block, const torch::Tensor& u, long tokens, bool query_only,
                                           const torch::Tensor& owner) const {
  const long chunks = u.size(0), contexts = u.size(1) / tokens;
  const double scale = 1.0 / std::sqrt(static_cast<double>(h_));
  const torch::Tensor key = project(u, block.key, owner).reshape({chunks * contexts, tokens, h_});
  const torch::Tensor value = project(u, block.value, owner).reshape({chunks * contexts, tokens, h_});
  // The query is the last token: it attends to every token, so it needs no mask.
  const torch::Tensor input = query_only ? u.reshape({chunks, contexts, tokens, h_}).select(2, tokens - 1) : u;
  const long rows = query_only ? 1 : tokens;
  const torch::Tensor query = project(input, block.query, owner).reshape({chunks * contexts, rows, h_});
  torch::Tensor scores = context_product(query, key, true).mul_(scale);
  if (!query_only) {
    // -inf above the diagonal (key j > query i); the authors' int32 minimum gives the same softmax.
    const torch::Tensor mask =
        torch::full({tokens, tokens}, -std::numeric_limits<float>::infinity(), scores.options()).triu(1);
    scores = scores + mask;
  }
  const torch::Tensor attended =
      context_product(torch::softmax(scores, -1), value, false).reshape({chunks, contexts * rows, h_});
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

torch::Tensor EnsembleModel::hidden_states(const torch::Tensor& tokens, const torch::Tensor& owner,
                                           bool query_only) const {
  const long chunks = tokens.size(0), contexts = tokens.size(1), length = tokens.size(2), width = tokens.size(3);
  const torch::Tensor all = tokens.reshape({chunks, contexts * length, width});
  if (options_.architecture == Architecture::linear_attention) {
    // A = q k^T / sqrt(h) over all pairs (no mask, no softmax), o = A v.
    const double scale = 1.0 / std::sqrt(static_cast<double>(h_));
    const long rows = query_only ? 1 : length;
    const torch::Tensor queries = query_only ? tokens.select(2, length - 1) : all;
    const torch::Tensor q = dense(queries, la_query_, owner).reshape({chunks * contexts, rows, h_});
    const torch::Tensor k = dense(all, la_key_, owner).reshape({chunks * contexts, length, h_});
    const torch::Tensor v = dense(all, la_value_, owner).reshape({chunks * contexts, length, h_});
    const torch::Tensor scores = context_product(q, k, true).mul_(scale);
    return context_product(scores, v, false).reshape({chunks, contexts * rows, h_});
  }
  torch::Tensor u = dense(all, embedding_, owner);
  for (std::size_t b = 0; b < blocks_.size(); ++b)
    u = block_forward(blocks_[b], u, length, query_only && b + 1 == blocks_.size(), owner);
  return u;
}

torch::Tensor EnsembleModel::forward(const torch::Tensor& tokens, const torch::Tensor& owner) const {
  return dense(hidden_states(tokens, owner, true), readout_, owner).reshape({tokens.size(0), tokens.size(1)});
}

torch::Tensor EnsembleModel::forward_all_tokens(const torch::Tensor& tokens, const torch::Tensor& owner) const {
  return dense(hidden_states(tokens, owner, false), readout_, owner)
      .reshape({tokens.size(0), tokens.size(1), tokens.size(2)});
}

}  // namespace iclab::nn
