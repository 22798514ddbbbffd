#include "iclab/nn/transformer_columns.hpp"

#include "iclab/error.hpp"
#include "iclab/experiments/column_names.hpp"
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
  c = {columns::point, columns::d,      columns::alpha, columns::tau,    columns::kappa,
       columns::rho,   columns::ctrain, columns::model, columns::hidden, columns::link};
  for (const char* key : {columns::gelu_mlp, columns::mlp_residual, columns::attention_residual})
    if (experiment.sets(key)) {
      c.emplace_back(key);
      out.variant_keys.emplace_back(key);
    }
  c.insert(c.end(), {columns::batch, columns::lr, columns::weight_decay, columns::epochs, columns::steps,
                     columns::test_contexts, columns::ell, columns::n, columns::k, columns::repeat, columns::seed,
                     columns::train_loss, columns::ctest, columns::icl_error, columns::idg_error, columns::g_task});
  return out;
}

}  // namespace iclab::nn
