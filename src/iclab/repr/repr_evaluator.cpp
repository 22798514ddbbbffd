#include "iclab/repr/repr_evaluator.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

#include "iclab/error.hpp"
#include "iclab/experiments/schema.hpp"
#include "iclab/repr/repr_columns.hpp"
#include "iclab/repr/theory.hpp"

namespace iclab::repr {
namespace {

bool is_text_key(const std::string& key) { return experiment_schema().find_key(key)->kind == KeyKind::text; }

}  // namespace

ReprEvaluator::ReprEvaluator(Experiment experiment) : experiment_(std::move(experiment)) {
  ReprColumns layout = repr_columns(experiment_);  // repr/repr_columns.hpp, torch-free
  training_ = layout.training;
  option_keys_ = std::move(layout.option_keys);
  columns_ = std::move(layout.columns);
}

long ReprEvaluator::work_units() const {
  if (!training_) return 1;
  long steps = 0;
  for (const auto& p : expand_points(experiment_))
    if (const auto it = p.options.find("steps"); it != p.options.end())
      steps = std::max(steps, static_cast<long>(std::get<double>(it->second)));
  return std::max(steps, 1L);
}

TaskSpec ReprEvaluator::task(const ExperimentPoint& p) const {
  auto count = [&](const char* key) { return static_cast<long>(std::get<double>(p.options.at(key))); };
  TaskSpec t;
  t.d = *p.d;
  t.m = count("m");
  t.K = count("K");
  t.N = count("N");
  t.tau = *p.tau;
  if (const auto it = p.options.find("features"); it != p.options.end())
    t.features = parse_features(std::get<std::string>(it->second));
  t.seed = experiment_.seed;
  t.validate();
  return t;
}

TrainOptions ReprEvaluator::training(const ExperimentPoint& p) const {
  TrainOptions o;
  auto number = [&](const char* key, double fallback) {
    const auto it = p.options.find(key);
    return it == p.options.end() ? fallback : std::get<double>(it->second);
  };
  auto count = [&](const char* key, long fallback) {
    return static_cast<long>(number(key, static_cast<double>(fallback)));
  };
  if (const auto it = p.options.find("network"); it != p.options.end())
    o.model = parse_model(std::get<std::string>(it->second));
  const bool transformer = o.model == ModelKind::transformer;
  if (transformer)
    o.transformer.heads = count("heads", o.transformer.heads);
  else
    o.heads = count("heads", o.heads);
  o.transformer.layers = count("layers", o.transformer.layers);
  o.transformer.d_model = count("d_model", o.transformer.d_model);
  o.transformer.d_ff = count("d_ff", o.transformer.d_ff);
  o.lr = number("lr", o.lr);
  o.steps = count("steps", o.steps);
  o.log_every = count("log_every", o.log_every);
  o.test_prompts = count("test_prompts", o.test_prompts);
  o.train_prompts = count("train_prompts", o.train_prompts);
  const double batch = number("batch", static_cast<double>(o.batch));
  if (batch < 1 || batch != std::floor(batch))
    throw InvalidArgument(experiment_.where("batch") + ": the repr quantities need an integer batch size >= 1");
  o.batch = static_cast<long>(batch);
  o.validate();
  return o;
}

std::vector<Cell> ReprEvaluator::parameter_cells(const ExperimentPoint& p) const {
  std::vector<Cell> row = {static_cast<long>(p.index), *p.d};
  for (const char* key : {"m", "K", "N"}) row.emplace_back(static_cast<long>(std::get<double>(p.options.at(key))));
  row.emplace_back(*p.tau);
  for (const std::string& key : option_keys_) {
    if (key == "m" || key == "K" || key == "N") continue;
    const ParamValue& v = p.options.at(key);
    if (is_text_key(key))
      row.emplace_back(std::get<std::string>(v));
    else if (key == "lr")
      row.emplace_back(std::get<double>(v));
    else
      row.emplace_back(static_cast<long>(std::get<double>(v)));
  }
  row.emplace_back(static_cast<long>(experiment_.seed));
  return row;
}

void ReprEvaluator::validate(const ExperimentPoint& p) {
  (void)task(p);
  if (training_) (void)training(p);
}

std::vector<std::vector<Cell>> ReprEvaluator::evaluate(const ExperimentPoint& p, const std::function<void()>& on_unit) {
  const TaskSpec spec = task(p);
  const std::vector<Cell> prefix = parameter_cells(p);
  std::vector<std::vector<Cell>> rows;
  if (!training_) {
    auto count = [&](const char* key) { return static_cast<long>(std::get<double>(p.options.at(key))); };
    const GapPoint g = performance_gap(spec, count("dictionaries"), count("prompts"));
    std::vector<Cell> row = prefix;
    for (double v : {g.gap, g.gap_std, g.ridge_error, g.best_error}) row.emplace_back(v);
    rows.push_back(std::move(row));
    if (on_unit) on_unit();
    return rows;
  }
  Trainer trainer(spec, training(p));
  long last = 0;
  trainer.train([&](const LogRow& log) {
    std::vector<Cell> row = prefix;
    row.emplace_back(log.step);
    for (double v : {log.train_loss, log.loss_gap, log.pred_to_ridge_in, log.pred_to_ridge_ood, log.seconds})
      row.emplace_back(v);
    rows.push_back(std::move(row));
    for (; on_unit && last < log.step; ++last) on_unit();
  });
  return rows;
}

nlohmann::json ReprEvaluator::description() const {
  nlohmann::json j;
  j["task"] =
      "Yang et al. (2408.10147): K dictionary tokens in R^d with representations in R^m, labels "
      "lambda^T (z_k + eps_k), eps_k ~ N(0, tau I_m); a prompt shows the first N (docs/representations.md)";
  if (training_) {
    j[experiment_.compute.front()] =
        "one model per point trained on the task (network: attention, the one-layer H-head softmax "
        "attention, or transformer, the baseline); one row per training log line";
    j["columns"] = {{"train_loss", "attention: the population loss L(theta); transformer: mean minibatch loss"},
                    {"loss_gap", "train_loss - L* (L*: the one-layer model's optimum)"},
                    {"pred_to_ridge_in", "(1/K) ||y_hat - y_hat*||^2 over in-domain test prompts"},
                    {"pred_to_ridge_ood", "the same for out-of-domain tasks lambda ~ N(1, 4 I_m)"},
                    {"seconds", "wall-clock time since training started (not reproducible)"}};
  } else {
    j[experiment_.compute.front()] = "gap of ridge(m tau) to the best ridge(N tau), over dictionary draws and prompts";
    j["columns"] = {{"gap", "(1/K) sum_{k>N} (y*_k - y^best_k)^2, mean over dictionaries"},
                    {"gap_std", "its std over dictionaries"},
                    {"ridge_error", "test error of ridge(m tau)"},
                    {"best_error", "test error of the best ridge(N tau)"}};
  }
  return j;
}

}  // namespace iclab::repr
