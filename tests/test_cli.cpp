// The command-line front end: the exact spellings, outputs, and bad input handling
// (one line on stderr naming the parameter, exit code 2, no output file).
#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace fs = std::filesystem;

namespace {

struct Result {
  int exit_code;
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("iclab_cli_" + std::to_string(::getpid()) + "_" +
                                        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  Result run(const std::string& args) {
    const std::string cmd = std::string(ICLAB_BINARY) + " " + args + " >" + (dir_ / "stdout").string() + " 2>" +
                            (dir_ / "stderr").string();
    const int status = std::system(cmd.c_str());
    return {WEXITSTATUS(status), slurp(dir_ / "stdout"), slurp(dir_ / "stderr")};
  }
  fs::path dir_;
};

std::string header(const std::string& csv) { return csv.substr(0, csv.find('\n')); }
long count_lines(const std::string& s) { return static_cast<long>(std::count(s.begin(), s.end(), '\n')); }

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
  EXPECT_NE(header(r.out).find("alpha_min"), std::string::npos);
  const auto last_line = r.out.substr(r.out.rfind('\n', r.out.size() - 2) + 1);
  EXPECT_EQ(last_line.back(), '\n');
  EXPECT_EQ(last_line.substr(last_line.size() - 2), ",\n") << "kappa = 1.5 is monotone: empty alpha_min";
}

TEST_F(Cli, SimulateSpellingAndOutputFiles) {
  const fs::path out = dir_ / "sim.csv";
  const Result r = run("simulate --d 10 --alpha 10 --tau 2 --kappa 0.5 --rho 0.01 --lambda 1e-8 --repeats 3 --seed 1 "
                       "--task-norm sphere --assignment balanced --with-theory --out " + out.string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(r.out.empty());
  const std::string csv = slurp(out);
  EXPECT_EQ(header(csv).rfind("d,alpha,kappa,tau,rho,lambda,repeats,icl_mean,icl_std,idg_mean,idg_std,e_icl,e_idg", 0),
            0u)
      << header(csv);
  const auto meta = nlohmann::json::parse(slurp(fs::path(out.string() + ".meta.json")));
  EXPECT_EQ(meta["seed"], 1);
  EXPECT_TRUE(meta.contains("conventions"));
  EXPECT_TRUE(meta["command_line"].get<std::string>().find("simulate") != std::string::npos);
  EXPECT_EQ(meta["points"][0]["task_norm"], "sphere");
  EXPECT_EQ(meta["points"][0]["ell"], 100);
  EXPECT_EQ(meta["points"][0]["solver"].size(), 3u);
  // no temporary files left behind
  long files = 0;
  for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir_)) ++files;
  EXPECT_EQ(files, 4);  // sim.csv, sim.csv.meta.json, stdout, stderr
  // same seed, same bytes
  const Result again = run("simulate --d 10 --alpha 10 --tau 2 --kappa 0.5 --rho 0.01 --lambda 1e-8 --repeats 3 "
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
      {th + "--tau 1", "--tau"},
      {th + "--tau 0.5,,2", "--tau"},
      {th + "--tau lin:0:1", "--tau"},
      {th + "--tau 2 --lambda abc", "--lambda"},
      {th + "--tau 2 --frobnicate 3", "--frobnicate"},
      {"theory --alpha-min xyz --tau 0.5 --kappa 0.5 --rho 0.1", "--alpha-min"},
      {"theory --alpha 10 --tau 2 --kappa 0.5", "--rho"},
      {"simulate --d 10 --alpha 10 --tau 2 --kappa 0.5 --rho 0.01 --repeats 1 --out /nonexistent/dir/x.csv", "--out"},
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

TEST_F(Cli, HelpAndVersionExitZero) {
  EXPECT_EQ(run("--help").exit_code, 0);
  EXPECT_EQ(run("simulate --help").exit_code, 0);
  const Result v = run("--version");
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_NE(v.out.find("0.1"), std::string::npos);
}

TEST_F(Cli, NoSubcommandIsAnError) { EXPECT_EQ(run("").exit_code, 2); }
