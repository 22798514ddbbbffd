// Dual (kernel) solver of the Gamma* ridge problem ("dual"), the natural system when n <= p:
//   (K + (n/d) lambda I) c = y,   K = (X X^T) o (Z Z^T)  (n x n),   Gamma = X^T diag(c) Z.
// Methods:
//  * cholesky: K is built once (by tiles); each lambda is one Cholesky solve (Bunch-Kaufman when a
//    tiny ridge leaves K + (n/d) lambda I numerically semi-definite).
//  * eigen: ONE eigendecomposition K = U diag(s) U^T (LAPACKE_dsyevd); every lambda is then
//    c = U (U^T y ./ (s + (n/d) lambda)). Pays off for long lambda paths: dsyevd costs about 20
//    Cholesky factorisations (measured, n = 1000-4000).
//  * cg: CG on the dual system with K applied matrix-free, for n x n kernels that do not fit.
//  * automatic: eigen for paths of >= kEigenPathMinLambdas lambdas, else cholesky, when the kernel
//    fits in memory; cg otherwise.
#pragma once

#include "iclab/model/ridge_solver.hpp"

namespace iclab {

struct DualOptions {
  enum class Method { automatic, cholesky, eigen, cg };
  Method method = Method::automatic;
  double tolerance = 1e-10;  // cg only (see ConjugateGradientOptions)
  long max_iterations = 0;   // cg only
};

class DualRidgeSolver final : public RidgeSolver {
 public:
  // A path of at least this many lambdas uses one eigendecomposition instead of a Cholesky per lambda.
  static constexpr std::size_t kEigenPathMinLambdas = 20;

  DualRidgeSolver() = default;
  explicit DualRidgeSolver(DualOptions options) : options_(options) {}
  std::string name() const override { return "dual"; }
  std::vector<RidgeFit> fit_path(const FeatureBatch& batch, std::span<const double> lambdas) const override {
    return fit_path_cancellable(batch, lambdas, {});
  }
  std::vector<RidgeFit> fit_path_cancellable(const FeatureBatch& batch, std::span<const double> lambdas,
                                             const std::stop_token& stop) const override;
  // Bytes for one lambda with the method `automatic` would pick (the kernel, or the cg workspace).
  double estimate_bytes(long n, long d) const override;

  // The method fit_path uses for n samples and `lambdas` lambdas (automatic resolved).
  DualOptions::Method resolve(long n, long d, std::size_t lambdas) const;

 private:
  DualOptions options_;
};

}  // namespace iclab
