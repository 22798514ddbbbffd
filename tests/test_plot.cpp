// Figures rendered by gnuplot: the three files (PNG, SVG, editable script), their content, determinism,
// bad input, and `iclab plot` end to end.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>

#include "iclab/error.hpp"
#include "iclab/io/csv_reader.hpp"
#include "iclab/io/text_file.hpp"
#include "iclab/plot/figure.hpp"
#include "iclab/plot/gnuplot.hpp"
#include "test_support.hpp"

namespace fs = std::filesystem;
using namespace iclab;
using namespace iclab::test_support;

namespace {

std::size_t count(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (std::size_t pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

class Plot : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fresh_dir("iclab_plot", ::testing::UnitTest::GetInstance()->current_test_info()->name());
  }
  void TearDown() override { fs::remove_all(dir_); }

  int run_cli(const std::string& args) { return run_iclab(args, dir_); }
  std::vector<std::string> files() const {
    std::vector<std::string> names;
    for (const auto& e : fs::directory_iterator(dir_)) names.push_back(e.path().filename().string());
    std::sort(names.begin(), names.end());
    return names;
  }
  fs::path dir_;
};

// Two panels: theory lines and simulation markers with error bars on log axes (one gap, one non-positive
// point the log axis must drop), and a diverging heatmap with NaN cells and a marker overlay.
plot::Figure sample_figure() {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  plot::Panel curves;
  curves.title = "ICL error";
  curves.xlabel = "τ";
  curves.ylabel = "e_{ICL}";
  curves.logx = curves.logy = true;
  curves.legend_title = "α";
  curves.hlines = {0.01};
  curves.vlines = {1.0};
  for (int a = 0; a < 2; ++a) {
    plot::Series theory, sim;
    theory.label = sim.label = a == 0 ? "α = 1" : "α = 10";
    theory.color = sim.color = a;
    sim.style = plot::SeriesStyle::points;
    for (int i = 0; i < 30; ++i) {
      const double tau = 0.1 * std::pow(1.2, i);
      theory.x.push_back(tau);
      theory.y.push_back(i == 12 ? nan : 0.05 + 1.0 / (1.0 + a) / (1.0 + std::abs(tau - 1.0) * 5));
    }
    for (int i = 0; i < 6; ++i) {
      const double tau = 0.2 * std::pow(2.0, i);
      sim.x.push_back(tau);
      sim.y.push_back(i == 5 && a == 1 ? -1.0 : 0.05 + 1.0 / (1.0 + a) / (1.0 + std::abs(tau - 1.0) * 5));
      sim.yerr.push_back(0.02);
    }
    curves.series.push_back(theory);
    curves.series.push_back(sim);
  }
  plot::Panel map;
  map.title = "improvement";
  map.xlabel = "Δp";
  map.ylabel = "κ";
  map.logy = true;
  plot::Heatmap h;
  for (int j = 0; j < 12; ++j) h.x.push_back(-0.5 + 0.2 * j);
  for (int i = 0; i < 8; ++i) h.y.push_back(0.1 * std::pow(1.6, i));
  for (int i = 0; i < 8; ++i)
    for (int j = 0; j < 12; ++j) h.z.push_back((i + j) % 7 == 0 ? nan : 10.0 * std::sin(0.4 * (i - j)));
  h.colorbar_label = "% improvement";
  h.diverging = true;
  map.heatmap = h;
  plot::Series best;
  best.label = "optimum";
  best.style = plot::SeriesStyle::line_points;
  best.x = {-0.3, 0.1, 0.5};
  best.y = {0.2, 0.5, 1.0};
  map.series.push_back(best);
  plot::Figure figure;
  figure.title = "Fig α";
  figure.panels = {curves, map};
  return figure;
}

}  // namespace

TEST_F(Plot, RendersPngSvgAndScript) {
  const std::string stem = (dir_ / "fig").string();
  plot::render(sample_figure(), stem);
  EXPECT_EQ(files(), (std::vector<std::string>{"fig.gp", "fig.png", "fig.svg"}));  // no temporaries left
  const std::string png = slurp(stem + ".png");
  ASSERT_GT(png.size(), 8u);
  EXPECT_EQ(png.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_GT(png.size(), 20000u);
  EXPECT_LT(png.size(), 5000000u);
  // 2 panels of 4.2 x 3.3 in (+ title) at 150 dpi: the IHDR width/height (big-endian) at offset 16.
  auto be32 = [&](std::size_t at) {
    return (static_cast<unsigned>(static_cast<unsigned char>(png[at])) << 24) |
           (static_cast<unsigned>(static_cast<unsigned char>(png[at + 1])) << 16) |
           (static_cast<unsigned>(static_cast<unsigned char>(png[at + 2])) << 8) |
           static_cast<unsigned>(static_cast<unsigned char>(png[at + 3]));
  };
  EXPECT_EQ(be32(16), 1260u);
  EXPECT_EQ(be32(20), 540u);

  const std::string svg = slurp(stem + ".svg");
  EXPECT_EQ(svg.rfind("<?xml", 0), 0u);
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_EQ(count(svg, "<g"), count(svg, "</g>"));  // balanced groups
  EXPECT_NE(svg.find("α = 1"), std::string::npos);  // legend entries, UTF-8
  EXPECT_NE(svg.find("α = 10"), std::string::npos);
  EXPECT_NE(svg.find("optimum"), std::string::npos);
  EXPECT_NE(svg.find("Fig α"), std::string::npos);
  EXPECT_EQ(count(svg, ">α = 10</tspan>"), 1u);                  // theory and markers share one legend entry
  EXPECT_NE(svg.find("rgb(  0, 114, 178)"), std::string::npos);  // palette colour 0, #0072B2

  const std::string gp = slurp(stem + ".gp");
  EXPECT_NE(gp.find("$d1_1 << EOD"), std::string::npos);  // data inline
  EXPECT_NE(gp.find("$h2_1 << EOD"), std::string::npos);
  EXPECT_NE(gp.find("set logscale x"), std::string::npos);
  EXPECT_NE(gp.find("'10^{%L}'"), std::string::npos);
  EXPECT_NE(gp.find("set terminal pngcairo"), std::string::npos);
  EXPECT_NE(gp.find("set terminal svg"), std::string::npos);
  EXPECT_EQ(gp.find(dir_.string()), std::string::npos);  // no absolute paths: renders where it lies
  EXPECT_EQ(gp.find("nan"), std::string::npos);          // non-finite values never reach gnuplot
  // Heatmap: 96 cells, 14 of them NaN (i + j divisible by 7), are not drawn.
  const auto h0 = gp.find("$h2_1 << EOD\n") + 13;
  const std::string cells = gp.substr(h0, gp.find("EOD", h0) - h0);
  EXPECT_EQ(count(cells, "\n"), 96u - 14u);
  // The simulation at y = -1 on a log axis is dropped: 6 rows for alpha = 1, 5 for alpha = 10.
  const auto d0 = gp.find("$d1_4 << EOD\n") + 13;
  EXPECT_EQ(count(gp.substr(d0, gp.find("EOD", d0) - d0), "\n"), 5u);
}

TEST_F(Plot, ScriptReRendersAndOutputIsDeterministic) {
  const std::string stem = (dir_ / "fig").string();
  plot::render(sample_figure(), stem);
  const std::string png = slurp(stem + ".png"), svg = slurp(stem + ".svg");
  plot::render(sample_figure(), stem);
  EXPECT_EQ(slurp(stem + ".png"), png);
  EXPECT_EQ(slurp(stem + ".svg"), svg);
  // `gnuplot fig.gp` in its directory reproduces the files.
  fs::remove(stem + ".png");
  fs::remove(stem + ".svg");
  const std::string cmd =
      "cd '" + dir_.string() + "' && " + plot::gnuplot_executable() + " --default-settings fig.gp >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_EQ(slurp(stem + ".svg"), svg);
  EXPECT_EQ(slurp(stem + ".png"), png);
}

TEST_F(Plot, BadFiguresAndMissingGnuplot) {
  plot::Figure empty;
  EXPECT_THROW(plot::render(empty, (dir_ / "a").string()), InvalidArgument);
  plot::Figure uneven = sample_figure();
  uneven.panels[0].series[0].y.pop_back();
  EXPECT_THROW(plot::render(uneven, (dir_ / "b").string()), InvalidArgument);
  plot::Figure grid = sample_figure();
  grid.panels[1].heatmap->z.pop_back();
  EXPECT_THROW(plot::render(grid, (dir_ / "c").string()), InvalidArgument);
  EXPECT_THROW(plot::render(sample_figure(), (dir_ / "missing" / "d").string()), InvalidArgument);

  ::setenv("ICLAB_GNUPLOT", "/nonexistent/gnuplot", 1);
  EXPECT_THROW(plot::render(sample_figure(), (dir_ / "e").string()), InvalidArgument);
  ::setenv("ICLAB_GNUPLOT", "false", 1);  // "gnuplot" that fails: a runtime error, not bad input
  EXPECT_THROW(plot::render(sample_figure(), (dir_ / "f").string()), std::runtime_error);
  ::unsetenv("ICLAB_GNUPLOT");
  EXPECT_TRUE(files().empty());
}

TEST_F(Plot, GnuplotErrorIsReportedInOneLine) {
  plot::Figure figure = sample_figure();
  figure.panels[0].legend_position = "nonsense words";  // passed to gnuplot's `set key`
  try {
    plot::render(figure, (dir_ / "g").string());
    FAIL() << "expected an error";
  } catch (const InvalidArgument&) {
    FAIL() << "a gnuplot failure is not bad input";
  } catch (const std::runtime_error& e) {
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("gnuplot failed: ", 0), 0u) << what;
    EXPECT_EQ(what.find('\n'), std::string::npos) << what;
  }
  EXPECT_TRUE(files().empty());
}

TEST_F(Plot, SeriesFromCsvGroupsSortsAndColours) {
  {
    std::ofstream out(dir_ / "r.csv");
    out << "alpha,tau,icl_mean,icl_std,idg_mean\n10,2,0.5,0.1,0.2\n1,2,0.9,0.1,0.3\n10,0.5,0.7,0.1,nan\n"
           "1,0.5,1.1,0.2,0.4\n";
  }
  const CsvData data = read_csv((dir_ / "r.csv").string(), "csv");
  const auto s = plot::series_from_csv(data, "tau", "icl_mean", "icl_std", "alpha", plot::SeriesStyle::points);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].label, "α = 1");
  EXPECT_EQ(s[1].label, "α = 10");
  EXPECT_EQ(s[0].color, 0);
  EXPECT_EQ(s[1].color, 1);
  EXPECT_EQ(s[0].x, (std::vector<double>{0.5, 2}));  // sorted by x
  EXPECT_EQ(s[0].y, (std::vector<double>{1.1, 0.9}));
  EXPECT_EQ(s[0].yerr, (std::vector<double>{0.2, 0.1}));
  const auto two = plot::series_from_csv(data, "tau", "icl_mean,idg_mean", "", "alpha", plot::SeriesStyle::line);
  ASSERT_EQ(two.size(), 4u);
  EXPECT_EQ(two[3].label, "idg\\_mean, α = 10");  // enhanced-text escaped
  EXPECT_TRUE(std::isnan(two[3].y[0]));
  const auto one = plot::series_from_csv(data, "tau", "icl_mean", "", "", plot::SeriesStyle::line);
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].label, "");
  EXPECT_EQ(one[0].x.size(), 4u);
  EXPECT_THROW(plot::series_from_csv(data, "tau", "nope", "", "", plot::SeriesStyle::line), InvalidArgument);
  EXPECT_THROW(plot::series_from_csv(data, "tau", "icl_mean", "", "nope", plot::SeriesStyle::line), InvalidArgument);
}

TEST_F(Plot, CliWritesTheThreeFiles) {
  {
    std::ofstream out(dir_ / "sim.csv");
    out << "d,alpha,tau,icl_mean,icl_std\n";
    for (double alpha : {1.0, 10.0, 100.0})
      for (double tau : {0.2, 0.5, 0.85, 1.15, 1.5, 2.0})
        out << "40," << alpha << "," << tau << "," << 0.1 + 1.0 / alpha / (0.1 + std::abs(tau - 1)) << ",0.05\n";
  }
  const std::string csv = (dir_ / "sim.csv").string();
  const std::string out = (dir_ / "fig.png").string();
  ASSERT_EQ(run_cli("plot " + csv +
                    " --x tau --y icl_mean --yerr icl_std --by alpha --logy --title 'Lu et al. Fig 1'"
                    " -o " +
                    out),
            0)
      << slurp(dir_ / "stderr");
  EXPECT_TRUE(fs::exists(dir_ / "fig.png"));
  EXPECT_TRUE(fs::exists(dir_ / "fig.gp"));
  const std::string svg = slurp(dir_ / "fig.svg");
  EXPECT_NE(svg.find("α = 100"), std::string::npos);
  EXPECT_NE(svg.find("Lu et al. Fig 1"), std::string::npos);
  // -o FILE.svg selects the same stem
  ASSERT_EQ(run_cli("plot " + csv + " --x tau --y icl_mean,icl_std --logx --style line_points -o " +
                    (dir_ / "two.svg").string()),
            0)
      << slurp(dir_ / "stderr");
  EXPECT_TRUE(fs::exists(dir_ / "two.png"));
  EXPECT_NE(slurp(dir_ / "two.svg").find("icl_std"), std::string::npos);
}

TEST_F(Plot, CliBadInputExits2WithoutOutput) {
  {
    std::ofstream out(dir_ / "sim.csv");
    out << "alpha,tau,icl_mean,note\n1,0.5,0.3,a\n1,1,0.2,b\n";
  }
  const std::string csv = (dir_ / "sim.csv").string();
  const std::string out = " -o " + (dir_ / "fig.png").string();
  struct Case {
    std::string args, option;
  };
  for (const Case& c :
       std::vector<Case>{{csv + " --x tau --y nope" + out, "--y"},
                         {csv + " --x nope --y icl_mean" + out, "--x"},
                         {csv + " --x tau --y icl_mean --by nope" + out, "--by"},
                         {csv + " --x tau --y note" + out, "--y"},
                         {csv + " --x tau --y icl_mean --style wiggly" + out, "--style"},
                         {(dir_ / "none.csv").string() + " --x tau --y icl_mean" + out, "RESULTS.csv"},
                         {csv + " --x tau --y icl_mean -o " + (dir_ / "fig.pdf").string(), "-o"},
                         {csv + " --x tau --y icl_mean -o " + (dir_ / "no" / "f.png").string(), "-o"},
                         // Issue 14: the key position was written into the script unquoted.
                         {csv + " --x tau --y icl_mean --legend 'top left; system(\"touch " +
                              (dir_ / "PWNED").string() + "\")'" + out,
                          "--legend"},
                         {csv + " --x tau --y icl_mean --legend 'top `touch " + (dir_ / "PWNED").string() + "`'" + out,
                          "--legend"}}) {
    EXPECT_EQ(run_cli("plot " + c.args), 2) << c.args;
    const std::string err = slurp(dir_ / "stderr");
    EXPECT_NE(err.find(c.option), std::string::npos) << err;
    EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << err;
    EXPECT_EQ(files(), (std::vector<std::string>{"sim.csv", "stderr", "stdout"})) << c.args;
  }
}

TEST_F(Plot, LogColourHeatmapSingleRowAndStackedLayout) {
  plot::Panel map;
  map.logx = true;
  plot::Heatmap h;
  h.x = {0.01, 0.1, 1, 10};
  h.y = {2};
  h.z = {1e-3, -1, std::numeric_limits<double>::quiet_NaN(), 10};  // -1 and NaN: blank on a log colour scale
  h.log_color = true;
  map.heatmap = h;
  plot::Panel empty;  // no data at all: an empty frame
  empty.title = "nothing";
  plot::Figure figure;
  figure.panels = {map, empty};
  figure.columns = 1;
  const std::string stem = (dir_ / "stack").string();
  plot::render(figure, stem);
  const std::string gp = slurp(stem + ".gp");
  EXPECT_NE(gp.find("set multiplot layout 2,1"), std::string::npos);
  EXPECT_NE(gp.find("set logscale cb"), std::string::npos);
  const auto h0 = gp.find("$h1_1 << EOD\n") + 13;
  EXPECT_EQ(count(gp.substr(h0, gp.find("EOD", h0) - h0), "\n"), 2u);
  EXPECT_GT(fs::file_size(stem + ".png"), 1000u);
}

// Issue 14: every text reaching the script is quoted or refused. A newline in a title, label or legend
// entry cannot end the command inside its string, the key position admits key words only, and a file
// name with a control character is refused (it appears in the script's comments).
TEST_F(Plot, NoTextCanInjectAGnuplotCommand) {
  const std::string payload = "x\nsystem('touch " + (dir_ / "PWNED").string() + "')\n";
  plot::Figure figure = sample_figure();
  figure.title = payload;
  figure.panels[0].xlabel = payload;
  figure.panels[0].legend_title = payload;
  figure.panels[0].series[0].label = payload + "' ; system('touch " + (dir_ / "PWNED").string() + "') ; '";
  const std::string script = plot::gnuplot_script(figure, "fig");
  std::istringstream lines(script);
  for (std::string line; std::getline(lines, line);) EXPECT_NE(line.rfind("system(", 0), 0u) << line;
  plot::render(figure, (dir_ / "fig").string());
  EXPECT_FALSE(fs::exists(dir_ / "PWNED"));
  for (const char* position : {"top left; system(\"touch P\")", "at `touch P`", "@macro", "top 'left'"}) {
    plot::Figure bad = sample_figure();
    bad.panels[0].legend_position = position;
    EXPECT_THROW(plot::gnuplot_script(bad, "fig"), InvalidArgument) << position;
  }
  EXPECT_THROW(plot::gnuplot_script(sample_figure(), "a\nsystem('touch P')"), InvalidArgument);
  EXPECT_NO_THROW(plot::gnuplot_script(sample_figure(), "fig"));
}
