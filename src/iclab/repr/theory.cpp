#include "iclab/repr/theory.hpp"

#include <cmath>

#include "iclab/params/model_params.hpp"

namespace iclab::repr {
namespace {

// X = A^{-1} B for a symmetric positive definite A.
Matrix spd_solve(const Matrix& a, const Matrix& b) {
  Eigen::LLT<Matrix> llt(a);
  if (llt.info() != Eigen::Success) throw std::runtime_error("repr: the Gram matrix is not positive definite");
  return llt.solve(b);
}

}  // namespace

RidgeTheory ridge_theory(const Dictionary& dictionary, long N, double tau) {
  const Matrix& all = dictionary.representations;
  const long m = all.rows(), K = all.cols();
  if (N < 1 || N >= K) throw InvalidArgument("--N: must be in [1, K)");
  RidgeTheory t;
  t.N = N;
  t.tau = tau;
  const Matrix z = all.leftCols(N);
  const double penalty = static_cast<double>(m) * tau;
  t.gram = z.transpose() * z + penalty * Matrix::Identity(N, N);
  // a*_k = G^{-1} (Z^T z_k + m tau e_k) for every k: e_k for k <= N, G^{-1} Z^T z_k beyond.
  Matrix rhs = z.transpose() * all;
  rhs.leftCols(N).diagonal().array() += penalty;
  t.optimum = spd_solve(t.gram, rhs);
  t.optimum.leftCols(N) = Matrix::Identity(N, N);  // exact, rather than to rounding
  double sum = 0.0;
  for (long k = N; k < K; ++k) {
    const Vector zk = all.col(k);
    const Vector projected = z.transpose() * zk;
    sum += zk.squaredNorm() - projected.dot(t.optimum.col(k)) + penalty;
  }
  t.min_loss = sum / (2.0 * static_cast<double>(K));
  return t;
}

double RidgeTheory::population_loss(const Matrix& attention) const {
  const Matrix diff = attention - optimum;
  const double quadratic = (diff.array() * (gram * diff).array()).sum();
  return quadratic / (2.0 * static_cast<double>(optimum.cols())) + min_loss;
}

Matrix RidgeTheory::limit_predictions(const Matrix& labels) const { return optimum.transpose() * labels.topRows(N); }

Estimate sampled_loss(const Matrix& attention, const Prompts& prompts, long N) {
  const Matrix residual = attention.transpose() * prompts.labels.topRows(N) - prompts.labels;
  const long K = prompts.labels.rows(), P = prompts.labels.cols();
  const Eigen::ArrayXd per_prompt = residual.colwise().squaredNorm().array() / (2.0 * static_cast<double>(K));
  Estimate e;
  e.mean = per_prompt.mean();
  const double variance = (per_prompt - e.mean).square().sum() / static_cast<double>(std::max<long>(P - 1, 1));
  e.standard_error = std::sqrt(variance / static_cast<double>(P));
  return e;
}

Matrix best_predictions(const Dictionary& dictionary, long N, double tau, const Matrix& labels) {
  const Matrix& all = dictionary.representations;
  const long m = all.rows();
  const Matrix z = all.leftCols(N);
  const Matrix gram = z * z.transpose() + static_cast<double>(N) * tau * Matrix::Identity(m, m);
  const Matrix lambda = spd_solve(gram, z * labels.topRows(N));  // m x P
  return all.transpose() * lambda;
}

GapPoint performance_gap(const TaskSpec& spec, long dictionaries, long prompts) {
  spec.validate();
  if (dictionaries < 1) throw InvalidArgument("--dictionaries: must be >= 1");
  if (prompts < 1) throw InvalidArgument("--prompts: must be >= 1");
  GapPoint point;
  point.N = spec.N;
  std::vector<double> per_dictionary;
  const double K = static_cast<double>(spec.K);
  const long queries = spec.K - spec.N;
  for (long draw = 0; draw < dictionaries; ++draw) {
    const Dictionary dictionary = make_dictionary(spec, draw);
    const RidgeTheory theory = ridge_theory(dictionary, spec.N, spec.tau);
    const Prompts test = sample_prompts(spec, dictionary, TaskLaw::in_domain(), prompts, PromptPurpose::test, draw);
    const Matrix limit = theory.limit_predictions(test.labels).bottomRows(queries);
    const Matrix best = best_predictions(dictionary, spec.N, spec.tau, test.labels).bottomRows(queries);
    const Matrix truth = test.labels.bottomRows(queries);
    const double scale = 1.0 / (K * static_cast<double>(prompts));
    per_dictionary.push_back((limit - best).squaredNorm() * scale);
    point.ridge_error += (limit - truth).squaredNorm() * scale;
    point.best_error += (best - truth).squaredNorm() * scale;
  }
  const double n = static_cast<double>(dictionaries);
  for (double g : per_dictionary) point.gap += g / n;
  for (double g : per_dictionary) point.gap_std += (g - point.gap) * (g - point.gap) / n;
  point.gap_std = std::sqrt(point.gap_std);
  point.ridge_error /= n;
  point.best_error /= n;
  return point;
}

RateFit fit_linear_rate(const std::vector<long>& steps, const std::vector<double>& gaps, double start_fraction,
                        double floor) {
  RateFit fit;
  if (steps.size() != gaps.size() || gaps.empty() || !(gaps.front() > 0)) return fit;
  std::size_t start = 0;
  while (start < gaps.size() && gaps[start] > start_fraction * gaps.front()) ++start;
  double sx = 0, sy = 0, sxx = 0, sxy = 0, n = 0;
  for (std::size_t i = start; i < gaps.size(); ++i) {
    if (!(gaps[i] > floor) || !std::isfinite(gaps[i])) break;  // stop at the rounding floor
    const double x = static_cast<double>(steps[i]), y = std::log(gaps[i]);
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
    n += 1;
    if (fit.points == 0) fit.first_step = steps[i];
    fit.last_step = steps[i];
    ++fit.points;
  }
  if (fit.points < 3) return fit;
  fit.slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  fit.contraction = std::exp(fit.slope);
  fit.ok = true;
  return fit;
}

}  // namespace iclab::repr
