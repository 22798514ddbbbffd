// The column vocabulary (iclab/experiments/columns.inc): docs/columns.md shows exactly its entries, every
// name means one thing, and every table iclab builds (the commands' tables, the runner's evaluator on every
// figure's experiment files, the stored --quick results) uses only names from it.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "iclab/covariances/covariance_spec.hpp"
#include "iclab/error.hpp"
#include "iclab/experiments/column_names.hpp"
#include "iclab/experiments/columns.hpp"
#include "iclab/experiments/command_tables.hpp"
#include "iclab/experiments/evaluate.hpp"
#include "iclab/experiments/experiment.hpp"
#include "iclab/io/csv_reader.hpp"

namespace fs = std::filesystem;
using namespace iclab;

namespace {

std::string trim(const std::string& s) {
  const auto b = s.find_first_not_of(' '), e = s.find_last_not_of(' ');
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// The cells of a Markdown table row "| a | b | c |" (no '|' inside cells).
std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out;
  std::stringstream in(line.substr(1));
  std::string cell;
  while (std::getline(in, cell, '|')) out.push_back(trim(cell));
  return out;
}

void expect_listed(const std::vector<std::string>& columns, const std::string& where) {
  for (const std::string& c : columns)
    EXPECT_NE(find_column_info(c), nullptr)
        << "column '" << c << "' of " << where << " is not in src/iclab/experiments/columns.inc (docs/columns.md)";
}

// The listed column names that `line` spells as a whole string literal ("e_icl", not "e_icl_x" or "a e_icl"),
// outside a // comment, except a literal passed straight to a key accessor (allowed_before: a pattern that
// the text before the literal ends with).
std::vector<std::string> column_literals(const std::string& line, const std::regex& allowed_before) {
  std::vector<std::string> out;
  bool in_string = false;
  std::size_t start = 0;
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (!in_string && line.compare(i, 2, "//") == 0) break;
    if (in_string && line[i] == '\\') {
      ++i;  // an escaped character
      continue;
    }
    if (line[i] != '"') continue;
    if (in_string) {
      const std::string literal = line.substr(start + 1, i - start - 1);
      if (find_column_info(literal) && !std::regex_search(line.substr(0, start), allowed_before))
        out.push_back(literal);
    }
    in_string = !in_string;
    start = i;
  }
  return out;
}

// Accessors of experiment-file keys (Experiment::sets / where, the point describer's add, the schema's
// find_key, the Transformer evaluator's option readers of a point p) and of an experiment's results by its
// name (load_results): names that share a column's spelling but are not columns.
const std::regex kKeyAccessor(
    R"((\.sets\(|\.where\(|\badd\(|\bfind_key\(|\b(text_|number_)?option\(p,|\bload_results\(dir,)\s*$)");

}  // namespace

// The scanner below finds a column literal, and only where it should.
TEST(Columns, LiteralScannerFindsColumnLiterals) {
  using V = std::vector<std::string>;
  EXPECT_EQ(column_literals(R"(  Table t({"e_icl", "x", columns::tau, "g_task"});)", kKeyAccessor),
            (V{"e_icl", "g_task"}));
  EXPECT_EQ(column_literals(R"(  c.push_back("k"); // "tau")", kKeyAccessor), V{"k"});
  EXPECT_EQ(column_literals(R"(  if (e.sets("tau") && e.where( "rho").empty()) add("d", x);)", kKeyAccessor), V{});
  EXPECT_EQ(column_literals(R"(  load_results(dir, "gap"); f("e_icl_x", "a e_icl", "\"e_icl\"");)", kKeyAccessor), V{});
  EXPECT_EQ(column_literals(R"(  s = "(" + std::string("d"))", kKeyAccessor), V{"d"});
  EXPECT_EQ(column_literals(R"(  schema.find_key("model"); load_results(other, "gap"))", kKeyAccessor), V{"gap"});
  EXPECT_EQ(column_literals(R"(  number_option(p, "lr", 1); option(p, "model"); option(q, "seed"))", kKeyAccessor),
            V{"seed"});
}

// Each column name is spelled once in the code: as an identifier in columns.inc. The sources that build
// iclab's tables (header cells, metadata about columns, the figures' CSVs) or read a results table's columns
// (the figures' plots) name a column through columns::NAME (column_names.hpp), never as a literal.
// Scope: exactly these files, so that a literal there cannot hide. Not scanned, on purpose: the front ends'
// option and argument names (the rest of apps/cli, python/), the experiment schema and parameter parsing
// (experiments/experiment.cpp, schema.cpp, the modules' schema.toml), the trainers' option readers: they
// spell *keys* of experiment files and CLI options, which share some names with columns but are not
// columns. The few key reads inside the scanned files go through the accessors of kKeyAccessor.
TEST(Columns, NamesAreSpelledOnceInTheTableBuilders) {
  const char* const files[] = {"src/iclab/experiments/command_tables.cpp",
                               "src/iclab/experiments/evaluate.cpp",
                               "src/iclab/experiments/simulate.cpp",
                               "src/iclab/nn/transformer_columns.cpp",
                               "src/iclab/repr/repr_columns.cpp",
                               "src/iclab/reproduce/preset_plots.cpp",
                               "src/iclab/reproduce/generic_plot.cpp",
                               "src/iclab/nn/transformer_plots.cpp",
                               "src/iclab/repr/presets.cpp",
                               "src/iclab/nn/transformer_evaluator.cpp",
                               "apps/cli/alignment_commands.cpp"};  // align --spearman-against's table
  for (const char* file : files) {
    std::ifstream in(fs::path(ICLAB_SOURCE_DIR) / file);
    ASSERT_TRUE(in) << file << " is missing: a moved table builder belongs in this list under its new name";
    long number = 0;
    for (std::string line; std::getline(in, line);) {
      ++number;
      for (const std::string& name : column_literals(line, kKeyAccessor))
        ADD_FAILURE() << file << ":" << number << ": the column \"" << name
                      << "\" spelled as a literal; use columns::" << name << " (iclab/experiments/column_names.hpp)";
    }
  }
}

// The constants are the listed names, in the vocabulary's order.
TEST(Columns, ConstantsAreTheListedNames) {
  const char* const constants[] = {
#define ICLAB_COLUMN(name, meaning, formerly) columns::name,
#include "iclab/experiments/columns.inc"
#undef ICLAB_COLUMN
  };
  const auto vocabulary = column_vocabulary();
  ASSERT_EQ(std::size(constants), vocabulary.size());
  for (std::size_t i = 0; i < vocabulary.size(); ++i) EXPECT_EQ(vocabulary[i].name, constants[i]);
  EXPECT_EQ(std::string(columns::e_icl), "e_icl");
  EXPECT_EQ(std::string(columns::k_eigenvalue), "k_eigenvalue");
}

TEST(Columns, NamesAreUniqueAndDescribed) {
  std::set<std::string_view> seen;
  for (const ColumnInfo& c : column_vocabulary()) {
    EXPECT_TRUE(seen.insert(c.name).second) << "listed twice: " << c.name;
    EXPECT_FALSE(c.meaning.empty()) << c.name;
    EXPECT_EQ(c.meaning.find('|'), std::string_view::npos) << c.name << ": '|' would break the doc's table";
  }
  EXPECT_EQ(find_column_info("no_such_column"), nullptr);
  EXPECT_EQ(column_meanings({"e_icl", "no_such_column"}).size(), 1u);
}

// docs/columns.md lists the vocabulary's entries in order: | `name` | meaning | formerly |.
TEST(Columns, DocListsTheVocabulary) {
  std::ifstream in(fs::path(ICLAB_SOURCE_DIR) / "docs" / "columns.md");
  ASSERT_TRUE(in) << "docs/columns.md is missing";
  std::vector<std::vector<std::string>> rows;
  for (std::string line; std::getline(in, line);)
    if (line.rfind("| `", 0) == 0) rows.push_back(cells(line));
  const auto vocabulary = column_vocabulary();
  ASSERT_EQ(rows.size(), vocabulary.size()) << "docs/columns.md has another number of columns than columns.inc";
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const ColumnInfo& c = vocabulary[i];
    ASSERT_EQ(rows[i].size(), 3u) << "docs/columns.md row " << i;
    std::string name = "`";  // (not "`" + name + "`": GCC 12's -Wrestrict misfires on it)
    name.append(c.name).append("`");
    EXPECT_EQ(rows[i][0], name) << "row " << i;
    EXPECT_EQ(rows[i][1], std::string(c.meaning)) << c.name;
    EXPECT_EQ(rows[i][2], std::string(c.formerly)) << c.name;
  }
}

// The commands' tables (CLI and Python build them with these functions) use the vocabulary: one small
// call each, the simulation with and without covariances.
TEST(Columns, CommandTablesUseTheVocabulary) {
  const theory::IsotropicPoint iso{2.0, 4.0, 1.0, 0.01, 0.0};
  expect_listed(isotropic_theory_table({iso}).table.columns(), "theory");
  const CommandTable icl_min = alpha_min_table(theory::Observable::icl, {iso});
  EXPECT_EQ(icl_min.table.columns().back(), "alpha_min_icl");  // the runner's name, formerly alpha_min
  EXPECT_EQ(alpha_min_table(theory::Observable::idg, {iso}).table.columns().back(), "alpha_min_idg");
  expect_listed(icl_min.table.columns(), "theory --alpha-min");

  const long d = 10;
  const TaskCovariance train = parse_covariance("power:0.9", d, "--ctrain");
  const std::vector<TaskCovariance> tests = parse_covariance_list("iso;spike:0", d, "--ctest");
  const theory::AlignmentPoint point{2.0, 4.0, 1.0, 0.01, std::nullopt};
  expect_listed(alignment_theory_table(d, {train}, tests, {point}).table.columns(), "theory --ctrain");
  expect_listed(align_table(train, tests, {point}).table.columns(), "align");
  theory::HeatmapRequest request;
  request.d = d;
  request.delta_p = {0.1};
  request.kappa = {1.0};
  expect_listed(heatmap_table(request).table.columns(), "heatmap");
  const CommandTable spectrum = kspectrum_table(train, {point});
  expect_listed(spectrum.table.columns(), "kspectrum");
  EXPECT_EQ(spectrum.table.columns().back(), "k_eigenvalue");  // `k` is the task count

  const auto solver = make_ridge_solver("direct");
  for (const bool general : {false, true}) {
    SimulationRequest r;
    ModelParams& m = r.points.emplace_back();
    m.d = d;
    m.alpha = 2.0;
    m.tau = 4.0;
    m.kappa = 1.0;
    m.rho = 0.01;
    r.settings[d].tests = general ? tests : std::vector<TaskCovariance>{};
    if (general) r.settings[d].train = train;
    r.general = general;
    r.lambdas = {1e-3};
    r.repeats = 1;
    r.solver = solver.get();
    r.with_theory = true;
    const CommandTable sim = simulation_table(r);
    expect_listed(sim.table.columns(), general ? "simulate --ctrain --with-theory" : "simulate --with-theory");
    // The theory columns have the runner's names with and without covariances (formerly e_icl_ridgeless).
    const auto& c = sim.table.columns();
    EXPECT_NE(std::find(c.begin(), c.end(), "e_icl"), c.end());
    EXPECT_NE(std::find(c.begin(), c.end(), "e_idg"), c.end());
    EXPECT_EQ(sim.table.rows().size(), general ? tests.size() : 1u);
  }
}

// The runner's evaluator on every figure's experiment files (at every scale) that the core evaluates.
TEST(Columns, RunnerColumnsOfEveryFigureUseTheVocabulary) {
  long checked = 0;
  for (const auto& file : fs::recursive_directory_iterator(fs::path(ICLAB_SOURCE_DIR) / "figures")) {
    if (file.path().extension() != ".toml") continue;
    std::unique_ptr<Evaluator> evaluator;
    try {
      evaluator = make_point_evaluator(load_experiment(file.path().string()));
    } catch (const InvalidArgument&) {
      continue;  // a neural-network quantity: iclab_nn's evaluators
    }
    expect_listed(evaluator->columns(), file.path().string());
    ++checked;
  }
  EXPECT_GT(checked, 20) << "the figure folders' experiment files were not found";
}

// The stored --quick results (tests/data/quick) carry only listed names (besides the stored row number).
TEST(Columns, StoredResultsUseTheVocabulary) {
  long checked = 0;
  for (const auto& file : fs::recursive_directory_iterator(fs::path(ICLAB_SOURCE_DIR) / "tests/data/quick")) {
    if (file.path().extension() != ".csv") continue;
    std::vector<std::string> columns = read_csv(file.path().string(), "test").columns;
    std::erase(columns, std::string("row"));
    expect_listed(columns, file.path().string());
    ++checked;
  }
  EXPECT_GT(checked, 10);
}
