#include "iclab/nn/torch_support.hpp"

#include <torch/cuda.h>

#include <cstring>
#include <regex>

#include "iclab/nn/torch_errors.hpp"
#include "iclab/params/model_params.hpp"
#include "iclab/params/number.hpp"

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

std::optional<std::string> describe_torch_error(const std::exception& error) {
  const auto* c10_error = dynamic_cast<const c10::Error*>(&error);
  if (!c10_error) return std::nullopt;
  // msg(): the text without the backtrace; only what is recognised below is put in iclab's words.
  std::string text = c10_error->msg();
  text = text.substr(0, text.find('\n'));
  std::smatch match;
  if (std::regex_search(text, match, std::regex(R"(you tried to allocate (\d+) bytes)")) ||
      dynamic_cast<const c10::OutOfMemoryError*>(&error)) {
    std::string amount = "the memory it needed";
    if (!match.empty())
      if (const auto bytes = to_integer<unsigned long long>(match.str(1)))
        amount = match.str(1) + " bytes (" + std::to_string(*bytes >> 20) + " MiB)";
    return "out of memory: libtorch could not allocate " + amount +
           "; ask for less (a smaller width, fewer contexts, prompts or models)";
  }
  if (text.find("PytorchStream") != std::string::npos || text.find("open file failed") != std::string::npos ||
      text.find("file write failed") != std::string::npos) {
    std::string reason = "the file is not a valid archive, or the disk is full";
    if (std::regex_search(text, match, std::regex(R"(errno (\d+))")))
      if (const auto number = to_integer<int>(match.str(1)); number && *number > 0) reason = std::strerror(*number);
    return "libtorch could not read or write a file: " + reason;
  }
  // Anything else is an input iclab's own checks should have refused: its text (a shape or a type in torch's
  // terms) would not tell the user which option to change, so it is not shown.
  return std::string("libtorch failed on this input, which iclab should have refused: please report the command");
}

TorchThreadScope::TorchThreadScope(int threads) : previous_(at::get_num_threads()), blas_(threads) {
  if (threads != previous_) at::set_num_threads(threads);
}

TorchThreadScope::~TorchThreadScope() {
  if (at::get_num_threads() != previous_) at::set_num_threads(previous_);
}

}  // namespace iclab::nn
