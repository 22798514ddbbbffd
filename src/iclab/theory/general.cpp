#include "iclab/theory/general.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

#include "iclab/error.hpp"
#include "iclab/io/table.hpp"
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
  // M + sigma M' = (M - sigma s0)/(1 + (sigma/kappa) s1) = a s1/(1 + (sigma/kappa) s1): no cancellation.
  const double sigma_m_prime = r.a * s1 / (1.0 + (sigma / kappa) * s1);
  r.F_prime = (-(1.0 + sigma_m_prime * lambda.array() / kappa) * f2).matrix();
  return r;
}

double effective_ridge(const Vector& train_eigenvalues, const AlignmentPoint& p) {
  if (p.tau > 1.0) return 0.0;
  const double x = (train_eigenvalues.mean() + p.rho) / p.alpha;
  require_positive_sigma(x);
  // lambda~ M(x + lambda~) = 1 - tau, written as G(lambda~) = tau with G = 1 - lambda~ M = <(x + a lambda) F>,
  // a mean of positive terms decreasing from 1 to 0: unlike 1 - tau it keeps its precision for tiny tau,
  // where lambda~ ~ (x + <C_train>)/tau.
  const Eigen::ArrayXd lambda = train_eigenvalues.array();
  auto h = [&](double t) {
    const double sigma = x + t;
    const double a = resolvent_scale(train_eigenvalues, p.kappa, sigma);
    return p.tau - ((x + a * lambda) / (sigma + a * lambda)).mean();
  };
  // h(0) = tau - 1 < 0 and h -> tau > 0; walk up by doublings to a bracket [hi/2, hi].
  constexpr double kLargest = 1e303;
  double lo = 0.0;
  double hi = 1.0;
  while (hi <= kLargest && h(hi) < 0.0) {
    lo = hi;
    hi *= 2.0;
  }
  if (!(hi <= kLargest))
    throw InvalidArgument("--tau: the effective ridge lambda~ ~ (<C_train> + sigma)/tau passes 1e303 at tau = " +
                          format_number(p.tau) + "; supported: tau >= 1e-300 with the other ratios of order one");
  return bracketed_root(h, lo, hi, "effective ridge equation (lambda~)");
}

PretrainingTheory pretraining_theory(const Vector& train_eigenvalues, const AlignmentPoint& p) {
  PretrainingTheory t;
  t.point = p;
  const double x = (train_eigenvalues.mean() + p.rho) / p.alpha;
  require_positive_sigma(x);
  t.lambda_tilde = effective_ridge(train_eigenvalues, p);
  t.sigma = x + t.lambda_tilde;
  t.resolvent = resolvent(train_eigenvalues, p.kappa, t.sigma);

  // The spec's q = [rho + sigma - sigma^2 M - lambda~ (1 - 2 sigma M - sigma^2 M')] / [tau - (1 - 2 lambda~ M -
  // lambda~^2 M')] and e_scalar cancel catastrophically as tau -> 0 (sigma, lambda~ -> inf). With
  // F = 1/(sigma + a lambda), s1 = <lambda F^2>, Q = 1 + (sigma/kappa) s1, M' = -(<F^2> + M s1/kappa)/Q and
  // the root G = tau, every piece is a mean of positive terms (no subtraction):
  //   numerator   = rho + a [<lambda F^2 (sigma^2 + x a lambda)> + (sigma x/kappa) s1 <lambda F>]/Q,
  //   1 - 2 sigma M - sigma^2 M' = [a^2 <lambda^2 F^2> + (sigma/kappa) s1 a <lambda F>]/Q,
  //   H = M + lambda~ M' = [<(x + a lambda) F^2> + x M s1/kappa]/Q,
  //   denominator = lambda~ H for tau < 1 (tau - 1 for tau > 1, where lambda~ = 0).
  // They are formed from fs = sigma F in (0, 1], so that sigma up to 1e303 neither overflows nor underflows.
  const double s = t.sigma;
  const double lt = t.lambda_tilde;
  const double a = t.resolvent.a;
  const double k_inv = std::isinf(p.kappa) ? 0.0 : 1.0 / p.kappa;
  const Eigen::ArrayXd lambda = train_eigenvalues.array();
  const Eigen::ArrayXd fs = s * t.resolvent.F.array();
  const Eigen::ArrayXd fs2 = fs.square();
  const double s1_s2 = (lambda * fs2).mean();  // sigma^2 s1
  const double lf_s = (lambda * fs).mean();    // sigma <lambda F>
  const double qq = 1.0 + k_inv * s1_s2 / s;
  const double numerator =
      p.rho + a * ((lambda * fs2 * (1.0 + (x / s) * a * lambda / s)).mean() + k_inv * (x / s) * s1_s2 * lf_s / s) / qq;
  t.b = ((a * a * (lambda.square() * fs2).mean() + k_inv * s1_s2 * a * lf_s) / s) / s / qq;
  const double h_s = ((((x + a * lambda) * fs2).mean() + x * fs.mean() * s1_s2 * k_inv / s) / s) / qq;  // sigma H
  if (p.tau > 1.0) {
    t.q = numerator / (p.tau - 1.0);
    t.q_h = t.q * (h_s / s);
  } else {
    t.q = numerator / ((lt / s) * h_s);
    t.q_h = numerator / lt;
  }
  // K = q F + (q lambda~ - sigma^2) F' with F'_i = -(1 + e_i) F_i^2, e_i = (M + sigma M') lambda_i/kappa:
  // K_i = (q/sigma) fs_i (1 - (lambda~/sigma)(1 + e_i) fs_i) + (1 + e_i) fs_i^2.
  const Eigen::ArrayXd e = 1.0 + (a * (s1_s2 / s) / s / qq) * k_inv * lambda;
  t.K = ((t.q / s) * fs * (1.0 - (lt / s) * e * fs) + e * fs2).matrix();
  if (!std::isfinite(t.q) || !std::isfinite(t.q_h) || !t.K.allFinite())
    throw InvalidArgument(
        "--alpha, --tau, --kappa, --rho: the task-alignment theory is not finite in double precision "
        "at alpha = " +
        format_number(p.alpha) + ", tau = " + format_number(p.tau) + ", kappa = " + format_number(p.kappa) +
        ", rho = " + format_number(p.rho) + "; move these ratios towards O(1)");
  return t;
}

IclError icl_error(const PretrainingTheory& t, const Vector& test_diagonal) {
  const double rho_test = test_diagonal.mean() + t.point.rho;
  IclError e;
  // 1 + (q - 2 sigma) M + (lambda~ q - sigma^2) M' = (1 - 2 sigma M - sigma^2 M') + q (M + lambda~ M').
  e.e_scalar = t.point.rho + (rho_test / t.point.test_alpha()) * (t.b + t.q_h);
  e.e_misalign = test_diagonal.dot(t.K) / static_cast<double>(test_diagonal.size());
  e.e_icl = e.e_scalar + e.e_misalign;
  if (!std::isfinite(e.e_icl))
    throw InvalidArgument("--ctest: e_ICL is not finite in double precision for this test covariance (entries up to " +
                          format_number(test_diagonal.cwiseAbs().maxCoeff()) + ")");
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
