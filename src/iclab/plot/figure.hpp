// Figures as values: panels of theory lines, simulation markers with error bars and heatmaps, in the style
// of the papers' figures. Rendering lives in gnuplot.hpp; series_from_csv turns a results CSV into series.
//
// Text (titles, labels, legend entries) is gnuplot enhanced text: "e_{ICL}" is a subscript and Greek letters
// are plain UTF-8 ("α = 10"). escape_enhanced() makes arbitrary text (a CSV column name) print literally.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "iclab/io/csv_reader.hpp"

namespace iclab::plot {

enum class SeriesStyle { line, points, line_points, dashed };

struct Series {
  std::string label;               // legend entry; empty: no legend entry (nor one repeating an earlier label)
  std::vector<double> x, y, yerr;  // yerr empty: no error bars; points with non-finite x/y are gaps
  SeriesStyle style = SeriesStyle::line;
  int color = -1;  // palette index; -1: the one after the highest index used so far in the panel.
                   // A theory line and its markers share an index.
};

struct Heatmap {             // z(y_i, x_j) on a grid; NaN cells are left blank
  std::vector<double> x, y;  // grid coordinates (strictly ascending; cell edges are the midpoints,
                             // geometric ones on a log axis)
  std::vector<double> z;     // row-major: z[i * x.size() + j] at (x[j], y[i])
  std::string colorbar_label;
  bool log_color = false;  // non-positive cells are then blank too
  std::optional<std::pair<double, double>> color_range;
  bool diverging = false;  // blue-white-red palette centred on 0 (e.g. an improvement in %)
};

struct Panel {
  std::string title, xlabel, ylabel;
  bool logx = false, logy = false;
  std::optional<std::pair<double, double>> xrange, yrange;
  std::vector<Series> series;
  std::optional<Heatmap> heatmap;      // drawn under the series (which then act as overlays)
  std::vector<double> hlines, vlines;  // grey dashed reference lines
  std::string legend_title;            // e.g. "α"
  std::string legend_position;         // gnuplot key position words, e.g. "top right", "outside right";
                                       // empty: an inside corner free of data, else outside right
                                       // (below a heatmap)
};

struct Figure {
  std::string title;  // optional overall title
  std::vector<Panel> panels;
  int columns = 0;  // 0: all panels in one row
  double panel_width_in = 4.2, panel_height_in = 3.3;
};

// The colour-blind-friendly palette (Okabe & Ito), as "#rrggbb"; palette index i uses entry i % size.
const std::vector<std::string>& palette();

// Backslash-escapes gnuplot's enhanced-text markup characters (_ ^ { } @ & ~ \) so `text` prints literally.
std::string escape_enhanced(const std::string& text);

// The legend name of a parameter column: alpha -> α, tau -> τ, kappa -> κ, rho -> ρ, lambda -> λ, d -> d;
// anything else is escape_enhanced(column).
std::string parameter_symbol(const std::string& column);

// Series from a results CSV. `y` (and `yerr`) may name several comma-separated columns, one series each
// (yerr: one column for all, or one per y column; empty: no error bars). `by` (optional) groups rows by a
// column's value, numerically ascending when every value is a number, else in order of appearance; rows
// are sorted by x within a series. Labels: "α = 10" (by), the column name (several y), both, or empty.
// Colours are assigned in order (y column major, group minor), so two calls with the same `by` on
// matching files (theory lines, simulation markers) give each group the same colour.
// Empty cells, nan and inf are gaps. Throws InvalidArgument naming --x/--y/--yerr/--by (and `source`)
// for a missing column or a non-numeric value.
std::vector<Series> series_from_csv(const CsvData& data, const std::string& x, const std::string& y,
                                    const std::string& yerr, const std::string& by, SeriesStyle style,
                                    const std::string& source = "the CSV");

}  // namespace iclab::plot
