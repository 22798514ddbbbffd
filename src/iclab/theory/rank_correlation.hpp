// Rank statistics for comparing alignment measures with errors (spec: task-alignment §4).
#pragma once

#include <span>
#include <vector>

namespace iclab::theory {

// Ranks 1..n of the values; tied values share the average of their ranks (scipy.stats.rankdata's
// default "average" method). +inf ranks above every finite value; NaN is rejected (InvalidArgument).
std::vector<double> average_ranks(std::span<const double> values);

// Pearson correlation; NaN when either sample has zero variance (as scipy returns).
double pearson(std::span<const double> x, std::span<const double> y);

// Spearman's rho = Pearson correlation of the average ranks (scipy.stats.spearmanr). The samples must
// have equal sizes >= 2.
double spearman(std::span<const double> x, std::span<const double> y);

}  // namespace iclab::theory
