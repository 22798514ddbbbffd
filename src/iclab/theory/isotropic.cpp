#include "iclab/theory/isotropic.hpp"

#include <cmath>
#include <vector>

#include "iclab/error.hpp"
#include "iclab/numerics/roots.hpp"

namespace iclab::theory {
namespace {

void require_off_threshold(const IsotropicPoint& p) {
  if (p.tau == 1.0) throw InvalidArgument("--tau: the ridgeless theory diverges at tau = 1; use lambda > 0");
}

}  // namespace

void validate(const IsotropicPoint& p, bool needs_alpha) {
  if (needs_alpha && !(p.alpha > 0)) throw InvalidArgument("--alpha: must be > 0");
  if (!(p.tau > 0)) throw InvalidArgument("--tau: must be > 0");
  if (!(p.kappa > 0)) throw InvalidArgument("--kappa: must be > 0 (or inf)");
  if (!(p.rho >= 0)) throw InvalidArgument("--rho: must be >= 0");
  if (!(p.lambda >= 0)) throw InvalidArgument("--lambda: must be >= 0");
  if (p.tau == 1.0 && p.lambda == 0.0)
    throw InvalidArgument(
        "--tau: tau = 1 with lambda = 0 is the interpolation threshold where the error diverges; "
        "use lambda > 0 or tau != 1");
}

double mp_resolvent(double x, double kappa) {
  if (std::isinf(kappa)) return 1.0 / (1.0 + x);
  const double b = x + 1.0 - 1.0 / kappa;
  const double r = std::sqrt(b * b + 4.0 * x / kappa);
  // Positive root of (x/kappa) M^2 + b M - 1 = 0, written without cancellation for either sign of b.
  return b >= 0.0 ? 2.0 / (b + r) : kappa * (r - b) / (2.0 * x);
}

double mp_resolvent_derivative(double x, double kappa) {
  if (std::isinf(kappa)) return -1.0 / ((1.0 + x) * (1.0 + x));
  const double b = x + 1.0 - 1.0 / kappa;
  const double r = std::sqrt(b * b + 4.0 * x / kappa);
  const double m = mp_resolvent(x, kappa);
  return -0.5 * m * m * (1.0 + (x + 1.0 + 1.0 / kappa) / r);
}

double effective_noise(const IsotropicPoint& p) { return (1.0 + p.rho) / p.alpha; }

double ridge_epsilon(const IsotropicPoint& p) {
  const double q = effective_noise(p);
  if (p.lambda == 0.0) {
    if (p.tau > 1.0) return 0.0;
    require_off_threshold(p);
  }
  auto f = [&](double eps) { return 1.0 - p.tau + p.tau * p.lambda / eps - eps * mp_resolvent(eps + q, p.kappa); };
  // eps M(eps + q) <= min(1, eps M(q)), so f > 0 on (0, lo] with the lo below; f -> -tau at infinity.
  double lo = p.lambda > 0.0 ? 0.5 * p.lambda : 0.5 * (1.0 - p.tau) / mp_resolvent(q, p.kappa);
  if (p.lambda > 0.0 && p.tau < 1.0) lo = std::max(lo, 0.5 * (1.0 - p.tau) / mp_resolvent(q, p.kappa));
  double hi = std::max(1.0, 2.0 * lo);
  while (f(hi) > 0.0) hi *= 2.0;
  return bracketed_root(f, lo, hi, "ridge self-consistent equation");
}

double ridgeless_icl_error(const IsotropicPoint& p) {
  require_off_threshold(p);
  const double q = effective_noise(p);
  const double rho = p.rho;
  const double tau = p.tau;
  if (tau < 1.0) {
    const double mu = q * mp_resolvent(q, p.kappa / tau);
    return tau * (1.0 + q) / (1.0 - tau) * (1.0 - tau * (1.0 - mu) * (1.0 - mu) - ((q - rho) / q) * mu) -
           2.0 * tau * (1.0 - mu) + 1.0 + rho;
  }
  const double m = mp_resolvent(q, p.kappa);
  const double k_star = std::isinf(p.kappa) ? 1.0 : 1.0 / (1.0 - p.kappa * std::pow(m / (p.kappa + m), 2));
  return (k_star - 1.0 / (tau - 1.0)) * (1.0 + q) * (q * m) * (q * m) + (3.0 - 2.0 * tau) / (tau - 1.0) * m * q * q +
         ((1.0 + rho) * m / (tau - 1.0) + 1.0) * q + rho * m / (tau - 1.0) + rho;
}

double ridgeless_idg_error(const IsotropicPoint& p) {
  require_off_threshold(p);
  const double q = effective_noise(p);
  const double tau = p.tau;
  if (tau > 1.0) return tau * (p.rho + q * (1.0 - q * mp_resolvent(q, p.kappa))) / (tau - 1.0);
  IsotropicPoint ridgeless = p;
  ridgeless.lambda = 0.0;
  const double eps = ridge_epsilon(ridgeless);
  const double c =
      std::isinf(p.kappa) ? 1.0 : 1.0 / (1.0 - p.kappa / std::pow(1.0 + p.kappa * eps / (1.0 - tau), 2));
  return tau * ((q + eps) * (q + eps) / eps +
                (p.rho + q - 2.0 * q * (1.0 - tau) * (q / eps + 1.0)) / (1.0 - tau - c * (1.0 - tau) * (1.0 - tau)));
}

namespace {

// The quantities the ridge formulas share: eps, nu = q* + eps, M = M_kappa(nu), M' and
// q = [rho + nu - nu^2 M - eps (1 - 2 nu M - nu^2 M')] / [tau - (1 - 2 eps M - eps^2 M')]
// (Letey et al.'s q; the authors' ridge code writes c_e = -q).
struct RidgeState {
  double q_star, eps, nu, m, m_prime, q;
};

RidgeState ridge_state(const IsotropicPoint& p) {
  RidgeState r{};
  r.q_star = effective_noise(p);
  r.eps = ridge_epsilon(p);
  r.nu = r.q_star + r.eps;
  r.m = mp_resolvent(r.nu, p.kappa);
  r.m_prime = mp_resolvent_derivative(r.nu, p.kappa);
  r.q = (p.rho + r.nu - r.nu * r.nu * r.m - r.eps * (1.0 - 2.0 * r.nu * r.m - r.nu * r.nu * r.m_prime)) /
        (p.tau - 1.0 + 2.0 * r.eps * r.m + r.eps * r.eps * r.m_prime);
  return r;
}

}  // namespace

double ridge_icl_error(const IsotropicPoint& p) {
  const RidgeState r = ridge_state(p);
  return (r.q_star + 1.0) * (1.0 - 2.0 * r.nu * r.m - r.nu * r.nu * r.m_prime + r.q * (r.m + r.eps * r.m_prime)) -
         2.0 * (1.0 - r.nu * r.m) + 1.0 + p.rho;
}

double ridge_idg_error(const IsotropicPoint& p) { return p.tau * ridge_state(p).q; }

double icl_error(const IsotropicPoint& p) { return p.lambda == 0.0 ? ridgeless_icl_error(p) : ridge_icl_error(p); }

double idg_error(const IsotropicPoint& p) { return p.lambda == 0.0 ? ridgeless_idg_error(p) : ridge_idg_error(p); }

double task_generalisation_gap(const IsotropicPoint& p) { return icl_error(p) - idg_error(p); }

double bayes_ridge_error(double alpha, double rho) {
  const double b = rho + alpha - 1.0;
  const double r = std::sqrt(b * b + 4.0 * rho);
  // rho * S_W(rho, alpha) with S_W = 2/(b + r); the second form avoids 0 * inf at rho = 0, alpha < 1.
  const double rho_s = b >= 0.0 ? 2.0 * rho / (b + r) : 0.5 * (r - b);
  return rho + rho_s;
}

Observable parse_observable(const std::string& text) {
  if (text == "icl") return Observable::icl;
  if (text == "idg") return Observable::idg;
  throw InvalidArgument("--alpha-min: expected 'icl' or 'idg', got '" + text + "'");
}

std::optional<double> alpha_minimising(Observable what, const IsotropicPoint& p) {
  auto error_at_log_alpha = [&](double log_alpha) {
    IsotropicPoint q = p;
    q.alpha = std::exp(log_alpha);
    return what == Observable::icl ? icl_error(q) : idg_error(q);
  };
  const double lo = std::log(1e-3);
  const double hi = std::log(1e6);
  constexpr int kGrid = 361;  // 40 points per decade
  std::vector<double> values(kGrid);
  int best = 0;
  for (int i = 0; i < kGrid; ++i) {
    values[i] = error_at_log_alpha(lo + (hi - lo) * i / (kGrid - 1));
    if (values[i] < values[best]) best = i;
  }
  // A minimum on the edge of the range (or one not below both ends) means monotone in alpha.
  const double tol = 1e-9 * std::fabs(values[best]);
  if (best == 0 || best == kGrid - 1 || values[best] >= values.back() - tol || values[best] >= values.front() - tol)
    return std::nullopt;
  const double step = (hi - lo) / (kGrid - 1);
  const auto [arg, value] = bracketed_minimum(error_at_log_alpha, lo + step * (best - 1), lo + step * (best + 1));
  (void)value;
  return std::exp(arg);
}

}  // namespace iclab::theory
