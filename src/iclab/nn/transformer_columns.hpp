// The columns of the `transformer` quantity's results (transformer_evaluator.hpp), from the experiment
// alone: torch-free (iclab_modules), so that `iclab merge` checks a Transformer run's files without
// libtorch. TransformerEvaluator builds its columns here.
#pragma once

#include <string>
#include <vector>

#include "iclab/experiments/experiment.hpp"

namespace iclab::nn {

// Whether the experiment computes the quantity of src/iclab/nn/schema.toml (a Transformer experiment).
bool computes_transformer(const Experiment& experiment);

struct TransformerColumns {
  // point, d, alpha, tau, kappa, rho, ctrain, model, hidden, link, [the architecture variants set],
  // batch, lr, weight_decay, epochs, steps, test_contexts, ell, n, k, repeat, seed, train_loss, ctest,
  // icl_error, idg_error, g_task.
  std::vector<std::string> columns;
  std::vector<std::string> variant_keys;  // gelu_mlp, mlp_residual, attention_residual: those the experiment sets
};
// InvalidArgument unless the experiment computes the Transformer quantity alone.
TransformerColumns transformer_columns(const Experiment& experiment);

}  // namespace iclab::nn
