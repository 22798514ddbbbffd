#include "iclab/repr/gap_evaluator.hpp"

#include <stdexcept>
#include <utility>

#include "iclab/error.hpp"
#include "iclab/experiments/column_names.hpp"
#include "iclab/experiments/schema.hpp"
#include "iclab/repr/repr_columns.hpp"
#include "iclab/repr/theory.hpp"

namespace iclab::repr {
namespace {

long count_of(const ExperimentPoint& p, const char* key) {
  return static_cast<long>(std::get<double>(p.options.at(key)));
}

// The torch-free quantity of src/iclab/repr/schema.toml.
std::string gap_quantity() {
  for (const std::string& name : experiment_schema().module_quantities("repr"))
    if (!experiment_schema().find_quantity(name)->needs_torch) return name;
  throw std::logic_error("src/iclab/repr/schema.toml: no torch-free quantity (repr_gap)");
}

}  // namespace

bool computes_repr_gap(const Experiment& experiment) { return experiment.computes(gap_quantity()); }

Experiment gap_experiment(const TaskSpec& task, const std::vector<long>& lengths, long dictionaries, long prompts) {
  Experiment e;
  e.name = "repr-gap";
  e.compute = {gap_quantity()};
  e.seed = task.seed;
  const auto number = [](long v) { return std::vector<ParamValue>{static_cast<double>(v)}; };
  e.fixed = {{"d", number(task.d)},
             {"m", number(task.m)},
             {"K", number(task.K)},
             {"tau", {task.tau}},
             {"features", {to_string(task.features)}},
             {"dictionaries", number(dictionaries)},
             {"prompts", number(prompts)}};
  ExperimentAxis axis;
  axis.keys = {"N"};
  axis.values.emplace_back();
  for (long n : lengths) axis.values.front().emplace_back(static_cast<double>(n));
  e.axes.push_back(std::move(axis));
  return e;
}

TaskSpec point_task(const Experiment& experiment, const ExperimentPoint& p) {
  TaskSpec t;
  t.d = *p.d;
  t.m = count_of(p, "m");
  t.K = count_of(p, "K");
  t.N = count_of(p, "N");
  t.tau = *p.tau;
  if (const auto it = p.options.find("features"); it != p.options.end())
    t.features = parse_features(std::get<std::string>(it->second));
  t.seed = experiment.seed;
  t.validate();
  return t;
}

std::vector<Cell> point_cells(const Experiment& experiment, const std::vector<std::string>& option_keys,
                              const ExperimentPoint& p) {
  const ExperimentSchema& schema = experiment_schema();
  std::vector<Cell> row = {static_cast<long>(p.index), *p.d};
  for (const char* key : {"m", "K", "N"}) row.emplace_back(count_of(p, key));
  row.emplace_back(*p.tau);
  for (const std::string& key : option_keys) {
    if (key == "m" || key == "K" || key == "N") continue;
    const ParamValue& v = p.options.at(key);
    const KeyKind kind = schema.find_key(key)->kind;
    if (kind == KeyKind::text)
      row.emplace_back(std::get<std::string>(v));
    else if (kind == KeyKind::number)  // lr, beta, eta_q, gamma
      row.emplace_back(std::get<double>(v));
    else
      row.emplace_back(static_cast<long>(std::get<double>(v)));
  }
  row.emplace_back(static_cast<long>(experiment.seed));
  return row;
}

ReprGapEvaluator::ReprGapEvaluator(Experiment experiment) : experiment_(std::move(experiment)) {
  ReprColumns layout = repr_columns(experiment_);
  if (layout.training) throw InvalidArgument("compute: a ReprGapEvaluator evaluates 'repr_gap' only");
  option_keys_ = std::move(layout.option_keys);
  columns_ = std::move(layout.columns);
}

void ReprGapEvaluator::validate(const ExperimentPoint& p) { (void)point_task(experiment_, p); }

std::vector<std::vector<Cell>> ReprGapEvaluator::evaluate(const ExperimentPoint& p,
                                                          const std::function<void()>& on_unit) {
  const TaskSpec spec = point_task(experiment_, p);
  const GapPoint g = performance_gap(spec, count_of(p, "dictionaries"), count_of(p, "prompts"));
  std::vector<Cell> row = point_cells(experiment_, option_keys_, p);
  for (double v : {g.gap, g.gap_std, g.ridge_error, g.best_error}) row.emplace_back(v);
  if (on_unit) on_unit();
  return {std::move(row)};
}

std::string task_description() {
  return "Yang et al. (2408.10147): K dictionary tokens in R^d with representations in R^m, labels "
         "lambda^T (z_k + eps_k), eps_k ~ N(0, tau I_m); a prompt shows the first N (docs/representations.md)";
}

nlohmann::json ReprGapEvaluator::description() const {
  nlohmann::json j;
  j["task"] = task_description();
  j[experiment_.compute.front()] = "gap of ridge(m tau) to the best ridge(N tau), over dictionary draws and prompts";
  j["columns"] = {{columns::gap, "(1/K) sum_{k>N} (y*_k - y^best_k)^2, mean over dictionaries"},
                  {columns::gap_std, "its std over dictionaries"},
                  {columns::ridge_error, "test error of ridge(m tau)"},
                  {columns::best_error, "test error of the best ridge(N tau)"}};
  return j;
}

}  // namespace iclab::repr
