#include "iclab/nn/transformer_columns.hpp"

#include "iclab/error.hpp"
#include "iclab/experiments/schema.hpp"

namespace iclab::nn {

bool computes_transformer(const Experiment& experiment) {
  for (const std::string& q : experiment_schema().module_quantities("nn"))
    if (experiment.computes(q)) return true;
  return false;
}

TransformerColumns transformer_columns(const Experiment& experiment) {
  if (!computes_transformer(experiment) || experiment.compute.size() != 1)
    throw InvalidArgument("compute: a TransformerEvaluator evaluates the quantity of src/iclab/nn/schema.toml only");
  TransformerColumns out;
  auto& c = out.columns;
  c = {"point", "d", "alpha", "tau", "kappa", "rho", "ctrain", "model", "hidden", "link"};
  for (const char* key : {"gelu_mlp", "mlp_residual", "attention_residual"})
    if (experiment.sets(key)) {
      c.emplace_back(key);
      out.variant_keys.emplace_back(key);
    }
  c.insert(c.end(), {"batch", "lr", "weight_decay", "epochs", "steps", "test_contexts", "ell", "n", "k", "repeat",
                     "seed", "train_loss", "ctest", "icl_error", "idg_error", "g_task"});
  return out;
}

}  // namespace iclab::nn
