#include "iclab/model/auto_solver.hpp"

#include <cmath>
#include <limits>

#include "iclab/model/cg_solver.hpp"
#include "iclab/model/dual_solver.hpp"
#include "iclab/model/solver_kernels.hpp"

namespace iclab {
namespace {

using namespace ridge_detail;

// AutoRidgeSolver::kCgFlopCost, the time per flop of a primal CG iteration relative to the direct
// solve's Gram + Cholesky flops, was measured at alpha = 10, kappa = 0.5, tau = 2: 0.75 / 282 ms at
// d = 40, 1.8 / 1870 ms at d = 60, 25 / 55000 ms at d = 100 per CG iteration / direct fit, i.e.
// 1.0-1.35 with the flop counts in choose().

// What the Marchenko-Pastur model of the preconditioned spectrum needs: the smallest eigenvalue of
// Sx (x) Sz (where the ridge helps least) and the aspect ratio p/n.
struct SpectrumModel {
  double smallest = 0.0;
  double low = 0.0, high = 0.0;  // MP edges (1 -+ sqrt(p/n))^2
  double ridge_scale = 0.0;      // n/d
};

SpectrumModel spectrum_model(double smallest, long n, long d) {
  SpectrumModel model;
  model.smallest = smallest;
  const double ratio = std::sqrt(static_cast<double>(d) * static_cast<double>(d + 1) / static_cast<double>(n));
  model.low = (1.0 - ratio) * (1.0 - ratio);
  model.high = (1.0 + ratio) * (1.0 + ratio);
  model.ridge_scale = static_cast<double>(n) / static_cast<double>(d);
  return model;
}

SpectrumModel spectrum_model(const FeatureBatch& batch) {
  const long n = batch.size();
  const long d = batch.dim();
  const SingleThreadedBlas blas;
  Matrix sx = column_gram(batch.x_query) / static_cast<double>(n);
  Matrix sz = column_gram(batch.z);
  Vector dx, dz;
  symmetric_eigen(sx, dx);
  symmetric_eigen(sz, dz);
  return spectrum_model(std::max(dx.minCoeff(), 0.0) * std::max(dz.minCoeff(), 0.0), n, d);
}

// The preconditioned Gram is about P^1/2 W P^1/2 with W Marchenko-Pastur; in P's smallest
// direction its eigenvalues reach down to (smallest * low + shift) / (smallest + shift). CG needs
// about sqrt(condition)/2 * log(2/tolerance) iterations. (Checked: 72 predicted / 67 run at
// tau = 2, 32 / 30 at tau = 5; pessimistic near tau = 1: 669 / 511 at d = 40, tau = 1.1.)
double predicted_iterations(const SpectrumModel& model, double lambda, double tolerance) {
  const double shift = model.ridge_scale * lambda;
  if (!(model.low > 0.0) || model.smallest + shift <= 0.0) return std::numeric_limits<double>::infinity();
  const double worst = (model.smallest * model.low + shift) / (model.smallest + shift);
  return 0.5 * std::sqrt(model.high / worst) * std::log(2.0 / tolerance);
}

}  // namespace

double AutoRidgeSolver::predicted_cg_iterations(const FeatureBatch& batch, double lambda, double tolerance) {
  const double p = static_cast<double>(batch.dim()) * static_cast<double>(batch.dim() + 1);
  if (static_cast<double>(batch.size()) <= p) return std::numeric_limits<double>::infinity();
  return predicted_iterations(spectrum_model(batch), lambda, tolerance);
}

double AutoRidgeSolver::predicted_cg_iterations(double smallest_eigenvalue, long n, long d, double lambda,
                                                double tolerance) {
  if (n <= d * (d + 1)) return std::numeric_limits<double>::infinity();
  return predicted_iterations(spectrum_model(smallest_eigenvalue, n, d), lambda, tolerance);
}

std::unique_ptr<RidgeSolver> AutoRidgeSolver::choose(const FeatureBatch& batch, std::span<const double> lambdas) const {
  const long n = batch.size();
  const long d = batch.dim();
  const long p = d * (d + 1);
  if (n <= p) return std::make_unique<DualRidgeSolver>();  // itself picks Cholesky / eigen / cg by memory

  const DirectRidgeSolver direct(DirectRidgeSolver::System::primal);
  if (!fits_comfortably(direct.estimate_bytes(n, d))) return std::make_unique<ConjugateGradientRidgeSolver>();
  if (p <= kDirectMaxParameters) return std::make_unique<DirectRidgeSolver>(DirectRidgeSolver::System::primal);

  // Both fit: compare predicted costs, the direct Gram + one Cholesky per lambda against the
  // predicted CG iterations (4 n p flops each; warm starts make the path estimate pessimistic).
  const double nn = static_cast<double>(n), pp = static_cast<double>(p);
  const double count = static_cast<double>(std::max<std::size_t>(lambdas.size(), 1));
  const double direct_flops = nn * pp * pp + pp * pp * pp / 3.0 * count;
  const SpectrumModel model = spectrum_model(batch);
  double iterations = 0.0;
  for (double lambda : lambdas) iterations += predicted_iterations(model, lambda, ConjugateGradientOptions{}.tolerance);
  const double cg_flops = kCgFlopCost * iterations * 4.0 * nn * pp;
  if (cg_flops > direct_flops) return std::make_unique<DirectRidgeSolver>(DirectRidgeSolver::System::primal);
  return std::make_unique<ConjugateGradientRidgeSolver>();
}

double AutoRidgeSolver::estimate_bytes(long n, long d) const {
  const long p = d * (d + 1);
  if (n <= p) return DualRidgeSolver().estimate_bytes(n, d);
  const DirectRidgeSolver direct(DirectRidgeSolver::System::primal);
  const double direct_bytes = direct.estimate_bytes(n, d);
  if (p <= kDirectMaxParameters && fits_comfortably(direct_bytes)) return direct_bytes;
  return ConjugateGradientRidgeSolver().estimate_bytes(n, d);
}

std::vector<RidgeFit> AutoRidgeSolver::fit_path_cancellable(const FeatureBatch& batch, std::span<const double> lambdas,
                                                            const std::stop_token& stop) const {
  const std::unique_ptr<RidgeSolver> solver = choose(batch, lambdas);
  std::vector<RidgeFit> fits = solver->fit_path_cancellable(batch, lambdas, stop);
  for (RidgeFit& fit : fits) fit.report.solver = name() + "->" + fit.report.solver;
  return fits;
}

}  // namespace iclab
