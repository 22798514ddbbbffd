#include "iclab/nn/transformer_evaluator.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "iclab/cancel.hpp"
#include "iclab/covariances/covariance_spec.hpp"
#include "iclab/experiments/column_names.hpp"
#include "iclab/experiments/runner.hpp"
#include "iclab/io/table.hpp"
#include "iclab/nn/ensemble.hpp"
#include "iclab/nn/tensor_solver.hpp"
#include "iclab/nn/transformer_columns.hpp"
#include "iclab/params/model_params.hpp"
#include "iclab/random/streams.hpp"
#include "iclab/repr/gap_evaluator.hpp"
#include "iclab/repr/repr_columns.hpp"
#include "iclab/repr/repr_evaluator.hpp"

namespace iclab::nn {
namespace {

const ParamValue* option(const ExperimentPoint& p, const std::string& key) {
  const auto it = p.options.find(key);
  return it == p.options.end() ? nullptr : &it->second;
}
double number_option(const ExperimentPoint& p, const std::string& key, double fallback) {
  const ParamValue* v = option(p, key);
  return v ? std::get<double>(*v) : fallback;
}
std::string text_option(const ExperimentPoint& p, const std::string& key, const std::string& fallback) {
  const ParamValue* v = option(p, key);
  return v ? std::get<std::string>(*v) : fallback;
}

constexpr long kUnitsPerModel = 100;  // progress units per trained model

std::string describe(const ExperimentPoint& p) {
  std::string s = "point " + std::to_string(p.index) + " (d=" + std::to_string(p.d.value_or(0));
  s.append(", alpha=").append(format_number(p.alpha.value_or(0.0)));
  s.append(", tau=").append(format_number(p.tau.value_or(0.0)));
  s.append(", kappa=").append(format_number(p.kappa.value_or(0.0)));
  if (const ParamValue* m = option(p, "model")) s.append(", model=").append(std::get<std::string>(*m));
  return s + ")";
}

}  // namespace

std::vector<TransformerScores> train_and_score(EnsembleTrainer& trainer, const std::vector<std::string>& tests,
                                               long test_contexts, long train_loss_every,
                                               const std::function<void(long, const EpochLog&)>& on_epoch,
                                               const std::function<void(long, long)>& on_step,
                                               const std::function<void(EnsembleTrainer&)>& on_trained) {
  trainer.train(on_epoch, train_loss_every, on_step);
  if (on_trained) on_trained(trainer);
  std::vector<TransformerScores> scores(static_cast<std::size_t>(trainer.size()));
  const auto train_losses = trainer.train_losses();
  const auto idg = trainer.idg_errors(test_contexts);
  for (std::size_t m = 0; m < scores.size(); ++m) {
    scores[m].train_loss = train_losses[m];
    scores[m].idg_error = idg[m];
  }
  // All tests at once: their normals are drawn once (common random numbers). The default test of a
  // kappa = inf member is its IDG test (the same contexts), scored above.
  const auto icl = trainer.icl_errors(tests, test_contexts);
  for (std::size_t t = 0; t < tests.size(); ++t)
    for (std::size_t m = 0; m < scores.size(); ++m) scores[m].icl_errors.push_back(icl[t][m]);
  return scores;
}

std::uint64_t TransformerEvaluator::training_seed(std::uint64_t experiment_seed, long repetition) {
  return point_key("transformer-training;seed=" + std::to_string(experiment_seed) +
                   ";repetition=" + std::to_string(repetition));
}

TransformerEvaluator::TransformerEvaluator(Experiment experiment) : experiment_(std::move(experiment)) {
  TransformerColumns layout = transformer_columns(experiment_);  // nn/transformer_columns.hpp, torch-free
  columns_ = std::move(layout.columns);
  variant_keys_ = std::move(layout.variant_keys);
}

long TransformerEvaluator::work_units() const { return experiment_.repeats * kUnitsPerModel; }

TransformerSetup TransformerEvaluator::setup(const ExperimentPoint& p, long repetition) const {
  TransformerSetup s;
  s.data.d = p.d.value_or(0);
  s.data.alpha = p.alpha.value_or(0.0);
  s.data.tau = p.tau.value_or(0.0);
  s.data.kappa = p.kappa.value_or(0.0);
  s.data.rho = p.rho.value_or(0.0);
  s.data.ctrain = p.ctrain;
  s.data.link = parse_link(text_option(p, "link", "linear"));
  s.architecture.architecture =
      parse_architecture(text_option(p, "model", to_string(ArchitectureOptions{}.architecture)));
  s.architecture.hidden = static_cast<long>(number_option(p, "hidden", 0.0));
  s.architecture.gelu_mlp = number_option(p, "gelu_mlp", s.architecture.gelu_mlp ? 1 : 0) != 0;
  s.architecture.mlp_residual = number_option(p, "mlp_residual", s.architecture.mlp_residual ? 1 : 0) != 0;
  s.architecture.attention_residual =
      number_option(p, "attention_residual", s.architecture.attention_residual ? 1 : 0) != 0;
  TrainingOptions& t = s.training;
  t.learning_rate = number_option(p, "lr", t.learning_rate);
  t.weight_decay = number_option(p, "weight_decay", t.weight_decay);
  const double batch = number_option(p, "batch", t.batch_fraction);
  if (batch < 1) {
    t.batch_fraction = batch;
    t.batch_size = 0;
  } else {
    t.batch_size = static_cast<long>(batch);
  }
  t.epochs = static_cast<long>(number_option(p, "epochs", 0.0));
  t.steps = static_cast<long>(number_option(p, "steps", 0.0));
  t.device = text_option(p, "device", t.device);
  t.seed = training_seed(experiment_.seed, repetition);
  s.test_contexts = static_cast<long>(number_option(p, "test_contexts", static_cast<double>(s.test_contexts)));
  s.train_loss_every = static_cast<long>(number_option(p, "train_loss_every", 0.0));
  s.tests = p.ctests;
  if (s.tests.empty()) s.tests.emplace_back();
  s.data.validate();
  s.architecture.validate();
  s.training.validate();
  return s;
}

void TransformerEvaluator::validate(const ExperimentPoint& p) {
  try {
    const TransformerSetup s = setup(p, 0);
    if (!p.ctrain.empty()) (void)parse_covariance(p.ctrain, s.data.d, experiment_.where("ctrain"));
    for (const std::string& spec : p.ctests) (void)parse_covariance(spec, s.data.d, experiment_.where("ctest"));
  } catch (const InvalidArgument& error) {
    const std::string message = error.what();
    for (const auto& [key, location] : experiment_.locations)
      if (message.rfind(location, 0) == 0) throw InvalidArgument(message + " (at " + describe(p) + ")");
    throw InvalidArgument(describe(p) + ": " + message);
  }
}

std::vector<std::vector<std::size_t>> TransformerEvaluator::groups(const std::vector<ExperimentPoint>& points) const {
  std::vector<std::vector<std::size_t>> out;
  std::string previous_key;
  long models = 0;
  for (std::size_t i = 0; i < points.size(); ++i) {
    const ExperimentPoint& p = points[i];
    const TransformerSetup s = setup(p, 0);
    const std::string key = s.architecture.to_json().dump() + "|" + std::to_string(s.data.d) + "|" +
                            std::to_string(s.data.context_length()) + "|" + s.training.device + "|" +
                            std::to_string(s.test_contexts);
    const long cap = static_cast<long>(number_option(p, "ensemble", 128.0));
    if (out.empty() || key != previous_key || models + experiment_.repeats > cap) {
      out.emplace_back();
      models = 0;
    }
    out.back().push_back(i);
    models += experiment_.repeats;
    previous_key = key;
  }
  return out;
}

std::vector<std::vector<Cell>> TransformerEvaluator::evaluate(const ExperimentPoint& p,
                                                              const std::function<void()>& on_unit) {
  return evaluate_group({&p}, on_unit).front();
}

std::vector<std::vector<std::vector<Cell>>> TransformerEvaluator::evaluate_group(
    const std::vector<const ExperimentPoint*>& points, const std::function<void()>& on_unit) {
  for (const ExperimentPoint* p : points) validate(*p);
  // Members: every point's repetitions, points outer.
  std::vector<TransformerSetup> setups;
  std::vector<EnsembleMember> members;
  for (const ExperimentPoint* p : points)
    for (long r = 0; r < experiment_.repeats; ++r) {
      setups.push_back(setup(*p, r));
      members.push_back({setups.back().data, setups.back().architecture, setups.back().training});
    }
  EnsembleOptions engine;
  engine.device = members.front().training.device;
  const auto plan = EnsembleTrainer::plan(members, engine, EnsembleTrainer::available_bytes(engine.device) / 10 * 8);
  std::vector<TransformerScores> scores(members.size());
  std::vector<std::map<std::string, double>> icl_by_test(members.size());
  for (std::size_t index = 0; index < plan.size(); ++index) {
    const auto& part = plan[index];
    // The part's snapshot: its file and identity. The runner's key names the experiment and the points;
    // the part and its members are the memory split's, which another machine may draw differently.
    std::string snapshot_path, snapshot_key;
    if (!snapshots_.stem.empty()) {
      snapshot_path = snapshots_.stem + "-" + std::to_string(index) + ".pt";
      snapshot_key =
          snapshots_.key + "; part " + std::to_string(index) + " of " + std::to_string(plan.size()) + ", members";
      for (std::size_t k : part) snapshot_key += " " + std::to_string(k);
      snapshot_key += ", device " + engine.device;
    }
    std::optional<EnsembleTrainer> resumed;
    if (!snapshot_path.empty() && EnsembleTrainer::saved_key(snapshot_path) == snapshot_key) {
      try {
        resumed.emplace(EnsembleTrainer::load(snapshot_path, engine.device));
      } catch (const std::exception& e) {  // readable but unusable: lose the snapshot, not the run
        if (snapshots_.on_error) snapshots_.on_error(std::string(e.what()) + "; the ensemble trains from its start");
      }
    }
    if (resumed) {
      std::vector<std::size_t> indices;
      for (const ExperimentPoint* p : points) indices.push_back(p->index);
      if (snapshots_.on_resume)
        snapshots_.on_resume("points " + describe_points(indices) + ": " + std::to_string(part.size()) +
                             " models resume at step " + std::to_string(resumed->steps_done()) + " of " +
                             std::to_string(resumed->max_steps()) + " from " + snapshot_path);
    }
    std::vector<EnsembleMember> subset;
    for (std::size_t k : part) subset.push_back(members[k]);
    EnsembleTrainer trainer = resumed ? std::move(*resumed) : EnsembleTrainer(std::move(subset), engine);
    // Saved whenever every_seconds of training have passed since the last save, also when training ends
    // (then a kill during the long tests repeats only them); the tests themselves are not saved.
    auto last_save = std::chrono::steady_clock::now();
    auto save = [&] {
      if (snapshot_path.empty()) return;
      try {
        trainer.save(snapshot_path, snapshot_key);
      } catch (const std::exception& e) {  // a full disk, say: hours of training are worth more
        if (snapshots_.on_error) snapshots_.on_error(std::string(e.what()) + "; training goes on without snapshots");
        snapshot_path.clear();
      }
      last_save = std::chrono::steady_clock::now();
    };
    auto save_if_due = [&] {
      if (std::chrono::duration<double>(std::chrono::steady_clock::now() - last_save).count() >=
          snapshots_.every_seconds)
        save();
    };
    std::function<void(long, const EpochLog&)> log;
    if (on_epoch_)
      log = [this, &part](long m, const EpochLog& entry) {
        on_epoch_(static_cast<long>(part[static_cast<std::size_t>(m)]) % experiment_.repeats, entry);
      };
    // Progress: kUnitsPerModel units per model, 90% of them spread over the training steps (an ensemble
    // finishes all its models at once), the rest when its tests are scored.
    const long part_units = static_cast<long>(part.size()) * kUnitsPerModel;
    const long training_units = part_units * 9 / 10;
    long emitted = 0;
    auto emit_to = [&](long target) {
      for (; emitted < target; ++emitted)
        if (on_unit) on_unit();
    };
    std::vector<std::string> tests;  // the union of the members' tests, in first-seen order
    for (std::size_t k : part)
      for (const std::string& t : setups[k].tests)
        if (std::find(tests.begin(), tests.end(), t) == tests.end()) tests.push_back(t);
    try {
      const auto part_scores = train_and_score(
          trainer, tests, setups[part.front()].test_contexts, setups[part.front()].train_loss_every, log,
          [&](long done, long total) {
            emit_to(total > 0 ? training_units * done / total : 0);
            if (done < total) save_if_due();
          },
          [&](EnsembleTrainer&) { save_if_due(); });
      for (std::size_t j = 0; j < part.size(); ++j) {
        scores[part[j]] = part_scores[j];
        for (std::size_t t = 0; t < tests.size(); ++t) icl_by_test[part[j]][tests[t]] = part_scores[j].icl_errors[t];
      }
      emit_to(part_units);
    } catch (const Cancelled&) {
      // A stop asked for between two steps or after the tests (the runner's checkpoint, e.g. on SIGTERM):
      // the training so far is kept, whatever the time since the last snapshot.
      if (trainer.steps_done() > 0) save();
      throw;
    }
  }

  std::vector<std::vector<std::vector<Cell>>> out;
  std::size_t k = 0;
  for (const ExperimentPoint* pp : points) {
    const ExperimentPoint& p = *pp;
    const std::string train_spec = p.ctrain.empty() ? "iso" : p.ctrain;
    std::vector<std::vector<Cell>> rows;
    for (long r = 0; r < experiment_.repeats; ++r, ++k) {
      const TransformerSetup& s = setups[k];
      const long batch = minibatch_size(s.data, s.training);
      const long total_steps = scheduled_steps(s.data, s.training);
      for (const std::string& test : s.tests) {
        const double icl = icl_by_test[k].at(test), idg = scores[k].idg_error;
        std::vector<Cell> row{static_cast<long>(p.index),
                              s.data.d,
                              s.data.alpha,
                              s.data.tau,
                              s.data.kappa,
                              s.data.rho,
                              train_spec,
                              to_string(s.architecture.architecture),
                              s.architecture.hidden_for(s.data.d),
                              to_string(s.data.link)};
        for (const std::string& key : variant_keys_) row.emplace_back(static_cast<long>(number_option(p, key, 0.0)));
        row.insert(row.end(), {batch, s.training.learning_rate, s.training.weight_decay});
        if (s.training.epochs > 0) {
          row.emplace_back(s.training.epochs);
        } else {
          row.emplace_back(std::monostate());  // steps mode
        }
        row.insert(row.end(), {total_steps, s.test_contexts, s.data.context_length(), s.data.num_contexts(),
                               s.data.num_tasks(), r, std::to_string(s.training.seed), scores[k].train_loss,
                               test.empty() ? train_spec : test, icl, idg, icl - idg});
        rows.push_back(std::move(row));
      }
    }
    out.push_back(std::move(rows));
  }
  return out;
}

nlohmann::json TransformerEvaluator::description() const {
  nlohmann::json j;
  j[columns::point] = "index of the grid point in the canonical order (axes in file order, the first slowest)";
  j[experiment_.compute.front()] =
      "one row per (training seed, ICL test): a Transformer trained with AdamW on one fixed draw of n = int(tau "
      "d^2) contexts of ell = int(alpha d) examples (k = int(kappa d) tasks ~ N(0, C_train), or a fresh task per "
      "context at kappa = inf), x ~ N(0, I/d), y = link(x.w) + N(0, rho); tokens [x; y], query label 0";
  j[columns::seed] =
      "training seed of repetition `repeat`: point_key(\"transformer-training;seed=S;repetition=r\"), S the "
      "experiment's seed; the dataset and initialisation derive from it and the data parameters only";
  j[columns::train_loss] = "MSE of the query prediction on the whole training set after training (no 1/2)";
  j[columns::icl_error] = "MSE on test_contexts fresh-task contexts, tasks ~ N(0, C_test) (ctest; default C_train)";
  j[columns::idg_error] =
      "MSE on test_contexts contexts with tasks from the pretraining pool (kappa = inf: fresh tasks)";
  j[columns::g_task] = "icl_error - idg_error";
  j[columns::batch] = "minibatch size B (a `batch` fraction f gives max(1, int(f n)))";
  j[columns::steps] = "Adam steps run (epochs x (1 + floor(n / B)) in epoch mode)";
  j[columns::hidden] = "width h (default d)";
  return j;
}

std::unique_ptr<Evaluator> make_evaluator_with_nn(const Experiment& experiment) {
  if (computes_transformer(experiment)) return std::make_unique<TransformerEvaluator>(experiment);
  if (repr::computes_repr_gap(experiment)) return std::make_unique<repr::ReprGapEvaluator>(experiment);
  if (repr::computes_repr(experiment)) return std::make_unique<repr::ReprEvaluator>(experiment);
  return make_point_evaluator(experiment, make_ridge_solver_on);
}

}  // namespace iclab::nn
