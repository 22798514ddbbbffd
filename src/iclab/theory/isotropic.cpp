#include "iclab/theory/isotropic.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "iclab/error.hpp"
#include "iclab/io/table.hpp"
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

namespace {

// Moments of the Marchenko-Pastur law mu_kappa at x > 0, each evaluated as a sum or ratio of positive
// terms, so that none loses precision to cancellation at extreme x or kappa (kappa -> 0, x -> inf):
// M = int 1/(s+x), A = 1 - xM = int s/(s+x) (smaller root of A^2 - (kappa(x+1)+1) A + kappa = 0),
// xM, -M' = int 1/(s+x)^2, x^2 (-M') = int x^2/(s+x)^2, S1 = int s/(s+x)^2 = A/r, B = int s^2/(s+x)^2,
// and the O(1) scaled forms xA, x^2 S1, x^2 B, with r = sqrt((x+1-1/kappa)^2 + 4x/kappa). kappa <= 1 uses
// the forms multiplied by kappa (D = kappa r), kappa > 1 those divided by it, so that 1/kappa^2 never
// overflows; products are ordered so that none overflows or underflows for x up to 1e300.
struct MpMoments {
  double m = 0.0, a = 0.0, xm = 0.0, dm = 0.0, x2dm = 0.0, xa = 0.0, x2s1 = 0.0, x2b = 0.0;
};

MpMoments mp_moments(double x, double kappa) {
  MpMoments r;
  if (std::isinf(kappa)) {  // mu = delta_1
    const double inv = 1.0 / (1.0 + x);
    r.m = r.a = inv;
    r.xm = x * inv;
    r.dm = inv * inv;
    r.xa = r.xm;
    r.x2dm = r.x2s1 = r.x2b = r.xm * r.xm;
    return r;
  }
  double derivative_factor = 0.0;  // (x + 1 + 1/kappa)/r
  double x_over_r = 0.0;
  double x2b_over_xa = 0.0;  // x^2 B / (x A)
  if (kappa <= 1.0) {
    const double bs = kappa * (x + 1.0) - 1.0;
    const double dd = std::hypot(bs, 2.0 * std::sqrt(kappa * x));
    r.m = bs >= 0.0 ? 2.0 * kappa / (bs + dd) : (dd - bs) / (2.0 * x);
    r.a = 2.0 * kappa / (kappa * (x + 1.0) + 1.0 + dd);
    derivative_factor = (kappa * (x + 1.0) + 1.0) / dd;
    x_over_r = x * kappa / dd;
    x2b_over_xa = (2.0 * kappa * x * (kappa + 1.0) + (kappa - 1.0) * (kappa - 1.0)) * ((x / dd) / (dd + kappa * x));
  } else {
    const double k1 = 1.0 / kappa;
    const double bb = x + 1.0 - k1;  // > 0 for kappa > 1
    const double rr = std::hypot(bb, 2.0 * std::sqrt(x * k1));
    r.m = 2.0 / (bb + rr);
    r.a = 2.0 / (x + 1.0 + k1 + rr);
    derivative_factor = (x + 1.0 + k1) / rr;
    x_over_r = x / rr;
    x2b_over_xa = (2.0 * x * (1.0 + k1) + (1.0 - k1) * (1.0 - k1)) * ((x / rr) / (rr + x));
  }
  r.xm = r.a < 0.5 ? 1.0 - r.a : x * r.m;
  r.dm = 0.5 * r.m * r.m * (1.0 + derivative_factor);
  r.x2dm = 0.5 * r.xm * r.xm * (1.0 + derivative_factor);
  r.xa = x * r.a;
  r.x2s1 = r.xa * x_over_r;
  r.x2b = r.xa * x2b_over_xa;
  return r;
}

}  // namespace

double mp_resolvent(double x, double kappa) { return mp_moments(x, kappa).m; }

double mp_resolvent_derivative(double x, double kappa) { return -mp_moments(x, kappa).dm; }

double effective_noise(const IsotropicPoint& p) { return (1.0 + p.rho) / p.alpha; }

double ridge_epsilon(const IsotropicPoint& p) {
  const double q = effective_noise(p);
  if (p.lambda == 0.0) {
    if (p.tau > 1.0) return 0.0;
    require_off_threshold(p);
  }
  // f(eps) = 1 - tau + tau lambda/eps - eps M(eps + q*) = G(eps) + tau lambda/eps - tau, where
  // G = 1 - eps M(nu) = int (s+q*)/(s+nu) = A(nu) + q* M(nu) is evaluated without cancellation, so the
  // root keeps its relative precision at tiny tau and huge lambda (eps ~ (1+q*)/tau + lambda).
  auto f = [&](double eps) {
    const MpMoments m = mp_moments(eps + q, p.kappa);
    return (m.a + q * m.m) + p.tau * (p.lambda / eps) - p.tau;
  };
  // eps M(eps + q) <= min(1, eps M(q)), so f > 0 on (0, lo] with the lo below; f -> -tau at infinity.
  double lo = p.lambda > 0.0 ? 0.5 * p.lambda : 0.5 * (1.0 - p.tau) / mp_resolvent(q, p.kappa);
  if (p.lambda > 0.0 && p.tau < 1.0) lo = std::max(lo, 0.5 * (1.0 - p.tau) / mp_resolvent(q, p.kappa));
  // Walk up by doublings to a bracket [lo, 2 lo] around the root, which may lie anywhere in 1e-300..1e300.
  double hi = 2.0 * lo;
  constexpr double kLargestRoot = 1e303;  // leaves the moments of nu = q* + eps room below DBL_MAX
  while (hi <= kLargestRoot && f(hi) > 0.0) {
    lo = hi;
    hi *= 2.0;
  }
  if (!(hi <= kLargestRoot) || !(lo > 0.0))
    throw InvalidArgument(
        "--tau, --lambda: the ridge self-consistent equation has no root representable in double "
        "precision at tau = " +
        format_number(p.tau) + ", lambda = " + format_number(p.lambda) +
        "; its root eps ~ lambda + (1 + q*)/tau must stay below 1e303 (tau >= 1e-300, lambda <= 1e300 for alpha, "
        "kappa, rho of order one)");
  return bracketed_root(f, lo, hi, "ridge self-consistent equation");
}

namespace {

// Ridge theory at the root eps (spec §4.4, docs/ridge-idg.md), with nu = q* + eps. Every quantity is a
// moment of mu_kappa with a positive integrand, so nothing cancels as lambda -> inf, tau -> 0 or kappa -> 0:
//   G = int (s+q*)/(s+nu),  H = int (s+q*)/(s+nu)^2,  C = int ((s+q*)/(s+nu))^2,
//   numerator of q:   rho + nu - nu^2 M - eps (1 - 2 nu M - nu^2 M') = rho + q* B + nu^2 S1,
//   denominator of q: tau - C = tau (eps^2 H + lambda C)/(eps G) (using the root: tau (1 - lambda/eps) = G),
//   e_IDG = tau q,    e_ICL = rho + nu^2 (-M') + q* B + (1 + q*) q H.
// At eps = 0 (lambda = 0, tau > 1) C = 1 and the denominator is tau - 1. eps G, eps^2 H and nu C are
// formed from the O(1) scaled moments, so that huge eps (lambda -> inf, tau -> 0) neither overflows nor
// underflows.
struct RidgeState {
  double eps = 0.0, e_idg = 0.0, e_icl = 0.0;
};

RidgeState ridge_state(const IsotropicPoint& p) {
  RidgeState r;
  const double qs = effective_noise(p);
  r.eps = ridge_epsilon(p);
  const double nu = qs + r.eps;
  const MpMoments m = mp_moments(nu, p.kappa);
  const double t = r.eps / nu;  // in [0, 1]
  const double w = qs / nu;     // in (0, 1]
  const double b = (m.x2b / nu) / nu;
  const double numerator = p.rho + qs * b + m.x2s1;
  const double h_nu2 = m.x2s1 + qs * m.x2dm;  // nu^2 H
  if (r.eps == 0.0) {
    r.e_idg = p.tau * numerator / (p.tau - 1.0);
  } else {
    const double eps_g = t * (m.xa + qs * m.xm);
    const double eps2_h = t * t * h_nu2;
    const double nu_c = m.x2b / nu + 2.0 * w * m.x2s1 + w * qs * m.x2dm;
    r.e_idg = numerator * eps_g / (eps2_h + (p.lambda / nu) * nu_c);
  }
  r.e_icl = p.rho + m.x2dm + qs * b + (1.0 + qs) * r.e_idg * ((h_nu2 / nu) / (nu * p.tau));
  return r;
}

// A value the library returns must be finite; the formulas above are, on the supported range.
double finite_or_refuse(double value, const IsotropicPoint& p, const char* what) {
  if (std::isfinite(value)) return value;
  throw InvalidArgument("--alpha, --tau, --kappa, --rho, --lambda: " + std::string(what) +
                        " is not finite in double precision at alpha = " + format_number(p.alpha) +
                        ", tau = " + format_number(p.tau) + ", kappa = " + format_number(p.kappa) +
                        ", rho = " + format_number(p.rho) + ", lambda = " + format_number(p.lambda) +
                        "; move these parameters towards O(1)");
}

}  // namespace

double ridgeless_icl_error(const IsotropicPoint& p) {
  require_off_threshold(p);
  const double q = effective_noise(p);
  const double rho = p.rho;
  const double tau = p.tau;
  if (tau < 1.0) {
    // 1 - mu* = A_{kappa/tau}(q*); the bracket 1 - tau (1-mu)^2 - ((q-rho)/q) mu = a (1 - tau a) + (rho/q) mu.
    const MpMoments m = mp_moments(q, p.kappa / tau);
    const double a = m.a;
    const double mu = m.xm;
    return finite_or_refuse(
        tau * (1.0 + q) / (1.0 - tau) * (a * (1.0 - tau * a) + (rho / q) * mu) - 2.0 * tau * a + 1.0 + rho, p, "e_ICL");
  }
  // tau > 1: Lu et al.'s closed form (spec §4.2) is the ridge formula at eps = 0, whose positive terms
  // do not cancel at small alpha.
  IsotropicPoint ridgeless = p;
  ridgeless.lambda = 0.0;
  return finite_or_refuse(ridge_state(ridgeless).e_icl, p, "e_ICL");
}

double ridgeless_idg_error(const IsotropicPoint& p) {
  require_off_threshold(p);
  const double q = effective_noise(p);
  const double tau = p.tau;
  // tau > 1: tau (rho + q*(1 - q* m*))/(tau - 1) with 1 - q* m* = A(q*). tau < 1: Lu et al.'s closed form
  // (spec §4.3) equals the ridge formula at lambda = 0, which stays accurate as tau -> 0.
  if (tau > 1.0) return finite_or_refuse(tau * (p.rho + q * mp_moments(q, p.kappa).a) / (tau - 1.0), p, "e_IDG");
  IsotropicPoint ridgeless = p;
  ridgeless.lambda = 0.0;
  return finite_or_refuse(ridge_state(ridgeless).e_idg, p, "e_IDG");
}

double ridge_icl_error(const IsotropicPoint& p) { return finite_or_refuse(ridge_state(p).e_icl, p, "e_ICL"); }

double ridge_idg_error(const IsotropicPoint& p) { return finite_or_refuse(ridge_state(p).e_idg, p, "e_IDG"); }

double icl_error(const IsotropicPoint& p) { return p.lambda == 0.0 ? ridgeless_icl_error(p) : ridge_icl_error(p); }

double idg_error(const IsotropicPoint& p) { return p.lambda == 0.0 ? ridgeless_idg_error(p) : ridge_idg_error(p); }

double task_generalisation_gap(const IsotropicPoint& p) {
  // At kappa = inf every pretraining context has a fresh task and e_IDG = e_ICL exactly; the difference
  // of the two evaluations would only show their rounding (and could turn g_task negative).
  if (std::isinf(p.kappa)) return (void)icl_error(p), 0.0;
  return icl_error(p) - idg_error(p);
}

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
