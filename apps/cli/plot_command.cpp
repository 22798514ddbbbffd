// `iclab plot`: a results CSV as a figure (PNG, SVG and the editable gnuplot script), e.g.
//   iclab plot sim.csv --x tau --y icl_mean --yerr icl_std --by alpha --logy -o fig1.png
#include <cmath>
#include <filesystem>
#include <memory>

#include "commands.hpp"
#include "iclab/error.hpp"
#include "iclab/io/csv_reader.hpp"
#include "iclab/plot/figure.hpp"
#include "iclab/plot/gnuplot.hpp"

namespace iclab::cli {
namespace {

struct PlotOptions {
  std::string csv, x, y, yerr, by, style, title, xlabel, ylabel, legend, out;
  bool logx = false, logy = false;
};

plot::SeriesStyle parse_style(const std::string& text, bool has_yerr) {
  if (text.empty()) return has_yerr ? plot::SeriesStyle::points : plot::SeriesStyle::line;
  if (text == "line") return plot::SeriesStyle::line;
  if (text == "points") return plot::SeriesStyle::points;
  if (text == "line_points") return plot::SeriesStyle::line_points;
  if (text == "dashed") return plot::SeriesStyle::dashed;
  throw InvalidArgument("--style: expected line, points, line_points or dashed, got '" + text + "'");
}

// The output stem: -o fig.png or fig.svg -> fig (beside it: fig.png, fig.svg, fig.gp).
std::string output_stem(const std::string& out) {
  namespace fs = std::filesystem;
  if (out.empty()) throw InvalidArgument("-o: required (FILE.png or FILE.svg)");
  const fs::path path(out);
  const std::string ext = path.extension().string();
  if (ext != ".png" && ext != ".svg") throw InvalidArgument("-o: expected a .png or .svg file name, got '" + out + "'");
  if (path.stem().empty() || path.stem() == ".") throw InvalidArgument("-o: '" + out + "' names no file");
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw InvalidArgument("-o: directory '" + dir.string() + "' does not exist");
  return (dir / path.stem()).string();
}

// An axis label from a column name: parameters by their symbol, other names literally.
std::string default_label(const std::string& columns) {
  return columns.find(',') == std::string::npos ? plot::parameter_symbol(columns) : "";
}

void run_plot(const PlotOptions& o) {
  const std::string stem = output_stem(o.out);
  const CsvData data = read_csv(o.csv, "RESULTS.csv");
  const plot::SeriesStyle style = parse_style(o.style, !o.yerr.empty());
  plot::Panel panel;
  panel.series = plot::series_from_csv(data, o.x, o.y, o.yerr, o.by, style, "'" + o.csv + "'");
  panel.logx = o.logx;
  panel.logy = o.logy;
  panel.xlabel = o.xlabel.empty() ? default_label(o.x) : o.xlabel;
  panel.ylabel = o.ylabel.empty() ? default_label(o.y) : o.ylabel;
  panel.legend_position = o.legend;
  bool any = false;
  for (const auto& s : panel.series)
    for (std::size_t i = 0; i < s.x.size(); ++i)
      any =
          any || (std::isfinite(s.x[i]) && std::isfinite(s.y[i]) && (!o.logx || s.x[i] > 0) && (!o.logy || s.y[i] > 0));
  if (!any)
    throw InvalidArgument(std::string("--y: no plottable point in '") + o.csv + "'" +
                          (o.logx || o.logy ? " (log axes need positive values)" : ""));
  plot::Figure figure;
  figure.title = o.title;
  figure.panels.push_back(std::move(panel));
  plot::render(figure, stem);
}

}  // namespace

Runner add_plot_command(CLI::App& app) {
  auto o = std::make_shared<PlotOptions>();
  CLI::App* cmd = app.add_subcommand(
      "plot", "Plot columns of a results CSV with gnuplot: writes FILE.png, FILE.svg and FILE.gp (editable script)");
  cmd->add_option("RESULTS.csv", o->csv, "a CSV written by iclab (header row, one row per point)")->required();
  cmd->add_option("--x", o->x, "the x column (e.g. tau)")->required();
  cmd->add_option("--y", o->y, "the y column(s), comma-separated (each its own series, e.g. icl_mean,idg_mean)")
      ->required();
  cmd->add_option("--yerr", o->yerr, "error-bar column(s): one, or one per --y column (e.g. icl_std)");
  cmd->add_option("--by", o->by, "one series per value of this column (legend 'α = 10'; e.g. alpha)");
  cmd->add_flag("--logx", o->logx, "logarithmic x axis");
  cmd->add_flag("--logy", o->logy, "logarithmic y axis");
  cmd->add_option("--style", o->style, "line | points | line_points | dashed (default: points with --yerr, else line)");
  cmd->add_option("--title", o->title, "figure title (gnuplot enhanced text: e_{ICL}, UTF-8 Greek)");
  cmd->add_option("--xlabel", o->xlabel, "x-axis label (default: the column, Greek for parameters)");
  cmd->add_option("--ylabel", o->ylabel, "y-axis label (default: the column, Greek for parameters)");
  cmd->add_option("--legend", o->legend,
                  "legend position in gnuplot's words, e.g. 'top left', 'outside right' (default: emptiest corner)");
  cmd->add_option("-o,--out", o->out, "FILE.png or FILE.svg: writes FILE.png, FILE.svg and FILE.gp")->required();
  return [o](const std::string&) { run_plot(*o); };
}

}  // namespace iclab::cli
