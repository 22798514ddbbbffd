// Every figure preset's --quick run writes its experiment files, CSVs and plots; the experiment file
// it wrote reruns with `iclab run` to the same CSV; bad names exit 2.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "iclab/io/text_file.hpp"
#include "iclab/reproduce/presets.hpp"

namespace fs = std::filesystem;

namespace {

// The file's text ("" when missing).
std::string slurp(const fs::path& p) { return iclab::read_text_file(p.string()).value_or(""); }

int run(const std::string& args) {
  const int status = std::system((std::string(ICLAB_BINARY) + " " + args + " 2>/dev/null >/dev/null").c_str());
  return WEXITSTATUS(status);
}

class Reproduce : public ::testing::TestWithParam<std::string> {};

TEST_P(Reproduce, QuickRunWritesCsvsExperimentFilesAndPlots) {
  const std::string name = GetParam();
  const fs::path dir = fs::temp_directory_path() / ("iclab_reproduce_" + std::to_string(::getpid()) + "_" + name);
  fs::remove_all(dir);
  ASSERT_EQ(run("reproduce " + name + " --quick --out " + dir.string()), 0);
  const iclab::Preset& preset = iclab::find_preset(name);
  for (const auto& e : preset.experiments(true)) {
    const fs::path sub = dir / e.name;
    EXPECT_EQ(slurp(sub / "experiment.toml"), e.toml) << sub;
    const std::string csv = slurp(sub / "results.csv");
    EXPECT_GT(std::count(csv.begin(), csv.end(), '\n'), 1) << sub;
    EXPECT_TRUE(fs::exists(sub / "results.csv.meta.json")) << sub;
  }
  for (const char* ext : {".png", ".svg", ".gp"}) {
    const fs::path file = dir / (name + ext);
    ASSERT_TRUE(fs::exists(file)) << file;
    EXPECT_GT(fs::file_size(file), 1000u) << file;
  }
  EXPECT_EQ(slurp(dir / (name + ".png")).substr(1, 3), "PNG");
  // The experiment file beside the results reruns as is, to the same numbers.
  const iclab::PresetExperiment first = preset.experiments(true).front();
  ASSERT_EQ(
      run("run " + (dir / first.name / "experiment.toml").string() + " --quiet --out " + (dir / "rerun").string()), 0);
  EXPECT_EQ(slurp(dir / "rerun" / "results.csv"), slurp(dir / first.name / "results.csv"));
  fs::remove_all(dir);
}

std::vector<std::string> names() {
  std::vector<std::string> out;
  for (const auto& p : iclab::presets()) out.push_back(p.name);
  return out;
}

INSTANTIATE_TEST_SUITE_P(AllFigures, Reproduce, ::testing::ValuesIn(names()), [](const auto& param_info) {
  std::string n = param_info.param;
  for (char& c : n)
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  return n;
});

TEST(ReproduceCli, ListAndBadNames) {
  EXPECT_EQ(run("reproduce --list"), 0);
  EXPECT_EQ(run("reproduce lu2024-fig99 --quick --out /tmp/iclab_never"), 2);
  EXPECT_FALSE(fs::exists("/tmp/iclab_never"));
  EXPECT_EQ(iclab::presets().size(), 10u);
  EXPECT_EQ(run("reproduce letey2025-fig6 --quick --reference-data /nonexistent --out /tmp/iclab_never"), 2);
  EXPECT_FALSE(fs::exists("/tmp/iclab_never"));
}

TEST(ReproduceCli, OverlaysTheAuthorsNumbers) {
  const fs::path dir = fs::temp_directory_path() / ("iclab_reproduce_ref_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  ASSERT_EQ(run("reproduce letey2025-fig6 --quick --out " + dir.string() + " --reference-data " +
                std::string(ICLAB_REFERENCE_DATA_DIR)),
            0);
  EXPECT_NE(slurp(dir / "letey2025-fig6.svg").find("authors, d = 80"), std::string::npos);
  fs::remove_all(dir);
}

}  // namespace
