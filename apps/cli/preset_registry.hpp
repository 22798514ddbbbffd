// The composition root of the figure presets and experiment evaluators: the linear-model presets of
// the core library and the modules' (their plots are torch-free, iclab_modules); the modules'
// evaluators when iclab is built with the neural-network module.
#pragma once

#include <memory>
#include <vector>

#include "iclab/experiments/evaluate.hpp"
#include "iclab/experiments/experiment.hpp"
#include "iclab/reproduce/presets.hpp"

namespace iclab::cli {

const std::vector<Preset>& all_presets();

// The evaluator of an experiment: with the neural-network module, iclab_nn's (make_evaluator_with_nn);
// without it the core's PointEvaluator or a module's torch-free one (repr_gap: ReprGapEvaluator), and an
// InvalidArgument for what needs torch (module_use: main() hands such commands to `iclab-nn` first).
std::unique_ptr<Evaluator> make_evaluator(const Experiment& experiment);
// The columns of the experiment's results, as its evaluator writes them, without making the evaluator:
// torch-free for every module (iclab_modules), so `iclab merge` needs no `iclab-nn`.
std::vector<std::string> result_columns(const Experiment& experiment);
// The solver `name` on `device` ("" : the core's Eigen solvers); a device needs iclab_nn (InvalidArgument
// without it: main() hands commands with a --device to `iclab-nn`).
std::unique_ptr<RidgeSolver> make_solver(const std::string& name, const std::string& device, const std::string& option);

}  // namespace iclab::cli
