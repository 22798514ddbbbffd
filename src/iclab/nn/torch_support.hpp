// Small torch helpers shared by the neural-network module (internal to iclab_nn: includes torch).
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "iclab/linalg/dense.hpp"

namespace iclab::nn {

// "cpu", "cuda" or "cuda:N"; InvalidArgument when malformed or when this build/machine has no CUDA.
torch::Device parse_device(const std::string& text);

// A copy of host floats as a tensor of `sizes` on `device`.
torch::Tensor to_device(const std::vector<float>& values, std::vector<int64_t> sizes, const torch::Device& device);

// Torch's intra-op threads and OpenBLAS's pool (which torch's CPU GEMMs use and torch's setting does not
// limit) for the lifetime of the scope; both are restored afterwards, so a library object never changes
// them for the rest of the process.
class TorchThreadScope {
 public:
  explicit TorchThreadScope(int threads);
  ~TorchThreadScope();
  TorchThreadScope(const TorchThreadScope&) = delete;
  TorchThreadScope& operator=(const TorchThreadScope&) = delete;

 private:
  int previous_;
  BlasThreadScope blas_;
};

}  // namespace iclab::nn
