#include "iclab/nn/torch_support.hpp"

#include <torch/cuda.h>

#include "iclab/params/model_params.hpp"

namespace iclab::nn {

torch::Device parse_device(const std::string& text) {
  try {
    torch::Device device(text);
    if (device.is_cuda() && !torch::cuda::is_available())
      throw InvalidArgument("device: '" + text + "' needs a CUDA build of libtorch and a GPU (this build has no CUDA)");
    if (!device.is_cpu() && !device.is_cuda()) throw InvalidArgument("device: expected 'cpu' or 'cuda[:N]'");
    return device;
  } catch (const c10::Error&) {
    throw InvalidArgument("device: expected 'cpu' or 'cuda[:N]', got '" + text + "'");
  }
}

torch::Tensor to_device(const std::vector<float>& values, std::vector<int64_t> sizes, const torch::Device& device) {
  return torch::from_blob(const_cast<float*>(values.data()), sizes, torch::kFloat32).to(device, false, true);
}

TorchThreadScope::TorchThreadScope(int threads) : previous_(at::get_num_threads()), blas_(threads) {
  if (threads != previous_) at::set_num_threads(threads);
}

TorchThreadScope::~TorchThreadScope() {
  if (at::get_num_threads() != previous_) at::set_num_threads(previous_);
}

}  // namespace iclab::nn
