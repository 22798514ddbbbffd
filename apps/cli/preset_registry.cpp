#include "preset_registry.hpp"

#include "iclab/nn/presets.hpp"
#include "iclab/nn/transformer_columns.hpp"
#include "iclab/params/model_params.hpp"
#include "iclab/repr/gap_evaluator.hpp"
#include "iclab/repr/presets.hpp"
#include "iclab/repr/repr_columns.hpp"

#ifdef ICLAB_HAVE_NN
#include "iclab/nn/tensor_solver.hpp"
#include "iclab/nn/transformer_evaluator.hpp"
#endif

namespace iclab::cli {

const std::vector<Preset>& all_presets() {
  static const std::vector<Preset> all = [] {
    std::vector<Preset> list = presets();
    // The modules' figures: their plots are torch-free (iclab_modules), so every program lists and
    // plots them; running their experiments needs `iclab-nn` (reproduce_module_need).
    for (const auto& more : {nn::transformer_presets(), repr::representation_presets()})
      list.insert(list.end(), more.begin(), more.end());
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
  // Torch-free module work runs here; main() has handed the rest of a module's work to `iclab-nn`
  // (module_use).
  if (repr::computes_repr_gap(experiment)) return std::make_unique<repr::ReprGapEvaluator>(experiment);
  if (const std::string use = module_use(experiment); !use.empty())
    throw InvalidArgument(use + ": needs iclab built with -DICLAB_NN=ON (libtorch)");
  return make_point_evaluator(experiment);
#endif
}

std::vector<std::string> result_columns(const Experiment& experiment) {
  if (nn::computes_transformer(experiment)) return nn::transformer_columns(experiment).columns;
  if (repr::computes_repr(experiment)) return repr::repr_columns(experiment).columns;
  return make_point_evaluator(experiment)->columns();
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
  throw InvalidArgument(option + ": needs iclab built with -DICLAB_NN=ON (libtorch)");  // main() hands it over
#endif
}

}  // namespace iclab::cli
