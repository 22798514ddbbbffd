// The figures of the Transformer presets: each reads DIR/<experiment>/results.csv and writes
// DIR/<name>.{png,svg,gp} (plus small derived CSVs: lu2024-fig5's tau-star.csv, letey2025-fig3's
// spearman.csv). Never trains or evaluates a model.
#pragma once

#include <string>

#include "iclab/reproduce/presets.hpp"

namespace iclab::nn {

void plot_lu2024_fig5(const std::string& dir, const PlotOptions& options);
void plot_lu2024_fig6(const std::string& dir, const PlotOptions& options);
void plot_letey2025_fig3(const std::string& dir, const PlotOptions& options);

// The interpolation threshold of lu2024-fig5 panel D: the smallest tau whose seed-mean final train loss
// is at least this fraction of the null error 1 + rho (0.01 (1 + rho) ~ rho: the network no longer fits
// below the label noise), after a tau where it was below.
inline constexpr double kInterpolationThreshold = 0.01;

}  // namespace iclab::nn
