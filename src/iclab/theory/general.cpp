#include "iclab/theory/general.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "iclab/error.hpp"
#include "iclab/numerics/roots.hpp"

namespace iclab::theory {
namespace {

// <lambda/(sigma + a lambda)>: a <...> = 1 - sigma M, computed without the cancellation of the latter.
double overlap(const Vector& lambda, double sigma, double a) {
  return (lambda.array() / (sigma + a * lambda.array())).mean();
}

void require_positive_sigma(double sigma) {
  if (!(sigma > 0.0) || !std::isfinite(sigma))
    throw InvalidArgument("--ctrain: the theory needs sigma = (<C_train> + rho)/alpha > 0; got sigma = " +
                          std::to_string(sigma) + " (zero covariance with rho = 0?)");
}

}  // namespace

void AlignmentPoint::validate() const {
  auto need = [](bool ok, const char* message) {
    if (!ok) throw InvalidArgument(message);
  };
  need(std::isfinite(alpha) && alpha > 0.0, "--alpha: must be a finite number > 0");
  need(std::isfinite(tau) && tau > 0.0, "--tau: must be a finite number > 0");
  need(tau != 1.0, "--tau: the ridgeless theory diverges at tau = 1 (interpolation threshold)");
  need(kappa > 0.0 && !std::isnan(kappa), "--kappa: must be > 0 (or inf)");
  need(std::isfinite(rho) && rho >= 0.0, "--rho: must be a finite number >= 0");
  if (alpha_test) need(std::isfinite(*alpha_test) && *alpha_test > 0.0, "--alpha-test: must be a finite number > 0");
}

double resolvent_scale(const Vector& train_eigenvalues, double kappa, double sigma) {
  if (std::isinf(kappa)) return 1.0;
  const Vector& lambda = train_eigenvalues;
  auto g = [&](double a) { return a * (1.0 + overlap(lambda, sigma, a) / kappa) - 1.0; };
  // g(1) = 0 only for C_train = 0, where every a solves the equation and F = I/sigma regardless.
  if (g(1.0) <= 0.0) return 1.0;
  return bracketed_root(g, 0.0, 1.0, "resolvent self-consistent equation (a)");
}

double stieltjes(const Vector& train_eigenvalues, double kappa, double sigma) {
  const double a = resolvent_scale(train_eigenvalues, kappa, sigma);
  return (1.0 / (sigma + a * train_eigenvalues.array())).mean();
}

Resolvent resolvent(const Vector& train_eigenvalues, double kappa, double sigma) {
  const Vector& lambda = train_eigenvalues;
  Resolvent r;
  r.sigma = sigma;
  r.a = resolvent_scale(lambda, kappa, sigma);
  r.F = (1.0 / (sigma + r.a * lambda.array())).matrix();
  r.M = r.F.mean();
  r.train_overlap = (lambda.array() * r.F.array()).mean();
  const Eigen::ArrayXd f2 = r.F.array().square();
  if (std::isinf(kappa)) {
    // F = (sigma + C)^-1 exactly: F' = -F^2.
    r.F_prime = (-f2).matrix();
    r.M_prime = r.F_prime.mean();
    return r;
  }
  // Implicit differentiation of M = <(sigma + a(sigma, M) C)^-1> (spec §3.1).
  const double s0 = f2.mean();
  const double s1 = (lambda.array() * f2).mean();
  r.M_prime = -(s0 + (r.M / kappa) * s1) / (1.0 + (sigma / kappa) * s1);
  r.F_prime = (-(1.0 + (r.M + sigma * r.M_prime) * lambda.array() / kappa) * f2).matrix();
  return r;
}

double effective_ridge(const Vector& train_eigenvalues, const AlignmentPoint& p) {
  if (p.tau > 1.0) return 0.0;
  const double x = (train_eigenvalues.mean() + p.rho) / p.alpha;
  require_positive_sigma(x);
  auto h = [&](double t) { return t * stieltjes(train_eigenvalues, p.kappa, x + t) - (1.0 - p.tau); };
  // h(0) = tau - 1 < 0 and h -> tau > 0 as lambda~ -> inf (sigma M(sigma) -> 1).
  double hi = 1.0;
  while (h(hi) < 0.0) hi *= 2.0;
  return bracketed_root(h, 0.0, hi, "effective ridge equation (lambda~)");
}

PretrainingTheory pretraining_theory(const Vector& train_eigenvalues, const AlignmentPoint& p) {
  PretrainingTheory t;
  t.point = p;
  const double x = (train_eigenvalues.mean() + p.rho) / p.alpha;
  require_positive_sigma(x);
  t.lambda_tilde = effective_ridge(train_eigenvalues, p);
  t.sigma = x + t.lambda_tilde;
  t.resolvent = resolvent(train_eigenvalues, p.kappa, t.sigma);

  const double s = t.sigma;
  const double lt = t.lambda_tilde;
  const double M = t.resolvent.M;
  const double Mp = t.resolvent.M_prime;
  // sigma - sigma^2 M = sigma (1 - sigma M) = sigma a <C_train F>.
  const double numerator =
      p.rho + s * t.resolvent.a * t.resolvent.train_overlap - lt * (1.0 - 2.0 * s * M - s * s * Mp);
  const double denominator = p.tau - (1.0 - 2.0 * lt * M - lt * lt * Mp);
  t.q = numerator / denominator;
  t.K = t.q * t.resolvent.F + (t.q * lt - s * s) * t.resolvent.F_prime;
  return t;
}

IclError icl_error(const PretrainingTheory& t, const Vector& test_diagonal) {
  const double s = t.sigma;
  const double rho_test = test_diagonal.mean() + t.point.rho;
  IclError e;
  e.e_scalar = t.point.rho + (rho_test / t.point.test_alpha()) *
                                 (1.0 + (t.q - 2.0 * s) * t.resolvent.M +
                                  (t.lambda_tilde * t.q - s * s) * t.resolvent.M_prime);
  e.e_misalign = test_diagonal.dot(t.K) / static_cast<double>(test_diagonal.size());
  e.e_icl = e.e_scalar + e.e_misalign;
  return e;
}

AlignmentTheory::AlignmentTheory(const TaskCovariance& train)
    : eigenvalues_(train.eigenvalues()), eigenvectors_(train.eigenvectors()) {}

AlignmentTheory::AlignmentTheory(Vector train_eigenvalues, Matrix train_eigenvectors)
    : eigenvalues_(std::move(train_eigenvalues)), eigenvectors_(std::move(train_eigenvectors)) {
  if (eigenvectors_.size() != 0 && (eigenvectors_.rows() != dim() || eigenvectors_.cols() != dim()))
    throw std::invalid_argument("AlignmentTheory: eigenvectors must be d x d (or empty for a diagonal C_train)");
}

Vector AlignmentTheory::project(const Matrix& test) const {
  if (test.rows() != dim() || test.cols() != dim())
    throw InvalidArgument("--ctest: the test covariance is " + std::to_string(test.rows()) + "x" +
                          std::to_string(test.cols()) + ", the training covariance " + std::to_string(dim()) + "x" +
                          std::to_string(dim()));
  if (train_is_diagonal()) return test.diagonal();
  // (U^T C U)_ii = u_i^T (C u_i): one product, then column-wise dots.
  const Matrix cu = test * eigenvectors_;
  return eigenvectors_.cwiseProduct(cu).colwise().sum().transpose();
}

Vector AlignmentTheory::project(const TaskCovariance& test) const {
  if (!test.is_diagonal() || train_is_diagonal()) return project(test.matrix());
  if (test.dim() != dim()) return project(test.matrix());  // reports the size mismatch
  // (U^T diag(c) U)_ii = sum_j U_ji^2 c_j.
  return eigenvectors_.cwiseAbs2().transpose() * test.eigenvalues();
}

PretrainingTheory AlignmentTheory::solve(const AlignmentPoint& p) const {
  p.validate();
  return pretraining_theory(eigenvalues_, p);
}

IclError AlignmentTheory::evaluate(const PretrainingTheory& theory, const TaskCovariance& test) const {
  return icl_error(theory, project(test));
}

std::vector<IclError> AlignmentTheory::evaluate(const AlignmentPoint& p,
                                                const std::vector<TaskCovariance>& tests) const {
  const PretrainingTheory theory = solve(p);
  std::vector<IclError> errors;
  errors.reserve(tests.size());
  for (const auto& test : tests) errors.push_back(evaluate(theory, test));
  return errors;
}

}  // namespace iclab::theory
