// `iclab train`: trains Transformers of the nonlinear checks (spec A1/A2) and prints one CSV row per
// (model, test distribution). List-valued --model, --ctrain, --kappa, --tau and --seed give a product
// grid trained as ensembles (nn/ensemble.hpp): on the CPU each model's row is bit-identical to its run
// alone. The training log (JSON lines) and checkpoints are optional side outputs.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include "commands.hpp"
#include "iclab/covariances/covariance_spec.hpp"
#include "iclab/experiments/column_names.hpp"
#include "iclab/experiments/experiment.hpp"
#include "iclab/experiments/schema.hpp"
#include "iclab/io/progress.hpp"
#include "iclab/io/table.hpp"
#include "iclab/nn/architecture.hpp"
#include "iclab/nn/ensemble.hpp"
#include "iclab/nn/transformer_evaluator.hpp"
#include "iclab/params/model_params.hpp"
#include "iclab/params/number.hpp"
#include "iclab/params/threads.hpp"
#include "iclab/params/value_list.hpp"
#include "iclab/sampling/link.hpp"
#include "output.hpp"

namespace iclab::cli {
namespace {

struct TrainCommandOptions {
  std::string model = to_string(nn::ArchitectureOptions{}.architecture), kappa = "inf", tau = "4", seed = "1", ctrain,
              ctest, link = "linear", batch = "0.1";
  std::string device = "cpu", log, save, load;
  long d = 10, epochs = 0, steps = 0, hidden = 0, test_contexts = 100000, train_loss_every = 0;
  double alpha = 1.0, rho = 0.01, lr = 1e-4, weight_decay = 1e-4;
  int threads = 1;
  bool gelu_mlp = false, no_mlp_residual = false, no_attention_residual = false, quiet = false, no_cuda_graph = false;
  OutputOptions output;
};

// "0.1" is a fraction of the n contexts; "16" (an integer >= 1) is a size: the experiment's `batch`.
double parse_batch(const std::string& text) {
  const double value = to_finite_number(text).value_or(0.0);  // 0: neither a fraction nor a size
  const bool fraction = value > 0.0 && value < 1.0;
  const bool size = value >= 1.0 && value <= 0x1p53 && value == std::floor(value);  // exact, and a long holds it
  if (!fraction && !size)
    throw InvalidArgument("--batch: expected a fraction in (0, 1) or an integer size >= 1, got '" + text + "'");
  return value;
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find(separator, start);
    out.push_back(text.substr(start, end - start));
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return out;
}

// The members the command trains, built as the runner builds them: the points of a `transformer`
// experiment (grid model x ctrain x kappa x tau, the first slowest) and, per point, one member per
// --seed (the last fastest) from TransformerEvaluator::setup, with the seed as its training seed
// instead of the runner's per-repetition seed. Validated before any training.
std::vector<nn::EnsembleMember> members_of(const TrainCommandOptions& o) {
  if (o.epochs <= 0 && o.steps <= 0) throw InvalidArgument("--epochs: give --epochs N or --steps N (N >= 1)");
  if (o.epochs > 0 && o.steps > 0) throw InvalidArgument("--steps: give either --epochs or --steps, not both");
  std::vector<ParamValue> models, ctrains, kappas, taus;
  for (const std::string& name : split(o.model, ',')) models.emplace_back(nn::to_string(nn::parse_architecture(name)));
  if (!o.ctrain.empty())
    for (const TaskCovariance& c : parse_covariance_list(o.ctrain, o.d, "--ctrain")) ctrains.emplace_back(c.spec());
  for (double kappa : parse_value_list(o.kappa, "--kappa", {.allow_infinity = true})) kappas.emplace_back(kappa);
  for (double tau : parse_value_list(o.tau, "--tau")) taus.emplace_back(tau);
  std::vector<std::uint64_t> seeds;
  for (double seed : parse_value_list(o.seed, "--seed")) {
    if (!(seed >= 0 && seed < 9007199254740992.0) || seed != std::floor(seed))
      throw InvalidArgument("--seed: expected integers in [0, 2^53), got '" + o.seed + "'");
    seeds.push_back(static_cast<std::uint64_t>(seed));
  }
  Experiment experiment;
  experiment.name = "train";
  experiment.compute = {experiment_schema().module_quantities("nn").at(0)};  // transformer
  experiment.repeats = 1;
  const auto number = [](double v) { return std::vector<ParamValue>{v}; };
  const auto flag = [](bool v) { return std::vector<ParamValue>{v ? 1.0 : 0.0}; };
  experiment.fixed = {
      {"d", number(static_cast<double>(o.d))},
      {"alpha", number(o.alpha)},
      {"rho", number(o.rho)},
      {"link", {o.link}},
      {"hidden", number(static_cast<double>(o.hidden))},
      {"gelu_mlp", flag(o.gelu_mlp)},
      {"mlp_residual", flag(!o.no_mlp_residual)},
      {"attention_residual", flag(!o.no_attention_residual)},
      {"lr", number(o.lr)},
      {"weight_decay", number(o.weight_decay)},
      {"batch", number(parse_batch(o.batch))},
      {o.epochs > 0 ? "epochs" : "steps", number(static_cast<double>(o.epochs > 0 ? o.epochs : o.steps))},
      {"device", {o.device}},
      {"test_contexts", number(static_cast<double>(o.test_contexts))},
      {"train_loss_every", number(static_cast<double>(o.train_loss_every))}};
  const auto axis = [&](const char* key, std::vector<ParamValue> values) {
    if (values.empty()) return;
    ExperimentAxis a;
    a.keys = {key};
    a.values = {std::move(values)};
    experiment.axes.push_back(std::move(a));
  };
  axis("model", models);
  axis("ctrain", ctrains);
  axis("kappa", kappas);
  axis("tau", taus);
  const nn::TransformerEvaluator evaluator(experiment);
  std::vector<nn::EnsembleMember> members;
  for (const ExperimentPoint& point : expand_points(experiment))
    for (std::uint64_t seed : seeds) {
      nn::TransformerSetup s = evaluator.setup(point, 0);
      s.training.seed = seed;
      s.training.threads = o.threads;
      members.push_back({std::move(s.data), std::move(s.architecture), std::move(s.training)});
    }
  return members;
}

// "a,b": distinct values in first-seen order, for the conflict messages.
std::string joined(const std::vector<std::string>& values) {
  std::string out;
  for (const std::string& v : values)
    if (("," + out + ",").find("," + v + ",") == std::string::npos) out += (out.empty() ? "" : ",") + v;
  return out;
}

// --load takes the data, models and training options from the checkpoint. An option the user also gave
// explicitly (CLI11's count(); a default never conflicts) must say what the checkpoint says, or the command
// is refused naming both values: `--load c.pt --d 6` used to continue the d = 4 checkpoint silently.
void check_against_checkpoint(const TrainCommandOptions& o, const CLI::App& cmd, const nn::EnsembleTrainer& loaded) {
  const auto given = [&](const std::string& option) { return cmd.count(option) > 0; };
  const auto refuse = [&](const std::string& option, const std::string& key, const std::string& saved,
                          const std::string& asked) {
    if (saved == asked) return;
    throw InvalidArgument(option + ": the checkpoint '" + o.load + "' has " + key + " = " + saved +
                          ", the command line says " + asked + "; drop " + option + " or load another checkpoint");
  };
  // What the members hold, per key, as text (members of one ensemble share d, alpha and the architecture).
  const auto saved = [&](auto&& field) {
    std::vector<std::string> values;
    for (long m = 0; m < loaded.size(); ++m) values.push_back(field(loaded.member(m)));
    return joined(values);
  };
  const auto numbers = [](const std::vector<double>& values) {
    std::vector<std::string> text;
    for (double v : values) text.push_back(format_number(v));
    return joined(text);
  };
  using Member = nn::EnsembleMember;
  if (given("--d"))
    refuse("--d", "d", saved([](const Member& m) { return std::to_string(m.data.d); }), std::to_string(o.d));
  if (given("--model")) {
    std::vector<std::string> names;
    for (const std::string& name : split(o.model, ',')) names.push_back(nn::to_string(nn::parse_architecture(name)));
    refuse("--model", "model", saved([](const Member& m) { return nn::to_string(m.architecture.architecture); }),
           joined(names));
  }
  if (given("--alpha"))
    refuse("--alpha", "alpha", saved([](const Member& m) { return format_number(m.data.alpha); }),
           format_number(o.alpha));
  if (given("--rho"))
    refuse("--rho", "rho", saved([](const Member& m) { return format_number(m.data.rho); }), format_number(o.rho));
  if (given("--tau"))
    refuse("--tau", "tau", saved([](const Member& m) { return format_number(m.data.tau); }),
           numbers(parse_value_list(o.tau, "--tau")));
  if (given("--kappa"))
    refuse("--kappa", "kappa", saved([](const Member& m) { return format_number(m.data.kappa); }),
           numbers(parse_value_list(o.kappa, "--kappa", {.allow_infinity = true})));
  if (given("--seed")) {
    std::vector<std::string> seeds;  // integers below 2^53 (members_of's range) print exactly
    for (double seed : parse_value_list(o.seed, "--seed")) seeds.push_back(format_number(seed));
    refuse("--seed", "seed", saved([](const Member& m) { return format_number(static_cast<double>(m.training.seed)); }),
           joined(seeds));
  }
  if (given("--link"))
    refuse("--link", "link", saved([](const Member& m) { return to_string(m.data.link); }),
           to_string(parse_link(o.link)));
  if (given("--hidden"))
    refuse("--hidden", "hidden", saved([](const Member& m) { return std::to_string(m.architecture.hidden); }),
           std::to_string(o.hidden));
}

void run_train(const TrainCommandOptions& o, const CLI::App& cmd, const std::string& command_line) {
  check_output_target(o.output);
  if (o.test_contexts < 1) throw InvalidArgument("--test-contexts: must be >= 1");
  if (o.train_loss_every < 0) throw InvalidArgument("--train-loss-every: must be >= 0");
  check_thread_count(o.threads, "--threads");
  nn::EnsembleOptions engine;
  engine.device = o.device;
  engine.threads = o.threads;
  engine.cuda_graph = !o.no_cuda_graph;
  engine.validate();

  // The ensembles: a loaded checkpoint, or the product of the list options split into groups that
  // share an architecture and fit in memory (refused up front when one model alone does not).
  std::vector<nn::EnsembleMember> members;
  std::vector<std::vector<std::size_t>> groups;
  std::optional<nn::EnsembleTrainer> loaded;
  if (!o.load.empty()) {
    loaded.emplace(nn::EnsembleTrainer::load(o.load, o.device));
    check_against_checkpoint(o, cmd, *loaded);
    for (long m = 0; m < loaded->size(); ++m) {
      // Continue to the requested length (both 0: evaluate the checkpoint as it is).
      if (o.epochs > 0 || o.steps > 0)
        loaded->set_schedule(m, o.epochs, o.steps);
      else
        loaded->set_schedule(m, 0, loaded->steps_done());
      members.push_back(loaded->member(m));
    }
    groups.push_back({});
    for (std::size_t m = 0; m < members.size(); ++m) groups.back().push_back(m);
  } else {
    members = members_of(o);
    const std::size_t budget = nn::EnsembleTrainer::available_bytes(o.device) / 10 * 8;
    groups = nn::EnsembleTrainer::plan(members, engine, budget);
  }
  if (!o.save.empty() && groups.size() != 1)
    throw InvalidArgument("--save: the models form " + std::to_string(groups.size()) +
                          " ensembles (different models, or more than fits in memory); save one ensemble at a time");
  const long data_d = members.front().data.d;
  // Test covariances are checked before training: a typo must not cost an hour.
  std::vector<std::string> tests{""};
  if (!o.ctest.empty()) {
    tests.clear();
    for (const TaskCovariance& c : parse_covariance_list(o.ctest, data_d, "--ctest")) tests.push_back(c.spec());
  }
  std::unique_ptr<std::ofstream> log;
  if (!o.log.empty()) {
    log = std::make_unique<std::ofstream>(o.log, std::ios::app);
    if (!*log) throw InvalidArgument("--log: cannot write '" + o.log + "'");
  }
  if (!o.save.empty()) {
    // Refused before training, not after an hour of it.
    OutputOptions target;
    target.out = o.save;
    try {
      check_output_target(target);
    } catch (const InvalidArgument& e) {
      throw InvalidArgument(std::string("--save") + std::string(e.what()).substr(5));
    }
  }

  Table table({columns::model, columns::d, columns::alpha, columns::tau, columns::kappa, columns::rho, columns::ctrain,
               columns::seed, columns::epochs, columns::steps, columns::train_loss, columns::ctest, columns::icl_error,
               columns::idg_error});
  RunInfo info;
  info.command_line = command_line;
  info.extra["transformers"] = nlohmann::json::array();
  info.extra["ensembles"] = nlohmann::json::array();
  long work = 0;
  for (const auto& m : members) work += nn::scheduled_steps(m.data, m.training);
  ProgressBar progress(members.size() == 1 ? "train " + nn::to_string(members.front().architecture.architecture)
                                           : "train " + std::to_string(members.size()) + " models",
                       std::max(1L, work));
  for (const auto& group : groups) {
    nn::EnsembleTrainer trainer = loaded ? std::move(*loaded) : [&] {
      std::vector<nn::EnsembleMember> part;
      for (std::size_t k : group) part.push_back(members[k]);
      return nn::EnsembleTrainer(std::move(part), engine);
    }();
    long active = trainer.size();
    const auto scores = nn::train_and_score(
        trainer, tests, o.test_contexts, o.train_loss_every,
        [&](long m, const nn::EpochLog& e) {
          if (e.step == trainer.total_steps(m)) --active;
          if (!log) return;
          const auto& member = trainer.member(m);
          nlohmann::json line = {
              {"model", nn::to_string(member.architecture.architecture)},
              {"tau", member.data.tau},
              {"kappa", std::isinf(member.data.kappa) ? nlohmann::json("inf") : nlohmann::json(member.data.kappa)},
              {"ctrain", member.data.ctrain},
              {"seed", member.training.seed},
              {"epoch", e.epoch},
              {"step", e.step},
              {"batch_loss", e.batch_loss},
              {"seconds", e.seconds}};
          if (e.train_loss) line["train_loss"] = *e.train_loss;
          *log << line.dump() << '\n' << std::flush;
        },
        [&](long, long) { progress.advance(active); },
        [&](nn::EnsembleTrainer& trained) {
          if (!o.save.empty()) trained.save(o.save);
        });
    // A diverged training (e.g. --lr 1e10) leaves NaN or inf losses and errors: fail loudly, not with exit 0.
    for (long m = 0; m < trainer.size(); ++m) {
      const auto& score = scores[static_cast<std::size_t>(m)];
      bool finite = std::isfinite(score.train_loss) && std::isfinite(score.idg_error);
      for (double error : score.icl_errors) finite = finite && std::isfinite(error);
      if (!finite) {
        const auto& member = trainer.member(m);
        throw std::runtime_error("train: the model (" + nn::to_string(member.architecture.architecture) + ", seed " +
                                 std::to_string(member.training.seed) + ", tau " + format_number(member.data.tau) +
                                 ", kappa " + format_number(member.data.kappa) +
                                 ") diverged: its train loss or test error is not finite; lower --lr");
      }
    }
    info.extra["ensembles"].push_back(trainer.engine_json());
    for (long m = 0; m < trainer.size(); ++m) {
      const auto& member = trainer.member(m);
      info.extra["transformers"].push_back(trainer.member_json(m));
      const long steps_done = std::min(trainer.steps_done(), trainer.total_steps(m));
      const long epochs_done = (steps_done + trainer.steps_per_epoch(m) - 1) / trainer.steps_per_epoch(m);
      const std::string train_spec = member.data.ctrain.empty() ? "iso" : member.data.ctrain;
      const auto& score = scores[static_cast<std::size_t>(m)];
      for (std::size_t t = 0; t < tests.size(); ++t)
        table.add_row({nn::to_string(member.architecture.architecture), member.data.d, member.data.alpha,
                       member.data.tau, member.data.kappa, member.data.rho, train_spec,
                       static_cast<long>(member.training.seed), epochs_done, steps_done, score.train_loss,
                       tests[t].empty() ? train_spec : tests[t], score.icl_errors[t], score.idg_error});
    }
  }
  progress.finish();
  emit(table, info, o.output);
}

}  // namespace

Runner add_train_command(CLI::App& app) {
  auto o = std::make_shared<TrainCommandOptions>();
  CLI::App* cmd = app.add_subcommand("train", "Train a Transformer on ICL regression (libtorch) and test it");
  std::string models;  // the names src/iclab/nn/schema.toml gives them
  for (const std::string& name : nn::architecture_names()) models += (models.empty() ? "" : " | ") + name;
  cmd->add_option("--model", o->model, models + " (a list: a,b)")->capture_default_str();
  cmd->add_option("--d", o->d, "token dimension")->capture_default_str();
  cmd->add_option("--alpha", o->alpha, "context length ratio, l = int(alpha d)")->capture_default_str();
  cmd->add_option("--tau", o->tau, "pretraining contexts ratio, n = int(tau d^2) (a list)")->capture_default_str();
  cmd->add_option("--kappa", o->kappa, "task diversity, k = int(kappa d) (inf: a fresh task per context; a list)")
      ->capture_default_str();
  cmd->add_option("--rho", o->rho, "label-noise variance")->capture_default_str();
  cmd->add_option("--ctrain", o->ctrain, "pretraining task covariance specs, 'SPEC;SPEC' (default: I)");
  cmd->add_option("--ctest", o->ctest, "test task covariances, 'SPEC;SPEC' (default: the pretraining law)");
  std::string links;
  for (const std::string& name : link_names()) links += (links.empty() ? "" : " | ") + name;
  cmd->add_option("--link", o->link, "labels y = link(x.w) + noise: " + links)->capture_default_str();
  cmd->add_option("--epochs", o->epochs, "epochs of 1 + n/B AdamW steps");
  cmd->add_option("--steps", o->steps, "AdamW steps (instead of --epochs)");
  cmd->add_option("--batch", o->batch, "minibatch: a fraction of n (0.1) or a size (16)")->capture_default_str();
  cmd->add_option("--lr", o->lr, "AdamW learning rate")->capture_default_str();
  cmd->add_option("--weight-decay", o->weight_decay, "AdamW decoupled weight decay")->capture_default_str();
  cmd->add_option("--hidden", o->hidden, "hidden width h (0: h = d)")->capture_default_str();
  cmd->add_flag("--gelu-mlp", o->gelu_mlp, "variant: Dense-GELU-Dense MLP instead of one Dense");
  cmd->add_flag("--no-mlp-residual", o->no_mlp_residual, "variant: block output LN2(MLP(p))");
  cmd->add_flag("--no-attention-residual", o->no_attention_residual,
                "variant: no residual around attention (the saved kappa runs' bug)");
  cmd->add_option("--seed", o->seed, "seeds of the data, initialisation and minibatches (a list)")
      ->capture_default_str();
  cmd->add_option("--test-contexts", o->test_contexts, "fresh contexts per test error")->capture_default_str();
  cmd->add_option("--device", o->device, "cpu | cuda[:N] (cuda needs a CUDA build of libtorch)")->capture_default_str();
  cmd->add_option("--threads", o->threads, "torch threads while training and testing")->capture_default_str();
  cmd->add_flag("--no-cuda-graph", o->no_cuda_graph,
                "on CUDA, launch every kernel of a step (default: replay a graph)");
  cmd->add_option("--log", o->log, "append a JSON line per epoch to this file");
  cmd->add_option("--train-loss-every", o->train_loss_every, "log the full-set train loss every N epochs (0: never)")
      ->capture_default_str();
  cmd->add_option("--save", o->save, "write a checkpoint (of the whole ensemble) here after training");
  cmd->add_option("--load", o->load, "start from this checkpoint (its data, models and training options)");
  o->output.add_to(*cmd);
  return [o, cmd](const std::string& line) { run_train(*o, *cmd, line); };
}

}  // namespace iclab::cli
