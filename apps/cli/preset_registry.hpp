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
// InvalidArgument when iclab is built without -DICLAB_NN=ON), else the core's PointEvaluator.
std::unique_ptr<Evaluator> make_evaluator(const Experiment& experiment);

}  // namespace iclab::cli
