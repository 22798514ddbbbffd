#include "iclab/theory/isotropic.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "iclab/error.hpp"
#include "iclab/io/table.hpp"
#include "iclab/numerics/lanes.hpp"
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

using lanes::MaskOf;

// Which of mp_moments' forms a kappa takes: kappa = inf (mu = delta_1), kappa <= 1, kappa > 1. The lanes
// of a pack share it (lockstep evaluation groups points by it), so it is a branch, not a select.
enum class Regime { infinite, small, large };

Regime regime_of(double kappa) {
  if (std::isinf(kappa)) return Regime::infinite;
  return kappa <= 1.0 ? Regime::small : Regime::large;
}

// A point's parameters, one per lane.
template <class V>
struct PointLanes {
  V alpha, tau, kappa, rho, lambda;
};

PointLanes<double> lanes_of(const IsotropicPoint& p) { return {p.alpha, p.tau, p.kappa, p.rho, p.lambda}; }

// q* = (1 + rho)/alpha.
template <class V>
V effective_noise(const PointLanes<V>& p) {
  return (1.0 + p.rho) / p.alpha;
}

// g_task = e_ICL - e_IDG. At kappa = inf every pretraining context has a fresh task and e_IDG = e_ICL
// exactly; the difference of the two evaluations would only show their rounding (and could turn g_task
// negative).
IsotropicErrors with_gap(double e_icl, double e_idg, bool kappa_infinite) {
  return {e_icl, e_idg, kappa_infinite ? 0.0 : e_icl - e_idg};
}

// sqrt(a^2 + b^2); std::hypot (which avoids overflow and underflow, at several times the cost) only
// where the squares could leave the normal range.
template <class V>
[[gnu::always_inline]] inline V norm2(const V& a, const V& b) {
  const V larger = lanes::max(V(lanes::fabs(a)), V(lanes::fabs(b)));
  const auto normal = larger > 1e-150 && larger < 1e150;
  V r = lanes::sqrt(a * a + b * b);
  if (!lanes::all(normal))
    for (int i = 0; i < lanes::width<V>; ++i)
      if (!(lanes::lane(larger, i) > 1e-150 && lanes::lane(larger, i) < 1e150))
        lanes::set_lane(r, i, std::hypot(lanes::lane(a, i), lanes::lane(b, i)));
  return r;
}

// Moments of the Marchenko-Pastur law mu_kappa at x > 0, each evaluated as a sum or ratio of positive
// terms, so that none loses precision to cancellation at extreme x or kappa (kappa -> 0, x -> inf):
// M = int 1/(s+x), A = 1 - xM = int s/(s+x) (smaller root of A^2 - (kappa(x+1)+1) A + kappa = 0),
// xM, -M' = int 1/(s+x)^2, x^2 (-M') = int x^2/(s+x)^2, S1 = int s/(s+x)^2 = A/r, B = int s^2/(s+x)^2,
// and the O(1) scaled forms xA, x^2 S1, x^2 B, with r = sqrt((x+1-1/kappa)^2 + 4x/kappa). kappa <= 1 uses
// the forms multiplied by kappa (D = kappa r), kappa > 1 those divided by it, so that 1/kappa^2 never
// overflows; products are ordered so that none overflows or underflows for x up to 1e300.
template <class V>
struct MpMoments {
  V m = 0.0, a = 0.0, xm = 0.0, dm = 0.0, x2dm = 0.0, xa = 0.0, x2s1 = 0.0, x2b = 0.0;
};

template <class V>
MpMoments<V> mp_moments(const V& x, const V& kappa, Regime regime) {
  MpMoments<V> r;
  if (regime == Regime::infinite) {  // mu = delta_1
    const V inv = 1.0 / (1.0 + x);
    r.m = r.a = inv;
    r.xm = x * inv;
    r.dm = inv * inv;
    r.xa = r.xm;
    r.x2dm = r.x2s1 = r.x2b = r.xm * r.xm;
    return r;
  }
  V derivative_factor = 0.0;  // (x + 1 + 1/kappa)/r
  V x_over_r = 0.0;
  V x2b_over_xa = 0.0;  // x^2 B / (x A)
  if (regime == Regime::small) {
    const V bs = kappa * (x + 1.0) - 1.0;
    const V dd = norm2<V>(bs, 2.0 * lanes::sqrt(kappa * x));
    const V inv_dd = 1.0 / dd;
    r.m = lanes::pick(
        bs >= 0.0, [&] { return V(2.0 * kappa / (bs + dd)); }, [&] { return V((dd - bs) / (2.0 * x)); });
    r.a = 2.0 * kappa / (kappa * (x + 1.0) + 1.0 + dd);
    derivative_factor = (kappa * (x + 1.0) + 1.0) * inv_dd;
    x_over_r = x * kappa * inv_dd;
    x2b_over_xa = (2.0 * kappa * x * (kappa + 1.0) + (kappa - 1.0) * (kappa - 1.0)) * ((x * inv_dd) / (dd + kappa * x));
  } else {
    const V k1 = 1.0 / kappa;
    const V bb = x + 1.0 - k1;  // > 0 for kappa > 1
    const V rr = norm2<V>(bb, 2.0 * lanes::sqrt(x * k1));
    const V inv_rr = 1.0 / rr;
    r.m = 2.0 / (bb + rr);
    r.a = 2.0 / (x + 1.0 + k1 + rr);
    derivative_factor = (x + 1.0 + k1) * inv_rr;
    x_over_r = x * inv_rr;
    x2b_over_xa = (2.0 * x * (1.0 + k1) + (1.0 - k1) * (1.0 - k1)) * ((x * inv_rr) / (rr + x));
  }
  r.xm = lanes::pick(
      r.a < 0.5, [&] { return V(1.0 - r.a); }, [&] { return V(x * r.m); });
  r.dm = 0.5 * r.m * r.m * (1.0 + derivative_factor);
  r.x2dm = 0.5 * r.xm * r.xm * (1.0 + derivative_factor);
  r.xa = x * r.a;
  r.x2s1 = r.xa * x_over_r;
  r.x2b = r.xa * x2b_over_xa;
  return r;
}

MpMoments<double> mp_moments(double x, double kappa) { return mp_moments<double>(x, kappa, regime_of(kappa)); }

}  // namespace

double mp_resolvent(double x, double kappa) { return mp_moments(x, kappa).m; }

double mp_resolvent_derivative(double x, double kappa) { return -mp_moments(x, kappa).dm; }

double effective_noise(const IsotropicPoint& p) { return effective_noise(lanes_of(p)); }

namespace {

constexpr double kLargestRoot = 1e303;  // leaves the moments of nu = q* + eps room below DBL_MAX

[[noreturn]] void refuse_root(const IsotropicPoint& p) {
  throw InvalidArgument(
      "--tau, --lambda: the ridge self-consistent equation has no root representable in double "
      "precision at tau = " +
      format_number(p.tau) + ", lambda = " + format_number(p.lambda) +
      "; its root eps ~ lambda + (1 + q*)/tau must stay below 1e303 (tau >= 1e-300, lambda <= 1e300 for alpha, "
      "kappa, rho of order one)");
}

// The lambda = 0, tau < 1 root in closed form. With c = 1 - tau, f = 0 reads eps M(eps + q*) = c, so
// M = c/eps; put into the Marchenko-Pastur quadratic (z/kappa) M^2 + (z + 1 - 1/kappa) M - 1 = 0 at
// z = eps + q* and multiplied by eps^2:
//   -tau eps^2 + c (q* + 1 - tau/kappa) eps + q* c^2/kappa = 0.
// Its roots have the product -q* c^2/(kappa tau) < 0: exactly one is positive, and there M = c/eps > 0
// is the Stieltjes branch (the other root of the M-quadratic is negative). With b = q* + 1 - tau/kappa,
// r = sqrt(b^2 + 4 tau q*/kappa), the positive root is c (b + r)/(2 tau), written for b < 0 as
// 2 q* c/(kappa (r - b)) (the same number, without the cancellation of b + r); kappa = inf gives
// c (q* + 1)/tau. For b < 0, kappa b = kappa (q* + 1) - tau and kappa r are O(1) however small kappa is.
template <class V>
V ridgeless_root(const V& q, const V& tau, const V& kappa, Regime regime) {
  const V c = 1.0 - tau;
  if (regime == Regime::infinite) return c * ((q + 1.0) / tau);
  const V t = tau / kappa;  // inf for a tiny kappa: the second branch, which does not use it
  return lanes::pick(
      t <= q + 1.0,
      [&] {
        const V b = (q + 1.0) - t;
        const V r = norm2<V>(b, 2.0 * lanes::sqrt(t) * lanes::sqrt(q));
        return V(c * (0.5 * (b + r) / tau));
      },
      [&] {
        const V kb = kappa * (q + 1.0) - tau;
        const V kr = norm2<V>(kb, 2.0 * (lanes::sqrt(tau) * lanes::sqrt(kappa)) * lanes::sqrt(q));
        return V((q / (kr - kb)) * (2.0 * c));
      });
}

double ridgeless_root(double q, double tau, double kappa) {
  return ridgeless_root<double>(q, tau, kappa, regime_of(kappa));
}

// The residual f(eps) = 1 - tau + tau lambda/eps - eps M(nu) at nu = q* + eps, and its slope as
// s = -eps f'(eps) = eps H(nu) + tau lambda/eps > 0, where H = -d/dnu (1 - eps M) = int (s+q*)/(s+nu)^2.
// Where eps M <= 1/2, f is summed as written (1 - tau is exact near tau = 1, where the root is decided by
// that small difference); beyond, through G = 1 - eps M = int (s+q*)/(s+nu) = A + q* M, which keeps its
// relative precision where eps M -> 1 (tiny tau, huge lambda: eps ~ (1 + q*)/tau + lambda).
template <class V>
struct ResidualLanes {
  V f = 0.0, s = 0.0;
  V size = 0.0;  // the sum of the magnitudes of f's terms, which bounds its rounding
};

// The reference evaluation, through mp_moments (used by ridge_epsilon_bracketed).
ResidualLanes<double> ridge_residual(double eps, double q, const IsotropicPoint& p) {
  const double nu = q + eps;
  const MpMoments m = mp_moments(nu, p.kappa);
  const double ridge = p.tau * (p.lambda / eps);
  const double eps_m = eps * m.m;
  const double f = eps_m <= 0.5 ? ((1.0 - p.tau) - eps_m) + ridge : ((m.a + q * m.m) - p.tau) + ridge;
  return {f, (eps / nu) * ((m.x2s1 + q * m.x2dm) / nu) + ridge, 0.0};
}

// The same residual for the Newton iteration, with the moments of mp_moments that it needs written out
// and five divisions instead of eleven: with nu M and A = 1 - nu M (the smaller of the two from its own
// formula, the other as 1 minus it), G = A + (q*/nu) nu M, eps M = (eps/nu) nu M and
// nu^2 H = nu A (nu/r) + q* (nu M)^2 (1 + (nu + 1 + 1/kappa)/r)/2 (r as in mp_moments), all O(1) for
// nu up to 1e303. inv_kappa = 1/kappa is computed once per point.
template <class V>
class FastResidual {
 public:
  FastResidual(const V& q, const PointLanes<V>& p, Regime regime)
      : q_(q), p_(p), regime_(regime), inv_kappa_(1.0 / p.kappa) {}

  ResidualLanes<V> operator()(const V& eps) const {
    const V nu = q_ + eps;
    const V inv_nu = 1.0 / nu;
    V a = 0.0, nu_m = 0.0, nu_over_r = 0.0, derivative_factor = 0.0;
    if (regime_ == Regime::infinite) {  // mu = delta_1: nu^2 H = (nu M)^2 (1 + q*)
      a = 1.0 / (1.0 + nu);
      nu_m = nu * a;
      nu_over_r = nu_m;
      derivative_factor = 1.0;
    } else if (regime_ == Regime::small) {
      const V& kappa = p_.kappa;
      const V scaled = kappa * (nu + 1.0);
      const V bs = scaled - 1.0;
      const V dd = norm2<V>(bs, 2.0 * lanes::sqrt(kappa * nu));  // kappa r
      const V inv_dd = 1.0 / dd;
      a = 2.0 * kappa / (scaled + 1.0 + dd);
      nu_m = lanes::pick(
          a < 0.5, [&] { return V(1.0 - a); },
          [&] {
            return lanes::pick(
                bs >= 0.0, [&] { return V(2.0 * kappa * nu / (bs + dd)); }, [&] { return V(0.5 * (dd - bs)); });
          });
      derivative_factor = (scaled + 1.0) * inv_dd;
      nu_over_r = nu * kappa * inv_dd;
    } else {
      const V& k1 = inv_kappa_;
      const V bb = nu + 1.0 - k1;
      const V rr = norm2<V>(bb, 2.0 * lanes::sqrt(nu * k1));
      const V inv_rr = 1.0 / rr;
      a = 2.0 / (nu + 1.0 + k1 + rr);
      nu_m = lanes::pick(
          a < 0.5, [&] { return V(1.0 - a); }, [&] { return V(2.0 * nu / (bb + rr)); });
      derivative_factor = (nu + 1.0 + k1) * inv_rr;
      nu_over_r = nu * inv_rr;
    }
    const V t = eps * inv_nu;  // eps/nu
    const V ridge = p_.tau * (p_.lambda / eps);
    const V eps_m = t * nu_m;
    const auto summed = eps_m <= 0.5;
    const V g = lanes::pick(
        summed, [&] { return V(0.0); }, [&] { return V(a + (q_ * inv_nu) * nu_m); });
    const V f = lanes::pick(
        summed, [&] { return V(((1.0 - p_.tau) - eps_m) + ridge); }, [&] { return V((g - p_.tau) + ridge); });
    const V nu2_h = (nu * a) * nu_over_r + q_ * (0.5 * nu_m * nu_m * (1.0 + derivative_factor));
    const V size = lanes::pick(
        summed, [&] { return V(lanes::fabs(1.0 - p_.tau) + eps_m + ridge); }, [&] { return V(g + p_.tau + ridge); });
    return {f, t * (nu2_h * inv_nu) + ridge, size};
  }

 private:
  V q_;
  const PointLanes<V>& p_;
  Regime regime_;
  V inv_kappa_;
};

// The outcome of the Newton solve in each lane: the root, or a refusal (no representable root), or
// `unfinished` (100 evaluations without convergence; not reached on the supported range) with the
// bracket [lo, hi] for the TOMS 748 fallback.
template <class V>
struct NewtonLanes {
  V root = 0.0;
  MaskOf<V> refused{false}, unfinished{false};
  V lo = 0.0, hi = 0.0;
  MaskOf<V> hi_checked{false};
};

// The lambda > 0 root by Newton's method, bracketed. f is strictly decreasing and convex on (0, inf)
// (tau lambda/eps is, and so is 1 - eps M(q* + eps) = int (s+q*)/(s+q*+eps) dmu(s)), so a Newton step
// from a point left of the root lands left of it again, closer, and one from the right lands left of it.
//   Left of the root (f > 0): lambda (f(lambda) = 1 - lambda M > 0) and, for tau < 1, the lambda = 0
//   root eps_0 (f(eps_0) = tau lambda/eps_0).
//   Right of it (f < 0): for tau > 1, tau lambda/(tau - 1) (f = -eps M there); and the root of f_inf,
//   the residual at kappa = inf: the integrand (s+q*)/(s+nu) of 1 - eps M is concave in s and mu_kappa
//   has mean 1, so 1 - eps M(nu) <= (1+q*)/(1+nu) (Jensen) and f <= f_inf. Its root is the positive
//   root of e^2 - beta e - lambda (1 + q*) = 0, beta = (1 + q*)(1 - tau)/tau + lambda.
// The iteration starts from eps_0 when lambda is below it (tau < 1), else with a step from the right
// bound; every point it evaluates moves an end of the bracket [lo, hi], and a step that would leave the
// bracket is replaced by its (geometric) midpoint. Once a step from the left, x -> y, is below 2^-20,
// y is within ~step^2 of the root (the error squares at each step), so z = y (1 + nudge) with
// nudge = 4 step^2 (and at least the reach of f's rounding) lies right of it: f(z) < 0 is checked, the
// root is then bracketed by the two evaluated signs at x and z, and the Newton step back from z (which
// lands left of the root, within ~nudge^2 of it) is returned. Were f(z) still positive, the iteration
// goes on from z with a four times larger nudge. Three to five evaluations of f, against ~12 for the
// TOMS 748 solve (ridge_epsilon_bracketed).
//
// The iteration is written as a state machine with one evaluation of f per step, so that lanes of a
// pack step in lockstep, each through exactly the evaluations and operations it would take alone:
// `past` marks a lane whose next evaluation is the check at z.
template <class V>
NewtonLanes<V> ridge_newton_root(const PointLanes<V>& p, const V& q, Regime regime) {
  using M = MaskOf<V>;
  const V largest = kLargestRoot;
  M refused = !(p.lambda <= kLargestRoot);  // eps > lambda
  const V eps0 = lanes::pick(
      p.tau < 1.0, [&] { return ridgeless_root<V>(q, p.tau, p.kappa, regime); }, [&] { return V(0.0); });
  V lo = lanes::max(p.lambda, eps0);
  V hi = largest;
  const M from_left = p.lambda < eps0;  // Newton from the left never passes the root: no upper bound needed
  if (!lanes::all(from_left)) {
    const V beta = (1.0 + q) * ((1.0 - p.tau) / p.tau) + p.lambda;
    const V root_gamma = lanes::sqrt(p.lambda) * lanes::sqrt(1.0 + q);  // sqrt(lambda (1 + q*))
    const V rr = norm2<V>(beta, 2.0 * root_gamma);
    V bound = lanes::pick(
        beta >= 0.0, [&] { return V(0.5 * (beta + rr)); },
        [&] { return V(root_gamma * (2.0 * root_gamma / (rr - beta))); });
    bound = lanes::pick(
        p.tau > 1.0, [&] { return lanes::min(bound, V(p.lambda * (p.tau / (p.tau - 1.0)))); }, [&] { return bound; });
    bound = lanes::select(!(bound <= kLargestRoot), largest, bound);
    bound = lanes::select(!(bound > lo), lo, bound);  // rounding where the bounds meet (kappa -> inf, huge lambda)
    hi = lanes::select(from_left, hi, bound);
  }
  M hi_checked(false);  // whether f < 0 was evaluated at hi (else hi is one of the bounds above)
  V x = lanes::select(from_left, eps0, hi);
  constexpr double kConverged = 0x1p-20;
  constexpr double kWidth = 0x1p-50;
  V nudge = 0x1p-51;
  V z = 0.0, x_before = 0.0, root = 0.0, evaluations = 0.0;
  M past(false), unfinished(false);
  M done = refused;
  const FastResidual<V> residual(q, p, regime);
  for (;;) {
    const M over = !done && !past && evaluations >= 100.0;
    unfinished = unfinished || over;
    done = done || over;
    if (lanes::all(done)) break;
    const ResidualLanes<V> r = residual(lanes::select(past, z, x));
    evaluations = evaluations + 1.0;
    const V ratio = r.f / r.s;  // from x: the relative Newton step; from z: the step back
    const M active = !done;
    const M zero = active && r.f == 0.0;
    const M negative = active && r.f < 0.0;
    const M positive = active && !(r.f == 0.0) && !(r.f < 0.0);  // NaN goes on as positive, as alone
    // At z, the check past a converged step: a sign change ends it, with the step back from z.
    const V back = z + z * ratio;
    root = lanes::select(zero && past, z, root);
    root = lanes::select(negative && past, lanes::max(x_before, lanes::min(z, back)), root);
    const M past_positive = positive && past;
    lo = lanes::select(past_positive, z, lo);
    nudge = lanes::select(past_positive, V(nudge * 4.0), nudge);
    // At x, a Newton step.
    const V y_newton = x + x * ratio;
    root = lanes::select(zero && !past, x, root);
    const M step_negative = negative && !past;
    hi = lanes::select(step_negative, lanes::min(hi, x), hi);
    hi_checked = hi_checked || step_negative;
    const M too_large = positive && !past && x >= kLargestRoot;
    refused = refused || too_large;
    const M step_positive = positive && !past && !too_large;
    lo = lanes::select(step_positive, x, lo);
    const M converged = step_positive && ratio < kConverged;
    nudge = lanes::pick(
        converged, [&] { return lanes::max(lanes::max(nudge, V(4.0 * ratio * ratio)), V(0x1p-51 * r.size / r.s)); },
        [&] { return nudge; });
    const V z_next = y_newton + y_newton * nudge;
    const M stepped = (step_positive && !converged) || past_positive;
    hi = lanes::select(stepped && !hi_checked && hi <= lo, largest, hi);  // the bound was met by rounding
    // Every lane that stepped (to y) without finishing: keep y inside the bracket.
    const M moved = stepped || step_negative;
    const V y = lanes::select(past_positive, back, y_newton);
    const M finished = moved && hi_checked && hi - lo <= kWidth * lo;
    root = lanes::select(finished, lanes::max(lo, lanes::min(y, hi)), root);
    V inside = lanes::select(!(y < hi), lanes::select(hi_checked, V(lo + 0.5 * (hi - lo)), hi), y);
    inside = lanes::select(!(inside > lo),
                           lanes::pick(
                               hi > 2.0 * lo, [&] { return V(lanes::sqrt(lo) * lanes::sqrt(hi)); },
                               [&] { return V(lo + 0.5 * (hi - lo)); }),
                           inside);
    x_before = lanes::select(converged, x, x_before);
    x = lanes::select(moved && !finished, inside, x);
    z = lanes::select(converged, z_next, z);
    done = done || zero || (negative && past) || too_large || finished;  // (negative at z: the sign change)
    past = converged;
  }
  return {root, refused, unfinished, lo, hi, hi_checked};
}

double ridge_newton_root(const IsotropicPoint& p, double q) {
  const Regime regime = regime_of(p.kappa);
  const PointLanes<double> point = lanes_of(p);
  const NewtonLanes<double> r = ridge_newton_root<double>(point, q, regime);
  if (r.refused) refuse_root(p);
  if (!r.unfinished) return r.root;
  // Not reached on the supported range (f's rounding would have to mislead every step); the TOMS 748
  // solve still returns a checked root from the bracket.
  if (!r.hi_checked) refuse_root(p);
  const FastResidual<double> residual(q, point, regime);
  return bracketed_root([&](double eps) { return residual(eps).f; }, r.lo, r.hi, "ridge self-consistent equation");
}

}  // namespace

double ridge_epsilon(const IsotropicPoint& p) {
  const double q = effective_noise(p);
  if (p.lambda == 0.0) {
    if (p.tau > 1.0) return 0.0;
    require_off_threshold(p);
    const double eps = ridgeless_root(q, p.tau, p.kappa);
    if (!(eps <= kLargestRoot)) refuse_root(p);
    return eps;
  }
  return ridge_newton_root(p, q);
}

double ridge_epsilon_bracketed(const IsotropicPoint& p) {
  const double q = effective_noise(p);
  if (p.lambda == 0.0) {
    if (p.tau > 1.0) return 0.0;
    require_off_threshold(p);
  }
  // The residual of ridge_residual, whose form keeps the root's relative precision at tiny tau, huge
  // lambda and tau near 1.
  auto f = [&](double eps) { return ridge_residual(eps, q, p).f; };
  // eps M(eps + q) <= min(1, eps M(q)), so f > 0 on (0, lo] with the lo below; f -> -tau at infinity.
  double lo = p.lambda > 0.0 ? 0.5 * p.lambda : 0.5 * (1.0 - p.tau) / mp_resolvent(q, p.kappa);
  if (p.lambda > 0.0 && p.tau < 1.0) lo = std::max(lo, 0.5 * (1.0 - p.tau) / mp_resolvent(q, p.kappa));
  // Walk up by doublings to a bracket [lo, 2 lo] around the root, which may lie anywhere in 1e-300..1e300.
  double hi = 2.0 * lo;
  while (hi <= kLargestRoot && f(hi) > 0.0) {
    lo = hi;
    hi *= 2.0;
  }
  if (!(hi <= kLargestRoot) || !(lo > 0.0)) refuse_root(p);
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
template <class V>
struct RidgeState {
  V e_idg = 0.0, e_icl = 0.0;
};

template <class V>
RidgeState<V> ridge_state(const PointLanes<V>& p, const V& qs, const V& eps, Regime regime) {
  RidgeState<V> r;
  const V nu = qs + eps;
  const MpMoments<V> m = mp_moments<V>(nu, p.kappa, regime);
  const V t = eps / nu;  // in [0, 1]
  const V w = qs / nu;   // in (0, 1]
  const V b = (m.x2b / nu) / nu;
  const V numerator = p.rho + qs * b + m.x2s1;
  const V h_nu2 = m.x2s1 + qs * m.x2dm;  // nu^2 H
  r.e_idg = lanes::pick(
      eps == 0.0, [&] { return V(p.tau * numerator / (p.tau - 1.0)); },
      [&] {
        const V eps_g = t * (m.xa + qs * m.xm);
        const V eps2_h = t * t * h_nu2;
        const V nu_c = m.x2b / nu + 2.0 * w * m.x2s1 + w * qs * m.x2dm;
        return V(numerator * eps_g / (eps2_h + (p.lambda / nu) * nu_c));
      });
  r.e_icl = p.rho + m.x2dm + qs * b + (1.0 + qs) * r.e_idg * ((h_nu2 / nu) / (nu * p.tau));
  return r;
}

RidgeState<double> ridge_state(const IsotropicPoint& p) {
  return ridge_state<double>(lanes_of(p), effective_noise(p), ridge_epsilon(p), regime_of(p.kappa));
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

double task_generalisation_gap(const IsotropicPoint& p) { return isotropic_errors(p).g_task; }

IsotropicErrors isotropic_errors(const IsotropicPoint& p) {
  IsotropicErrors e;
  if (p.lambda == 0.0) {
    require_off_threshold(p);
    // As ridgeless_icl_error and ridgeless_idg_error (in that order, for the same refusal), sharing the
    // one evaluation of the ridge formulas (at eps = 0 for tau > 1, at the closed-form root for tau < 1).
    IsotropicPoint ridgeless = p;
    ridgeless.lambda = 0.0;
    if (p.tau < 1.0) {
      e.e_icl = ridgeless_icl_error(p);
      e.e_idg = finite_or_refuse(ridge_state(ridgeless).e_idg, p, "e_IDG");
    } else {
      e.e_icl = finite_or_refuse(ridge_state(ridgeless).e_icl, p, "e_ICL");
      e.e_idg = ridgeless_idg_error(p);
    }
  } else {
    const RidgeState<double> state = ridge_state(p);
    e.e_icl = finite_or_refuse(state.e_icl, p, "e_ICL");
    e.e_idg = finite_or_refuse(state.e_idg, p, "e_IDG");
  }
  return with_gap(e.e_icl, e.e_idg, std::isinf(p.kappa));
}

void isotropic_errors(std::span<const IsotropicPoint> points, std::span<IsotropicErrors> out) {
  if (out.size() != points.size()) throw std::invalid_argument("isotropic_errors: out must have one entry per point");
  using lanes::Pack;
  constexpr int kWidth = lanes::kPackWidth;
  // Points with lambda > 0 wait, by regime of kappa, until a pack of them is full; the others (the
  // ridgeless closed forms, cheap already) and any lane that a pack cannot finish (a refusal, a result
  // that is not finite, the fallback solve) go through the scalar function, which gives the same bits
  // and throws its own message. The exception thrown is the first point's in order, as a loop would.
  std::size_t first_failure = points.size();
  std::exception_ptr failure;
  auto one_by_one = [&](std::size_t i) {
    try {
      out[i] = isotropic_errors(points[i]);
    } catch (...) {
      if (i < first_failure) {
        first_failure = i;
        failure = std::current_exception();
      }
    }
  };
  std::array<std::array<std::size_t, kWidth>, 3> waiting{};
  std::array<int, 3> count{};
  auto evaluate_pack = [&](Regime regime) {
    const auto& index = waiting[static_cast<int>(regime)];
    const int n = count[static_cast<int>(regime)];
    count[static_cast<int>(regime)] = 0;
    // A partial pack repeats its last point in the unused lanes.
    auto gather = [&](double IsotropicPoint::*field) {
      return Pack([&](auto lane) { return points[index[std::min<int>(lane, n - 1)]].*field; });
    };
    const PointLanes<Pack> p{gather(&IsotropicPoint::alpha), gather(&IsotropicPoint::tau),
                             gather(&IsotropicPoint::kappa), gather(&IsotropicPoint::rho),
                             gather(&IsotropicPoint::lambda)};
    const Pack q = effective_noise(p);
    const NewtonLanes<Pack> root = ridge_newton_root<Pack>(p, q, regime);
    const RidgeState<Pack> state = ridge_state<Pack>(p, q, root.root, regime);
    for (int lane = 0; lane < n; ++lane) {
      const std::size_t i = index[lane];
      const double e_icl = state.e_icl[lane], e_idg = state.e_idg[lane];
      if (root.refused[lane] || root.unfinished[lane] || !std::isfinite(e_icl) || !std::isfinite(e_idg)) {
        one_by_one(i);
        continue;
      }
      out[i] = with_gap(e_icl, e_idg, regime == Regime::infinite);
    }
  };
  for (std::size_t i = 0; i < points.size(); ++i) {
    if (!(points[i].lambda > 0.0)) {
      one_by_one(i);
      continue;
    }
    const Regime regime = regime_of(points[i].kappa);
    auto& n = count[static_cast<int>(regime)];
    waiting[static_cast<int>(regime)][n++] = i;
    if (n == kWidth) evaluate_pack(regime);
  }
  for (const Regime regime : {Regime::infinite, Regime::small, Regime::large})
    if (count[static_cast<int>(regime)] > 0) evaluate_pack(regime);
  if (failure) std::rethrow_exception(failure);
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
