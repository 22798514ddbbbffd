#include "iclab/repr/repr_evaluator.hpp"

#include <algorithm>
#include <cmath>
#include <utility>

#include "iclab/error.hpp"
#include "iclab/experiments/column_names.hpp"
#include "iclab/experiments/schema.hpp"
#include "iclab/repr/gap_evaluator.hpp"
#include "iclab/repr/repr_columns.hpp"

namespace iclab::repr {

Experiment training_experiment(const TaskSpec& task, const TrainOptions& o) {
  Experiment e;
  e.name = "repr-train";
  e.compute = {experiment_schema().module_quantities("repr").at(0)};  // repr_training (schema.toml's order)
  e.seed = task.seed;
  const auto count = [](long v) { return std::vector<ParamValue>{static_cast<double>(v)}; };
  const bool transformer = o.model == ModelKind::transformer;
  e.fixed = {{"d", count(task.d)},
             {"m", count(task.m)},
             {"K", count(task.K)},
             {"N", count(task.N)},
             {"tau", {task.tau}},
             {"features", {to_string(task.features)}},
             {"network", {to_string(o.model)}},
             {"heads", count(transformer ? o.transformer.heads : o.heads)},
             {"beta", {o.beta}},
             {"optimizer", {to_string(o.optimizer)}},
             {"lr", {o.lr}},
             {"eta_q", {o.eta_q}},
             {"gamma", {o.gamma}},
             {"objective", {to_string(o.objective)}},
             {"train_prompts", count(o.train_prompts)},
             {"batch", count(o.batch)},
             {"steps", count(o.steps)},
             {"log_every", count(o.log_every)},
             {"test_prompts", count(o.test_prompts)},
             {"layers", count(o.transformer.layers)},
             {"d_model", count(o.transformer.d_model)},
             {"d_ff", count(o.transformer.d_ff)}};
  return e;
}

ReprEvaluator::ReprEvaluator(Experiment experiment, int threads)
    : experiment_(std::move(experiment)), threads_(threads) {
  ReprColumns layout = repr_columns(experiment_);  // repr/repr_columns.hpp, torch-free
  if (!layout.training) throw InvalidArgument("compute: a ReprEvaluator evaluates 'repr_training' only");
  option_keys_ = std::move(layout.option_keys);
  columns_ = std::move(layout.columns);
}

long ReprEvaluator::work_units() const {
  long steps = 0;
  for (const auto& p : expand_points(experiment_))
    if (const auto it = p.options.find("steps"); it != p.options.end())
      steps = std::max(steps, static_cast<long>(std::get<double>(it->second)));
  return std::max(steps, 1L);
}

TaskSpec ReprEvaluator::task(const ExperimentPoint& p) const { return point_task(experiment_, p); }

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
  o.beta = number("beta", o.beta);
  if (const auto it = p.options.find("optimizer"); it != p.options.end())
    o.optimizer = parse_optimizer(std::get<std::string>(it->second));
  o.lr = number("lr", o.lr);
  o.eta_q = number("eta_q", o.eta_q);
  o.gamma = number("gamma", o.gamma);
  if (const auto it = p.options.find("objective"); it != p.options.end())
    o.objective = parse_objective(std::get<std::string>(it->second));
  o.steps = count("steps", o.steps);
  o.log_every = count("log_every", o.log_every);
  o.test_prompts = count("test_prompts", o.test_prompts);
  o.train_prompts = count("train_prompts", o.train_prompts);
  const double batch = number("batch", static_cast<double>(o.batch));
  if (batch < 1 || batch != std::floor(batch))
    throw InvalidArgument(experiment_.where("batch") + ": the repr quantities need an integer batch size >= 1");
  o.batch = static_cast<long>(batch);
  o.threads = threads_;
  o.validate();
  return o;
}

void ReprEvaluator::validate(const ExperimentPoint& p) {
  (void)task(p);
  (void)training(p);
}

std::vector<std::vector<Cell>> ReprEvaluator::evaluate(const ExperimentPoint& p, const std::function<void()>& on_unit) {
  const TaskSpec spec = task(p);
  const std::vector<Cell> prefix = point_cells(experiment_, option_keys_, p);
  std::vector<std::vector<Cell>> rows;
  Trainer trainer(spec, training(p));
  long last = 0;
  trainer.train([&](const LogRow& log) {
    if (on_log_) on_log_(log);
    std::vector<Cell> row = prefix;
    row.emplace_back(log.step);
    for (double v : {log.train_loss, log.loss_gap, log.pred_to_ridge_in, log.pred_to_ridge_ood, log.seconds})
      row.emplace_back(v);
    rows.push_back(std::move(row));
    for (; on_unit && last < log.step; ++last) on_unit();
  });
  trainer_json_ = trainer.to_json();
  return rows;
}

nlohmann::json ReprEvaluator::description() const {
  nlohmann::json j;
  j["task"] = task_description();
  j[experiment_.compute.front()] =
      "one model per point trained on the task (network: attention, the one-layer H-head softmax "
      "attention, or transformer, the baseline); one row per training log line";
  j["columns"] = {{columns::train_loss, "attention: the population loss L(theta); transformer: mean minibatch loss"},
                  {columns::loss_gap, "train_loss - L* (L*: the one-layer model's optimum)"},
                  {columns::pred_to_ridge_in, "(1/K) ||y_hat - y_hat*||^2 over in-domain test prompts"},
                  {columns::pred_to_ridge_ood, "the same for out-of-domain tasks lambda ~ N(1, 4 I_m)"},
                  {columns::seconds, "wall-clock time since training started (not reproducible)"}};
  return j;
}

}  // namespace iclab::repr
