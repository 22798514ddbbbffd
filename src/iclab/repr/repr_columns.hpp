// The columns of the repr quantities' results (repr_evaluator.hpp), from the experiment alone:
// torch-free (iclab_modules), so that `iclab merge` checks a Yang et al. run's files without libtorch.
// ReprEvaluator builds its columns here.
#pragma once

#include <string>
#include <vector>

#include "iclab/experiments/experiment.hpp"

namespace iclab::repr {

// Whether the experiment computes a quantity of src/iclab/repr/schema.toml.
bool computes_repr(const Experiment& experiment);

struct ReprColumns {
  bool training = false;                 // repr_training (else repr_gap)
  std::vector<std::string> option_keys;  // the quantity's keys the experiment sets, in the schema's order
  // point, d, m, K, N, tau, [the other keys of option_keys], seed, then the quantity's columns:
  // step, train_loss, loss_gap, pred_to_ridge_in, pred_to_ridge_ood, seconds (repr_training) or
  // gap, gap_std, ridge_error, best_error (repr_gap).
  std::vector<std::string> columns;
};
// InvalidArgument unless the experiment computes one repr quantity alone.
ReprColumns repr_columns(const Experiment& experiment);

}  // namespace iclab::repr
