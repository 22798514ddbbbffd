// The figures of the presets: each reads DIR/<experiment>/results.csv and writes DIR/<name>.{png,svg,gp}.
// Internal: not installed (src/CMakeLists.txt, ICLAB_INTERNAL_HEADERS); users reach them via Preset::plot.
#pragma once

#include <string>

#include "iclab/reproduce/presets.hpp"

namespace iclab {

void plot_lu2024_fig1(const std::string& dir, const PlotOptions& options);
void plot_lu2024_fig2(const std::string& dir, const PlotOptions& options);
void plot_lu2024_fig3(const std::string& dir, const PlotOptions& options);
void plot_lu2024_fig4(const std::string& dir, const PlotOptions& options);
void plot_letey2025_fig1(const std::string& dir, const PlotOptions& options);
void plot_letey2025_fig2(const std::string& dir, const PlotOptions& options);
void plot_letey2025_fig4(const std::string& dir, const PlotOptions& options);
void plot_letey2025_fig5(const std::string& dir, const PlotOptions& options);
void plot_letey2025_fig6(const std::string& dir, const PlotOptions& options);
void plot_letey2025_testtime(const std::string& dir, const PlotOptions& options);

}  // namespace iclab
