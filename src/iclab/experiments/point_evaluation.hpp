// The core quantities at one point, each computed by one function. The runner's PointEvaluator
// (evaluate.hpp) and the direct commands' tables (command_tables.hpp: `iclab theory`, `simulate`, `align`,
// `kspectrum` and the Python functions of the same names) build their rows from these, so a command and
// an experiment file that ask for the same point get the same bits; they differ only in which of the
// values they lay out as columns. Both call simulate_point (simulate.hpp) for the simulation and
// theory::k_spectrum for the K spectrum; `iclab heatmap` alone calls theory::optimal_pretraining_heatmap
// (no experiment quantity computes it).
#pragma once

#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "iclab/covariances/covariance_spec.hpp"
#include "iclab/experiments/simulate.hpp"
#include "iclab/theory/alignment.hpp"
#include "iclab/theory/general.hpp"
#include "iclab/theory/isotropic.hpp"

namespace iclab {

// Isotropic theory (Lu et al.), d -> inf, at one point: e_ICL and e_IDG from one root
// (theory::isotropic_errors), ridgeless closed forms at lambda = 0, the ridge formulas otherwise. g_task
// is the difference of the two values written (so a table's g_task is its e_icl - e_idg to the bit).
struct IsotropicTheoryValues {
  double e_icl = 0.0, e_idg = 0.0, g_task = 0.0;
};
IsotropicTheoryValues evaluate_isotropic_theory(const theory::IsotropicPoint& point);

// The alpha minimising e_ICL or e_IDG at (tau, kappa, rho, lambda) over alpha in [1e-3, 1e6]; empty when
// the error is monotone in alpha there.
std::optional<double> evaluate_alpha_minimum(theory::Observable observable, double tau, double kappa, double rho,
                                             double lambda);

// Task-alignment theory (Letey et al.), ridgeless, at one point: one solve for C_train, then each C_test.
struct AlignmentTestValues {
  theory::IclError error;                             // e_icl, e_scalar, e_misalign
  std::optional<theory::AlignmentMeasures> measures;  // when asked for
};
struct AlignmentTheoryValues {
  theory::PretrainingTheory solved;  // q, lambda_tilde, sigma; e_idg()
  std::vector<AlignmentTestValues> tests;
};
// `alignment` is the theory of `train` (built once per C_train: it holds its eigendecomposition).
// `with_measures`: also the alignment measures of each C_test against C_train. Validates the point.
AlignmentTheoryValues evaluate_alignment_theory(const theory::AlignmentTheory& alignment, const TaskCovariance& train,
                                                const theory::AlignmentPoint& point,
                                                std::span<const TaskCovariance> tests, bool with_measures = false);

// Mean and population std (ddof = 0) over the repetitions of g_task = e_ICL - e_IDG, for the ICL result
// `index` (TaskSetting::num_icl's layout) of one simulated (point, lambda).
std::pair<double, double> simulated_gap(const SimulationResult& result, std::size_t index);

}  // namespace iclab
