// Experiment files and the crash-safe runner: TOML errors name the key and the line (exit 2, no
// output), a run killed by SIGKILL at random moments resumes to a byte-identical CSV, shards merge
// into the CSV of one run, and results do not depend on the thread count.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <tuple>
#include <utility>
#include <vector>

#include "iclab/error.hpp"
#include "iclab/experiments/evaluate.hpp"
#include "iclab/experiments/experiment.hpp"
#include "iclab/experiments/runner.hpp"
#include "iclab/experiments/schema.hpp"
#include "iclab/io/text_file.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace iclab;
using namespace iclab::test_support;

namespace {

// Expects parse_experiment to fail with a message containing each of `parts`.
void expect_error(const std::string& toml, std::initializer_list<const char*> parts) {
  try {
    parse_experiment(toml, "exp.toml");
    ADD_FAILURE() << "no error for:\n" << toml;
  } catch (const InvalidArgument& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    for (const char* part : parts)
      EXPECT_NE(message.find(part), std::string::npos) << message << "\n(wanted " << part << ")";
  }
}

const char* kHeader = "name = \"t\"\ncompute = [\"theory\"]\n";

// A simulation sweep that takes a few seconds: long enough to be killed in the middle.
const char* kSweep = R"(name = "sweep"
compute = ["theory", "simulation"]
seed = 11
repeats = 3
[parameters]
d = 28
alpha = 2
rho = 0.01
lambda = [1e-6, 0.1]
task_norm = "sphere"
[grid]
kappa = [0.5, 2]
tau = "lin:0.6:3:6"
)";

// The same sweep with 4x the points (about 2 s on an idle core): the kill test needs a run that outlasts
// its random delays (60-460 ms) several times, whatever the machine's speed and load.
const std::string kLongSweep = [] {
  std::string text = kSweep;
  const std::string grid = "lin:0.6:3:6";
  return text.replace(text.find(grid), grid.size(), "lin:0.6:3:24");
}();

class Runner : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_dir("iclab_exp", ::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  void TearDown() override { fs::remove_all(dir_); }

  int run(const std::string& args, std::string* err = nullptr) { return run_iclab(args, dir_, err); }
  // A copy of `iclab` in a folder of its own, without `iclab-nn` beside it (as in a build without libtorch).
  fs::path copy_iclab_alone() const {
    const fs::path alone = dir_ / "bin" / "iclab";
    fs::create_directories(alone.parent_path());
    fs::copy_file(ICLAB_BINARY, alone);
    fs::permissions(alone, fs::perms::owner_all);
    return alone;
  }
  // Starts `iclab run` and SIGKILLs it after `delay` unless it finished first; true if it was killed.
  bool run_and_kill(const fs::path& experiment, const fs::path& out, std::chrono::milliseconds delay) {
    const pid_t pid = ::fork();
    if (pid == 0) {
      ::execl(ICLAB_BINARY, ICLAB_BINARY, "run", experiment.c_str(), "--out", out.c_str(), "--quiet",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + delay;
    int status = 0;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid, &status, WNOHANG) == pid) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    return WIFSIGNALED(status);
  }
  fs::path dir_;
};

}  // namespace

TEST(ExperimentFile, GridZipAndRowLevelLists) {
  const Experiment e = parse_experiment(R"(name = "fig"
compute = ["theory", "simulation"]
seed = 3
repeats = 2
[parameters]
d = 20
rho = 0.01
lambda = [1e-6, 0.1]
kappa = inf
[grid]
tau = [0.5, 2]
[zip]
alpha = [6, 10, 20]
ctest = ["iso", "power:1", "spike:0"]
)",
                                        "fig.toml");
  EXPECT_EQ(e.num_points(), 6u);
  const auto points = expand_points(e);
  ASSERT_EQ(points.size(), 6u);
  // Axes vary in file order, the first slowest; zipped lists advance together.
  EXPECT_EQ(*points[0].tau, 0.5);
  EXPECT_EQ(*points[2].tau, 0.5);
  EXPECT_EQ(*points[3].tau, 2.0);
  EXPECT_EQ(*points[1].alpha, 10.0);
  EXPECT_EQ(points[1].ctests, std::vector<std::string>{"power:1"});
  EXPECT_TRUE(std::isinf(*points[0].kappa));
  EXPECT_EQ(points[4].lambdas, (std::vector<double>{1e-6, 0.1}));
  // The identity ignores where the output goes and the description.
  Experiment moved = e;
  moved.output = "elsewhere";
  moved.description = "x";
  EXPECT_EQ(moved.identity_hash(), e.identity_hash());
  moved.seed = 4;
  EXPECT_NE(moved.identity_hash(), e.identity_hash());
}

TEST(ExperimentFile, ValueListStrings) {
  const Experiment e = parse_experiment(std::string(kHeader) +
                                            "[parameters]\nrho = 0.1\ntau = 2\n[grid]\nalpha = \"log:1:100:3\"\n"
                                            "kappa = \"0.5,inf\"\n",
                                        "exp.toml");
  const auto points = expand_points(e);
  ASSERT_EQ(points.size(), 6u);
  EXPECT_DOUBLE_EQ(*points[2].alpha, 10.0);
  EXPECT_TRUE(std::isinf(*points[1].kappa));
}

TEST(ExperimentFile, ErrorsNameTheKeyAndTheLine) {
  expect_error(std::string(kHeader) + "[grid]\nalpah = [1]\n", {"exp.toml:4:", "grid.alpah", "unknown parameter"});
  expect_error(std::string(kHeader) + "colour = 3\n", {"exp.toml:3:", "colour", "unknown key"});
  expect_error(std::string(kHeader) + "[parameters]\nrho = 0.1\ntau = 2\nkappa = 1\n[grid]\nalpha = [1, -2]\n",
               {"exp.toml:8:", "grid.alpha", "> 0"});
  expect_error(std::string(kHeader) + "[parameters]\nalpha = \"ten\"\n", {"exp.toml:4:", "parameters.alpha"});
  expect_error(std::string(kHeader) + "seed = \"x\"\n", {"exp.toml:3:", "seed", "integer"});
  expect_error(std::string(kHeader) + "seed = -1\n", {"exp.toml:3:", "seed", ">= 0"});  // the CLI's --seed rule
  expect_error(std::string(kHeader) + "seed = 1.5\n", {"exp.toml:3:", "seed", "integer"});
  // Integers past what a count can hold are refused by name, not cast (d = 1e19 once read as -2^63).
  expect_error(std::string(kHeader) + "[parameters]\nd = 1e19\n", {"exp.toml:4:", "parameters.d", "<= 94906265"});
  expect_error(std::string(kHeader) + "repeats = 1e300\n", {"exp.toml:3:", "repeats"});
  expect_error(std::string(kHeader) + "seed = 18446744073709551615\n", {"exp.toml:3:"});  // past TOML's int64
  expect_error(std::string(kHeader) + "repeats = 0\n", {"exp.toml:3:", "repeats", ">= 1"});
  // Issue 14: repeats near 2^63 ended in std::bad_alloc; bounded by kMaxRepeats, like --repeats.
  expect_error(std::string(kHeader) + "repeats = 9223372036854775807\n",
               {"exp.toml:3:", "repeats", "at most 10000000"});
  expect_error(std::string(kHeader) + "[parameters]\nd = 10.5\n", {"exp.toml:4:", "parameters.d", "integer"});
  expect_error(std::string(kHeader) + "[parameters]\nalpha = [1, 2]\n", {"exp.toml:4:", "parameters.alpha", "[grid]"});
  expect_error(std::string(kHeader) + "[zip]\nalpha = [1, 2]\ntau = [1]\n",
               {"exp.toml:5:", "zip.tau", "advance together"});
  expect_error(std::string(kHeader) + "[parameters]\nalpha = 1\n[grid]\nalpha = [2]\n", {".alpha", "more than once"});
  expect_error(std::string(kHeader) + "[parameters]\ntask_norm = \"cube\"\n", {"exp.toml:4:", "task_norm", "sphere"});
  expect_error("name = \"t\"\ncompute = [\"theory\", \"fits\"]\n", {"exp.toml:2:", "compute", "simulation"});
  expect_error("name = \"t\"\ncompute = [\"theory\"\n", {"exp.toml:"});  // TOML syntax error with its line
  expect_error("compute = [\"theory\"]\n", {"name", "missing"});
  expect_error(std::string(kHeader) + "[parameters]\nalpha = 1\nrho = 0.1\ntau = 2\n",
               {"compute", "'theory' needs the parameter 'kappa'"});
  expect_error("name = \"t\"\ncompute = [\"alpha_minimum\"]\n[parameters]\nalpha = 1\ntau = 2\nkappa = 1\nrho = 0.1\n",
               {"alpha", "not used by 'alpha_minimum'"});
}

// The schema is a registry: a module's file adds quantities and keys, with their rules and messages.
TEST(ExperimentSchema, AModuleFileAddsQuantitiesAndKeys) {
  const char* toy = R"(module = "toy"
requires = "the toy module"
[[quantity]]
name = "toy_fit"
needs = ["d", "width"]
exactly_one_of = ["width", "shape"]
alone = true
[[key]]
name = "width"
kind = "count"
minimum = 2
[[key]]
name = "shape"
kind = "text"
values = ["round", "square", "flat"]
also_for = ["theory"]
[[quantity]]
name = "toy_sum"
needs = ["d"]
torch = false
requires = "the toy's torch-free half"
)";
  const ExperimentSchema schema(std::vector<SchemaFile>{{"toy.toml", toy}});
  const QuantitySpec* fit = schema.find_quantity("toy_fit");
  ASSERT_NE(fit, nullptr);
  EXPECT_EQ(fit->module, "toy");
  EXPECT_EQ(fit->evaluated_by, "the toy module");
  EXPECT_TRUE(fit->alone);
  EXPECT_TRUE(fit->needs_torch);  // a module's quantity needs its program unless it says torch = false
  const QuantitySpec* sum = schema.find_quantity("toy_sum");
  ASSERT_NE(sum, nullptr);
  EXPECT_FALSE(sum->needs_torch);
  EXPECT_EQ(sum->evaluated_by, "the toy's torch-free half");
  EXPECT_FALSE(schema.find_quantity("theory")->needs_torch);
  EXPECT_EQ(schema.module_quantities("toy"), (std::vector<std::string>{"toy_fit", "toy_sum"}));
  EXPECT_TRUE(schema.module_quantities("").empty());  // the core's are no module's
  EXPECT_EQ(schema.find_key("width")->allowed, "an integer >= 2");
  EXPECT_EQ(schema.find_key("shape")->allowed, "'round', 'square' or 'flat'");
  EXPECT_EQ(schema.values("shape"), (std::vector<std::string>{"round", "square", "flat"}));
  EXPECT_EQ(schema.keys_of("toy_fit"), (std::vector<std::string>{"width", "shape"}));
  EXPECT_EQ(schema.keys_of("theory"), std::vector<std::string>{"shape"});  // also_for
  // Listed in the schema's order, the core's quantities first (as "an option of compute = ..." says).
  EXPECT_EQ(schema.find_key("shape")->quantities, (std::vector<std::string>{"theory", "toy_fit", "toy_sum"}));
  EXPECT_FALSE(ExperimentSchema::accepts(*schema.find_key("width"), "theory"));
  EXPECT_TRUE(ExperimentSchema::accepts(*schema.find_key("d"), "toy_fit"));  // the core's keys: everywhere
  // The core comes first, the module's after it.
  EXPECT_EQ(schema.keys().front().name, "d");
  EXPECT_EQ(schema.quantities().front().name, "theory");
  // A malformed file is a build error (std::logic_error), never a user's InvalidArgument.
  const std::string head = "module = \"bad\"\nrequires = \"x\"\n";
  for (const std::string& body :
       {std::string("[[key]]\nname = \"d\"\nkind = \"count\"\n"),  // d twice
        std::string("[[key]]\nname = \"w\"\nkind = \"colour\"\n"),
        std::string("[[quantity]]\nname = \"q\"\nneeds = [\"nope\"]\n"),
        std::string("[[key]]\nname = \"w\"\nkind = \"text\"\nalso_for = [\"nope\"]\n"),
        std::string("shared_keys = [\"alpha\"]\n"),  // not a module's key
        std::string("[[key]]\nname = \"w\"\nkind = \"text\"\nvalues = [\"a\"]\n"
                    "labels = [\"A\", \"B\"]\n"),
        std::string("[[quantity]]\nname = \"q\"\ntorch = \"no\"\n"), std::string("[[quantity\n")}) {
    const std::string text = head + body;
    const std::vector<SchemaFile> files{{"bad.toml", text.c_str()}};
    EXPECT_THROW(ExperimentSchema{files}, std::logic_error) << body;
  }
  EXPECT_THROW(schema.values("width"), std::logic_error);  // no values: a programming error
}

// The compiled-in modules' files extend the core's schema consistently.
TEST(ExperimentSchema, CompiledInModulesAreConsistent) {
  const ExperimentSchema& schema = experiment_schema();
  EXPECT_FALSE(module_schema_files().empty());
  std::size_t module_keys = 0;
  for (const KeySpec& k : schema.keys()) {
    EXPECT_FALSE(k.allowed.empty()) << k.name;
    if (k.module.empty()) continue;
    ++module_keys;
    EXPECT_FALSE(k.quantities.empty()) << k.name;
    for (const std::string& q : k.quantities) EXPECT_NE(schema.find_quantity(q), nullptr) << k.name << ": " << q;
    if (k.kind == KeyKind::text && k.domain.empty()) {
      EXPECT_FALSE(k.values.empty()) << k.name;
    }
  }
  EXPECT_GT(module_keys, 0u);
  for (const QuantitySpec& q : schema.quantities())
    if (!q.module.empty()) {
      EXPECT_FALSE(q.evaluated_by.empty()) << q.name;
    }
}

// Only what needs torch goes to `iclab-nn`: a quantity with torch (repr_training, transformer), or a
// module's key that no torch-free module quantity computed here takes (a simulation's `device`); the
// torch-free repr_gap, with its own keys, stays in plain `iclab`.
TEST(ExperimentSchema, ModuleUseNamesOnlyWhatNeedsTorch) {
  const std::string task = "[parameters]\nd = 4\nm = 4\nK = 12\nN = 3\ntau = 0.1\n";
  const auto use = [](const std::string& text) { return module_use(parse_experiment(text, "e.toml")); };
  EXPECT_EQ(use("name = \"g\"\ncompute = [\"repr_gap\"]\n" + task + "dictionaries = 2\nprompts = 3\n"), "");
  EXPECT_EQ(use("name = \"r\"\ncompute = [\"repr_training\"]\n" + task + "steps = 2\n"), "compute: 'repr_training'");
  EXPECT_EQ(use("name = \"s\"\ncompute = [\"simulation\"]\n[parameters]\nd = 4\nalpha = 1\ntau = 1\nkappa = 1\n"
                "rho = 0\nlambda = 0.1\ndevice = \"cpu\"\n"),
            "e.toml:10: parameters.device");
  EXPECT_EQ(use("name = \"t\"\ncompute = [\"theory\"]\n[parameters]\nalpha = 1\ntau = 1\nkappa = 1\nrho = 0\n"), "");
}

// compute is kept in the schema's order, so that an experiment's identity (and its output directory)
// does not depend on how its file lists the quantities.
TEST(ExperimentFile, ComputeIsInTheSchemasOrder) {
  const std::string body = "[parameters]\nd = 4\nalpha = 1\ntau = 2\nkappa = 1\nrho = 0.1\n";
  const Experiment a =
      parse_experiment("name = \"t\"\ncompute = [\"simulation\", \"theory\", \"theory\"]\n" + body, "a");
  const Experiment b = parse_experiment("name = \"t\"\ncompute = [\"theory\", \"simulation\"]\n" + body, "b");
  EXPECT_EQ(a.compute, (std::vector<std::string>{"theory", "simulation"}));
  EXPECT_EQ(a.identity_hash(), b.identity_hash());
  EXPECT_TRUE(a.computes(Quantity::simulation));
  EXPECT_FALSE(a.computes(Quantity::baselines));
  EXPECT_EQ(module_use(a), "");  // the core evaluates all of it
  // A module's key: the front end hands the experiment to the module's program (module_use).
  const Experiment on_device =
      parse_experiment("name = \"t\"\ncompute = [\"simulation\"]\n" + body + "device = \"cpu\"\n", "exp.toml");
  EXPECT_EQ(module_use(on_device), "exp.toml:9: parameters.device");
}

TEST(ExperimentFile, ImpossiblePointsAreRefusedBeforeAnyOutput) {
  const Experiment e = parse_experiment(R"(name = "t"
compute = ["simulation"]
[parameters]
alpha = 1
rho = 0.1
kappa = 1
lambda = 0
[grid]
d = [10, 20]
tau = [0.5, 1]
)",
                                        "exp.toml");
  PointEvaluator evaluator(e);
  const auto points = expand_points(e);
  EXPECT_NO_THROW(evaluator.validate(points[0]));
  try {
    evaluator.validate(points[1]);
    ADD_FAILURE() << "tau = 1, lambda = 0 accepted";
  } catch (const InvalidArgument& error) {
    EXPECT_NE(std::string(error.what()).find("point 1"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("lambda"), std::string::npos) << error.what();
  }
}

TEST(ExperimentFile, BadCovarianceSpecsNameTheLine) {
  const Experiment e = parse_experiment(std::string(kHeader) +
                                            "[parameters]\nd = 10\nalpha = 1\nrho = 0.1\nkappa = 1\ntau = 2\n"
                                            "ctest = [\"iso\", \"power:x\"]\n",
                                        "exp.toml");
  PointEvaluator evaluator(e);
  try {
    evaluator.validate(expand_points(e).front());
    ADD_FAILURE() << "power:x accepted";
  } catch (const InvalidArgument& error) {
    EXPECT_EQ(std::string(error.what()).rfind("exp.toml:9: parameters.ctest: 'power:x'", 0), 0u) << error.what();
  }
}

TEST(ExperimentFile, ShardSpelling) {
  EXPECT_EQ(parse_shard("3/16").index, 3);
  EXPECT_EQ(parse_shard("3/16").count, 16);
  EXPECT_THROW(parse_shard("16/16"), InvalidArgument);
  EXPECT_THROW(parse_shard("1-4"), InvalidArgument);
  EXPECT_THROW(parse_shard("0/0"), InvalidArgument);
  EXPECT_EQ(describe_points({1, 2, 3, 7, 9, 10}), "1-3, 7, 9-10");
}

TEST_F(Runner, BadExperimentExitsTwoWithoutOutput) {
  write(dir_ / "bad.toml", std::string(kHeader) + "[grid]\nalpah = [1]\n");
  std::string err;
  EXPECT_EQ(run("run " + (dir_ / "bad.toml").string() + " --out " + (dir_ / "out").string(), &err), 2);
  EXPECT_NE(err.find("bad.toml:4: grid.alpah"), std::string::npos) << err;
  EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
  EXPECT_FALSE(fs::exists(dir_ / "out"));
  write(dir_ / "good.toml", std::string(kHeader) + "[parameters]\nalpha = 1\nrho = 0.1\nkappa = 1\ntau = 2\n");
  EXPECT_EQ(run("run " + (dir_ / "good.toml").string() + " --shard 3/3 --out " + (dir_ / "out").string(), &err), 2);
  EXPECT_NE(err.find("--shard"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(dir_ / "out"));
  EXPECT_EQ(run("merge " + (dir_ / "nowhere").string() + " --out " + (dir_ / "m.csv").string(), &err), 2);
  EXPECT_NE(err.find("is not a directory"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(dir_ / "m.csv"));
}

// --snapshot-every (how much of a group's work a kill may lose) is a number of seconds >= 0: anything
// else is one line, exit 2 and no output, for `run` and `reproduce` alike.
TEST_F(Runner, SnapshotEveryIsSecondsAtLeastZero) {
  write(dir_ / "t.toml",
        "name = \"t\"\ncompute = [\"theory\"]\n[parameters]\nd = 4\nalpha = 1\ntau = 2\nkappa = 1\n"
        "rho = 0\n");
  const std::string out = " --out " + (dir_ / "out").string();
  for (const char* value : {"-1", "nan", "inf", "-0.5"})
    for (const std::string& command : {"run " + (dir_ / "t.toml").string(), std::string("reproduce lu2024-fig1")}) {
      std::string err;
      const std::string args = command + " --snapshot-every " + std::string(value) + out;
      EXPECT_EQ(run_iclab(args, dir_, &err), 2) << args;
      EXPECT_EQ(err.rfind("iclab: error: --snapshot-every: must be a number of seconds >= 0", 0), 0u) << args << err;
      EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
      EXPECT_FALSE(fs::exists(dir_ / "out")) << args;
    }
  EXPECT_EQ(run_iclab("run " + (dir_ / "t.toml").string() + " --quiet --snapshot-every 0" + out, dir_), 0);
  EXPECT_TRUE(fs::exists(dir_ / "out" / "results.csv"));
}

// `iclab` without `iclab-nn` beside it (a build without libtorch, or the program copied alone): what
// needs the neural-network module is refused at the one hand-over point, after the file was validated in
// full and before any output, with one line and exit 2.
TEST_F(Runner, WithoutTheNnProgramModuleWorkIsRefusedBeforeAnyOutput) {
  const fs::path alone = copy_iclab_alone();
  const std::string nn =
      "name = \"t\"\ncompute = [\"transformer\"]\n[parameters]\nd = 3\nalpha = 1\ntau = 1\n"
      "kappa = 1\nrho = 0\nsteps = 1\n";
  write(dir_ / "nn.toml", nn);
  write(dir_ / "bad.toml", nn + "model = \"gpt\"\n");
  write(dir_ / "repr.toml",
        "name = \"r\"\ncompute = [\"repr_training\"]\n[parameters]\nd = 4\nm = 4\nK = 12\nN = 3\ntau = 0.1\n"
        "steps = 2\n");
  const auto run_alone = [&](const std::string& args) {
    std::string err;
    const int code = run_program(alone, args, dir_, &err);
    return std::make_pair(code, err);
  };
  const std::string out = " --out " + (dir_ / "out").string();
  // The module's file is checked completely here first: its own errors, not "needs the module".
  auto [code, err] = run_alone("run " + (dir_ / "bad.toml").string() + out);
  EXPECT_EQ(code, 2);
  EXPECT_NE(err.find("bad.toml:10: parameters.model: expected 'linear-attention'"), std::string::npos) << err;
  for (const auto& [args, message] : std::vector<std::pair<std::string, std::string>>{
           {"run " + (dir_ / "nn.toml").string() + out, "compute: 'transformer': needs iclab built with -DICLAB_NN=ON"},
           {"simulate --d 4 --alpha 1 --tau 2 --kappa 1 --rho 0 --repeats 1 --device cpu" + out,
            "--device: needs iclab"},
           {"reproduce lu2024-fig5 --quick" + out, "compute: 'transformer': needs iclab built"},
           {"run " + (dir_ / "repr.toml").string() + out, "compute: 'repr_training': needs iclab built"},
           {"train --d 3" + out, "train: needs iclab built"}}) {
    std::tie(code, err) = run_alone(args);
    EXPECT_EQ(code, 2) << args;
    EXPECT_EQ(err.rfind("iclab: error: " + message, 0), 0u) << args << ": " << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
    EXPECT_FALSE(fs::exists(dir_ / "out")) << args;
  }
}

// What of the modules needs no torch runs in `iclab` alone (iclab_modules): merging a Transformer run's
// results (merge needs only the columns), `repr gap`, and redrawing a module figure from existing results
// (--plot-only) succeed with the same output as the full build.
TEST_F(Runner, WithoutTheNnProgramTorchFreeModuleWorkRunsAlone) {
  if (!fs::exists(fs::path(ICLAB_BINARY).parent_path() / "iclab-nn")) GTEST_SKIP() << "built without ICLAB_NN";
  const fs::path alone = copy_iclab_alone();
  const auto run_with = [&](const fs::path& program, const std::string& args) {
    std::string err;
    const int code = run_program(program, args, dir_, &err);
    return std::make_tuple(code, slurp(dir_ / "stdout"), err);
  };
  // The same command with `iclab` alone and with the full build: exit 0 both, identical stdout.
  const auto same = [&](const std::string& args) {
    const auto [full_code, full_out, full_err] = run_with(ICLAB_BINARY, args);
    const auto [code, out, err] = run_with(alone, args);
    EXPECT_EQ(full_code, 0) << args << ": " << full_err;
    EXPECT_EQ(code, 0) << args << ": " << err;
    EXPECT_EQ(out, full_out) << args;
    return out;
  };

  // A tiny Transformer run, by the full build (iclab-nn trains it).
  write(dir_ / "nn.toml",
        "name = \"t\"\ncompute = [\"transformer\"]\n[parameters]\nd = 3\nalpha = 1\ntau = 1\nkappa = 1\n"
        "rho = 0\nsteps = 2\ntest_contexts = 20\n[grid]\nlr = [1e-3, 2e-3]\n");
  ASSERT_EQ(run("run " + (dir_ / "nn.toml").string() + " --out " + (dir_ / "nn").string() + " --quiet"), 0);
  const std::string merged = same("merge " + (dir_ / "nn").string());
  EXPECT_EQ(merged, slurp(dir_ / "nn" / "results.csv"));
  EXPECT_EQ(merged.rfind("point,d,alpha,tau,kappa,rho,ctrain,model,", 0), 0u) << merged;

  const std::string gap = same("repr gap --d 4 --m 4 --K 12 --N 3,5 --dictionaries 2 --prompts 3");
  EXPECT_EQ(std::count(gap.begin(), gap.end(), '\n'), 3) << gap;

  // A repr_gap experiment is evaluated by the torch-free ReprGapEvaluator (iclab_modules): `iclab` alone
  // runs it to the same results as the full build (no hand-over), and resumes it like any other run.
  write(dir_ / "gap.toml",
        "name = \"g\"\ncompute = [\"repr_gap\"]\nseed = 3\n[parameters]\nd = 4\nm = 4\nK = 12\ntau = 0.1\n"
        "dictionaries = 2\nprompts = 3\n[grid]\nN = [3, 5]\n");
  same("run " + (dir_ / "gap.toml").string() + " --out " + (dir_ / "gap_full").string() + " --quiet");
  const auto [gap_code, gap_out, gap_err] =
      run_with(alone, "run " + (dir_ / "gap.toml").string() + " --out " + (dir_ / "gap_alone").string());
  EXPECT_EQ(gap_code, 0) << gap_err;
  EXPECT_NE(gap_err.find("2 of 2 points (0 found finished)"), std::string::npos) << gap_err;
  const std::string gap_rows = slurp(dir_ / "gap_alone" / "results.csv");
  EXPECT_EQ(gap_rows, slurp(dir_ / "gap_full" / "results.csv"));
  EXPECT_EQ(gap_rows.rfind("point,d,m,K,N,tau,dictionaries,prompts,seed,gap,gap_std,ridge_error,best_error\n", 0), 0u)
      << gap_rows;
  EXPECT_EQ(std::count(gap_rows.begin(), gap_rows.end(), '\n'), 3) << gap_rows;

  // A module figure's plot from existing results (the quick run, by the full build), redrawn by each.
  const fs::path fig = dir_ / "fig5";
  ASSERT_EQ(run("reproduce lu2024-fig5 --quick --out " + fig.string()), 0);
  const std::string plot_only = "reproduce lu2024-fig5 --quick --plot-only --out " + fig.string();
  same(plot_only);
  const std::string script = slurp(fig / "lu2024-fig5.gp");
  ASSERT_FALSE(script.empty());
  fs::remove(fig / "lu2024-fig5.gp");
  const auto [code, out, err] = run_with(alone, plot_only);
  EXPECT_EQ(code, 0) << err;
  EXPECT_EQ(slurp(fig / "lu2024-fig5.gp"), script);
}

// docs/schema.md is the schema, generated: exactly schema_markdown's text, which `iclab schema --markdown`
// prints (DEVELOPERS.md: how to regenerate it after editing a schema file). It names every quantity, key
// and allowed value (the model names) of the core and the modules.
TEST_F(Runner, SchemaDocIsTheSchema) {
  const std::string md = schema_markdown(experiment_schema());
  EXPECT_EQ(slurp(fs::path(ICLAB_SOURCE_DIR) / "docs" / "schema.md"), md)
      << "docs/schema.md differs from the schema: regenerate it with `iclab schema --markdown > docs/schema.md`";
  ASSERT_EQ(run("schema --markdown"), 0);
  EXPECT_EQ(slurp(dir_ / "stdout"), md);
  const ExperimentSchema& schema = experiment_schema();
  for (const QuantitySpec& q : schema.quantities())
    EXPECT_NE(md.find("| `" + q.name + "` |"), std::string::npos) << q.name;
  for (const KeySpec& k : schema.keys()) {
    EXPECT_NE(md.find("| `" + k.name + "` | "), std::string::npos) << k.name;
    if (!k.domain.empty()) continue;  // link names: a domain of their own, not listed per key
    for (const std::string& v : k.values)
      EXPECT_NE(md.find("| `" + k.name + "` | `" + v + "` |"), std::string::npos) << k.name << " = " << v;
  }
  ASSERT_EQ(run("schema"), 0);  // JSON: the same registry, for tools
  const auto j = nlohmann::json::parse(slurp(dir_ / "stdout"));
  EXPECT_EQ(j.at("quantities").size(), schema.quantities().size());
  EXPECT_EQ(j.at("keys").size(), schema.keys().size());
}

// repr_gap needs no torch in any build: `iclab` copied alone (or built without libtorch) runs a repr_gap
// file itself, and its rows are those of `iclab repr gap` at the same points (one evaluator; no tolerance).
TEST_F(Runner, WithoutTheNnProgramAReprGapExperimentRunsAlone) {
  const fs::path alone = copy_iclab_alone();
  const auto run_alone = [&](const std::string& args) { return run_program(alone, args, dir_); };
  write(dir_ / "gap.toml",
        "name = \"g\"\ncompute = [\"repr_gap\"]\nseed = 3\n[parameters]\nd = 4\nm = 4\nK = 12\ntau = 0.1\n"
        "dictionaries = 2\nprompts = 3\n[grid]\nN = [3, 5]\n");
  ASSERT_EQ(run_alone("run " + (dir_ / "gap.toml").string() + " --out " + (dir_ / "gap").string() + " --quiet"), 0)
      << slurp(dir_ / "stderr");
  const std::string rows = slurp(dir_ / "gap" / "results.csv");
  ASSERT_EQ(run_alone("repr gap --d 4 --m 4 --K 12 --tau 0.1 --N 3,5 --dictionaries 2 --prompts 3 --seed 3"), 0)
      << slurp(dir_ / "stderr");
  const std::string direct = slurp(dir_ / "stdout");
  // results.csv: point,d,m,K,N,tau,dictionaries,prompts,seed,gap,...; repr gap: N,gap,... (the same tail).
  std::stringstream run_lines(rows), direct_lines(direct);
  std::string run_line, direct_line;
  int compared = 0;
  while (std::getline(run_lines, run_line) && std::getline(direct_lines, direct_line)) {
    if (compared++ == 0) {
      EXPECT_EQ(run_line, "point,d,m,K,N,tau,dictionaries,prompts,seed,gap,gap_std,ridge_error,best_error");
      EXPECT_EQ(direct_line, "N,gap,gap_std,ridge_error,best_error");
      continue;
    }
    std::size_t at = 0;  // skip point, d, m, K: the run's row from N on
    for (int comma = 0; comma < 4; ++comma) at = run_line.find(',', at) + 1;
    const std::string n = run_line.substr(at, run_line.find(',', at) - at);
    for (int comma = 0; comma < 5; ++comma) at = run_line.find(',', at) + 1;  // past N, tau, ..., seed
    EXPECT_EQ(n + "," + run_line.substr(at), direct_line);
  }
  EXPECT_EQ(compared, 3) << rows << direct;
}

TEST_F(Runner, KilledAtRandomMomentsResumesToTheIdenticalCsv) {
  write(dir_ / "sweep.toml", kLongSweep);
  ASSERT_EQ(run("run " + (dir_ / "sweep.toml").string() + " --out " + (dir_ / "reference").string() + " --quiet"), 0);
  const std::string reference = slurp(dir_ / "reference" / "results.csv");
  ASSERT_EQ(std::count(reference.begin(), reference.end(), '\n'), 1 + 48 * 2);

  // SIGKILL after deterministic pseudo-random delays; each restart is the same command.
  const fs::path out = dir_ / "killed";
  unsigned state = 12345;
  int kills = 0, kills_with_progress = 0;
  for (int attempt = 0; attempt < 40 && !fs::exists(out / "results.csv"); ++attempt) {
    state = state * 1103515245u + 12345u;
    // Until a kill has landed after a finished point, later kills wait longer: on a heavily loaded
    // machine (sanitizers beside other jobs) the program's start-up alone can outlast 460 ms.
    const long patience = kills_with_progress == 0 ? 250L * kills : 0L;
    const auto delay = std::chrono::milliseconds(60 + (state >> 16) % 400 + patience);
    if (run_and_kill(dir_ / "sweep.toml", out, delay)) {
      ++kills;
      const std::string journal = slurp(out / "results.journal");  // "header" + one line per finished point
      if (std::count(journal.begin(), journal.end(), '\n') > 1) ++kills_with_progress;
    }
    if (kills >= 6 && kills_with_progress >= 1) break;
  }
  EXPECT_GE(kills, 3) << "the run finished before it could be killed: make the sweep longer";
  EXPECT_GE(kills_with_progress, 1) << "no kill happened after a point was finished";
  ASSERT_EQ(run("run " + (dir_ / "sweep.toml").string() + " --out " + out.string() + " --quiet"), 0);
  EXPECT_EQ(slurp(out / "results.csv"), reference);
  EXPECT_FALSE(fs::exists(out / "results.partial.csv"));
  EXPECT_FALSE(fs::exists(out / "results.journal"));
}

TEST_F(Runner, TornTailsAreDiscarded) {
  // The state a kill can leave: three finished points, a half-written row of the fourth and a torn
  // journal line. The restart cuts both back to the last complete journal entry.
  write(dir_ / "sweep.toml", kSweep);
  const std::string exp = (dir_ / "sweep.toml").string();
  ASSERT_EQ(run("run " + exp + " --out " + (dir_ / "reference").string() + " --quiet"), 0);
  const std::string reference = slurp(dir_ / "reference" / "results.csv");
  const fs::path out = dir_ / "torn";
  fs::create_directories(out);
  fs::copy_file(dir_ / "sweep.toml", out / "experiment.toml");
  std::size_t end = reference.find('\n') + 1;
  // Journal format (runner.hpp): the header's size and the experiment's hash, then per point its end
  // offset and the FNV-1a checksum of its rows.
  const auto meta = nlohmann::json::parse(slurp(dir_ / "reference" / "results.csv.meta.json"));
  std::string journal = "header " + std::to_string(end) + " " + meta["experiment_hash"].get<std::string>() + "\n";
  for (int point = 0; point < 3; ++point) {
    const std::size_t begin = end;
    for (int row = 0; row < 2; ++row) end = reference.find('\n', end) + 1;  // two lambdas: two rows per point
    journal +=
        std::to_string(point) + " " + std::to_string(end) + " " + fnv1a(reference.substr(begin, end - begin)) + "\n";
  }
  write(out / "results.partial.csv", reference.substr(0, end) + "3,28,2,0.5,garb");
  write(out / "results.journal", journal + "3 9");
  std::string err;
  ASSERT_EQ(run("run " + exp + " --out " + out.string(), &err), 0);
  EXPECT_NE(err.find("(3 found finished)"), std::string::npos) << err;
  EXPECT_EQ(slurp(out / "results.csv"), reference);
}

TEST_F(Runner, ShardsMergeIntoTheCsvOfOneRunAndIndependentOfThreads) {
  write(dir_ / "sweep.toml", kSweep);
  const std::string exp = (dir_ / "sweep.toml").string();
  ASSERT_EQ(run("run " + exp + " --out " + (dir_ / "one").string() + " --quiet"), 0);
  // Three shards, as a SLURM array would run them, two of them with one thread.
  for (int i = 0; i < 3; ++i) {
    const std::string threads = i < 2 ? "OMP_NUM_THREADS=1 " : "OMP_NUM_THREADS=2 ";
    const std::string cmd = threads + std::string(ICLAB_BINARY) + " run " + exp + " --out " +
                            (dir_ / "shards").string() + " --quiet --shard " + std::to_string(i) + "/3";
    ASSERT_EQ(std::system(cmd.c_str()), 0);
  }
  ASSERT_EQ(run("merge " + (dir_ / "shards").string() + " --out " + (dir_ / "merged.csv").string()), 0);
  EXPECT_EQ(slurp(dir_ / "merged.csv"), slurp(dir_ / "one" / "results.csv"));

  // A missing shard is listed, and nothing is written unless asked for.
  fs::remove(dir_ / "shards" / "results.shard-1-of-3.csv");
  std::string err;
  EXPECT_NE(run("merge " + (dir_ / "shards").string() + " --out " + (dir_ / "partial.csv").string(), &err), 0);
  EXPECT_NE(err.find("4 of 12 points missing: 1, 4, 7, 10"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(dir_ / "partial.csv"));
  EXPECT_EQ(run("merge " + (dir_ / "shards").string() + " --allow-missing --out " + (dir_ / "partial.csv").string()),
            0);
  const std::string partial = slurp(dir_ / "partial.csv");
  EXPECT_EQ(std::count(partial.begin(), partial.end(), '\n'), 1 + 8 * 2);
}

TEST_F(Runner, RefusesAnotherExperimentsDirectory) {
  write(dir_ / "a.toml", std::string(kHeader) + "[parameters]\nalpha = 1\nrho = 0.1\nkappa = 1\ntau = 2\n");
  write(dir_ / "b.toml", std::string(kHeader) + "[parameters]\nalpha = 2\nrho = 0.1\nkappa = 1\ntau = 2\n");
  ASSERT_EQ(run("run " + (dir_ / "a.toml").string() + " --out " + (dir_ / "out").string() + " --quiet"), 0);
  std::string err;
  EXPECT_EQ(run("run " + (dir_ / "b.toml").string() + " --out " + (dir_ / "out").string(), &err), 2);
  EXPECT_NE(err.find("different experiment"), std::string::npos) << err;
  // The experiment file is kept beside the results and reruns as is.
  EXPECT_EQ(slurp(dir_ / "out" / "experiment.toml"), slurp(dir_ / "a.toml"));
  EXPECT_EQ(
      run("run " + (dir_ / "out" / "experiment.toml").string() + " --out " + (dir_ / "again").string() + " --quiet"),
      0);
  EXPECT_EQ(slurp(dir_ / "again" / "results.csv"), slurp(dir_ / "out" / "results.csv"));
}

TEST_F(Runner, RefusesASecondRunOnTheSameShard) {
  write(dir_ / "a.toml", std::string(kHeader) + "[parameters]\nalpha = 1\nrho = 0.1\nkappa = 1\ntau = 2\n");
  fs::create_directories(dir_ / "out");
  const int fd = ::open((dir_ / "out" / "results.lock").c_str(), O_RDWR | O_CREAT, 0644);
  ASSERT_GE(fd, 0);
  ASSERT_EQ(::flock(fd, LOCK_EX | LOCK_NB), 0);  // as a running `iclab run` holds it
  std::string err;
  EXPECT_EQ(run("run " + (dir_ / "a.toml").string() + " --out " + (dir_ / "out").string(), &err), 2);
  EXPECT_NE(err.find("another `iclab run`"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(dir_ / "out" / "results.partial.csv"));
  EXPECT_FALSE(fs::exists(dir_ / "out" / "experiment.toml"));
  ::close(fd);
  EXPECT_EQ(run("run " + (dir_ / "a.toml").string() + " --out " + (dir_ / "out").string() + " --quiet"), 0);
  // Another shard has its own lock.
  EXPECT_EQ(run("run " + (dir_ / "a.toml").string() + " --out " + (dir_ / "out").string() + " --quiet --shard 0/2"), 0);
}

// Issue 14, class 6: merge verifies each complete shard against its .meta.json (experiment, shard, rows,
// checksum) and the shape of every row, and refuses with exit 1 naming the file (and line), instead of
// accepting a damaged or foreign shard with exit 0.
TEST_F(Runner, MergeRefusesDamagedOrForeignShards) {
  const std::string theory =
      std::string(kHeader) + "[parameters]\nrho = 0.1\nkappa = 1\ntau = 2\n[grid]\nalpha = [1, 2, 3, 4]\n";
  write(dir_ / "a.toml", theory);
  write(dir_ / "b.toml",
        std::string(kHeader) + "[parameters]\nrho = 0.2\nkappa = 1\ntau = 2\n[grid]\nalpha = [1, 2, 3, 4]\n");
  for (const char* name : {"a", "b"})
    for (int shard = 0; shard < 2; ++shard)
      ASSERT_EQ(run("run " + (dir_ / (std::string(name) + ".toml")).string() + " --out " + (dir_ / name).string() +
                    " --quiet --shard " + std::to_string(shard) + "/2"),
                0);
  const fs::path good = dir_ / "a";
  const std::string shard0 = slurp(good / "results.shard-0-of-2.csv");
  ASSERT_EQ(run("merge " + good.string() + " --out " + (dir_ / "merged.csv").string()), 0);
  struct Damage {
    std::string what, text, message;
  };
  const std::size_t second_row = shard0.find('\n', shard0.find('\n') + 1) + 1;
  std::string edited = shard0;
  edited[edited.size() - 3] = edited[edited.size() - 3] == '1' ? '2' : '1';
  const std::vector<Damage> damages = {
      {"an edited value", edited, "checksum"},
      {"a deleted row", shard0.substr(0, second_row), "rows"},
      {"a short row", shard0.substr(0, shard0.rfind(',')) + "\n", "cells where the header has"},
      {"a truncated line glued onto the next", shard0.substr(0, second_row - 5) + shard0.substr(second_row),
       "line 2: "},
  };
  for (const Damage& d : damages) {
    write(good / "results.shard-0-of-2.csv", d.text);
    std::string err;
    EXPECT_EQ(run("merge " + good.string() + " --out " + (dir_ / "bad.csv").string(), &err), 1) << d.what;
    EXPECT_NE(err.find("results.shard-0-of-2.csv"), std::string::npos) << d.what << ": " << err;
    EXPECT_NE(err.find(d.message), std::string::npos) << d.what << ": " << err;
    EXPECT_FALSE(fs::exists(dir_ / "bad.csv")) << d.what;
  }
  // A shard (with its metadata) copied from another experiment with the same columns.
  fs::copy_file(dir_ / "b" / "results.shard-0-of-2.csv", good / "results.shard-0-of-2.csv",
                fs::copy_options::overwrite_existing);
  fs::copy_file(dir_ / "b" / "results.shard-0-of-2.csv.meta.json", good / "results.shard-0-of-2.csv.meta.json",
                fs::copy_options::overwrite_existing);
  std::string err;
  EXPECT_EQ(run("merge " + good.string(), &err), 1);
  EXPECT_NE(err.find("another experiment"), std::string::npos) << err;
  // A results file without its metadata is refused by merge; rerunning its command recreates it.
  write(good / "results.shard-0-of-2.csv", shard0);
  fs::remove(good / "results.shard-0-of-2.csv.meta.json");
  EXPECT_EQ(run("merge " + good.string(), &err), 1);
  EXPECT_NE(err.find("has no .meta.json"), std::string::npos) << err;
  ASSERT_EQ(run("run " + (dir_ / "a.toml").string() + " --out " + good.string() + " --quiet --shard 0/2"), 0);
  ASSERT_EQ(run("merge " + good.string() + " --out " + (dir_ / "again.csv").string()), 0);
  EXPECT_EQ(slurp(dir_ / "again.csv"), slurp(dir_ / "merged.csv"));
}

// The journal is checked against the partial file: an entry for a point whose rows are not there (or are
// another point's) is not trusted, and that point is recomputed instead of going missing. A kill between
// the .meta.json and the rename leaves a run that the same command completes.
TEST_F(Runner, ResumeTrustsOnlyJournalEntriesBackedByTheirRows) {
  write(dir_ / "sweep.toml", kSweep);
  const std::string exp = (dir_ / "sweep.toml").string();
  ASSERT_EQ(run("run " + exp + " --out " + (dir_ / "reference").string() + " --quiet"), 0);
  const std::string reference = slurp(dir_ / "reference" / "results.csv");
  const auto meta = nlohmann::json::parse(slurp(dir_ / "reference" / "results.csv.meta.json"));
  const fs::path out = dir_ / "forged";
  fs::create_directories(out);
  fs::copy_file(dir_ / "sweep.toml", out / "experiment.toml");
  std::size_t end = reference.find('\n') + 1;
  std::string journal = "header " + std::to_string(end) + " " + meta["experiment_hash"].get<std::string>() + "\n";
  for (int point = 0; point < 2; ++point) {
    const std::size_t begin = end;
    for (int row = 0; row < 2; ++row) end = reference.find('\n', end) + 1;
    journal +=
        std::to_string(point) + " " + std::to_string(end) + " " + fnv1a(reference.substr(begin, end - begin)) + "\n";
  }
  // Point 2 "finished" without rows, then point 3 with the rows of point 1 under its name.
  journal += "2 " + std::to_string(end) + " " + fnv1a("") + "\n";
  write(out / "results.partial.csv", reference.substr(0, end));
  write(out / "results.journal", journal);
  std::string err;
  ASSERT_EQ(run("run " + exp + " --out " + out.string(), &err), 0) << err;
  EXPECT_NE(err.find("(2 found finished)"), std::string::npos) << err;
  EXPECT_EQ(slurp(out / "results.csv"), reference);

  // Killed after the metadata was written but before the rename: the rerun completes the pair.
  const fs::path late = dir_ / "late";
  fs::create_directories(late);
  fs::copy_file(dir_ / "sweep.toml", late / "experiment.toml");
  fs::copy_file(dir_ / "reference" / "results.csv.meta.json", late / "results.csv.meta.json");
  ASSERT_EQ(run("run " + exp + " --out " + late.string() + " --quiet"), 0);
  EXPECT_EQ(slurp(late / "results.csv"), reference);
  EXPECT_TRUE(fs::exists(late / "results.csv.meta.json"));
  EXPECT_EQ(run("merge " + late.string()), 0);
}

// Two different experiments started at the same moment on one --out: the directory's lock makes the
// check and creation of experiment.toml one step, so exactly one of them runs.
TEST_F(Runner, TwoExperimentsStartedTogetherOnOneDirectory) {
  write(dir_ / "a.toml", std::string(kHeader) + "[parameters]\nalpha = 1\nrho = 0.1\nkappa = 1\ntau = 2\n");
  write(dir_ / "b.toml", std::string(kHeader) + "[parameters]\nalpha = 2\nrho = 0.1\nkappa = 1\ntau = 2\n");
  for (int attempt = 0; attempt < 5; ++attempt) {
    const fs::path out = dir_ / ("out" + std::to_string(attempt));
    auto start = [&](const char* name) {
      const fs::path toml = dir_ / (std::string(name) + ".toml"), rc = dir_ / (std::string(name) + ".rc");
      return "(" + std::string(ICLAB_BINARY) + " run " + toml.string() + " --out " + out.string() +
             " --quiet 2>/dev/null; echo $? > " + rc.string() + ") & ";
    };
    const std::string cmd = start("a") + start("b") + "wait";
    ASSERT_EQ(std::system(("bash -c '" + cmd + "'").c_str()), 0);
    const std::string a = slurp(dir_ / "a.rc"), b = slurp(dir_ / "b.rc");
    EXPECT_TRUE((a == "0\n" && b == "2\n") || (a == "2\n" && b == "0\n")) << "a: " << a << " b: " << b;
    EXPECT_EQ(run("merge " + out.string()), 0);
  }
}

// A failure while computing, before any point finished, leaves no directory behind (rho = 1e300 passes
// the checks but its theory is not finite); with finished points the directory stays, and says so.
TEST_F(Runner, ComputeTimeFailureLeavesNoPartialDirectory) {
  write(dir_ / "a.toml", std::string(kHeader) + "[parameters]\nalpha = 1\nkappa = 1\ntau = 2\nrho = 1e300\n");
  std::string err;
  EXPECT_EQ(run("run " + (dir_ / "a.toml").string() + " --out " + (dir_ / "out").string(), &err), 2);
  EXPECT_NE(err.find("nothing was kept"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(dir_ / "out"));
  write(dir_ / "b.toml",
        std::string(kHeader) + "[parameters]\nalpha = 1\nkappa = 1\ntau = 2\n[grid]\nrho = [0.1, 1e300]\n");
  EXPECT_EQ(run("run " + (dir_ / "b.toml").string() + " --out " + (dir_ / "kept").string(), &err), 2);
  EXPECT_NE(err.find("1 finished points are kept"), std::string::npos) << err;
  EXPECT_NE(err.find("rerun the same command to resume"), std::string::npos) << err;
  EXPECT_TRUE(fs::exists(dir_ / "kept" / "results.journal"));
}

// Issue 14, class 8: an impossible point (or one past memory) is refused with the file and line of the key
// its message names, as every other experiment-file error is, and before any output.
TEST_F(Runner, ImpossiblePointsNameTheFileAndLine) {
  write(dir_ / "f.toml",
        "name = \"f\"\ncompute = [\"simulation\"]\n[parameters]\nd = 10\nalpha = 1\nkappa = 1\n"
        "rho = 0.01\n[grid]\ntau = [2, 1e17]\n");
  std::string err;
  EXPECT_EQ(run("run " + (dir_ / "f.toml").string() + " --out " + (dir_ / "out").string(), &err), 2);
  EXPECT_NE(err.find("f.toml:9: grid.tau: point 1"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(dir_ / "out"));
}

// A point made impossible by values of [parameters] names the file and line of the key its message names
// (issue 14: these carried no file:line).
TEST_F(Runner, ImpossiblePointsOfFixedValuesNameTheFileAndLine) {
  write(dir_ / "p.toml",
        "name = \"p\"\ncompute = [\"theory\"]\n[parameters]\nalpha = 1\ntau = 1\nkappa = 1\nrho = 0.01\n");
  std::string err;
  EXPECT_EQ(run("run " + (dir_ / "p.toml").string() + " --out " + (dir_ / "out").string(), &err), 2);
  EXPECT_NE(err.find("p.toml:5: parameters.tau: point 0"), std::string::npos) << err;
  EXPECT_NE(err.find("interpolation threshold"), std::string::npos) << err;
  write(dir_ / "m.toml",
        "name = \"m\"\ncompute = [\"simulation\"]\n[parameters]\nd = 3000\nalpha = 1\ntau = 4\nkappa = 1\n"
        "rho = 0.01\n");
  EXPECT_EQ(run("run " + (dir_ / "m.toml").string() + " --out " + (dir_ / "out").string(), &err), 2);
  EXPECT_NE(err.find("m.toml:4: parameters.d: point 0"), std::string::npos) << err;
  EXPECT_NE(err.find("memory"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(dir_ / "out"));
}
