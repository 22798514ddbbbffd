// Matrix-free conjugate-gradient solver of the Gamma* ridge problem ("cg").
//
// Primal system (n > p): A(Gamma) = X^T diag(r) Z + (n/d) lambda Gamma, r_mu = x_mu^T Gamma z_mu, two
// GEMMs per iteration (O(n d^2)), never an n x p or p x p matrix. Preconditioner: x_query is
// independent of z, so E[H H^T] = E[x x^T] (x) E[z z^T] exactly, and sum_mu vec(H_mu) vec(H_mu)^T is
// close to Sx (x) Sz with Sx = X^T X / n, Sz = Z^T Z. The preconditioner (Sx (x) Sz + (n/d) lambda I)^-1
// is applied exactly through the eigendecompositions Sx = Ux Dx Ux^T, Sz = Uz Dz Uz^T:
//   P^-1(R) = Ux [ (Ux^T R Uz) ./ (dx dz^T + (n/d) lambda) ] Uz^T,   O(d^3).
// Dual system (n <= p, where the primal Gram is singular up to the ridge): (K + (n/d) lambda I) c = y
// with K c = rowsum((X (X^T diag(c) Z)) o Z) applied matrix-free, Jacobi preconditioner, and
// Gamma = X^T diag(c) Z.
// A lambda path is solved from the largest lambda down, each fit warm-started from the previous
// one. When CG stalls (tiny lambda near tau = 1) the remaining lambdas fall back to the direct
// solver, which the report records as solver "cg->direct".
#pragma once

#include "iclab/model/ridge_solver.hpp"

namespace iclab {

struct ConjugateGradientOptions {
  enum class System { automatic, primal, dual };
  System system = System::automatic;  // automatic: primal when n > p, dual otherwise
  // On ||b - A g|| / ||b|| of the system being solved. 1e-9 keeps e_ICL/e_IDG within ~1e-10 of the
  // direct solve (measured at d = 100 and 120, bench/compare_reference.py), well inside 1e-8.
  double tolerance = 1e-9;
  long max_iterations = 0;            // 0: about the cost of a direct solve (at least 300)
  bool fallback_to_direct = true;     // on a stall or the iteration cap
};

class ConjugateGradientRidgeSolver final : public RidgeSolver {
 public:
  ConjugateGradientRidgeSolver() = default;
  explicit ConjugateGradientRidgeSolver(ConjugateGradientOptions options) : options_(options) {}
  std::string name() const override { return "cg"; }
  std::vector<RidgeFit> fit_path(const FeatureBatch& batch, std::span<const double> lambdas) const override {
    return fit_path_cancellable(batch, lambdas, {});
  }
  std::vector<RidgeFit> fit_path_cancellable(const FeatureBatch& batch, std::span<const double> lambdas,
                                             const std::stop_token& stop) const override;
  double estimate_bytes(long n, long d) const override;

  // The iteration cap used for max_iterations = 0 (a CG iteration costs 4 n d (d+1) flops).
  static long automatic_iteration_cap(long n, long d);

 private:
  bool use_dual(long n, long d) const;
  ConjugateGradientOptions options_;
};

}  // namespace iclab
