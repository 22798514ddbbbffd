#include "preset_registry.hpp"

#include "iclab/params/model_params.hpp"
#include "nn_handover.hpp"

#ifdef ICLAB_HAVE_NN
#include "iclab/nn/presets.hpp"
#include "iclab/nn/tensor_solver.hpp"
#include "iclab/nn/transformer_evaluator.hpp"
#include "iclab/repr/presets.hpp"
#endif

namespace iclab::cli {

const std::vector<Preset>& all_presets() {
  static const std::vector<Preset> all = [] {
    std::vector<Preset> list = presets();
#ifdef ICLAB_HAVE_NN
    for (const auto& more : {nn::transformer_presets(), repr::representation_presets()})
      list.insert(list.end(), more.begin(), more.end());
#endif
    // Figure folders without a plot function of their own (a new figure can be a folder alone).
    const std::vector<Preset> folders = folder_presets(list);
    list.insert(list.end(), folders.begin(), folders.end());
    return list;
  }();
  return all;
}

std::unique_ptr<Evaluator> make_evaluator(const Experiment& experiment) {
#ifdef ICLAB_HAVE_NN
  return nn::make_evaluator_with_nn(experiment);
#else
  // What a module evaluates (its quantities, or a `device` for the tensor solver) is iclab-nn's.
  if (const std::string use = module_use(experiment); !use.empty()) hand_over_to_nn_program(use);
  return make_point_evaluator(experiment);
#endif
}

std::unique_ptr<RidgeSolver> make_solver(const std::string& name, const std::string& device,
                                         const std::string& option) {
  if (device.empty()) return make_ridge_solver(name);
#ifdef ICLAB_HAVE_NN
  try {
    return nn::make_ridge_solver_on(name, device);
  } catch (const InvalidArgument& error) {
    const std::string message = error.what();
    throw InvalidArgument(message.rfind("device: ", 0) == 0 ? option + message.substr(6) : message);
  }
#else
  hand_over_to_nn_program(option);
#endif
}

}  // namespace iclab::cli
