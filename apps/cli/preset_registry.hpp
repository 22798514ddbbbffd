// The composition root of the figure presets and experiment evaluators: the linear-model presets of
// the core library, plus those of the neural-network module when iclab is built with it.
#pragma once

#include <memory>
#include <vector>

#include "iclab/experiments/evaluate.hpp"
#include "iclab/experiments/experiment.hpp"
#include "iclab/reproduce/presets.hpp"

namespace iclab::cli {

const std::vector<Preset>& all_presets();

// The evaluator of an experiment: iclab_nn's TransformerEvaluator for compute = ["transformer"] (an
// InvalidArgument when iclab is built without -DICLAB_NN=ON), else the core's PointEvaluator (whose
// simulation fits on a `device` with iclab_nn's tensor solver: `iclab` hands such files to `iclab-nn`).
std::unique_ptr<Evaluator> make_evaluator(const Experiment& experiment);
// The solver `name` on `device` ("" : the core's Eigen solvers); a device needs iclab_nn (`iclab` hands
// the command over to `iclab-nn`; InvalidArgument without it).
std::unique_ptr<RidgeSolver> make_solver(const std::string& name, const std::string& device, const std::string& option);

}  // namespace iclab::cli
