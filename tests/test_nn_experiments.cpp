// The `transformer` quantity of experiment files: its TOML errors name the file, line and key (exit 2,
// no output); a tiny transformer sweep runs through `iclab run`, and a run killed and resumed, or split
// into shards and merged, gives the byte-identical CSV; every Transformer preset's --quick writes its
// CSVs and plots.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <thread>

#include "iclab/cancel.hpp"
#include "iclab/experiments/experiment.hpp"
#include "iclab/experiments/runner.hpp"
#include "iclab/io/text_file.hpp"
#include "iclab/nn/ensemble.hpp"
#include "iclab/nn/presets.hpp"
#include "iclab/nn/transformer_evaluator.hpp"
#include "iclab/params/model_params.hpp"
#include "iclab/reproduce/figure_files.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace iclab;
using namespace iclab::test_support;

namespace {

fs::path temp_dir(const std::string& name) { return fresh_dir("iclab_nnexp", name); }

// A sweep of 4 tiny trainings (2 points x 2 seeds), two tests each.
const char* kTiny = R"(name = "tiny"
compute = ["transformer"]
seed = 3
repeats = 2
[parameters]
d = 4
alpha = 1
kappa = 1
rho = 0.01
model = "softmax-mlp2"
steps = 12
batch = 0.25
lr = 1e-3
test_contexts = 64
ctest = ["iso", "power:1"]
[grid]
tau = [1, 2]
)";

// kTiny's first point (2 models) trained for `steps` steps: one ensemble long enough to stop inside.
std::string one_long_ensemble(long steps) {
  std::string toml = kTiny;
  toml.replace(toml.find("steps = 12"), 10, "steps = " + std::to_string(steps));
  toml.replace(toml.find("tau = [1, 2]"), 12, "tau = [2]");
  return toml;
}

void expect_error(const std::string& toml, const std::string& starts_with, const std::string& contains = "") {
  try {
    parse_experiment(toml, "exp.toml");
    ADD_FAILURE() << "no error for:\n" << toml;
  } catch (const InvalidArgument& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    EXPECT_EQ(message.rfind(starts_with, 0), 0u) << message << "\n(wanted the start " << starts_with << ")";
    EXPECT_NE(message.find(contains), std::string::npos) << message << "\n(wanted " << contains << ")";
  }
}

const char* kHead =
    "name = \"t\"\ncompute = [\"transformer\"]\n[parameters]\nd = 4\nalpha = 1\ntau = 1\nkappa = 1\n"
    "rho = 0.01\n";  // lines 1-8

}  // namespace

TEST(TransformerExperimentFile, KeysAreParsedIntoPointOptions) {
  const Experiment e = parse_experiment(std::string(kHead) +
                                            "epochs = 3\nbatch = 16\ngelu_mlp = true\nattention_residual = 0\n"
                                            "[grid]\nmodel = [\"softmax-mlp2\", \"softmax-mlp3\"]\nlr = [1e-3, 1e-4]\n",
                                        "exp.toml");
  const auto points = expand_points(e);
  ASSERT_EQ(points.size(), 4u);
  EXPECT_EQ(std::get<std::string>(points[2].options.at("model")), "softmax-mlp3");
  EXPECT_EQ(std::get<double>(points[1].options.at("lr")), 1e-4);
  EXPECT_EQ(std::get<double>(points[0].options.at("gelu_mlp")), 1.0);
  EXPECT_EQ(std::get<double>(points[0].options.at("attention_residual")), 0.0);
  nn::TransformerEvaluator evaluator(e);
  const nn::TransformerSetup s = evaluator.setup(points[2], 1);
  EXPECT_EQ(s.architecture.architecture, nn::Architecture::softmax_mlp3);
  EXPECT_EQ(s.training.batch_size, 16);
  EXPECT_EQ(s.training.epochs, 3);
  EXPECT_TRUE(s.architecture.gelu_mlp);
  EXPECT_FALSE(s.architecture.attention_residual);
  EXPECT_EQ(s.training.seed, nn::TransformerEvaluator::training_seed(0, 1));
  EXPECT_NE(s.training.seed, nn::TransformerEvaluator::training_seed(0, 0));
  EXPECT_EQ(evaluator.work_units(), 10 * 100);  // the default repeats x 100 progress units
  // Options the architecture refuses are found by validate (before any output), naming the point.
  const Experiment g =
      parse_experiment(std::string(kHead) + "steps = 3\nmodel = \"softmax\"\ngelu_mlp = true\n", "exp.toml");
  try {
    nn::TransformerEvaluator(g).validate(expand_points(g).front());
    ADD_FAILURE() << "gelu_mlp accepted for a model without MLP";
  } catch (const InvalidArgument& error) {
    EXPECT_EQ(std::string(error.what()).rfind("point 0 (", 0), 0u) << error.what();
    EXPECT_NE(std::string(error.what()).find("gelu_mlp"), std::string::npos) << error.what();
  }
  // A fraction is a batch fraction.
  const Experiment f = parse_experiment(std::string(kHead) + "steps = 3\nbatch = 0.25\n", "exp.toml");
  const nn::TransformerSetup sf = nn::TransformerEvaluator(f).setup(expand_points(f).front(), 0);
  EXPECT_EQ(sf.training.batch_fraction, 0.25);
  EXPECT_EQ(sf.training.batch_size, 0);
  EXPECT_EQ(sf.training.steps, 3);
}

TEST(TransformerExperimentFile, ErrorsNameTheFileLineAndKey) {
  const std::string head = kHead;
  expect_error(head + "epochs = 2\nmodel = \"gpt\"\n", "exp.toml:10: parameters.model", "softmax-mlp2");
  expect_error(head + "epochs = 2\nbatch = 1.5\n", "exp.toml:10: parameters.batch", "fraction");
  expect_error(head + "epochs = 2\nbatch = 0\n", "exp.toml:10: parameters.batch", "fraction");
  expect_error(head + "epochs = 0\n", "exp.toml:9: parameters.epochs", ">= 1");
  expect_error(head + "steps = 2.5\n", "exp.toml:9: parameters.steps", "integers");
  expect_error(head + "steps = 2\nlr = -1\n", "exp.toml:10: parameters.lr", "> 0");
  expect_error(head + "steps = 2\nweight_decay = -1\n", "exp.toml:10: parameters.weight_decay", ">= 0");
  expect_error(head + "steps = 2\nlink = \"relu\"\n", "exp.toml:10: parameters.link", "tanh");
  expect_error(head + "steps = 2\nhidden = 0\n", "exp.toml:10: parameters.hidden", ">= 1");
  expect_error(head + "steps = 2\ngelu_mlp = 2\n", "exp.toml:10: parameters.gelu_mlp", "1 or 0");
  expect_error(head + "steps = 2\nmlp_residual = \"yes\"\n", "exp.toml:10: parameters.mlp_residual", "true or false");
  expect_error(head + "steps = 2\ndevice = \"tpu\"\n", "exp.toml:10: parameters.device", "cuda");
  expect_error(head + "steps = 2\ntest_contexts = 0\n", "exp.toml:10: parameters.test_contexts", ">= 1");
  expect_error(head + "steps = 2\ntrain_loss_every = -1\n", "exp.toml:10: parameters.train_loss_every", ">= 0");
  expect_error(head + "steps = 2\n[grid]\nlr = [1e-3, 0]\n", "exp.toml:11: grid.lr", "> 0");
  expect_error(head + "steps = 2\nlambda = 0.1\n", "exp.toml:10: parameters.lambda", "not used by 'transformer'");
  expect_error(head, "exp.toml: compute", "'epochs' and 'steps'");
  expect_error(head + "steps = 2\nepochs = 2\n", "exp.toml: compute", "exactly one");
  expect_error(
      "name = \"t\"\ncompute = [\"transformer\"]\n[parameters]\nd = 4\nalpha = 1\ntau = 1\nrho = 0\nsteps = 2\n",
      "exp.toml: compute", "'kappa'");
  expect_error(std::string("name = \"t\"\ncompute = [\"transformer\", \"theory\"]\n") + (kHead + 37) + "steps = 2\n",
               "exp.toml: compute", "cannot be combined");
  expect_error("name = \"t\"\ncompute = [\"theory\"]\n[parameters]\nalpha = 1\ntau = 2\nkappa = 1\nrho = 0\nlr = 0.1\n",
               "exp.toml:8: parameters.lr", "transformer");
}

TEST(TransformerExperimentCli, BadFilesExitTwoWithoutOutput) {
  const fs::path dir = temp_dir("bad");
  write(dir / "bad.toml", std::string(kHead) + "steps = 2\nbatch = 2.5\n");
  std::string err;
  EXPECT_EQ(run_iclab("run " + (dir / "bad.toml").string() + " --out " + (dir / "out").string(), dir, &err), 2);
  EXPECT_EQ(err.rfind("iclab: error: " + (dir / "bad.toml").string() + ":10: parameters.batch", 0), 0u) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_FALSE(fs::exists(dir / "out"));
  // An impossible point (a bad covariance spec) is refused before any output, naming its line.
  write(dir / "spec.toml", std::string(kHead) + "steps = 2\nctest = \"power:x\"\n");
  EXPECT_EQ(run_iclab("run " + (dir / "spec.toml").string() + " --out " + (dir / "out").string(), dir, &err), 2);
  EXPECT_NE(err.find(":10: parameters.ctest"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(dir / "out"));
  fs::remove_all(dir);
}

TEST(TransformerExperimentCli, RunsResumesAndMergesByteIdentically) {
  const fs::path dir = temp_dir("run");
  write(dir / "tiny.toml", kTiny);
  const std::string file = (dir / "tiny.toml").string();
  ASSERT_EQ(run_iclab("run " + file + " --quiet --out " + (dir / "full").string(), dir), 0);
  const std::string csv = slurp(dir / "full" / "results.csv");
  EXPECT_EQ(csv.substr(0, csv.find('\n')),
            "point,d,alpha,tau,kappa,rho,ctrain,model,hidden,link,batch,lr,weight_decay,epochs,steps,test_contexts,"
            "ell,n,k,repeat,seed,train_loss,ctest,icl_error,idg_error,g_task");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 2 * 2 * 2);                // points x seeds x tests
  EXPECT_NE(csv.find(",softmax-mlp2,4,linear,4,0.001,"), std::string::npos) << csv;  // B = int(0.25 * 16)
  EXPECT_TRUE(fs::exists(dir / "full" / "results.csv.meta.json"));

  // Resume: keep the first point's journaled rows, cut the rest (and leave a torn half row behind).
  const fs::path resumed = dir / "resumed";
  fs::create_directories(resumed);
  fs::copy_file(dir / "full" / "experiment.toml", resumed / "experiment.toml");
  const std::string header = csv.substr(0, csv.find('\n') + 1);
  std::size_t end = header.size();
  for (int i = 0; i < 4; ++i) end = csv.find('\n', end) + 1;  // point 0: 2 seeds x 2 tests
  write(resumed / "results.partial.csv", csv.substr(0, end) + csv.substr(end, 20));
  // Journal format (runner.hpp): header size and experiment hash, then point, end offset, rows' checksum.
  const auto meta = nlohmann::json::parse(slurp(dir / "full" / "results.csv.meta.json"));
  write(resumed / "results.journal", "header " + std::to_string(header.size()) + " " +
                                         meta["experiment_hash"].get<std::string>() + "\n0 " + std::to_string(end) +
                                         " " + fnv1a(csv.substr(header.size(), end - header.size())) + "\n");
  std::string err;
  ASSERT_EQ(run_iclab("run " + file + " --out " + resumed.string(), dir, &err), 0) << err;
  EXPECT_NE(err.find("1 found finished"), std::string::npos) << err;
  EXPECT_EQ(slurp(resumed / "results.csv"), csv);

  // Shards into one directory, merged.
  const fs::path sharded = dir / "sharded";
  for (const char* shard : {"0/2", "1/2"})
    ASSERT_EQ(run_iclab("run " + file + " --quiet --out " + sharded.string() + " --shard " + shard, dir), 0);
  ASSERT_EQ(run_iclab("merge " + sharded.string() + " --out " + (dir / "merged.csv").string(), dir), 0);
  EXPECT_EQ(slurp(dir / "merged.csv"), csv);
  fs::remove_all(dir);
}

// A group killed inside its training resumes from its last snapshot (runner.hpp, results{S}.snapshot*),
// not from the start, and ends with the rows of an uninterrupted run; a snapshot saved under another
// key (another experiment, points or split) is ignored. One ensemble of 2 models, 4 000 steps (about a
// second), saved every 0.05 s, SIGKILLed once a snapshot exists.
TEST(TransformerExperimentCli, AKilledEnsembleResumesFromItsSnapshot) {
  const fs::path dir = temp_dir("snapshot");
  write(dir / "long.toml", one_long_ensemble(4000));
  const std::string file = (dir / "long.toml").string();
  ASSERT_EQ(run_iclab("run " + file + " --quiet --snapshot-every 0 --out " + (dir / "full").string(), dir), 0);
  const std::string csv = slurp(dir / "full" / "results.csv");
  ASSERT_EQ(std::count(csv.begin(), csv.end(), '\n'), 1 + 2 * 2);

  const fs::path out = dir / "killed", snapshot = out / "results.snapshot-0.pt";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl(ICLAB_BINARY, ICLAB_BINARY, "run", file.c_str(), "--out", out.c_str(), "--quiet", "--snapshot-every",
            "0.05", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  bool finished = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!fs::exists(snapshot) && std::chrono::steady_clock::now() < deadline) {
    if ((finished = ::waitpid(pid, &status, WNOHANG) == pid)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (!finished) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  ASSERT_TRUE(WIFSIGNALED(status)) << "the run ended before its first snapshot: make the training longer";
  ASSERT_FALSE(fs::exists(out / "results.csv"));

  // A snapshot under another key is not this group's: trained from the start, the same rows.
  const fs::path other = dir / "other";
  fs::create_directories(other);
  fs::copy_file(out / "experiment.toml", other / "experiment.toml");
  nn::EnsembleTrainer::load(snapshot.string()).save((other / "results.snapshot-0.pt").string(), "another key");
  std::string err;
  ASSERT_EQ(run_iclab("run " + file + " --snapshot-every 0.05 --out " + other.string(), dir, &err), 0) << err;
  EXPECT_EQ(err.find("resume at step"), std::string::npos) << err;
  EXPECT_EQ(slurp(other / "results.csv"), csv);

  // A snapshot that cannot be written (here a directory is in the way of its temporary file) is a
  // warning, and the training goes on.
  const fs::path blocked = dir / "blocked";
  fs::create_directories(blocked / "results.snapshot-0.pt.tmp" / "in-the-way");
  ASSERT_EQ(run_iclab("run " + file + " --quiet --snapshot-every 0.05 --out " + blocked.string(), dir, &err), 0) << err;
  EXPECT_NE(err.find("warning: cannot write the checkpoint"), std::string::npos) << err;
  EXPECT_NE(err.find("training goes on without snapshots"), std::string::npos) << err;
  EXPECT_EQ(slurp(blocked / "results.csv"), csv);

  // Its own snapshot: the same command continues from it.
  ASSERT_EQ(run_iclab("run " + file + " --snapshot-every 0.05 --out " + out.string(), dir, &err), 0) << err;
  EXPECT_NE(err.find("2 models resume at step "), std::string::npos) << err;
  EXPECT_EQ(err.find("resume at step 0 "), std::string::npos) << err;
  EXPECT_EQ(slurp(out / "results.csv"), csv);
  EXPECT_EQ(nlohmann::json::parse(slurp(out / "results.csv.meta.json"))["snapshots_resumed"], 1);
  for (const fs::path& d : {out, other})
    for (const auto& entry : fs::directory_iterator(d))
      EXPECT_EQ(entry.path().filename().string().find("snapshot"), std::string::npos) << entry.path();
  fs::remove_all(dir);
}

// A stop asked for inside a training (RunOptions::checkpoint throws Cancelled: what SIGTERM and SIGINT do
// in the CLI) saves the ensemble's snapshot at once, whatever --snapshot-every, and the same run resumes
// from it to the rows of an uninterrupted run. In process, so the stop comes at a fixed unit of work.
TEST(TransformerExperimentRunner, AStopSavesTheTrainingSoFar) {
  const fs::path dir = temp_dir("stop");
  const std::string toml = one_long_ensemble(400);
  const Experiment experiment = parse_experiment(toml, "stop.toml");
  auto options_for = [&](const fs::path& out) {
    RunOptions options;
    options.out_dir = out.string();
    options.experiment_text = toml;
    options.progress = false;
    options.evaluator = nn::make_evaluator_with_nn;
    options.snapshot_every = 1e9;  // no snapshot but the one the stop asks for
    return options;
  };
  run_experiment(experiment, options_for(dir / "full"));
  const std::string csv = slurp(dir / "full" / "results.csv");
  // Stopped a third of the way through the training (the checkpoint before the group, then 2 models x 90
  // training units), and after the tests (among the last 20 units, emitted when they end): then the
  // snapshot holds the whole training.
  for (const long stop_at : {60L, 200L}) {
    const fs::path out = dir / ("stopped-" + std::to_string(stop_at));
    RunOptions stopped = options_for(out);
    long units = 0;
    stopped.checkpoint = [&units, stop_at] {
      if (++units == stop_at) throw Cancelled();
    };
    EXPECT_THROW(run_experiment(experiment, stopped), Cancelled);
    const fs::path snapshot = out / "results.snapshot-0.pt";
    ASSERT_TRUE(fs::exists(snapshot)) << stop_at;
    const long step = nn::EnsembleTrainer::load(snapshot.string()).steps_done();
    EXPECT_GT(step, 0);
    if (stop_at == 200)
      EXPECT_EQ(step, 400);
    else
      EXPECT_LT(step, 400);
    const RunSummary resumed = run_experiment(experiment, options_for(out));
    EXPECT_EQ(resumed.snapshots_resumed, 1u) << stop_at;
    EXPECT_EQ(slurp(out / "results.csv"), csv) << stop_at;
    EXPECT_FALSE(fs::exists(snapshot));
  }
  fs::remove_all(dir);
}

// SIGTERM (a time limit) to `iclab run`: exit 128 + 15 with one line saying how to resume, and no results
// file; the rerun completes to the uninterrupted rows.
TEST(TransformerExperimentCli, SigtermStopsWithAResumableDirectory) {
  const fs::path dir = temp_dir("sigterm");
  write(dir / "long.toml", one_long_ensemble(8000));
  const std::string file = (dir / "long.toml").string();
  const fs::path out = dir / "out";
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int err = ::open((dir / "stderr.txt").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(err, 2);
    ::execl(ICLAB_BINARY, ICLAB_BINARY, "run", file.c_str(), "--out", out.c_str(), "--quiet",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // The partial file is made inside the run, after the handlers are installed.
  int status = 0;
  bool finished = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!fs::exists(out / "results.partial.csv") && std::chrono::steady_clock::now() < deadline) {
    if ((finished = ::waitpid(pid, &status, WNOHANG) == pid)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  ASSERT_FALSE(finished) << "the run ended before it began";
  ::kill(pid, SIGTERM);
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status)) << "killed by the signal instead of stopping";
  EXPECT_EQ(WEXITSTATUS(status), 128 + SIGTERM);
  const std::string err = slurp(dir / "stderr.txt");
  EXPECT_EQ(err.rfind("iclab: stopped by SIGTERM; finished points and snapshots are kept: rerun the same command", 0),
            0u)
      << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_FALSE(fs::exists(out / "results.csv"));
  ASSERT_EQ(run_iclab("run " + file + " --quiet --out " + out.string(), dir), 0);
  ASSERT_EQ(run_iclab("run " + file + " --quiet --snapshot-every 0 --out " + (dir / "full").string(), dir), 0);
  EXPECT_EQ(slurp(out / "results.csv"), slurp(dir / "full" / "results.csv"));
  fs::remove_all(dir);
}

class TransformerPreset : public ::testing::TestWithParam<std::string> {};

TEST_P(TransformerPreset, QuickRunWritesCsvsAndPlots) {
  const std::string name = GetParam();
  const fs::path dir = temp_dir("preset_" + name);
  std::string err;
  ASSERT_EQ(run_iclab("reproduce " + name + " --quick --out " + (dir / "out").string(), dir, &err), 0) << err;
  const auto presets = nn::transformer_presets();
  const Preset& preset = find_preset(name, presets);
  for (const auto& e : preset_experiments(preset, "quick")) {
    const fs::path sub = dir / "out" / e.name;
    EXPECT_EQ(slurp(sub / "experiment.toml"), e.toml) << sub;
    const std::string csv = slurp(sub / "results.csv");
    EXPECT_GT(std::count(csv.begin(), csv.end(), '\n'), 1) << sub;
  }
  for (const char* ext : {".png", ".svg", ".gp"}) {
    const fs::path file = dir / "out" / (name + ext);
    ASSERT_TRUE(fs::exists(file)) << file;
    EXPECT_GT(fs::file_size(file), 1000u) << file;
  }
  if (name == "lu2024-fig5") {
    const std::string stars = slurp(dir / "out" / "tau-star.csv");
    EXPECT_EQ(stars.substr(0, stars.find('\n')), "model,tau_star,threshold");
    EXPECT_EQ(std::count(stars.begin(), stars.end(), '\n'), 5);
  }
  if (name == "letey2025-fig3") {
    const std::string rho = slurp(dir / "out" / "spearman.csv");
    EXPECT_EQ(rho.substr(0, rho.find('\n')), "measure,kappa,spearman,tests");
    EXPECT_EQ(std::count(rho.begin(), rho.end(), '\n'), 1 + 4 * 3);  // 4 measures x (2 kappas + mean)
    EXPECT_NE(rho.find("e_misalign,0.4,"), std::string::npos) << rho;
  }
  fs::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(AllTransformerFigures, TransformerPreset,
                         ::testing::Values("lu2024-fig5", "lu2024-fig6", "letey2025-fig3"), [](const auto& param_info) {
                           std::string n = param_info.param;
                           for (char& c : n)
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           return n;
                         });

namespace {

TEST(TransformerPaperScale, FigureFoldersAreValidExperimentsOfThePapersGrids) {
  // figures/*/paper/*.toml (embedded): each parses, every point validates (device set to cpu here, as
  // a user without a GPU would), and the grids are the spec's (A1.5, A2.1): counted models per file.
  const std::map<std::string, std::size_t> models = {
      {"lu2024-fig5/paper/fig5-linear-attention.toml", 25 * 5}, {"lu2024-fig5/paper/fig5-softmax.toml", 61 * 10},
      {"lu2024-fig5/paper/fig5-softmax-mlp2.toml", 82 * 10},    {"lu2024-fig5/paper/fig5-softmax-mlp3.toml", 82 * 5},
      {"lu2024-fig6/paper/fig6-kappa.toml", 20 * 20},           {"letey2025-fig3/paper/fig3-transformer.toml", 5 * 8}};
  std::size_t seen = 0;
  for (const iclab::FigureFile& f : iclab::figure_files()) {
    if (f.path.find("/paper/") == std::string::npos) continue;
    std::string text = f.text;
    const std::string cuda = "device = \"cuda\"";
    for (auto at = text.find(cuda); at != std::string::npos; at = text.find(cuda))
      text.replace(at, cuda.size(), "device = \"cpu\"");
    const iclab::Experiment e = iclab::parse_experiment(text, f.path);
    const auto evaluator = iclab::nn::make_evaluator_with_nn(e);
    const auto points = iclab::expand_points(e);
    for (const auto& p : points) evaluator->validate(p);
    if (const auto it = models.find(f.path); it != models.end()) {
      EXPECT_EQ(points.size() * static_cast<std::size_t>(e.repeats), it->second) << f.path;
      EXPECT_EQ(points.front().d, 20) << f.path;
      // Groups of whole points, at most 128 models each, covering the grid in order.
      std::size_t next = 0;
      for (const auto& group : evaluator->groups(points)) {
        EXPECT_LE(group.size() * static_cast<std::size_t>(e.repeats), 128u) << f.path;
        for (std::size_t i : group) EXPECT_EQ(i, next++) << f.path;
      }
      EXPECT_EQ(next, points.size()) << f.path;
      ++seen;
    }
  }
  EXPECT_EQ(seen, models.size());
}

}  // namespace
