#include "iclab/repr/repr_columns.hpp"

#include <stdexcept>

#include "iclab/error.hpp"
#include "iclab/experiments/column_names.hpp"
#include "iclab/experiments/schema.hpp"

namespace iclab::repr {
namespace {

const std::vector<std::string> kTrainingColumns = {
    columns::step,   columns::train_loss, columns::loss_gap, columns::pred_to_ridge_in, columns::pred_to_ridge_ood,
    columns::seconds};
const std::vector<std::string> kGapColumns = {columns::gap, columns::gap_std, columns::ridge_error,
                                              columns::best_error};

// The quantities of src/iclab/repr/schema.toml, in its order: the training log, then the gap.
std::vector<std::string> repr_quantities() {
  std::vector<std::string> q = experiment_schema().module_quantities("repr");
  if (q.size() != 2) throw std::logic_error("src/iclab/repr/schema.toml: expected the training and gap quantities");
  return q;
}

}  // namespace

bool computes_repr(const Experiment& experiment) {
  for (const std::string& q : experiment_schema().module_quantities("repr"))
    if (experiment.computes(q)) return true;
  return false;
}

ReprColumns repr_columns(const Experiment& experiment) {
  const auto quantities = repr_quantities();
  if (experiment.compute.size() != 1 || !position_of(quantities, experiment.compute.front()))
    throw InvalidArgument("compute: a ReprEvaluator evaluates one quantity of src/iclab/repr/schema.toml");
  ReprColumns out;
  out.training = experiment.compute.front() == quantities[0];
  for (const std::string& key : experiment_schema().keys_of(experiment.compute.front()))
    if (experiment.sets(key)) out.option_keys.push_back(key);
  auto& c = out.columns;
  c = {columns::point, columns::d};
  for (const char* key : {columns::m, columns::K, columns::N}) c.emplace_back(key);
  c.emplace_back(columns::tau);
  for (const std::string& key : out.option_keys)
    if (key != columns::m && key != columns::K && key != columns::N) c.push_back(key);
  c.emplace_back(columns::seed);
  for (const auto& column : out.training ? kTrainingColumns : kGapColumns) c.push_back(column);
  return out;
}

}  // namespace iclab::repr
