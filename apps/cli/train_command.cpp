// `iclab train`: trains one Transformer of the nonlinear checks (spec A1/A2) and prints one CSV row per
// test distribution. The training log (JSON lines) and checkpoints are optional side outputs.
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>

#include "commands.hpp"
#include "iclab/covariances/covariance_spec.hpp"
#include "iclab/io/progress.hpp"
#include "iclab/io/table.hpp"
#include "iclab/nn/trainer.hpp"
#include "iclab/params/model_params.hpp"
#include "iclab/params/value_list.hpp"
#include "output.hpp"

namespace iclab::cli {
namespace {

struct TrainCommandOptions {
  std::string model = "softmax-mlp2", kappa = "inf", ctrain, ctest, link = "linear", batch = "0.1";
  std::string device = "cpu", log, save, load;
  long d = 10, epochs = 0, steps = 0, hidden = 0, test_contexts = 100000, train_loss_every = 0;
  double alpha = 1.0, tau = 4.0, rho = 0.01, lr = 1e-4, weight_decay = 1e-4;
  std::uint64_t seed = 1;
  int threads = 1;
  bool gelu_mlp = false, no_mlp_residual = false, no_attention_residual = false, quiet = false;
  OutputOptions output;
};

// "0.1" is a fraction of the n contexts; "16" (an integer >= 1) is a size.
void parse_batch(const std::string& text, nn::TrainingOptions& t) {
  double value = 0.0;
  try {
    std::size_t used = 0;
    value = std::stod(text, &used);
    if (used != text.size()) throw std::invalid_argument(text);
  } catch (const std::exception&) {
    throw InvalidArgument("--batch: expected a fraction in (0, 1) or an integer size >= 1, got '" + text + "'");
  }
  if (value > 0.0 && value < 1.0) {
    t.batch_fraction = value;
  } else if (value >= 1.0 && value == std::floor(value)) {
    t.batch_size = static_cast<long>(value);
  } else {
    throw InvalidArgument("--batch: expected a fraction in (0, 1) or an integer size >= 1, got '" + text + "'");
  }
}

nn::TransformerTrainer make_trainer(const TrainCommandOptions& o) {
  if (!o.load.empty()) {
    nn::TransformerTrainer trainer = nn::TransformerTrainer::load(o.load, o.device);
    // Continue to the requested length (both 0: evaluate the checkpoint as it is).
    if (o.epochs > 0 || o.steps > 0)
      trainer.set_schedule(o.epochs, o.steps);
    else
      trainer.set_schedule(0, trainer.steps_done());
    return trainer;
  }
  if (o.epochs <= 0 && o.steps <= 0) throw InvalidArgument("--epochs: give --epochs N or --steps N (N >= 1)");
  if (o.epochs > 0 && o.steps > 0) throw InvalidArgument("--steps: give either --epochs or --steps, not both");
  nn::PretrainingData data;
  data.d = o.d;
  data.alpha = o.alpha;
  data.tau = o.tau;
  const auto kappas = parse_value_list(o.kappa, "--kappa", {.allow_infinity = true});
  if (kappas.size() != 1) throw InvalidArgument("--kappa: one value");
  data.kappa = kappas.front();
  data.rho = o.rho;
  data.ctrain = o.ctrain;
  data.link = parse_link(o.link);
  nn::ArchitectureOptions architecture;
  architecture.architecture = nn::parse_architecture(o.model);
  architecture.hidden = o.hidden;
  architecture.gelu_mlp = o.gelu_mlp;
  architecture.mlp_residual = !o.no_mlp_residual;
  architecture.attention_residual = !o.no_attention_residual;
  nn::TrainingOptions training;
  training.learning_rate = o.lr;
  training.weight_decay = o.weight_decay;
  parse_batch(o.batch, training);
  training.epochs = o.epochs;
  training.steps = o.steps;
  training.seed = o.seed;
  training.device = o.device;
  training.threads = o.threads;
  return nn::TransformerTrainer(data, architecture, training);
}

void run_train(const TrainCommandOptions& o, const std::string& command_line) {
  check_output_target(o.output);
  if (o.test_contexts < 1) throw InvalidArgument("--test-contexts: must be >= 1");
  if (o.train_loss_every < 0) throw InvalidArgument("--train-loss-every: must be >= 0");
  nn::TransformerTrainer trainer = make_trainer(o);
  const nn::PretrainingData& data = trainer.data();
  // Test covariances are checked before training: a typo must not cost an hour.
  std::vector<std::string> tests{""};
  if (!o.ctest.empty()) {
    tests.clear();
    for (const TaskCovariance& c : parse_covariance_list(o.ctest, data.d, "--ctest")) tests.push_back(c.spec());
  }
  std::unique_ptr<std::ofstream> log;
  if (!o.log.empty()) {
    log = std::make_unique<std::ofstream>(o.log, std::ios::app);
    if (!*log) throw InvalidArgument("--log: cannot write '" + o.log + "'");
  }
  RunInfo info;
  info.command_line = command_line;
  info.extra["transformer"] = trainer.to_json();
  {
    ProgressBar progress("train " + to_string(trainer.architecture().architecture),
                         std::max(1L, trainer.total_steps() - trainer.steps_done()));
    long reported = trainer.steps_done();
    trainer.train(
        [&](const nn::EpochLog& e) {
          progress.advance(e.step - reported);
          reported = e.step;
          if (log) {
            nlohmann::json line = {
                {"epoch", e.epoch}, {"step", e.step}, {"batch_loss", e.batch_loss}, {"seconds", e.seconds}};
            if (e.train_loss) line["train_loss"] = *e.train_loss;
            *log << line.dump() << '\n' << std::flush;
          }
        },
        o.train_loss_every);
    progress.finish();
  }
  if (!o.save.empty()) trainer.save(o.save);
  const double train_loss = trainer.train_loss();
  const double idg = trainer.idg_error(o.test_contexts);
  Table table({"model", "d", "alpha", "tau", "kappa", "rho", "seed", "epochs", "steps", "train_loss", "test",
               "icl_error", "idg_error"});
  const auto& t = trainer.training();
  const long epochs_done = (trainer.steps_done() + trainer.steps_per_epoch() - 1) / trainer.steps_per_epoch();
  for (const std::string& test : tests) {
    const double icl = test.empty() ? (std::isinf(data.kappa) ? idg : trainer.icl_error("", o.test_contexts))
                                    : trainer.icl_error(test, o.test_contexts);
    table.add_row({to_string(trainer.architecture().architecture), data.d, data.alpha, data.tau, data.kappa, data.rho,
                   static_cast<long>(t.seed), epochs_done, trainer.steps_done(), train_loss,
                   test.empty() ? std::string(data.ctrain.empty() ? "iso" : data.ctrain) : test, icl, idg});
  }
  emit(table, info, o.output);
}

}  // namespace

Runner add_train_command(CLI::App& app) {
  auto o = std::make_shared<TrainCommandOptions>();
  CLI::App* cmd = app.add_subcommand("train", "Train a Transformer on ICL regression (libtorch) and test it");
  cmd->add_option("--model", o->model, "linear-attention | softmax | softmax-mlp2 | softmax-mlp3")
      ->capture_default_str();
  cmd->add_option("--d", o->d, "token dimension")->capture_default_str();
  cmd->add_option("--alpha", o->alpha, "context length ratio, l = int(alpha d)")->capture_default_str();
  cmd->add_option("--tau", o->tau, "pretraining contexts ratio, n = int(tau d^2)")->capture_default_str();
  cmd->add_option("--kappa", o->kappa, "task diversity, k = int(kappa d) (inf: a fresh task per context)")
      ->capture_default_str();
  cmd->add_option("--rho", o->rho, "label-noise variance")->capture_default_str();
  cmd->add_option("--ctrain", o->ctrain, "pretraining task covariance spec (default: I)");
  cmd->add_option("--ctest", o->ctest, "test task covariances, 'SPEC;SPEC' (default: the pretraining law)");
  cmd->add_option("--link", o->link, "labels y = link(x.w) + noise: linear | tanh | cube | square")
      ->capture_default_str();
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
  cmd->add_option("--seed", o->seed, "seed of the data, initialisation and minibatches")->capture_default_str();
  cmd->add_option("--test-contexts", o->test_contexts, "fresh contexts per test error")->capture_default_str();
  cmd->add_option("--device", o->device, "cpu | cuda[:N] (cuda needs a CUDA build of libtorch)")->capture_default_str();
  cmd->add_option("--threads", o->threads, "torch threads (1 is fastest for these small models)")
      ->capture_default_str();
  cmd->add_option("--log", o->log, "append a JSON line per epoch to this file");
  cmd->add_option("--train-loss-every", o->train_loss_every, "log the full-set train loss every N epochs (0: never)")
      ->capture_default_str();
  cmd->add_option("--save", o->save, "write a checkpoint here after training");
  cmd->add_option("--load", o->load, "start from this checkpoint (its data, model and training options)");
  o->output.add_to(*cmd);
  return [o](const std::string& line) { run_train(*o, line); };
}

}  // namespace iclab::cli
