// The command-line front end: the exact spellings, outputs, and bad input handling
// (one line on stderr naming the parameter, exit code 2, no output file).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "iclab/io/text_file.hpp"
#include "iclab/version.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace iclab::test_support;

namespace {

struct Result {
  int exit_code;
  std::string out, err;
};

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_dir("iclab_cli", ::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  void TearDown() override { fs::remove_all(dir_); }

  Result run(const std::string& args) {
    std::string err;
    const int status = run_iclab(args, dir_, &err);
    return {status, slurp(dir_ / "stdout"), err};
  }
  fs::path dir_;
};

std::string header(const std::string& csv) { return csv.substr(0, csv.find('\n')); }
long count_lines(const std::string& s) { return static_cast<long>(std::count(s.begin(), s.end(), '\n')); }
std::string repeated(const std::string& text, int times) {
  std::string out;
  for (int i = 0; i < times; ++i) out += text;
  return out;
}

}  // namespace

TEST_F(Cli, TheorySpelling) {
  const Result r = run("theory --alpha 10 --tau 0.5,2 --kappa 0.5 --rho 0.01");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(header(r.out), "alpha,tau,kappa,rho,lambda,e_icl,e_idg,g_task");
  EXPECT_EQ(count_lines(r.out), 3);
  EXPECT_NE(r.out.find("10,0.5,0.5,0.01,0,0.82084927"), std::string::npos) << r.out;
  EXPECT_TRUE(r.err.empty()) << r.err;
  const Result ridge = run("theory --alpha 10 --tau 1,2 --kappa 0.5 --rho 0.01 --lambda 0.1");
  ASSERT_EQ(ridge.exit_code, 0) << ridge.err;
  EXPECT_EQ(count_lines(ridge.out), 3);
  EXPECT_EQ(ridge.out.find(",,"), std::string::npos) << "every cell has a formula";
}

TEST_F(Cli, AlphaMinSpelling) {
  const Result r = run("theory --alpha-min icl --tau 0.5 --kappa 0.2,1.5 --rho 0.1");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(header(r.out), "tau,kappa,rho,lambda,alpha_min_icl");  // the runner's name (docs/columns.md)
  const auto last_line = r.out.substr(r.out.rfind('\n', r.out.size() - 2) + 1);
  EXPECT_EQ(last_line.back(), '\n');
  EXPECT_EQ(last_line.substr(last_line.size() - 2), ",\n") << "kappa = 1.5 is monotone: empty alpha_min";
}

TEST_F(Cli, SimulateSpellingAndOutputFiles) {
  const fs::path out = dir_ / "sim.csv";
  const Result r =
      run("simulate --d 10 --alpha 10 --tau 2 --kappa 0.5 --rho 0.01 --lambda 1e-8 --repeats 3 --seed 1 "
          "--task-norm sphere --assignment balanced --with-theory --out " +
          out.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  const std::string csv = slurp(out);
  EXPECT_EQ(header(csv).rfind("d,alpha,kappa,tau,rho,lambda,repeats,icl_mean,icl_std,idg_mean,idg_std,e_icl,e_idg", 0),
            0u)
      << header(csv);
  const auto meta = nlohmann::json::parse(slurp(fs::path(out.string() + ".meta.json")));
  EXPECT_EQ(meta["seed"], 1);
  EXPECT_TRUE(meta.contains("conventions"));
  EXPECT_EQ(meta["version"], std::string(iclab::version()));
  EXPECT_EQ(meta["git"], std::string(iclab::git_describe()));
  EXPECT_TRUE(meta["command_line"].get<std::string>().find("simulate") != std::string::npos);
  EXPECT_EQ(meta["points"][0]["task_norm"], "sphere");
  EXPECT_EQ(meta["points"][0]["ell"], 100);
  EXPECT_EQ(meta["points"][0]["solver"].size(), 3u);
  // no temporary files left behind
  long files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 4);  // sim.csv, sim.csv.meta.json, stdout, stderr
  // same seed, same bytes
  const Result again =
      run("simulate --d 10 --alpha 10 --tau 2 --kappa 0.5 --rho 0.01 --lambda 1e-8 --repeats 3 "
          "--seed 1 --task-norm sphere --assignment balanced --with-theory");
  EXPECT_EQ(again.out, csv);
}

TEST_F(Cli, JsonOutput) {
  const Result r = run("theory --alpha 1,10 --tau 2 --kappa inf --rho 0.01 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["rows"].size(), 2u);
  EXPECT_TRUE(j["meta"].contains("conventions"));
  EXPECT_EQ(j["rows"][1]["kappa"], "inf");
}

TEST_F(Cli, BadInputIsOneLineExitTwoAndNoFile) {
  struct Bad {
    std::string args, names;
  };
  const std::string sim = "simulate --alpha 10 --tau 2 --kappa 0.5 --rho 0.01 --repeats 1 ";
  const std::string th = "theory --alpha 10 --kappa 0.5 --rho 0.01 ";
  const std::vector<Bad> cases = {
      {sim + "--d 1", "--d"},
      {sim + "--d 10.5", "--d"},
      {"simulate --d 10 --alpha 0 --tau 2 --kappa 0.5 --rho 0.01", "--alpha"},
      {"simulate --d 10 --alpha 10 --tau -1 --kappa 0.5 --rho 0.01", "--tau"},
      {"simulate --d 10 --alpha 10 --tau 2 --kappa 0 --rho 0.01", "--kappa"},
      {"simulate --d 10 --alpha 10 --tau 2 --kappa 0.5 --rho -0.1", "--rho"},
      {sim + "--d 10 --lambda -1", "--lambda"},
      {"simulate --d 10 --alpha 10 --tau 1 --kappa 0.5 --rho 0.01 --lambda 0", "--lambda"},
      {sim + "--d 10 --task-norm cube", "--task-norm"},
      {sim + "--d 10 --assignment sorted", "--assignment"},
      {sim + "--d 10 --repeats 0", "--repeats"},
      {sim + "--d 10 --solver magic", "--solver"},
      {sim + "--d 10 --seed -1", "--seed"},
      {"simulate --d 10 --alpha 10 --tau 2 --kappa 0.5 --rho 0.01 --repeats 9223372036854775807",
       "--repeats: must be an integer in [1, 10000000]"},
      {"simulate --d 10 --alpha 10 --tau 2 --kappa 0.5 --rho 0.01 --repeats 99999999999999999999", "--repeats"},
      {"theory --alpha lin:1:2:100000 --tau lin:0.1:0.9:100000 --kappa 1,2 --rho 0", "grid: the product"},
      {"theory --d 1000000 --ctrain iso --alpha 1 --tau 2 --kappa 1 --rho 0", "memory: --ctrain 'iso' at d = 1000000"},
      {"align --d 1000000 --ctrain iso --ctest iso --alpha 1 --tau 2 --kappa 1 --rho 0", "memory: --ctrain"},
      {"kspectrum --d 1000000 --ctrain iso --alpha 1 --tau 2 --kappa 1 --rho 0", "memory: --ctrain"},
      {"simulate --d 1000000 --ctrain iso --alpha 1 --tau 2 --kappa 1 --rho 0 --repeats 1", "memory: --ctrain"},
      {sim + "--d 10 --seed 1.5", "--seed"},
      {sim + "--d 10 --seed 18446744073709551616", "--seed"},
      {"simulate --d 10 --alpha 10 --tau 1e17 --kappa 0.5 --rho 0.01 --repeats 1", "--tau: tau*d^2 must be at most"},
      {"simulate --d 10 --alpha 10 --tau 2 --kappa 1e300 --rho 0.01 --repeats 1", "--kappa: kappa*d must be at most"},
      {th + "--tau 1", "--tau"},
      {th + "--tau 0.5,,2", "--tau"},
      {th + "--tau lin:0:1", "--tau"},
      {th + "--tau 2 --lambda abc", "--lambda"},
      {th + "--tau 2 --frobnicate 3", "--frobnicate"},
      {"theory --alpha-min xyz --tau 0.5 --kappa 0.5 --rho 0.1", "--alpha-min"},
      {"theory --alpha 10 --tau 2 --kappa 0.5", "--rho"},
      {"simulate --d 10 --alpha 10 --tau 2 --kappa 0.5 --rho 0.01 --repeats 1 --out /nonexistent/dir/x.csv", "--out"},
      // reproduce --out is a directory: none may be created for a refused scale.
      {"reproduce lu2024-fig1 --scale nope", "--scale: 'nope' is not a scale of lu2024-fig1"},
      {"reproduce lu2024-fig1 --scale paper", "'paper' exists for letey2025-fig3, lu2024-fig5, lu2024-fig6"},
      {"reproduce lu2024-fig1 --quick --scale cpu", "--scale"},
  };
  for (const Bad& c : cases) {
    const fs::path out = dir_ / "out.csv";
    const std::string args = c.args.find("--out") == std::string::npos ? c.args + " --out " + out.string() : c.args;
    const Result r = run(args);
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.names), std::string::npos) << args << "\n" << r.err;
    EXPECT_FALSE(fs::exists(out)) << args;
    EXPECT_FALSE(fs::exists(out.string() + ".meta.json")) << args;
  }
}

TEST_F(Cli, OversizedRequestIsRefusedBeforeAnyWork) {
  for (const char* solver : {"auto", "direct", "cg", "dual"}) {
    const fs::path out = dir_ / "big.csv";
    const Result r = run(std::string("simulate --d 3000 --alpha 1 --tau 4 --kappa 1 --rho 0.01 --repeats 1 --solver ") +
                         solver + " --out " + out.string());
    EXPECT_EQ(r.exit_code, 2) << solver << "\n" << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find("memory:"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("GiB"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(out));
  }
}

TEST_F(Cli, HelpAndVersionExitZero) {
  EXPECT_EQ(run("--help").exit_code, 0);
  EXPECT_EQ(run("simulate --help").exit_code, 0);
  const Result v = run("--version");
  EXPECT_EQ(v.exit_code, 0);
  // "VERSION (GIT)", both from the library's build-time record.
  EXPECT_NE(v.out.find(std::string(iclab::version()) + " (" + std::string(iclab::git_describe()) + ")"),
            std::string::npos);
  EXPECT_EQ(iclab::version().substr(0, 4), "0.2.");
}

TEST_F(Cli, NoSubcommandIsAnError) { EXPECT_EQ(run("").exit_code, 2); }

// Task-alignment spellings (Letey et al.).
TEST_F(Cli, GeneralTheorySpelling) {
  const Result r =
      run("theory --d 120 --ctrain linear --ctest 'linear;spike:0;spike:119' --alpha 2 --tau 4 --kappa 1 "
          "--rho 0.01 --alpha-test 10");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(header(r.out),
            "d,ctrain,ctest,alpha,alpha_test,tau,kappa,rho,e_icl,e_idg,e_scalar,e_misalign,q,lambda_tilde,sigma");
  EXPECT_EQ(count_lines(r.out), 4);
  // the reference implementation (icl_reference.py aligned) gives e_icl = 1.1793863036695238 for spike:119
  EXPECT_NE(r.out.find("spike:119,2,10,4,1,0.01,1.17938630366952"), std::string::npos) << r.out;
  // without --ctrain/--ctest it is the isotropic theory, --d optional
  const Result iso = run("theory --d 120 --alpha 2 --tau 4 --kappa 1 --rho 0.01");
  ASSERT_EQ(iso.exit_code, 0) << iso.err;
  EXPECT_EQ(header(iso.out), "alpha,tau,kappa,rho,lambda,e_icl,e_idg,g_task");
}

TEST_F(Cli, AlignSpellingAndSpearman) {
  const std::string align =
      "align --d 120 --ctrain power:0.9 --ctest 'lowrank:0.2;power:0.4;iso;spike:3' --alpha 2 "
      "--tau 4 --kappa 0.2,1 --rho 0.01";
  const Result r = run(align);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(header(r.out), "ctest,kappa,e_icl,e_misalign,resolvent,trace,inv_cka");
  EXPECT_EQ(count_lines(r.out), 9);
  // Spearman against the theory's own e_icl: e_misalign ranks the tests exactly like e_ICL at fixed kappa
  // (e_scalar does not depend on the test beyond its trace), so its correlation is 1.
  std::ofstream(dir_ / "errors.csv") << r.out;
  const Result s = run(align + " --spearman-against " + (dir_ / "errors.csv").string() + " --error-column e_icl");
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(header(s.out), "kappa,spearman_e_misalign,spearman_resolvent,spearman_trace,spearman_inv_cka");
  EXPECT_NE(s.out.find("\n0.2,1,"), std::string::npos) << s.out;
  EXPECT_NE(s.out.find("\nmean,1,"), std::string::npos) << s.out;
  const Result missing = run(align + " --spearman-against " + (dir_ / "errors.csv").string() + " --error-column nope");
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("nope"), std::string::npos);
}

// A measured error is read whole: "0.5abc" used to count as 0.5 and "abc" to fail with std::stod's "stod".
TEST_F(Cli, SpearmanRefusesCellsThatAreNotNumbers) {
  const std::string align =
      "align --d 10 --ctrain iso --ctest 'iso;spike:3' --alpha 2 --tau 4 --kappa 1 --rho 0.01 "
      "--error-column e_icl --spearman-against " +
      (dir_ / "errors.csv").string() + " --out " + (dir_ / "out.csv").string();
  for (const char* text : {"0.5abc", "abc", ""}) {
    const std::string cell = text;
    std::ofstream(dir_ / "errors.csv") << "ctest,kappa,e_icl\niso,1," << cell << "\nspike:3,1,0.7\n";
    const Result r = run(align);
    EXPECT_EQ(r.exit_code, 2) << cell << "\n" << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find("--spearman-against: "), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("column 'e_icl': '" + cell + "' is not a number"), std::string::npos) << r.err;
    EXPECT_FALSE(fs::exists(dir_ / "out.csv"));
  }
}

TEST_F(Cli, HeatmapSpelling) {
  const Result r =
      run("heatmap --d 100 --ptest 0.9 --alpha 1 --tau 4 --rho 0.01 --dp lin:-0.5:2:51 --kappa "
          "lin:0.1:2.1:81");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(header(r.out), "dp,kappa,e_icl,e_matched,improvement_pct");
  EXPECT_EQ(count_lines(r.out), 1 + 51 * 81);
  // spec checkpoint C8: the best cell is dp = 1.45, kappa = 0.1 with 19.35% improvement
  EXPECT_NE(r.out.find("\n1.4500000000000002,0.1,0.69266361"), std::string::npos);
}

TEST_F(Cli, SimulateWithCovariances) {
  const Result r =
      run("simulate --d 12 --ctrain power:0.9 --ctest 'power:0.9;spike:0;rot:2:power:0.9' --alpha 2 "
          "--tau 4 --kappa 1 --rho 0.01 --lambda 1e-6 --repeats 2 --seed 3 --with-theory");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(header(r.out).rfind("d,ctrain,ctest,alpha,kappa,tau,rho,lambda,repeats,icl_mean,icl_std,idg_mean,idg_std,"
                                "e_icl,e_idg,ell",
                                0),
            0u)
      << header(r.out);
  EXPECT_EQ(count_lines(r.out), 4);
}

TEST_F(Cli, BadCovarianceInput) {
  const std::string th = "theory --d 10 --alpha 2 --tau 4 --kappa 1 --rho 0.01 ";
  std::ofstream(dir_ / "wrong_size.csv") << "1,2,3\n";
  std::ofstream(dir_ / "asym.csv") << "1,2\n0,1\n";
  std::ofstream(dir_ / "notpsd.csv") << "1,2\n2,1\n";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {th + "--ctrain cube", "--ctrain"},
      {th + "--ctrain power:x", "--ctrain"},
      {th + "--ctest 'iso;spike:10'", "--ctest"},
      {th + "--ctest lowrank:0", "--ctest"},
      {th + "--ctrain file:" + (dir_ / "wrong_size.csv").string(), "--ctrain"},
      {"theory --d 2 --alpha 2 --tau 4 --kappa 1 --rho 0.01 --ctrain file:" + (dir_ / "asym.csv").string(), "--ctrain"},
      {"theory --d 2 --alpha 2 --tau 4 --kappa 1 --rho 0.01 --ctrain file:" + (dir_ / "notpsd.csv").string(),
       "--ctrain"},
      {th + "--ctrain file:/nonexistent.npy", "--ctrain"},
      {th + "--ctrain iso --lambda 0.1", "--lambda"},
      {"theory --alpha 2 --tau 4 --kappa 1 --rho 0.01 --ctrain iso", "--d"},
      {th + "--ctrain iso --tau 1", "--tau"},
      {"align --d 10 --ctrain iso --ctest iso --alpha 2 --tau 4 --kappa 1 --rho 0.01 --spearman-against /nope.csv",
       "--spearman-against"},
      {"heatmap --ptest 0.9 --alpha 1 --tau 4 --rho 0.01 --dp 0,1 --kappa 0", "--kappa"},
      {"simulate --d 10 --alpha 2 --tau 2 --kappa 1 --rho 0.01 --repeats 1 --ctrain power:-", "--ctrain"},
      {"simulate --d 10 --alpha 2 --tau 2 --kappa 1 --rho 0.01 --repeats 1 --error-form sloppy", "--error-form"},
      // 10 000 nested prefixes used to overflow the stack (SIGSEGV)
      {th + "--ctrain " + repeated("raw:", 10000) + "iso", "--ctrain: covariance specification nested too deeply"},
      {th + "--ctest " + repeated("rot:1:", 10000) + "iso", "--ctest: covariance specification nested too deeply"},
  };
  for (const auto& [args, name] : cases) {
    const fs::path out = dir_ / "out.csv";
    const Result r = run(args + " --out " + out.string());
    EXPECT_EQ(r.exit_code, 2) << args << "\n" << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << args << "\n" << r.err;
    EXPECT_NE(r.err.find(name), std::string::npos) << args << "\n" << r.err;
    EXPECT_FALSE(fs::exists(out)) << args;
  }
}

// Issue 14, class 2: valid extreme parameters give finite numbers at their known limits (never NaN or
// -inf with exit 0), and parameters past double precision are one refusal line with exit 2.
TEST_F(Cli, ExtremeParametersGiveFiniteLimitsOrARefusal) {
  auto expect_finite = [](const Result& r, const std::string& what) {
    EXPECT_EQ(r.exit_code, 0) << what << "\n" << r.err;
    EXPECT_EQ(r.out.find("nan"), std::string::npos) << what << "\n" << r.out;
    EXPECT_EQ(r.out.find("-inf"), std::string::npos) << what << "\n" << r.out;
  };
  auto cell = [](const std::string& csv, long row, const std::string& column) {
    std::istringstream in(csv);
    std::string line, head;
    std::getline(in, head);
    for (long i = 0; i <= row; ++i) std::getline(in, line);
    std::istringstream h(head), l(line);
    std::string name, value;
    while (std::getline(h, name, ',') && std::getline(l, value, ','))
      if (name == column) return std::stod(value);
    ADD_FAILURE() << "no column " << column;
    return 0.0;
  };
  // kappa -> 0 (tau > 1, ridgeless): e_IDG -> tau rho/(tau - 1) = 0.02.
  const Result tiny_kappa = run("theory --alpha 2 --tau 2 --kappa 1e-200 --rho 0.01");
  expect_finite(tiny_kappa, "kappa 1e-200");
  EXPECT_NEAR(cell(tiny_kappa.out, 0, "e_idg"), 0.02, 1e-15);
  // lambda -> inf: both errors -> 1 + rho, g_task >= 0 (was 1.111, 0, 1e134, NaN and g_task < 0).
  const Result big_lambda = run("theory --alpha 2 --tau 2 --kappa 0.5 --rho 0.01 --lambda 1e15,1e20,1e100,1e200");
  expect_finite(big_lambda, "lambda 1e15..1e200");
  for (long row = 0; row < 4; ++row) {
    EXPECT_NEAR(cell(big_lambda.out, row, "e_idg"), 1.01, 1e-14) << row;
    EXPECT_GE(cell(big_lambda.out, row, "g_task"), 0.0) << row;
  }
  // tau -> 0: 1 + rho, in the isotropic and the task-alignment theory alike (was g_task < 0, -inf, and
  // e_ICL = 0.01 in the alignment theory at tau = 1e-40).
  const Result tiny_tau = run("theory --alpha 2 --tau 1e-12,1e-17,1e-40 --kappa 2 --rho 0.01");
  expect_finite(tiny_tau, "tau 1e-12..1e-40");
  for (long row = 0; row < 3; ++row) EXPECT_GE(cell(tiny_tau.out, row, "g_task"), 0.0) << row;
  EXPECT_NEAR(cell(tiny_tau.out, 2, "e_icl"), 1.01, 1e-15);
  const Result alignment = run("theory --d 20 --ctrain iso --alpha 2 --tau 1e-40 --kappa 2 --rho 0.01");
  expect_finite(alignment, "alignment tau 1e-40");
  EXPECT_NEAR(cell(alignment.out, 0, "e_icl"), 1.01, 1e-15);
  expect_finite(run("simulate --d 10 --alpha 1 --tau 1 --kappa 1 --rho 0.01 --lambda 1e300 --with-theory --repeats 1"),
                "simulate lambda 1e300");
  expect_finite(run("align --d 10 --ctrain power:0.9 --ctest 'iso;power:0.5' --alpha 2 --tau 1e-40 --kappa 0.5 "
                    "--rho 0.01"),
                "align tau 1e-40");
  const Result heat = run("heatmap --d 10 --ptest 0.5 --alpha 2 --tau 1e-40 --rho 0.01 --dp 0.1 --kappa 1");
  expect_finite(heat, "heatmap tau 1e-40");
  EXPECT_EQ(heat.out.find(",-0\n"), std::string::npos) << heat.out;
  // A file of 1e308 I is the identity after scaling to trace d (it overflowed to the zero matrix).
  const fs::path big = dir_ / "big.csv";
  std::ofstream(big) << "1e308,0\n0,1e308\n";
  const std::string args = " --d 2 --alpha 2 --tau 0.5 --kappa 0.5 --rho 0.01";
  const Result from_file = run("theory --ctrain file:" + big.string() + " --ctest iso" + args);
  const Result identity = run("theory --ctrain iso --ctest iso" + args);
  expect_finite(from_file, "file 1e308 I");
  EXPECT_EQ(cell(from_file.out, 0, "e_icl"), cell(identity.out, 0, "e_icl"));
  // Refusals: one line, exit 2, naming the parameter.
  const fs::path zero = dir_ / "zero.csv";
  std::ofstream(zero) << "0,0\n0,0\n";
  struct Bad {
    std::string args, names;
  };
  for (const Bad& c : std::vector<Bad>{
           {"theory --alpha 2 --tau 2 --kappa 0.5 --rho 0.01 --lambda 1.5e308", "--lambda"},
           {"theory --alpha 2 --tau 1e-310 --kappa 0.5 --rho 0.01", "--tau"},
           {"align --d 2 --ctrain iso --ctest raw:file:" + zero.string() +
                " --alpha 2 --tau 0.5 --kappa 0.5 --rho 0.01",
            "--ctest"},
       }) {
    const Result r = run(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << c.args << "\n" << r.err;
    EXPECT_NE(r.err.find(c.names), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_TRUE(r.out.empty()) << c.args << "\n" << r.out;
  }
}

// Issue 14: a constant error column makes every Spearman correlation 0/0. It used to print "nan"; it is
// now an empty cell (undefined), and no table with a NaN cell is ever written.
TEST_F(Cli, UndefinedSpearmanIsAnEmptyCellNotNaN) {
  std::ofstream(dir_ / "errors.csv") << "ctest,kappa,e_icl\niso,1,0.5\nspike:3,1,0.5\n";
  const Result r =
      run("align --d 10 --ctrain iso --ctest 'iso;spike:3' --alpha 2 --tau 4 --kappa 1 --rho 0.01 "
          "--error-column e_icl --spearman-against " +
          (dir_ / "errors.csv").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.find("nan"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n1,,,,\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\nmean,,,,\n"), std::string::npos) << r.out;
}

// Issue 14, class 7: output that cannot be written (stdout on a full device) is a failure, exit 1 with a
// message, for a table, a merge and --help alike.
TEST_F(Cli, WritesToAFullStdoutFail) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  for (const std::string args : {"theory --alpha 2 --tau 2 --kappa 1 --rho 0.01", "--help", "--version"}) {
    const std::string cmd = std::string(ICLAB_BINARY) + " " + args + " >/dev/full 2>" + (dir_ / "stderr").string();
    const int status = std::system(cmd.c_str());
    EXPECT_EQ(WEXITSTATUS(status), 1) << args;
    EXPECT_NE(slurp(dir_ / "stderr").find("stdout: write failed"), std::string::npos) << args;
  }
}

// Issue 14, class 7: --out onto a symbolic link, FIFO, device node or directory is refused before any
// work (it used to be replaced by a regular file), for tables and merge alike; the target is left as is.
TEST_F(Cli, OutputNeverReplacesAnythingButARegularFile) {
  const fs::path link = dir_ / "link.csv", fifo = dir_ / "fifo.csv", sub = dir_ / "sub";
  fs::create_symlink(dir_ / "elsewhere.csv", link);
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  fs::create_directories(sub);
  const std::string theory = "theory --alpha 1 --tau 2 --kappa 1 --rho 0 --out ";
  for (const std::string& target : {link.string(), fifo.string(), std::string("/dev/null"), sub.string()}) {
    const Result r = run(theory + target);
    EXPECT_EQ(r.exit_code, 2) << target << "\n" << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find("--out: '" + target + "' is a"), std::string::npos) << r.err;
  }
  EXPECT_TRUE(fs::is_symlink(link));
  EXPECT_FALSE(fs::exists(dir_ / "elsewhere.csv"));
  EXPECT_TRUE(fs::is_fifo(fifo));
  // The metadata file beside a regular --out is checked too.
  fs::create_symlink(dir_ / "elsewhere.json", dir_ / "ok.csv.meta.json");
  EXPECT_EQ(run(theory + (dir_ / "ok.csv").string()).exit_code, 2);
  EXPECT_FALSE(fs::exists(dir_ / "ok.csv"));
  // merge --out onto a directory is refused before merging.
  std::ofstream(dir_ / "e.toml")
      << "name = \"e\"\ncompute = [\"theory\"]\n[parameters]\nalpha = 1\nrho = 0.1\nkappa = 1\ntau = 2\n";
  ASSERT_EQ(run("run " + (dir_ / "e.toml").string() + " --quiet --out " + (dir_ / "e").string()).exit_code, 0);
  const Result merge = run("merge " + (dir_ / "e").string() + " --out " + sub.string());
  EXPECT_EQ(merge.exit_code, 2) << merge.err;
  EXPECT_NE(merge.err.find("is a directory"), std::string::npos) << merge.err;
}

// Issue 14, classes 5 and 8: messages that name the problem. A misspelt command suggests the closest one,
// a directory given as a file says so (`iclab run DIR` said "name: missing", a directory read as a
// covariance file leaked "basic_filebuf::underflow"), and align refuses the list --alpha-test 1,2
// instead of using its first value.
TEST_F(Cli, MessagesNameTheActualProblem) {
  fs::create_directories(dir_ / "somedir");
  fs::create_directories(dir_ / "dir.csv");
  struct Case {
    std::string args, message;
  };
  for (const Case& c : std::vector<Case>{
           {"theroy --alpha 1", "'theroy' is not an iclab command; did you mean 'theory'?"},
           {"mrege x", "did you mean 'merge'?"},
           {"xyzzy", "'xyzzy' is not an iclab command (iclab --help lists them)"},
           {"run " + (dir_ / "somedir").string(), "is a directory, not an experiment file"},
           {"theory --d 2 --ctrain file:" + (dir_ / "dir.csv").string() + " --alpha 1 --tau 2 --kappa 1 --rho 0",
            "cannot open the file"},
           {"plot " + (dir_ / "somedir").string() + " --x a --y b -o " + (dir_ / "p.png").string(),
            "is a directory, not a CSV file"},
           {"align --d 4 --ctrain iso --ctest iso --alpha 1 --alpha-test 1,2 --tau 2 --kappa 1 --rho 0",
            "--alpha-test: one value"},
           // An --out where no file can be created fails before the computation (/proc refuses new files,
           // also to root, for whom permission bits would not).
           {"theory --alpha 1 --tau 2 --kappa 1 --rho 0 --out /proc/iclab.csv",
            "--out: cannot create files in '/proc'"},
           {"merge " + (dir_ / "somedir").string() + " --out /proc/iclab.csv", "--out: cannot create files in '/proc'"},
       }) {
    const Result r = run(c.args);
    EXPECT_EQ(r.exit_code, 2) << c.args << "\n" << r.err;
    EXPECT_EQ(count_lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find(c.message), std::string::npos) << c.args << "\n" << r.err;
    EXPECT_EQ(r.err.find("basic_filebuf"), std::string::npos) << r.err;
  }
}

// Issue 14: the bad-input corpus (tests/data/bad_inputs.tsv; its header says how to grow it). Each line is
// refused by exit 2 with one stderr line naming the problem, nothing on stdout and no file in the working
// directory.
// Runs every line of a bad-input corpus (tests/data/README: EXPECTED<TAB>ARGUMENTS) from an empty
// directory; returns the number of cases.
int run_bad_input_corpus(const fs::path& dir, const std::string& file) {
  const std::string corpus = slurp(fs::path(ICLAB_SOURCE_DIR) / "tests" / "data" / file);
  EXPECT_FALSE(corpus.empty()) << file;
  const fs::path work = dir / "work";
  std::istringstream lines(corpus);
  int cases = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line.front() == '#') continue;
    const std::size_t tab = line.find('\t');
    EXPECT_NE(tab, std::string::npos) << line;
    if (tab == std::string::npos) continue;
    const std::string expected = line.substr(0, tab), args = line.substr(tab + 1);
    fs::remove_all(work);
    fs::create_directories(work);
    // Each argument single-quoted: the corpus splits on blanks only, and ';' reaches iclab as text.
    std::string quoted;
    std::istringstream words(args);
    for (std::string word; words >> word;) quoted += " '" + word + "'";
    const std::string cmd = "cd " + work.string() + " && " + ICLAB_BINARY + quoted + " >" + (dir / "stdout").string() +
                            " 2>" + (dir / "stderr").string();
    const int status = std::system(cmd.c_str());
    const std::string out = slurp(dir / "stdout"), err = slurp(dir / "stderr");
    EXPECT_EQ(WEXITSTATUS(status), 2) << args << "\n" << err;
    EXPECT_EQ(count_lines(err), 1) << args << "\n" << err;
    EXPECT_NE(err.find(expected), std::string::npos) << args << "\n" << err << "(wanted: " << expected << ")";
    // Never libtorch's own text (c10::Error), nor a C++ library's (std::stod, basic_filebuf).
    for (const char* raw : {"enforce fail", "Expected ", "stod", "stoul", "basic_filebuf", "c10::"})
      EXPECT_EQ(err.find(raw), std::string::npos) << args << "\n" << err;
    EXPECT_TRUE(out.empty()) << args << "\n" << out;
    EXPECT_TRUE(fs::is_empty(work)) << args;  // no output file (hence no NaN written anywhere)
    ++cases;
  }
  return cases;
}

TEST_F(Cli, BadInputCorpus) { EXPECT_GE(run_bad_input_corpus(dir_, "bad_inputs.tsv"), 50); }

// The neural-network commands (train, repr, Transformer experiment files): `iclab` hands them to
// `iclab-nn` beside it, which exists when iclab is built with -DICLAB_NN=ON.
TEST_F(Cli, BadInputCorpusOfTheNeuralNetworkCommands) {
  if (!fs::exists(fs::path(ICLAB_BINARY).parent_path() / "iclab-nn")) GTEST_SKIP() << "built without ICLAB_NN";
  EXPECT_GE(run_bad_input_corpus(dir_, "bad_inputs_nn.tsv"), 20);
}
