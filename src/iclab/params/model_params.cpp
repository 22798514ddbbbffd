#include "iclab/params/model_params.hpp"

#include <cmath>
#include <sstream>

namespace iclab {

TaskNorm parse_task_norm(const std::string& text) {
  if (text == "gaussian") return TaskNorm::gaussian;
  if (text == "sphere") return TaskNorm::sphere;
  throw InvalidArgument("--task-norm: expected 'gaussian' or 'sphere', got '" + text + "'");
}

Assignment parse_assignment(const std::string& text) {
  if (text == "random") return Assignment::random;
  if (text == "balanced") return Assignment::balanced;
  throw InvalidArgument("--assignment: expected 'random' or 'balanced', got '" + text + "'");
}

std::string to_string(TaskNorm norm) { return norm == TaskNorm::gaussian ? "gaussian" : "sphere"; }
std::string to_string(Assignment assignment) {
  return assignment == Assignment::random ? "random" : "balanced";
}

namespace {

// The largest count l, k, n or p: 2^53, up to which every integer is a double.
constexpr double kLargestCount = 9007199254740992.0;
constexpr long kLargestD = 94906265;  // the largest d with d(d+1) <= 2^53

// Rounded down to 3 significant digits, so the stated largest value is itself allowed.
std::string short_number(double x) {
  const double scale = std::pow(10.0, std::floor(std::log10(x)) - 2.0);
  std::ostringstream out;
  out.precision(3);
  out << std::floor(x / scale) * scale;
  return out.str();
}

}  // namespace

long ModelParams::context_length() const { return static_cast<long>(alpha * static_cast<double>(d)); }

long ModelParams::num_tasks() const {
  if (std::isinf(kappa)) return num_contexts();
  return static_cast<long>(kappa * static_cast<double>(d));
}

long ModelParams::num_contexts() const {
  const double target = tau * static_cast<double>(d) * static_cast<double>(d);
  if (assignment == Assignment::balanced && !std::isinf(kappa)) {
    const long k = num_tasks();
    return k * std::lround(target / static_cast<double>(k));
  }
  return static_cast<long>(target);
}

void ModelParams::validate() const {
  auto need = [](bool ok, const std::string& message) {
    if (!ok) throw InvalidArgument(message);
  };
  need(d >= 2, "--d: must be an integer >= 2, got " + std::to_string(d));
  need(std::isfinite(alpha) && alpha > 0, "--alpha: must be a finite number > 0");
  need(std::isfinite(tau) && tau > 0, "--tau: must be a finite number > 0");
  need(kappa > 0 && !std::isnan(kappa), "--kappa: must be > 0 (or inf)");
  need(std::isfinite(rho) && rho >= 0, "--rho: must be a finite number >= 0");
  // The sizes truncate double products to long; past 2^53 the products no longer hold every integer
  // (and far past it the conversion overflows), so larger ratios are refused before any size is formed.
  const auto dd = static_cast<double>(d);
  need(dd * (dd + 1.0) <= kLargestCount, "--d: must be at most " + std::to_string(kLargestD) +
                                             " so that the p = d(d+1) parameters can be counted, got " +
                                             std::to_string(d));
  need(alpha * dd <= kLargestCount, "--alpha: alpha*d must be at most 2^53, so alpha <= " +
                                        short_number(kLargestCount / dd) + " for d=" + std::to_string(d));
  if (!std::isinf(kappa))
    need(kappa * dd <= kLargestCount, "--kappa: kappa*d must be at most 2^53, so kappa <= " +
                                          short_number(kLargestCount / dd) + " (or inf) for d=" + std::to_string(d));
  need(tau * dd * dd <= kLargestCount, "--tau: tau*d^2 must be at most 2^53, so tau <= " +
                                           short_number(kLargestCount / (dd * dd)) + " for d=" + std::to_string(d));
  need(context_length() >= 1, "--alpha: alpha*d must be >= 1 so that a context holds at least one example (d=" +
                                  std::to_string(d) + ")");
  if (!std::isinf(kappa))
    need(num_tasks() >= 1, "--kappa: kappa*d must be >= 1 so that there is at least one task (d=" +
                               std::to_string(d) + ")");
  need(num_contexts() >= 1, "--tau: tau*d^2 must give at least one pretraining context (d=" + std::to_string(d) + ")");
}

nlohmann::json ModelParams::to_json() const {
  nlohmann::json j;
  j["d"] = d;
  j["alpha"] = alpha;
  j["tau"] = tau;
  j["kappa"] = std::isinf(kappa) ? nlohmann::json("inf") : nlohmann::json(kappa);
  j["rho"] = rho;
  j["ell"] = context_length();
  j["k"] = num_tasks();
  j["n"] = num_contexts();
  j["p"] = num_parameters();
  j["task_norm"] = to_string(task_norm);
  j["assignment"] = to_string(assignment);
  return j;
}

nlohmann::json conventions_json() {
  return {
      {"covariates", "x ~ N(0, I_d/d)"},
      {"labels", "y = <x, w> + eps, eps ~ N(0, rho) (rho is the noise variance)"},
      {"context_length", "l = int(alpha*d) (truncation of the double product)"},
      {"num_tasks", "k = int(kappa*d); kappa = inf: a fresh task per context (k = n)"},
      {"num_contexts", "random assignment: n = int(tau*d^2); balanced: n = k*round(tau*d^2/k)"},
      {"features", "z = [(d/l) sum_i y_i x_i ; (1/l) sum_i y_i^2], H_Z = x_query z^T, vec row-major"},
      {"ridge", "Gamma* = argmin sum_mu (y_mu - <Gamma, H_mu>)^2 + (n/d) lambda ||Gamma||_F^2"},
      {"icl_test", "fresh task with the pretraining normalisation (gaussian: N(0,I); sphere: ||w|| = sqrt(d))"},
      {"idg_test", "task uniform over the k pretraining tasks"},
      {"std", "population standard deviation over repetitions (ddof = 0)"},
      {"randomness", "Philox4x64-10 streams keyed by (seed, stream); counters (point, repetition, unit)"},
  };
}

}  // namespace iclab
