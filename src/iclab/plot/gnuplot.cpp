#include "iclab/plot/gnuplot.hpp"

#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <limits>
#include <sstream>
#include <stdexcept>

#include "iclab/error.hpp"
#include "iclab/io/atomic_file.hpp"

extern char** environ;

namespace iclab::plot {
namespace {

namespace fs = std::filesystem;

// Sizes are in points (1/72 in) at the SVG's scale; the PNG is rendered at kPngDpi.
constexpr double kPngDpi = 150.0;
constexpr double kFontPt = 10.0;
constexpr const char* kFont = "Arial";  // fontconfig maps it to Liberation Sans or DejaVu Sans (both have Greek)
constexpr const char* kGrey = "#9E9E9E";

const std::array<const char*, 9> kViridis = {"#440154", "#472D7B", "#3B528B", "#2C728E", "#21918C",
                                             "#28AE80", "#5EC962", "#ADDC30", "#FDE725"};
const std::array<const char*, 9> kBlueWhiteRed = {"#2166AC", "#4393C3", "#92C5DE", "#D1E5F0", "#F7F7F7",
                                                  "#FDDBC7", "#F4A582", "#D6604D", "#B2182B"};

std::string num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.10g", v);
  return buf;
}

// A single-quoted gnuplot string: backslashes stay literal (enhanced-text escapes pass through).
std::string quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    // A control character (a newline above all) would end the command inside the string: dropped.
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) continue;
    out += c;
    if (c == '\'') out += '\'';
  }
  return out + "'";
}

// Text for a comment line of the script, without control characters: a newline would end the comment and
// make the rest of the text a command.
std::string comment_text(const std::string& text) {
  std::string out;
  for (char c : text)
    if (!(static_cast<unsigned char>(c) < 0x20 || c == 0x7f)) out += c;
  return out;
}

// Characters shown by an enhanced-text label: UTF-8 code points, without markup braces, ^, _ and escapes.
std::size_t display_length(const std::string& text) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) == 0x80) continue;  // UTF-8 continuation byte
    if (c == '{' || c == '}' || c == '^' || c == '_' || c == '@' || c == '&' || c == '~') continue;
    if (c == '\\') {
      ++i;
      ++n;
      continue;
    }
    ++n;
  }
  return n;
}

bool usable(double v, bool log) { return std::isfinite(v) && (!log || v > 0); }

// Axis transform for layout decisions: log10 on a log axis.
double axis_t(double v, bool log) { return log ? std::log10(v) : v; }
double axis_inv(double t, bool log) { return log ? std::pow(10.0, t) : t; }

struct Extent {
  double lo = std::numeric_limits<double>::infinity(), hi = -std::numeric_limits<double>::infinity();
  void add(double v, bool log) {
    if (!usable(v, log)) return;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  bool empty() const { return !(lo <= hi); }
};

// The range of an axis: the given one, else the data's extent padded by `pad` of its (log) span.
std::pair<double, double> axis_range(const std::optional<std::pair<double, double>>& given, const Extent& e, bool log,
                                     double pad) {
  if (given) return *given;
  if (e.empty()) return log ? std::pair{1.0, 10.0} : std::pair{0.0, 1.0};
  double lo = axis_t(e.lo, log), hi = axis_t(e.hi, log);
  if (hi - lo <= 1e-12 * std::max(1.0, std::abs(hi))) {
    const double half = log ? 0.3 : (lo != 0 ? 0.1 * std::abs(lo) : 1.0);
    lo -= half;
    hi += half;
  } else {
    const double span = hi - lo;
    lo -= pad * span;
    hi += pad * span;
  }
  return {axis_inv(lo, log), axis_inv(hi, log)};
}

// A cell's upper edge moved 2% of the cell into its neighbour: adjacent cells overlap slightly, so
// anti-aliasing leaves no hairline seams between them (the neighbour, drawn later, covers the overlap).
double overlap(double lo, double hi, bool log) {
  const double tlo = axis_t(lo, log), thi = axis_t(hi, log);
  return axis_inv(thi + 0.02 * (thi - tlo), log);
}

// Cell edges of a heatmap axis: midpoints (geometric on a log axis), extended by half a cell at the ends.
std::vector<double> cell_edges(const std::vector<double>& c, bool log) {
  std::vector<double> t(c.size());
  for (std::size_t i = 0; i < c.size(); ++i) t[i] = axis_t(c[i], log);
  std::vector<double> e(c.size() + 1);
  if (c.size() == 1) {
    const double half = log ? 0.5 : (t[0] != 0 ? 0.5 * std::abs(t[0]) : 0.5);
    e[0] = t[0] - half;
    e[1] = t[0] + half;
  } else {
    for (std::size_t i = 1; i < c.size(); ++i) e[i] = 0.5 * (t[i - 1] + t[i]);
    e[0] = t[0] - (e[1] - t[0]);
    e[c.size()] = t.back() + (t.back() - e[c.size() - 1]);
  }
  for (double& v : e) v = axis_inv(v, log);
  return e;
}

void check_axis_range(const std::optional<std::pair<double, double>>& r, bool log, const std::string& what) {
  if (!r) return;
  if (!(std::isfinite(r->first) && std::isfinite(r->second) && r->first < r->second))
    throw InvalidArgument("plot: " + what + " must be finite with lo < hi");
  if (log && !(r->first > 0)) throw InvalidArgument("plot: " + what + " must be positive on a log axis");
}

void validate(const Figure& f) {
  if (f.panels.empty()) throw InvalidArgument("plot: a figure needs at least one panel");
  if (f.columns < 0) throw InvalidArgument("plot: columns must be >= 0");
  if (!(f.panel_width_in > 0.5 && f.panel_height_in > 0.5 && f.panel_width_in < 100 && f.panel_height_in < 100))
    throw InvalidArgument("plot: panel width and height must be between 0.5 and 100 inches");
  for (std::size_t p = 0; p < f.panels.size(); ++p) {
    const Panel& panel = f.panels[p];
    const std::string where = "plot: panel " + std::to_string(p + 1);
    // The key position is the one text written into the script unquoted (gnuplot key words): letters,
    // digits, blanks and , . + - only, so no ';', quote, parenthesis, backquote or macro can reach gnuplot
    // (a legend 'top left; system("touch PWNED")' ran the shell command, and again at every re-render).
    for (char c : panel.legend_position)
      if (!(std::isalnum(static_cast<unsigned char>(c)) || c == ' ' || c == ',' || c == '.' || c == '+' || c == '-'))
        throw InvalidArgument("--legend: '" + panel.legend_position +
                              "' is not a gnuplot key position (words such as 'top left', 'outside right' or "
                              "'at graph 0.5,0.9': letters, digits, blanks and , . + - only)");
    check_axis_range(panel.xrange, panel.logx, where + " xrange");
    check_axis_range(panel.yrange, panel.logy, where + " yrange");
    for (const Series& s : panel.series) {
      if (s.x.size() != s.y.size())
        throw InvalidArgument(where + " series '" + s.label + "': x and y differ in length");
      if (!s.yerr.empty() && s.yerr.size() != s.y.size())
        throw InvalidArgument(where + " series '" + s.label + "': yerr and y differ in length");
      if (s.color < -1) throw InvalidArgument(where + " series '" + s.label + "': color must be >= -1");
    }
    if (panel.heatmap) {
      const Heatmap& h = *panel.heatmap;
      if (h.x.empty() || h.y.empty()) throw InvalidArgument(where + " heatmap: empty grid");
      if (h.z.size() != h.x.size() * h.y.size())
        throw InvalidArgument(where + " heatmap: z has " + std::to_string(h.z.size()) + " values, the grid " +
                              std::to_string(h.x.size()) + " x " + std::to_string(h.y.size()));
      auto ascending = [](const std::vector<double>& v, bool log) {
        for (std::size_t i = 0; i < v.size(); ++i)
          if (!usable(v[i], log) || (i > 0 && !(v[i] > v[i - 1]))) return false;
        return true;
      };
      if (!ascending(h.x, panel.logx) || !ascending(h.y, panel.logy))
        throw InvalidArgument(where +
                              " heatmap: grid coordinates must be finite, strictly ascending "
                              "(and positive on a log axis)");
      if (h.color_range) check_axis_range(h.color_range, h.log_color, where + " heatmap color_range");
    }
  }
}

// One panel's commands (inside $figure) and datablocks.
class PanelWriter {
 public:
  PanelWriter(const Panel& panel, std::size_t index, const Figure& figure, std::ostringstream& data,
              std::ostringstream& cmd)
      : p_(panel), index_(index), figure_(figure), data_(data), cmd_(cmd) {}

  // Width (inches) of a legend placed outside right, which the figure adds to its panel width; else 0.
  double outside_key_in() const { return outside_key_in_; }

  void write() {
    cmd_ << "# ---- panel " << index_ + 1 << (p_.title.empty() ? "" : ": " + comment_text(p_.title)) << "\n";
    cmd_ << "reset\n";  // keeps terminal, output, multiplot and linetypes; clean state for the 2nd terminal
    style();
    ranges();
    reference_lines();
    if (p_.heatmap) heatmap_settings();
    key();
    plot_command();
  }

 private:
  std::string name(const std::string& kind, std::size_t i) const {
    return "$" + kind + std::to_string(index_ + 1) + "_" + std::to_string(i + 1);
  }

  void style() {
    const bool box = p_.heatmap.has_value();
    cmd_ << "set border " << (box ? 15 : 3) << " back lw 1 lc rgb '#333333'\n"
         << "set tics out scale 0.8,0.45 nomirror textcolor rgb '#222222'\n"
         << "set xtics nomirror\nset ytics nomirror\n"
         << "set bars 0.6\n"
         << "set key noautotitle\n"
         << "set xlabel offset 0,0.3\nset ylabel offset 0.8,0\n";
    if (!p_.title.empty()) cmd_ << "set title " << quote(p_.title) << " font '," << num(kFontPt + 1) << "'\n";
    if (!p_.xlabel.empty()) cmd_ << "set xlabel " << quote(p_.xlabel) << "\n";
    // A symbol ("κ", "e_{ICL}") reads upright; longer labels are rotated.
    if (!p_.ylabel.empty())
      cmd_ << "set ylabel " << quote(p_.ylabel) << (display_length(p_.ylabel) <= 3 ? " norotate offset 1,0" : "")
           << "\n";
  }

  void ranges() {
    Extent ex, ey;
    if (p_.heatmap) {
      xedges_ = cell_edges(p_.heatmap->x, p_.logx);
      yedges_ = cell_edges(p_.heatmap->y, p_.logy);
      ex.add(xedges_.front(), p_.logx);
      ex.add(xedges_.back(), p_.logx);
      ey.add(yedges_.front(), p_.logy);
      ey.add(yedges_.back(), p_.logy);
    } else {
      for (const Series& s : p_.series)
        for (std::size_t i = 0; i < s.x.size(); ++i) {
          if (!usable(s.x[i], p_.logx) || !usable(s.y[i], p_.logy)) continue;
          ex.add(s.x[i], p_.logx);
          ey.add(s.y[i], p_.logy);
          if (!s.yerr.empty() && std::isfinite(s.yerr[i])) {
            ey.add(s.y[i] + std::abs(s.yerr[i]), p_.logy);
            ey.add(s.y[i] - std::abs(s.yerr[i]), p_.logy);
          }
        }
      for (double v : p_.vlines) ex.add(v, p_.logx);
      for (double v : p_.hlines) ey.add(v, p_.logy);
    }
    const double pad = p_.heatmap ? 0.0 : 0.04;
    xr_ = axis_range(p_.xrange, ex, p_.logx, pad);
    yr_ = axis_range(p_.yrange, ey, p_.logy, pad);
    axis("x", p_.logx, xr_);
    axis("y", p_.logy, yr_);
  }

  void axis(const std::string& a, bool log, std::pair<double, double> r) {
    cmd_ << "set " << a << "range [" << num(r.first) << ":" << num(r.second) << "]\n";
    if (!log) return;
    cmd_ << "set logscale " << a << "\n";
    if (r.second / r.first >= 10.0)
      cmd_ << "set format " << a << " '10^{%L}'\nset m" << a << "tics 10\n";
    else
      cmd_ << "set format " << a << " '%g'\n";
  }

  void reference_lines() {
    auto inside = [](double v, std::pair<double, double> r) { return v >= r.first && v <= r.second; };
    for (double v : p_.hlines)
      if (usable(v, p_.logy) && inside(v, yr_))
        cmd_ << "set arrow from graph 0, first " << num(v) << " to graph 1, first " << num(v)
             << " nohead back lw 1 dt 2 lc rgb '" << kGrey << "'\n";
    for (double v : p_.vlines)
      if (usable(v, p_.logx) && inside(v, xr_))
        cmd_ << "set arrow from first " << num(v) << ", graph 0 to first " << num(v)
             << ", graph 1 nohead back lw 1 dt 2 lc rgb '" << kGrey << "'\n";
  }

  void heatmap_settings() {
    const Heatmap& h = *p_.heatmap;
    const auto& colors = h.diverging ? kBlueWhiteRed : kViridis;
    cmd_ << "set palette defined (";
    for (std::size_t i = 0; i < colors.size(); ++i) cmd_ << (i ? ", " : "") << i << " '" << colors[i] << "'";
    cmd_ << ")\nset cbtics out nomirror scale 0.6\nset colorbox\n";
    if (!h.colorbar_label.empty()) cmd_ << "set cblabel " << quote(h.colorbar_label) << "\n";
    Extent ez;
    for (double v : h.z) ez.add(v, h.log_color);
    std::pair<double, double> cr;
    if (h.color_range) {
      cr = *h.color_range;
    } else if (ez.empty()) {
      cr = h.log_color ? std::pair{1.0, 10.0} : std::pair{0.0, 1.0};
    } else if (h.diverging && !h.log_color) {
      const double m = std::max({std::abs(ez.lo), std::abs(ez.hi), 1e-300});
      cr = {-m, m};
    } else {
      cr = {ez.lo, ez.hi};
      if (!(cr.first < cr.second)) cr = axis_range(std::nullopt, ez, h.log_color, 0.0);
    }
    cmd_ << "set cbrange [" << num(cr.first) << ":" << num(cr.second) << "]\n";
    if (h.log_color) {
      cmd_ << "set logscale cb\n";
      if (cr.second / cr.first >= 10.0) cmd_ << "set format cb '10^{%L}'\n";
    }
    // Cells as rectangles (exact on nonuniform and log grids; NaN cells simply absent).
    const std::string block = name("h", 0);
    data_ << block << " << EOD\n";
    const std::size_t nx = h.x.size();
    for (std::size_t i = 0; i < h.y.size(); ++i)
      for (std::size_t j = 0; j < nx; ++j) {
        const double z = h.z[i * nx + j];
        if (!usable(z, h.log_color)) continue;
        data_ << num(h.x[j]) << ' ' << num(h.y[i]) << ' ' << num(xedges_[j]) << ' '
              << num(overlap(xedges_[j], xedges_[j + 1], p_.logx)) << ' ' << num(yedges_[i]) << ' '
              << num(overlap(yedges_[i], yedges_[i + 1], p_.logy)) << ' ' << num(z) << '\n';
      }
    data_ << "EOD\n";
    heatmap_element_ = block + " using 1:2:3:4:5:6:7 with boxxyerror fillstyle solid 1.0 noborder lc palette notitle";
  }

  // Legend entries: series with a label not seen before in this panel.
  std::vector<bool> titled() const {
    std::vector<bool> t(p_.series.size(), false);
    std::vector<std::string> seen;
    for (std::size_t i = 0; i < p_.series.size(); ++i) {
      const std::string& l = p_.series[i].label;
      if (l.empty() || std::find(seen.begin(), seen.end(), l) != seen.end()) continue;
      seen.push_back(l);
      t[i] = true;
    }
    return t;
  }

  void key() {
    const auto t = titled();
    const long entries = std::count(t.begin(), t.end(), true);
    if (entries == 0) {
      cmd_ << "unset key\n";
      return;
    }
    cmd_ << "set key reverse Left samplen 2.2 spacing 1.1 width 1 nobox";
    if (!p_.legend_title.empty()) cmd_ << " title " << quote(p_.legend_title) << " left";
    if (!p_.legend_position.empty()) {
      cmd_ << " " << p_.legend_position << "\n";
      return;
    }
    if (p_.heatmap) {
      cmd_ << " below center horizontal\n";
      return;
    }
    // An inside corner that covers no plotted point (lines sampled along their segments), else outside.
    std::size_t longest = p_.legend_title.size();
    for (std::size_t i = 0; i < p_.series.size(); ++i)
      if (t[i]) longest = std::max(longest, p_.series[i].label.size());
    const double char_in = 0.55 * kFontPt / 72.0;
    const double w = std::min(0.7, (static_cast<double>(longest) * char_in + 0.5) / (figure_.panel_width_in * 0.8));
    // gnuplot's key lines are about 1.5 font sizes apart; the plot area is about 60% of the panel height.
    const double h = std::min(0.8, (static_cast<double>(entries) + (p_.legend_title.empty() ? 0.0 : 1.0)) * 1.5 *
                                           kFontPt / 72.0 / (figure_.panel_height_in * 0.6) +
                                       0.05);
    const std::array<const char*, 4> corners = {"top right", "top left", "bottom left", "bottom right"};
    std::array<long, 4> count{};
    auto norm = [](double v, bool log, std::pair<double, double> r) {
      return (axis_t(v, log) - axis_t(r.first, log)) / (axis_t(r.second, log) - axis_t(r.first, log));
    };
    auto tally = [&](double u, double v) {
      if (u < 0 || u > 1 || v < 0 || v > 1) return;
      const bool right = u > 1 - w, left = u<w, top = v> 1 - h, bottom = v < h;
      if (top && right) ++count[0];
      if (top && left) ++count[1];
      if (bottom && left) ++count[2];
      if (bottom && right) ++count[3];
    };
    for (const Series& s : p_.series) {
      const bool lines = s.style != SeriesStyle::points;
      double pu = std::nan(""), pv = std::nan("");
      for (std::size_t i = 0; i < s.x.size(); ++i) {
        if (!usable(s.x[i], p_.logx) || !usable(s.y[i], p_.logy)) {
          pu = pv = std::nan("");
          continue;
        }
        const double u = norm(s.x[i], p_.logx, xr_), v = norm(s.y[i], p_.logy, yr_);
        tally(u, v);
        if (lines && std::isfinite(pu))
          for (int k = 1; k < 20; ++k) tally(pu + (u - pu) * k / 20.0, pv + (v - pv) * k / 20.0);
        pu = u;
        pv = v;
      }
    }
    std::size_t best = 0;
    for (std::size_t c = 1; c < corners.size(); ++c)
      if (count[c] < count[best]) best = c;
    // No free corner: beside the plot rather than over the data.
    cmd_ << (count[best] == 0 ? std::string(" inside ") + corners[best] : std::string(" outside right top")) << "\n";
    if (count[best] > 0) outside_key_in_ = static_cast<double>(longest) * char_in + 0.7;
  }

  void plot_command() {
    std::vector<std::string> elements;
    if (!heatmap_element_.empty()) elements.push_back(heatmap_element_);
    const auto t = titled();
    int next_color = 0;
    for (std::size_t i = 0; i < p_.series.size(); ++i) {
      const Series& s = p_.series[i];
      const int color = s.color >= 0 ? s.color : next_color;
      next_color = std::max(next_color, color + 1);
      const bool err = !s.yerr.empty();
      // Data: non-plottable points become a single blank line (a gap in lines).
      std::ostringstream rows;
      long valid = 0;
      bool gap = false;
      for (std::size_t k = 0; k < s.x.size(); ++k) {
        if (!usable(s.x[k], p_.logx) || !usable(s.y[k], p_.logy)) {
          gap = valid > 0;
          continue;
        }
        if (gap) rows << '\n';
        gap = false;
        rows << num(s.x[k]) << ' ' << num(s.y[k]);
        if (err) rows << ' ' << num(std::isfinite(s.yerr[k]) ? std::abs(s.yerr[k]) : 0.0);
        rows << '\n';
        ++valid;
      }
      if (valid == 0) continue;
      const std::string block = name("d", i);
      data_ << "# " << (s.label.empty() ? "(no label)" : comment_text(s.label)) << ": x y" << (err ? " yerr" : "")
            << "\n"
            << block << " << EOD\n"
            << rows.str() << "EOD\n";
      const int lt = color % static_cast<int>(palette().size()) + 1;
      std::string e = block + " using 1:2" + (err ? ":3" : "") + " with ";
      switch (s.style) {
        case SeriesStyle::line:
          e += "lines lt " + std::to_string(lt) + " lw 2";
          break;
        case SeriesStyle::dashed:
          e += "lines lt " + std::to_string(lt) + " lw 2 dt (6,3)";
          break;
        case SeriesStyle::points:
          e += std::string(err ? "yerrorbars" : "points") + " lt " + std::to_string(lt) + " lw 1.2 pt 7 ps 0.8";
          break;
        case SeriesStyle::line_points:
          e += std::string(err ? "yerrorlines" : "linespoints") + " lt " + std::to_string(lt) + " lw 1.5 pt 7 ps 0.8";
          break;
      }
      e += t[i] ? " title " + quote(s.label) : " notitle";
      elements.push_back(e);
    }
    if (elements.empty()) elements.push_back("NaN notitle");
    // One line: $figure is evaluated line by line (no continuations).
    cmd_ << "plot ";
    for (std::size_t i = 0; i < elements.size(); ++i) cmd_ << (i ? ", " : "") << elements[i];
    cmd_ << "\n";
  }

  const Panel& p_;
  std::size_t index_;
  const Figure& figure_;
  std::ostringstream& data_;
  std::ostringstream& cmd_;
  std::pair<double, double> xr_, yr_;
  std::vector<double> xedges_, yedges_;
  std::string heatmap_element_;
  double outside_key_in_ = 0.0;
};

bool executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0 && !fs::is_directory(path); }

std::string search_path(const std::string& name) {
  if (name.find('/') != std::string::npos) return executable(name) ? name : "";
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/local/bin:/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    const std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
    if (executable(candidate)) return candidate;
  }
  return "";
}

// A fresh, empty, world-readable file beside `target` (gnuplot writes into it; renamed over target later).
std::string temp_beside(const fs::path& target) {
  std::string leaf = ".";
  leaf.append(target.filename().string()).append(".tmp.XXXXXX");
  std::string name = (target.parent_path() / leaf).string();
  const int fd = ::mkstemp(name.data());
  if (fd < 0) throw std::runtime_error(target.string() + ": cannot create a temporary file: " + std::strerror(errno));
  ::fchmod(fd, 0644);
  ::close(fd);
  return name;
}

struct TempFiles {
  std::vector<std::string> paths;
  ~TempFiles() {
    for (const auto& p : paths) std::remove(p.c_str());
  }
};

// Runs gnuplot with `args`; returns its exit status and what it wrote to stdout/stderr.
int run_process(const std::vector<std::string>& args, std::string& output) {
  int pipe_fd[2];
  if (::pipe(pipe_fd) != 0) throw std::runtime_error(std::string("plot: pipe failed: ") + std::strerror(errno));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, pipe_fd[1], 1);
  posix_spawn_file_actions_adddup2(&actions, pipe_fd[1], 2);
  posix_spawn_file_actions_addclose(&actions, pipe_fd[0]);
  posix_spawn_file_actions_addclose(&actions, pipe_fd[1]);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = ::posix_spawn(&pid, args[0].c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fd[1]);
  if (rc != 0) {
    ::close(pipe_fd[0]);
    throw std::runtime_error("plot: cannot run " + args[0] + ": " + std::strerror(rc));
  }
  char buf[4096];
  while (true) {
    const ssize_t n = ::read(pipe_fd[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    output.append(buf, static_cast<std::size_t>(n));
  }
  ::close(pipe_fd[0]);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

// gnuplot's error: the first `"file" line N: message` that is not a warning, else the first non-blank line.
std::string first_error_line(const std::string& output) {
  std::stringstream in(output);
  std::string line, first;
  while (std::getline(in, line)) {
    const auto b = line.find_first_not_of(" \t");
    if (b == std::string::npos) continue;
    if (first.empty()) first = line.substr(b);
    if (line.find(" line ") != std::string::npos && line.find(": ") != std::string::npos &&
        line.find("warning:") == std::string::npos)
      return line.substr(b);
  }
  return first.empty() ? "no message" : first;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (std::size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos + to.size()))
    s.replace(pos, from.size(), to);
}

}  // namespace

std::string gnuplot_executable() {
  const char* override_exe = std::getenv("ICLAB_GNUPLOT");
  if (override_exe && *override_exe) {
    const std::string found = search_path(override_exe);
    if (found.empty())
      throw InvalidArgument(std::string("plot: ICLAB_GNUPLOT='") + override_exe + "' is not an executable");
    return found;
  }
  const std::string found = search_path("gnuplot");
  if (found.empty())
    throw InvalidArgument(
        "plot: gnuplot is not installed (not in PATH); install it (Debian: apt-get install "
        "gnuplot-nox) or set ICLAB_GNUPLOT");
  return found;
}

std::string gnuplot_script(const Figure& figure, const std::string& stem_name) {
  validate(figure);
  // The file name appears in the script's comment lines (and quoted in its commands): a newline in it
  // would start a command.
  for (char c : stem_name)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      throw InvalidArgument("plot: the file name '" + stem_name + "' contains a control character");
  const std::size_t n = figure.panels.size();
  const std::size_t cols = figure.columns > 0 ? std::min(n, static_cast<std::size_t>(figure.columns)) : n;
  const std::size_t rows = (n + cols - 1) / cols;
  std::ostringstream data, cmd;
  cmd << "set multiplot layout " << rows << "," << cols;
  if (!figure.title.empty()) cmd << " title " << quote(figure.title) << " font '," << num(kFontPt + 2) << "'";
  cmd << "\n";
  double key_in = 0.0;  // the widest legend placed outside a panel widens every panel (a uniform grid)
  for (std::size_t i = 0; i < n; ++i) {
    PanelWriter writer(figure.panels[i], i, figure, data, cmd);
    writer.write();
    key_in = std::max(key_in, writer.outside_key_in());
  }
  cmd << "unset multiplot\n";
  const double title_in = figure.title.empty() ? 0.0 : 0.3;
  // Wide enough for the title: gnuplot does not wrap it and cuts what passes the canvas. Its shown
  // characters at 0.66 em, a little over DejaVu Sans's advance in such titles (the wider of the two fonts
  // Arial maps to; measured on the figures' titles, which 0.62 em still cut).
  auto text_width_in = [](const std::string& text, double points) {
    return static_cast<double>(display_length(text)) * 0.66 * points / 72.0;
  };
  // Each panel's title too (the grid is uniform); it is centred on the plot area, which leaves the tick
  // labels' margin (about half an inch) of the cell to its left, so the cell needs twice that beside it.
  double panel_in = figure.panel_width_in + key_in;
  for (const Panel& panel : figure.panels) panel_in = std::max(panel_in, text_width_in(panel.title, kFontPt + 1) + 1.0);
  const double width_in =
      std::max(static_cast<double>(cols) * panel_in, text_width_in(figure.title, kFontPt + 2) + 0.5);
  const double height_in = static_cast<double>(rows) * figure.panel_height_in + title_in;

  const double s = kPngDpi / 72.0;
  std::ostringstream out;
  out << "# iclab figure. Re-render with `gnuplot " << stem_name << ".gp` in this directory (writes " << stem_name
      << ".png and " << stem_name << ".svg;\n"
      << "# gnuplot -e \"png_output='a.png'; svg_output='b.svg'\" " << stem_name
      << ".gp writes elsewhere). The data are inline below;\n"
      << "# the plotting commands are the datablock $figure, run once per terminal.\n"
      << "set encoding utf8\n"
      << "if (!exists(\"png_output\")) png_output = " << quote(stem_name + ".png") << "\n"
      << "if (!exists(\"svg_output\")) svg_output = " << quote(stem_name + ".svg") << "\n\n"
      << "# Palette: Okabe & Ito (colour-blind safe); a theory line and its markers share a linetype.\n";
  for (std::size_t i = 0; i < palette().size(); ++i)
    out << "set linetype " << i + 1 << " lc rgb '" << palette()[i] << "' lw 2 pt 7 ps 0.8 dt solid\n";
  out << "set linetype cycle " << palette().size() << "\n\n"
      << data.str() << "\n$figure << EOD\n"
      << cmd.str() << "EOD\n\n"
      << "set terminal pngcairo enhanced color rounded size " << std::lround(width_in * kPngDpi) << ","
      << std::lround(height_in * kPngDpi) << " font '" << kFont << "," << num(kFontPt) << "' fontscale " << num(s)
      << " linewidth " << num(s) << " pointscale " << num(s) << " background '#ffffff'\n"
      << "set output png_output\n"
      << "do for [line_ = 1:|$figure|] { eval $figure[line_] }\n"
      << "unset output\n\n"
      << "set terminal svg enhanced rounded size " << std::lround(width_in * 72) << "," << std::lround(height_in * 72)
      << " font '" << kFont << "," << num(kFontPt) << "' linewidth 1 background '#ffffff'\n"
      << "set output svg_output\n"
      << "do for [line_ = 1:|$figure|] { eval $figure[line_] }\n"
      << "unset output\n";
  return out.str();
}

void render(const Figure& figure, const std::string& stem) {
  const fs::path stem_path(stem);
  if (stem_path.filename().empty()) throw InvalidArgument("plot: '" + stem + "' names no file");
  const fs::path dir = stem_path.has_parent_path() ? stem_path.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw InvalidArgument("plot: directory '" + dir.string() + "' does not exist");
  const std::string script = gnuplot_script(figure, stem_path.filename().string());
  const std::string exe = gnuplot_executable();

  const fs::path png = dir / (stem_path.filename().string() + ".png");
  const fs::path svg = dir / (stem_path.filename().string() + ".svg");
  const fs::path gp = dir / (stem_path.filename().string() + ".gp");
  for (const fs::path& target : {png, svg, gp}) require_replaceable(target.string(), "plot");
  TempFiles temps;
  temps.paths.push_back(temp_beside(gp));
  temps.paths.push_back(temp_beside(png));
  temps.paths.push_back(temp_beside(svg));
  const std::string& script_tmp = temps.paths[0];
  {
    std::FILE* f = std::fopen(script_tmp.c_str(), "w");
    if (!f || std::fwrite(script.data(), 1, script.size(), f) != script.size() || std::fclose(f) != 0)
      throw std::runtime_error(gp.string() + ": cannot write the temporary script");
  }
  auto gnuplot_string = [](const std::string& path) {
    std::string q = "'";
    for (char c : path) q += c == '\'' ? std::string("''") : std::string(1, c);
    return q + "'";
  };
  const std::string assign =
      "png_output=" + gnuplot_string(temps.paths[1]) + "; svg_output=" + gnuplot_string(temps.paths[2]);
  std::string output;
  const int status = run_process({exe, "--default-settings", "-e", assign, script_tmp}, output);
  if (status != 0) {
    std::string message = first_error_line(output);
    replace_all(message, script_tmp, gp.filename().string());
    throw std::runtime_error("gnuplot failed: " + message);
  }
  if (fs::file_size(temps.paths[1], ec) == 0 || fs::file_size(temps.paths[2], ec) == 0)
    throw std::runtime_error("gnuplot failed: it wrote no image (" + first_error_line(output) + ")");
  for (const auto& [from, to] : {std::pair{temps.paths[1], png}, std::pair{temps.paths[2], svg}})
    if (std::rename(from.c_str(), to.c_str()) != 0)
      throw std::runtime_error(to.string() + ": rename failed: " + std::strerror(errno));
  write_file_atomically(gp.string(), script);
}

}  // namespace iclab::plot
