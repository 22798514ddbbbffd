// `iclab repr train` and `iclab repr gap`: in-context learning with representations (Yang, Huang, Liang &
// Chi 2024, arXiv 2408.10147; docs/representations.md). `repr gap` needs no torch (repr/theory.hpp, in
// iclab_modules): every program has it; `repr train` only the one with the neural-network module.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "commands.hpp"
#include "iclab/experiments/column_names.hpp"
#include "iclab/experiments/experiment.hpp"
#include "iclab/io/progress.hpp"
#include "iclab/io/table.hpp"
#include "iclab/params/model_params.hpp"
#include "iclab/params/threads.hpp"
#include "iclab/params/value_list.hpp"
#include "iclab/repr/gap_evaluator.hpp"
#include "iclab/repr/task.hpp"
#ifdef ICLAB_HAVE_NN
#include "iclab/repr/repr_evaluator.hpp"
#include "iclab/repr/training.hpp"
#endif
#include "output.hpp"

namespace iclab::cli {
namespace {

#ifdef ICLAB_HAVE_NN
struct ReprTrainOptions {
  repr::TaskSpec task;
  repr::TrainOptions training;
  std::string features = to_string(repr::TaskSpec{}.features), model = to_string(repr::TrainOptions{}.model),
              optimizer = "adam", objective = "population";
  std::string seed = "1";  // parse_seed: CLI11 would wrap -1 into the uint64 task.seed
  OutputOptions output;
};
#endif

struct ReprGapOptions {
  repr::TaskSpec task;
  std::string N = "lin:50:150:11", features = to_string(repr::TaskSpec{}.features), seed = "1";
  long dictionaries = 5, prompts = 40;
  OutputOptions output;
};

// "a|b|c": the values src/iclab/repr/schema.toml lists, for help texts.
std::string choices(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : "|") + name;
  return out;
}

// The cells of `row` (columns `columns`) that `table` has, in the table's column order.
std::vector<Cell> cells_named(const std::vector<Cell>& row, const std::vector<std::string>& columns,
                              const Table& table) {
  std::vector<Cell> out;
  for (const std::string& name : table.columns()) {
    const auto at = std::find(columns.begin(), columns.end(), name);
    if (at == columns.end()) throw std::logic_error("repr: the evaluator has no column '" + name + "'");
    out.push_back(row.at(static_cast<std::size_t>(at - columns.begin())));
  }
  return out;
}

void add_task_options(CLI::App& cmd, repr::TaskSpec& task, std::string& features, std::string& seed) {
  cmd.add_option("--d", task.d, "token dimension d")->capture_default_str();
  cmd.add_option("--m", task.m, "number of basis functions m (representation dimension)")->capture_default_str();
  cmd.add_option("--K", task.K, "dictionary size K")->capture_default_str();
  cmd.add_option("--tau", task.tau, "representation-noise variance tau (label noise ~ m tau)")->capture_default_str();
  cmd.add_option("--features", features, "representation f: " + choices(repr::feature_names()))->capture_default_str();
  cmd.add_option("--seed", seed, "seed of every random stream, an integer in [0, 2^63)")->capture_default_str();
}

#ifdef ICLAB_HAVE_NN
void run_train(ReprTrainOptions o, const std::string& command_line) {
  o.task.seed = parse_seed(o.seed, "--seed");
  o.task.features = repr::parse_features(o.features);
  o.training.model = repr::parse_model(o.model);
  o.training.optimizer = repr::parse_optimizer(o.optimizer);
  o.training.objective = repr::parse_objective(o.objective);
  check_thread_count(o.training.threads, "--threads");
  o.task.validate();
  o.training.validate();
  check_output_target(o.output);

  // The runner's repr_training point and evaluator (repr/repr_evaluator.hpp); the table keeps the log's
  // columns of its rows but the wall-clock `seconds`.
  const Experiment experiment = repr::training_experiment(o.task, o.training);
  repr::ReprEvaluator evaluator(experiment, o.training.threads);
  Table table(
      {columns::step, columns::train_loss, columns::loss_gap, columns::pred_to_ridge_in, columns::pred_to_ridge_ood});
  std::vector<long> steps;
  std::vector<double> gaps;
  ProgressBar progress("repr train", o.training.steps);
  long last = 0, diverged_at = -1;
  evaluator.on_log([&](const repr::LogRow& row) {
    if (diverged_at < 0 && !std::isfinite(row.train_loss)) diverged_at = row.step;
    steps.push_back(row.step);
    gaps.push_back(row.loss_gap);
    progress.advance(row.step - last);
    last = row.step;
  });
  for (const ExperimentPoint& point : expand_points(experiment))
    for (const auto& row : evaluator.evaluate(point)) table.add_row(cells_named(row, evaluator.columns(), table));
  progress.finish();
  if (diverged_at >= 0)
    std::fprintf(stderr, "iclab repr: the loss diverged (not finite from step %ld on); lower --lr or --eta-q\n",
                 diverged_at);

  RunInfo info;
  info.command_line = command_line;
  info.extra["kind"] = "in-context learning with representations (Yang et al. 2024), training";
  info.extra["repr"] = evaluator.trainer_json();
  if (o.training.model == repr::ModelKind::attention) {
    const repr::RateFit fit = repr::fit_linear_rate(steps, gaps);
    if (fit.ok) {
      info.extra["linear_rate"] = {{"contraction_per_step", fit.contraction},
                                   {"slope_log_gap_per_step", fit.slope},
                                   {"fit_steps", {fit.first_step, fit.last_step}},
                                   {"points", fit.points}};
      std::fprintf(stderr, "iclab repr: loss gap contracts by %.6g per step (log-linear fit over steps %ld..%ld)\n",
                   fit.contraction, fit.first_step, fit.last_step);
    } else {
      std::fprintf(stderr, "iclab repr: too few logged points below half the initial gap to fit a linear rate\n");
    }
  }
  emit(table, info, o.output);
}
#endif

void run_gap(ReprGapOptions o, const std::string& command_line) {
  o.task.seed = parse_seed(o.seed, "--seed");
  o.task.features = repr::parse_features(o.features);
  const std::vector<long> lengths = parse_integer_list(o.N, "--N");
  if (o.dictionaries < 1) throw InvalidArgument("--dictionaries: must be >= 1");
  if (o.prompts < 1) throw InvalidArgument("--prompts: must be >= 1");
  for (long n : lengths) {
    repr::TaskSpec spec = o.task;
    spec.N = n;
    spec.validate();
  }
  check_output_target(o.output);
  // The runner's repr_gap points and evaluator (repr/gap_evaluator.hpp); the table keeps N and the gap's
  // columns of its rows.
  const Experiment experiment = repr::gap_experiment(o.task, lengths, o.dictionaries, o.prompts);
  repr::ReprGapEvaluator evaluator(experiment);
  Table table({columns::N, columns::gap, columns::gap_std, columns::ridge_error, columns::best_error});
  const auto points = expand_points(experiment);
  ProgressBar progress("repr gap", static_cast<long>(points.size()));
  for (const ExperimentPoint& point : points) {
    for (const auto& row : evaluator.evaluate(point)) table.add_row(cells_named(row, evaluator.columns(), table));
    progress.advance();
  }
  progress.finish();
  RunInfo info;
  info.command_line = command_line;
  info.extra["kind"] =
      "performance gap of the trained transformer's limit (ridge, penalty m tau) to the best "
      "predictor (ridge, penalty N tau), Yang et al. 2024 Fig 3";
  info.extra["task"] = o.task.to_json();
  info.extra["dictionaries"] = o.dictionaries;
  info.extra["prompts"] = o.prompts;
  info.extra["columns"] = {{columns::gap, "(1/K) sum_{k>N} (y*_k - y_best,k)^2, mean over prompts and dictionaries"},
                           {columns::gap_std, "population std over dictionaries of the per-dictionary mean"},
                           {columns::ridge_error, "(1/K) sum_{k>N} (y*_k - y_k)^2 against the noisy labels"},
                           {columns::best_error, "(1/K) sum_{k>N} (y_best,k - y_k)^2"}};
  emit(table, info, o.output);
}

}  // namespace

Runner add_repr_command(CLI::App& app) {
  CLI::App* repr = app.add_subcommand("repr", "In-context learning with representations (Yang et al. 2024)");
  repr->require_subcommand(1);

#ifdef ICLAB_HAVE_NN
  auto t = std::make_shared<ReprTrainOptions>();
  CLI::App* train = repr->add_subcommand(
      "train", "Train the one-layer multi-head softmax attention (or a Transformer baseline); CSV training curve");
  add_task_options(*train, t->task, t->features, t->seed);
  train->add_option("--N", t->task.N, "prompt length N (the first N tokens show their labels)")->capture_default_str();
  train->add_option("--heads", t->training.heads, "heads H of the one-layer model")->capture_default_str();
  train->add_option("--beta", t->training.beta, "initial Q entries ~ N(0, beta^2)")->capture_default_str();
  train->add_option("--model", t->model, choices(repr::model_names()))->capture_default_str();
  train->add_option("--optimizer", t->optimizer, "adam|gd")->capture_default_str();
  train->add_option("--lr", t->training.lr, "Adam learning rate")->capture_default_str();
  train->add_option("--eta-q", t->training.eta_q, "GD step size of Q")->capture_default_str();
  train->add_option("--gamma", t->training.gamma, "GD: eta_w = gamma^2 eta_q")->capture_default_str();
  train
      ->add_option("--objective", t->objective,
                   "attention: population (closed form) | sampled (minibatches of training prompts)")
      ->capture_default_str();
  train->add_option("--train-prompts", t->training.train_prompts, "training prompts (sampled objective)")
      ->capture_default_str();
  train->add_option("--batch", t->training.batch, "minibatch size (sampled objective)")->capture_default_str();
  train->add_option("--steps", t->training.steps, "optimizer steps")->capture_default_str();
  train->add_option("--log-every", t->training.log_every, "log a row every this many steps")->capture_default_str();
  train->add_option("--test-prompts", t->training.test_prompts, "in-domain and OOD test prompts (each)")
      ->capture_default_str();
  train->add_option("--layers", t->training.transformer.layers, "transformer: encoder layers")->capture_default_str();
  train->add_option("--d-model", t->training.transformer.d_model, "transformer: width")->capture_default_str();
  train->add_option("--d-ff", t->training.transformer.d_ff, "transformer: feed-forward width")->capture_default_str();
  train->add_option("--transformer-heads", t->training.transformer.heads, "transformer: attention heads")
      ->capture_default_str();
  train->add_option("--threads", t->training.threads, "torch intra-op threads")->capture_default_str();
  t->output.add_to(*train);
#endif

  auto g = std::make_shared<ReprGapOptions>();
  g->task.d = 100;
  g->task.m = 100;
  g->task.K = 200;
  CLI::App* gap = repr->add_subcommand(
      "gap", "Performance gap of the transformer's limit (ridge, penalty m tau) to the best predictor (Fig 3)");
  add_task_options(*gap, g->task, g->features, g->seed);
  gap->add_option("--N", g->N, "prompt lengths: a value, a list, lin:START:STOP:COUNT")->capture_default_str();
  gap->add_option("--dictionaries", g->dictionaries, "dictionary draws averaged over")->capture_default_str();
  gap->add_option("--prompts", g->prompts, "in-domain test prompts per dictionary")->capture_default_str();
  g->output.add_to(*gap);

#ifdef ICLAB_HAVE_NN
  return [t, g, train, gap](const std::string& line) {
    if (train->parsed()) run_train(*t, line);
    if (gap->parsed()) run_gap(*g, line);
  };
#else
  return [g, gap](const std::string& line) {
    if (gap->parsed()) run_gap(*g, line);
  };
#endif
}

}  // namespace iclab::cli
