// Solver selection for the Gamma* ridge problem ("auto"), from n, p = d(d+1), the lambdas and
// the available memory (thresholds measured on the 2-core development box, see the comments in
// auto_solver.cpp):
//  * n <= p: the dual solver (n x n kernel: Cholesky, or one eigendecomposition for long lambda
//    paths; matrix-free dual CG when the kernel does not fit);
//  * n > p: the direct primal solver when p is small or when CG is predicted to need so many
//    iterations (tiny ridge near tau = 1) that the p x p factorisation is cheaper, and it fits;
//    otherwise primal CG with the Kronecker preconditioner (which still falls back to direct on
//    a stall).
// The report's solver field records the choice, e.g. "auto->cg" or "auto->cg->direct".
#pragma once

#include <memory>

#include "iclab/model/ridge_solver.hpp"

namespace iclab {

class AutoRidgeSolver final : public RidgeSolver {
 public:
  // n > p with p at most this (d <= 15): the direct primal solve takes about a millisecond and is
  // at least as fast as CG, whose per-iteration overheads dominate there (measured). Above it the
  // choice follows the predicted costs.
  static constexpr long kDirectMaxParameters = 256;

  std::string name() const override { return "auto"; }
  std::vector<RidgeFit> fit_path(const FeatureBatch& batch, std::span<const double> lambdas) const override {
    return fit_path_cancellable(batch, lambdas, {});
  }
  std::vector<RidgeFit> fit_path_cancellable(const FeatureBatch& batch, std::span<const double> lambdas,
                                             const std::stop_token& stop) const override;
  double estimate_bytes(long n, long d) const override;

  // The solver fit_path delegates to for this batch and lambda path.
  std::unique_ptr<RidgeSolver> choose(const FeatureBatch& batch, std::span<const double> lambdas) const;

  // Predicted primal PCG iterations for one lambda (Marchenko-Pastur model of the preconditioned
  // spectrum, aspect ratio p/n, ridge shift relative to the mean eigenvalue of Sx (x) Sz).
  static double predicted_cg_iterations(const FeatureBatch& batch, double lambda, double tolerance);
  // The same from the smallest eigenvalue of Sx (x) Sz (the product of Sx's and Sz's smallest), for
  // solvers that have these spectra already (nn/tensor_solver); infinite for n <= p.
  static double predicted_cg_iterations(double smallest_eigenvalue, long n, long d, double lambda, double tolerance);

  // Time per flop of a primal CG iteration relative to the dense solve's Gram + Cholesky flops
  // (measured on the 2-core development machine, see auto_solver.cpp).
  static constexpr double kCgFlopCost = 1.3;
};

}  // namespace iclab
