// Asymptotic (d -> infinity) theory of the reduced linear-attention model with isotropic tasks
// (spec: Lu et al. §4). Ratios: alpha = l/d, tau = n/d^2, kappa = k/d (inf allowed), noise variance rho,
// ridge lambda with the (n/d) lambda normalisation of the fit.
#pragma once

#include <optional>
#include <span>
#include <string>

namespace iclab::theory {

struct IsotropicPoint {
  double alpha = 0.0;
  double tau = 0.0;
  double kappa = 0.0;
  double rho = 0.0;
  double lambda = 0.0;
};

// Stieltjes transform of the Marchenko-Pastur law of W = (1/k) sum w_j w_j^T (ratio 1/kappa):
// M_kappa(x) = lim (1/d) tr (W + x I)^-1, x > 0; M_inf(x) = 1/(1+x).
double mp_resolvent(double x, double kappa);
double mp_resolvent_derivative(double x, double kappa);

// Throws InvalidArgument naming the option (--alpha, --tau, --kappa, --rho, --lambda) when the point is
// outside the theory's domain: alpha (when needed), tau, kappa > 0 (kappa = inf allowed), rho, lambda >= 0,
// and not tau = 1 with lambda = 0. `needs_alpha` = false for the alpha-minimum, which ignores p.alpha.
void validate(const IsotropicPoint& p, bool needs_alpha = true);

// q* = (1 + rho)/alpha.
double effective_noise(const IsotropicPoint& p);

// The unique root eps >= 0 of f(eps) = 1 - tau + tau lambda/eps - eps M_kappa(eps + q*) (f is strictly
// decreasing and convex). eps = 0 for lambda = 0 and tau > 1; for lambda = 0, tau < 1 the positive root
// of a quadratic in closed form; for lambda > 0 Newton's method from bounds, ending with a sign change of
// f checked just past the root (three to five evaluations of f; isotropic.cpp). Refused (InvalidArgument)
// when the root exceeds 1e303.
double ridge_epsilon(const IsotropicPoint& p);
// The same root by TOMS 748 on the residual from a doubling walk (about twelve evaluations), written
// independently of ridge_epsilon's evaluation of f: its check in the tests.
double ridge_epsilon_bracketed(const IsotropicPoint& p);

// Ridgeless closed forms (lambda ignored). Both diverge at tau = 1; InvalidArgument there.
double ridgeless_icl_error(const IsotropicPoint& p);
double ridgeless_idg_error(const IsotropicPoint& p);
// Ridge ICL error through the self-consistent root; lambda = 0 reproduces the ridgeless one.
double ridge_icl_error(const IsotropicPoint& p);
// Ridge IDG error e_IDG = tau q(eps) (not in the authors' code; derived for iclab by a
// Gaussian-equivalence argument and validated against simulations, docs/ridge-idg.md). It equals
// the ridgeless formula at lambda = 0 and the ridge ICL error at kappa = inf.
double ridge_idg_error(const IsotropicPoint& p);

// What `iclab theory` reports: the ridgeless closed forms at lambda = 0, the ridge formulas otherwise.
double icl_error(const IsotropicPoint& p);
double idg_error(const IsotropicPoint& p);
double task_generalisation_gap(const IsotropicPoint& p);  // g_task = e_ICL - e_IDG

// The three together from one solve of the root: equal to icl_error, idg_error and
// task_generalisation_gap (0 at kappa = inf), and the faster way to get more than one of them.
struct IsotropicErrors {
  double e_icl = 0.0, e_idg = 0.0, g_task = 0.0;
};
IsotropicErrors isotropic_errors(const IsotropicPoint& p);
// The same for many points: out[i] = isotropic_errors(points[i]) bit for bit, evaluated several points
// in lockstep (SIMD lanes: the ridge points, lambda > 0, of one kappa regime at a time; about twice the
// throughput). A refusal is that of the first refused point in order; out.size() must equal points.size().
void isotropic_errors(std::span<const IsotropicPoint> points, std::span<IsotropicErrors> out);

// Bayes-optimal (ridge) error for the Gaussian prior: rho (1 + S_W(rho, alpha)); kappa/tau-free.
double bayes_ridge_error(double alpha, double rho);

enum class Observable { icl, idg };
Observable parse_observable(const std::string& text);
// alpha at the interior minimum of e_ICL (or e_IDG) over alpha in [1e-3, 1e6], refined by Brent;
// empty when the error is monotone in alpha over that range. p.alpha is ignored.
std::optional<double> alpha_minimising(Observable what, const IsotropicPoint& p);

}  // namespace iclab::theory
