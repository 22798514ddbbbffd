// M Transformers of one architecture (spec A1.2) as one batched model (internal to iclab_nn: includes
// torch). Every parameter is stacked along a leading member axis, and a forward pass takes contexts in
// fixed-size chunks, each owned by one member.
//
// Why chunks: a member's numbers must not depend on which other members share its ensemble. Every
// product over contexts (the weight gradients) is therefore computed per chunk, with a GEMM whose
// shape is the same whatever the ensemble, and the chunks of a member are summed in order by
// index_add (sequential on the CPU). A member's last chunk is padded with zero contexts of weight 0,
// in the same way alone as inside an ensemble. On the CPU this makes a member's arithmetic
// bit-identical whatever its companions and the thread count (tests/test_ensemble.cpp proves it).
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "iclab/nn/architecture.hpp"
#include "iclab/random/streams.hpp"

namespace iclab::nn {

class EnsembleModel {
 public:
  struct Parameter {
    std::string name;            // flax-style, e.g. "block0.query.weight"
    std::vector<int64_t> shape;  // of one member's tensor
    long numel = 0;              // of one member's tensor
    long fan_in = 0;             // > 0: lecun_normal kernel; 0: zeros (biases); -1: ones (LayerNorm scale)
    long offset = 0;             // in the flat buffer (members x numel values, member-major inside)
    torch::Tensor value;         // (members, shape...), a view of flat()
  };

  EnsembleModel(long members, long d, ArchitectureOptions options, const torch::Device& device);

  long members() const { return members_; }
  long dim() const { return d_; }
  long hidden() const { return h_; }
  const ArchitectureOptions& options() const { return options_; }
  const std::vector<Parameter>& parameters() const { return parameters_; }
  long parameters_per_member() const { return per_member_; }
  // Every parameter of every member, parameter-major: AdamW updates this one tensor.
  torch::Tensor& flat() { return flat_; }
  torch::Tensor& flat_grad() { return flat_grad_; }

  // Member m's kernels from the network stream of `address` (unit = the parameter's index), so the
  // initial weights depend on neither the device, torch's generator, nor the other members.
  void initialise(long member, StreamAddress address);

  // tokens (chunks, C, l+1, d+1), owner (chunks) int64 member of each chunk -> query predictions
  // (chunks, C). The last block computes the query's row only (the readout sees nothing else).
  // valid (chunks) int64, if defined: how many of a chunk's contexts are real (the first ones); the CPU
  // kernels skip the rest (padding: its predictions are 0), which changes no real context's numbers.
  torch::Tensor forward(const torch::Tensor& tokens, const torch::Tensor& owner,
                        const torch::Tensor& valid = torch::Tensor()) const;
  // The readout applied to every token: (chunks, C, l+1), for tests of the mask and the shortcut.
  torch::Tensor forward_all_tokens(const torch::Tensor& tokens, const torch::Tensor& owner) const;

  // Torch's own ops instead of the CPU kernels (the layers as on CUDA): for tests, which compare the two.
  void use_torch_ops() { kernels_ = false; }
  bool uses_cpu_kernels() const { return kernels_; }

  // One member's parameters as one flat CPU float tensor in registration order, and back.
  torch::Tensor member_values(long member) const;
  void set_member_values(long member, const torch::Tensor& values);

 private:
  struct Dense {
    int weight = -1, bias = -1;  // indices into parameters_ (bias -1: none)
  };
  struct LayerNormIndex {
    int weight = -1, bias = -1;
  };
  struct Block {
    int query = -1, key = -1, value = -1;
    LayerNormIndex norm1, norm2;
    Dense mlp1, mlp2;
  };

  int add(const std::string& name, std::vector<int64_t> shape, long fan_in);
  Dense add_dense(const std::string& name, long in, long out, bool bias);
  LayerNormIndex add_layer_norm(const std::string& name, long width);

  // The chunks of a pass: each chunk's member, its real contexts (valid, or an empty tensor: all) and
  // the contexts per chunk.
  struct Chunking {
    torch::Tensor owner, valid;
    long contexts = 1;
  };

  // Per-chunk copies of a member-stacked parameter: (chunks, shape...).
  torch::Tensor take(int index, const torch::Tensor& owner) const;
  torch::Tensor dense(const torch::Tensor& x, const Dense& layer, const Chunking& chunks) const;
  torch::Tensor project(const torch::Tensor& x, int weight, const Chunking& chunks) const;
  torch::Tensor layer_norm(const torch::Tensor& x, const LayerNormIndex& p, const Chunking& chunks) const;
  // q (contexts, queries, h), k and v (contexts, l+1, h): causal softmax attention (one query row: the
  // last token, which sees every key), or q k^T v without softmax or mask (linear attention); scores /sqrt(h).
  torch::Tensor attention(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v, bool softmax,
                          const Chunking& chunks) const;
  // u (chunks, C * rows, h) -> the block's output; rows = l+1, or 1 when query_only.
  torch::Tensor block_forward(const Block& block, const torch::Tensor& u, long tokens, bool query_only,
                              const Chunking& chunks) const;
  torch::Tensor hidden_states(const torch::Tensor& tokens, const Chunking& chunks, bool query_only) const;

  long members_ = 0;
  long d_ = 0;
  long h_ = 0;
  ArchitectureOptions options_;
  torch::Device device_;
  bool kernels_ = true;  // the CPU kernels (see above)
  std::vector<Parameter> parameters_;
  long per_member_ = 0;
  torch::Tensor flat_, flat_grad_;
  Dense embedding_, readout_, la_query_, la_key_, la_value_;
  std::vector<Block> blocks_;
};

}  // namespace iclab::nn
