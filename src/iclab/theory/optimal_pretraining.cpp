#include "iclab/theory/optimal_pretraining.hpp"

#include <cmath>

#include "iclab/covariances/covariance_spec.hpp"
#include "iclab/error.hpp"

namespace iclab::theory {

std::vector<HeatmapCell> optimal_pretraining_heatmap(const HeatmapRequest& request) {
  if (request.d < 2) throw InvalidArgument("--d: must be an integer >= 2, got " + std::to_string(request.d));
  if (request.delta_p.empty()) throw InvalidArgument("--dp: the list of p_train - p_test values is empty");
  if (request.kappa.empty()) throw InvalidArgument("--kappa: the list of kappa values is empty");
  if (!std::isfinite(request.p_test)) throw InvalidArgument("--p-test: must be a finite number");
  for (double dp : request.delta_p)
    if (!std::isfinite(dp)) throw InvalidArgument("--dp: every p_train - p_test must be a finite number");
  AlignmentPoint point{request.alpha, request.tau, 0.0, request.rho, std::nullopt};
  for (double kappa : request.kappa) {
    point.kappa = kappa;
    point.validate();
  }

  // C_test is the same in every cell, so e_matched depends on kappa only: one solve per column.
  const Vector test = power_law_spectrum(request.d, request.p_test);
  std::vector<double> matched;
  matched.reserve(request.kappa.size());
  for (double kappa : request.kappa) {
    point.kappa = kappa;
    matched.push_back(icl_error(pretraining_theory(test, point), test).e_icl);
  }

  std::vector<HeatmapCell> cells;
  cells.reserve(request.delta_p.size() * request.kappa.size());
  for (double dp : request.delta_p) {
    const Vector train = power_law_spectrum(request.d, request.p_test + dp);
    for (std::size_t j = 0; j < request.kappa.size(); ++j) {
      point.kappa = request.kappa[j];
      // Both laws are decreasing in the index, so C_test is diagonal in C_train's (index) eigenbasis.
      const double e = icl_error(pretraining_theory(train, point), test).e_icl;
      // (matched - e), not -(e - matched): equal errors give 0, not -0.
      cells.push_back({dp, point.kappa, e, matched[j], 100.0 * (matched[j] - e) / matched[j]});
    }
  }
  return cells;
}

const HeatmapCell& best_improvement(const std::vector<HeatmapCell>& cells) {
  if (cells.empty()) throw InvalidArgument("best_improvement: no heatmap cells");
  const HeatmapCell* best = &cells.front();
  for (const auto& cell : cells)
    if (cell.improvement_pct > best->improvement_pct) best = &cell;
  return *best;
}

std::vector<KEigenvalue> k_spectrum(const Vector& train_eigenvalues, const AlignmentPoint& point) {
  point.validate();
  const PretrainingTheory theory = pretraining_theory(train_eigenvalues, point);
  std::vector<KEigenvalue> rows;
  rows.reserve(static_cast<std::size_t>(train_eigenvalues.size()));
  for (long i = 0; i < train_eigenvalues.size(); ++i) rows.push_back({i, train_eigenvalues(i), theory.K(i)});
  return rows;
}

}  // namespace iclab::theory
