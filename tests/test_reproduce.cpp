// Every figure preset's --quick run writes its experiment files, CSVs and plots, and its numbers match
// the stored ones (tests/data/quick); the experiment file it wrote reruns with `iclab run` to the same
// CSV; bad names exit 2.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "iclab/experiments/experiment.hpp"
#include "iclab/io/text_file.hpp"
#include "iclab/reproduce/figure_files.hpp"
#include "iclab/reproduce/preset_support.hpp"
#include "iclab/reproduce/presets.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using iclab::test_support::slurp;

namespace {

// ---- Stored numbers of the quick runs -----------------------------------------------------------------
//
// tests/data/quick/<preset>/<experiment>.csv holds rows of the quick run's results.csv, verbatim, behind
// a first column `row` (the 0-based data row of results.csv): every row of a table of up to kWholeRows
// rows, else every s-th row for the smallest prime s >= rows / kWholeRows (a prime stride walks across
// every axis of a grid) plus the last row, which also pins the row count. All columns are compared:
// text exactly, numbers within a tolerance of their kind (below). Regenerate after an intended change:
//   ICLAB_UPDATE_GOLDEN=1 ctest --test-dir build -R '^AllFigures/Reproduce'
// (writes into the source tree; review `git diff tests/data/quick` and commit it with the change).
//
// Tolerances. A rerun with the same seed on the same build is bit-identical (randomness is addressed by
// (seed, point, repetition), never by thread count or order of work; BLAS runs single-threaded; OpenMP
// partitions are fixed, docs/conventions.md), so on the machine that wrote the numbers every difference is
// 0 (checked: OMP_NUM_THREADS=1 and 2 give identical files). The tolerances absorb only what legitimately
// changes between machines that build the same sources on Debian 12, measured by forcing other code paths
// on one machine (AMD EPYC, OpenBLAS core "Haswell"):
//  - OpenBLAS picks its kernels by CPU at run time (Debian's build is DYNAMIC_ARCH), and dgemm/dsyrk/dpotrf
//    sum in another order on SSE, AVX, AVX2 or AVX-512 machines. The last-bit changes of Gamma* are
//    amplified by the ridge system's conditioning (lambda down to 1e-8, near the interpolation peak
//    tau ~ 1): OPENBLAS_CORETYPE=Prescott, Sandybridge, SkylakeX or Cooperlake moved the simulation
//    means and stds by up to 8e-9 relative (lu2024-fig1 at alpha = 100, tau = 1.15). 1e-6 leaves a factor
//    > 100 for other CPUs and is still 1e4 below the Monte-Carlo scatter (~1e-2), so any change of a draw
//    or of the fit is caught.
//  - glibc picks exp/log/pow variants by CPU (FMA or not) that may differ in the last bit. Theory columns
//    (closed forms, bracketed roots to ~1e-15, BLAS-free) did not change at all with
//    GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX2,-FMA,-AVX512F; 1e-12 leaves room for amplification in the
//    self-consistent equations. An arg-min found by Brent's method is determined only to ~sqrt(machine
//    epsilon) relative (the error is flat at its minimum), and there a last-bit change of the error moved
//    alpha_min_icl by 7e-8: alpha_min_* columns get 1e-5.
// Errors are O(1) (E||x||^2 = 1) and differences such as g_task come from cancelling O(1) terms, so the
// tolerance is relative to max(|value|, 1): absolute for small values such as a g_task of 1e-16.
constexpr std::size_t kWholeRows = 60;
constexpr double kSimulationTolerance = 1e-6;
constexpr double kTheoryTolerance = 1e-12;
constexpr double kArgMinTolerance = 1e-5;

double tolerance_of(const std::string& column) {
  auto ends_with = [&](const std::string& tail) {
    return column.size() >= tail.size() && column.compare(column.size() - tail.size(), tail.size(), tail) == 0;
  };
  if (column.rfind("alpha_min", 0) == 0) return kArgMinTolerance;
  // Means and standard deviations over repetitions (simulations, the Monte-Carlo dMMSE and Bayes ridge).
  if (ends_with("_mean") || ends_with("_std")) return kSimulationTolerance;
  return kTheoryTolerance;
}

struct CsvText {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> lines;  // the data lines, verbatim
};

std::vector<std::string> split(const std::string& line) {
  std::vector<std::string> cells;
  std::stringstream ss(line);
  for (std::string cell; std::getline(ss, cell, ',');) cells.push_back(cell);
  if (!line.empty() && line.back() == ',') cells.emplace_back();
  return cells;
}

CsvText parse(const std::string& text) {
  CsvText csv;
  std::stringstream in(text);
  std::string line;
  if (!std::getline(in, line)) return csv;
  csv.header = split(line);
  while (std::getline(in, line)) {
    csv.lines.push_back(line);
    csv.rows.push_back(split(line));
  }
  return csv;
}

bool is_prime(std::size_t n) {
  if (n < 2) return false;
  for (std::size_t f = 2; f * f <= n; ++f)
    if (n % f == 0) return false;
  return true;
}

std::vector<std::size_t> stored_rows(std::size_t rows) {
  std::vector<std::size_t> out;
  std::size_t stride = 1;
  if (rows > kWholeRows) {
    stride = (rows + kWholeRows - 1) / kWholeRows;
    while (!is_prime(stride)) ++stride;
  }
  for (std::size_t r = 0; r < rows; r += stride) out.push_back(r);
  if (rows > 0 && out.back() != rows - 1) out.push_back(rows - 1);
  return out;
}

bool update_golden() {
  const char* v = std::getenv("ICLAB_UPDATE_GOLDEN");
  return v != nullptr && std::string(v) == "1";
}

void write_golden(const fs::path& golden, const CsvText& fresh) {
  fs::create_directories(golden.parent_path());
  std::ofstream out(golden, std::ios::binary);
  out << "row";
  for (const auto& h : fresh.header) out << ',' << h;
  out << '\n';
  for (std::size_t r : stored_rows(fresh.rows.size())) out << r << ',' << fresh.lines[r] << '\n';
  ASSERT_TRUE(out.good()) << golden;
}

std::string short_number(double v) {
  std::ostringstream out;
  out << v;
  return out.str();
}

std::optional<double> number(const std::string& cell) {
  if (cell.empty()) return std::nullopt;
  char* end = nullptr;
  const double v = std::strtod(cell.c_str(), &end);
  if (end != cell.c_str() + cell.size()) return std::nullopt;
  return v;
}

// Compares a fresh results.csv with its stored rows; every mismatch names the file, row and column.
void expect_matches_golden(const fs::path& golden, const fs::path& results) {
  const CsvText fresh = parse(slurp(results));
  ASSERT_FALSE(fresh.header.empty()) << results << " is empty";
  if (update_golden()) {
    write_golden(golden, fresh);
    std::cout << "[ wrote    ] " << golden.string() << "\n";
    return;
  }
  const std::string name = fs::relative(golden, fs::path(ICLAB_SOURCE_DIR)).string();
  ASSERT_TRUE(fs::exists(golden)) << name << " missing: regenerate with ICLAB_UPDATE_GOLDEN=1 (tests/data/README.md)";
  const CsvText stored = parse(slurp(golden));
  ASSERT_FALSE(stored.rows.empty()) << name;
  ASSERT_EQ(std::vector<std::string>(stored.header.begin() + 1, stored.header.end()), fresh.header)
      << name << ": the columns of " << results << " changed; regenerate with ICLAB_UPDATE_GOLDEN=1";
  const std::size_t expected_rows = std::stoul(stored.rows.back().front()) + 1;
  ASSERT_EQ(fresh.rows.size(), expected_rows) << name << ": number of rows of " << results;
  int failures = 0;
  for (const auto& srow : stored.rows) {
    const std::size_t r = std::stoul(srow.front());
    ASSERT_EQ(srow.size(), stored.header.size()) << name << " row " << r;
    const auto& frow = fresh.rows[r];
    ASSERT_EQ(frow.size(), fresh.header.size()) << results << " row " << r;
    for (std::size_t c = 0; c < fresh.header.size(); ++c) {
      const std::string& want = srow[c + 1];
      const std::string& got = frow[c];
      if (want == got) continue;
      const std::string where = name + " row " + std::to_string(r) + " column " + fresh.header[c];
      const auto w = number(want), g = number(got);
      if (!w || !g) {
        ADD_FAILURE() << where << ": fresh '" << got << "', stored '" << want << "'";
      } else {
        const double tol = tolerance_of(fresh.header[c]);
        const double scale = std::max({std::abs(*w), std::abs(*g), 1.0});
        if (!(std::abs(*g - *w) <= tol * scale))  // also fails on NaN
          ADD_FAILURE() << where << ": fresh " << got << ", stored " << want << ", difference "
                        << std::abs(*g - *w) / scale << " (relative to max(|value|, 1)) > " << short_number(tol);
        else
          continue;
      }
      if (++failures >= 20) FAIL() << name << ": stopping after 20 mismatches";
    }
  }
}

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
  const fs::path stored = fs::path(ICLAB_SOURCE_DIR) / "tests" / "data" / "quick" / name;
  std::set<fs::path> expected;
  for (const auto& e : iclab::preset_experiments(preset, "quick")) {
    const fs::path sub = dir / e.name;
    EXPECT_EQ(slurp(sub / "experiment.toml"), e.toml) << sub;
    const std::string csv = slurp(sub / "results.csv");
    EXPECT_GT(std::count(csv.begin(), csv.end(), '\n'), 1) << sub;
    EXPECT_TRUE(fs::exists(sub / "results.csv.meta.json")) << sub;
    expected.insert(stored / (e.name + ".csv"));
    expect_matches_golden(stored / (e.name + ".csv"), sub / "results.csv");
  }
  // No stored numbers of an experiment the preset no longer has (an update removes them).
  if (fs::is_directory(stored))
    for (const auto& entry : fs::directory_iterator(stored))
      if (!expected.count(entry.path())) {
        if (update_golden())
          fs::remove(entry.path());
        else
          ADD_FAILURE() << entry.path() << " belongs to no experiment of " << name
                        << ": regenerate with ICLAB_UPDATE_GOLDEN=1";
      }
  for (const char* ext : {".png", ".svg", ".gp"}) {
    const fs::path file = dir / (name + ext);
    ASSERT_TRUE(fs::exists(file)) << file;
    EXPECT_GT(fs::file_size(file), 1000u) << file;
  }
  EXPECT_EQ(slurp(dir / (name + ".png")).substr(1, 3), "PNG");
  if (name == "letey2025-fig2") {
    // The Spearman correlations of the panels' titles are data too: per kappa and their mean, per measure.
    const std::string rho = slurp(dir / "spearman.csv");
    EXPECT_EQ(rho.substr(0, rho.find('\n')), "measure,kappa,spearman,tests");
    EXPECT_EQ(std::count(rho.begin(), rho.end(), '\n'), 1 + 4 * (5 + 1));  // 4 measures x (5 kappas + mean)
    EXPECT_NE(rho.find("\ne_misalign,mean,"), std::string::npos) << rho;
  }
  // The experiment file beside the results reruns as is, to the same numbers.
  const iclab::PresetExperiment first = iclab::preset_experiments(preset, "quick").front();
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

TEST(FigureFolders, EachFileIsTheExperimentItsNameSaysAndScalesShareNames) {
  // figures/FIGURE/SCALE/STEM.toml: an experiment file named STEM (the plots read DIR/STEM/results.csv), and
  // every scale of a figure has the same experiments, so one plot draws any scale.
  std::map<std::string, std::map<std::string, std::set<std::string>>> stems;  // figure -> scale -> stems
  for (const iclab::FigureFile& f : iclab::figure_files()) {
    const fs::path path(f.path);
    ASSERT_EQ(std::distance(path.begin(), path.end()), 3) << f.path;
    EXPECT_EQ(path.extension(), ".toml") << f.path;
    const iclab::Experiment e = iclab::parse_experiment(f.text, f.path);
    EXPECT_EQ(e.name, path.stem().string()) << f.path;
    stems[path.begin()->string()][std::next(path.begin())->string()].insert(e.name);
  }
  EXPECT_GE(stems.size(), 3u);
  for (const auto& [figure, scales] : stems) {
    for (const auto& [scale, names] : scales) {
      EXPECT_EQ(names, scales.begin()->second) << figure << "/" << scale << " against " << scales.begin()->first;
      EXPECT_EQ(iclab::figure_experiments(figure, scale).size(), names.size()) << figure << "/" << scale;
    }
    EXPECT_TRUE(scales.count("quick")) << figure << " has no quick scale (the tests run it)";
  }
}

TEST(FigureFolders, AFolderWithoutAPlotFunctionPlotsGenerically) {
  // A new figure can be a folder alone: its experiments' results plot with plot_figure_folder, labelled
  // from the run (the experiment's description, the grid's keys), one series per second-axis value.
  const fs::path dir = fs::temp_directory_path() / ("iclab_generic_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "e.toml") << "name = \"curve\"\ndescription = \"ICL error of a new figure\"\n"
                                   "compute = [\"theory\"]\n[parameters]\nalpha = 10\nrho = 0.01\nlambda = 0\n"
                                   "[grid]\ntau = \"lin:0.2:3:7\"\nkappa = [0.5, 2]\n";
  ASSERT_EQ(run("run " + (dir / "e.toml").string() + " --quiet --out " + (dir / "out" / "curve").string()), 0);
  iclab::plot_figure_folder("new-figure", (dir / "out").string(), {});
  const std::string gp = slurp(dir / "out" / "new-figure.gp");
  EXPECT_NE(gp.find("ICL error of a new figure"), std::string::npos) << gp;
  EXPECT_NE(gp.find("κ = 0.5"), std::string::npos) << gp;  // the series of the second axis
  EXPECT_NE(gp.find("κ = 2"), std::string::npos) << gp;
  EXPECT_EQ(slurp(dir / "out" / "new-figure.png").substr(1, 3), "PNG");
  // Every figure folder is a preset: those without a plot function get this one.
  const auto generic = iclab::folder_presets(iclab::presets());
  EXPECT_TRUE(std::any_of(generic.begin(), generic.end(), [](const auto& p) { return p.name == "lu2024-fig5"; }));
  EXPECT_FALSE(std::any_of(generic.begin(), generic.end(), [](const auto& p) { return p.name == "lu2024-fig1"; }));
  fs::remove_all(dir);
}

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

// Issue 14, class 5: a results cell is read whole. std::stod read "0.5abc" as 0.5 and reported "abc" as
// the bare word "stod".
TEST(PresetSupport, CsvNumberReadsTheWholeCell) {
  EXPECT_EQ(iclab::csv_number("0.25"), 0.25);
  EXPECT_EQ(iclab::csv_number("-1e-3"), -1e-3);
  EXPECT_TRUE(std::isnan(iclab::csv_number("")));
  EXPECT_EQ(iclab::csv_number("-inf"), -std::numeric_limits<double>::infinity());
  for (const char* bad : {"0.5abc", "abc", "1,5", " 1"}) {
    try {
      iclab::csv_number(bad);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(std::string("'") + bad + "' is not a number"), std::string::npos)
          << e.what();
    }
  }
}
