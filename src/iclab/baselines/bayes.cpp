#include "iclab/baselines/bayes.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "iclab/covariances/task_draws.hpp"
#include "iclab/linalg/dense.hpp"
#include "iclab/params/model_params.hpp"
#include "iclab/random/streams.hpp"
#include "iclab/sampling/task_pool.hpp"

namespace iclab {

long BayesSetting::context_length() const { return static_cast<long>(alpha * static_cast<double>(d)); }
long BayesSetting::num_tasks() const { return static_cast<long>(kappa * static_cast<double>(d)); }

void BayesSetting::validate() const {
  if (d < 1) throw InvalidArgument("bayes: d must be >= 1, got " + std::to_string(d));
  if (!(std::isfinite(alpha) && alpha > 0) || context_length() < 1)
    throw InvalidArgument("bayes: alpha must give l = int(alpha d) >= 1");
  if (!(std::isfinite(kappa) && kappa > 0) || num_tasks() < 1)
    throw InvalidArgument("bayes: kappa must give k = int(kappa d) >= 1");
  if (!(std::isfinite(rho) && rho > 0)) throw InvalidArgument("bayes: rho must be finite and > 0");
  if (samples < 1) throw InvalidArgument("bayes: samples must be >= 1");
  if (block < 1) throw InvalidArgument("bayes: block must be >= 1");
  if (train && train->dim() != d) throw InvalidArgument("bayes: C_train must be d x d");
}

std::uint64_t bayes_point_key(const BayesSetting& s) {
  char text[192];
  std::snprintf(text, sizeof text, "bayes;d=%ld;alpha=%.17g;kappa=%.17g;rho=%.17g", s.d, s.alpha, s.kappa, s.rho);
  std::string canonical = text;
  if (s.train) canonical.append(";ctrain=").append(s.train->spec());
  return point_key(canonical);
}

namespace {

// Per-sample squared errors, one slot per sample (the order of the final sums is fixed).
struct SampleErrors {
  std::vector<double> dmmse_icl, dmmse_idg, ridge_icl, ridge_idg;
  explicit SampleErrors(long n)
      : dmmse_icl(static_cast<std::size_t>(n)), dmmse_idg(static_cast<std::size_t>(n)),
        ridge_icl(static_cast<std::size_t>(n)), ridge_idg(static_cast<std::size_t>(n)) {}
};

// Workspace of one block, reused over its samples so that the hot loop does not allocate.
struct Workspace {
  Matrix x;        // d x l covariates
  Vector query;    // d
  Vector task;     // d, the ICL task
  Matrix y;        // l x 2: column 0 ICL labels, column 1 IDG labels
  Matrix g;        // k x l: W X, whose row norms are ||X^T w_j||^2
  Vector g_norm2;  // k
  Matrix gy;       // k x 2: W X y
  Vector wq;       // k: W x_query, so x . w_hat is a k-term weighted sum
  Vector logits;   // k
  Matrix b;        // d x l: L^T X (= X for C = I)
  Matrix gram;     // l x l or d x d
  Matrix rhs;      // 2 columns
  Workspace(long d, long l, long k)
      : x(d, l), query(d), task(d), y(l, 2), g(k, l), g_norm2(k), gy(k, 2), wq(k), logits(k) {}
};

// x . w_hat of the dMMSE for the label column `column`: the softmax weights of the pool tasks under
// the likelihood exp(-||y - X^T w_j||^2 / (2 rho)), shifted by their maximum (log-sum-exp), so that
// contexts where one task dominates by thousands of nats do not overflow.
double dmmse_prediction(Workspace& ws, Eigen::Index column, double rho) {
  const double y2 = ws.y.col(column).squaredNorm();
  // ||y - X^T w_j||^2 = ||y||^2 - 2 (W X y)_j + ||(W X)_j||^2; the cancellation costs about
  // log10(l / (l rho)) digits, harmless for any rho the papers use.
  ws.logits = -(ws.g_norm2 - 2.0 * ws.gy.col(column)).array() - y2;
  ws.logits /= 2.0 * rho;
  const double top = ws.logits.maxCoeff();
  double total = 0.0;
  double weighted = 0.0;
  for (Eigen::Index j = 0; j < ws.logits.size(); ++j) {
    const double p = std::exp(ws.logits[j] - top);
    total += p;
    weighted += p * ws.wq[j];
  }
  return weighted / total;
}

ErrorEstimate summarise(const std::vector<double>& a, const std::vector<double>* minus = nullptr) {
  const auto n = static_cast<double>(a.size());
  auto value = [&](std::size_t i) { return minus ? a[i] - (*minus)[i] : a[i]; };
  double sum = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) sum += value(i);
  ErrorEstimate e;
  e.mean = sum / n;
  // Two-pass variance: the errors are heavy-tailed (dMMSE std ~ 2 x the mean), so no one-pass formula.
  double ss = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i) ss += (value(i) - e.mean) * (value(i) - e.mean);
  e.std = std::sqrt(ss / n);
  e.standard_error = e.std / std::sqrt(n);
  return e;
}

}  // namespace

BayesEstimates estimate_bayes_baselines(const BayesSetting& setting) {
  setting.validate();
  BlasThreadScope single(1);

  const long d = setting.d;
  const long l = setting.context_length();
  const long k = setting.num_tasks();
  const double rho = setting.rho;
  const StreamAddress base{setting.seed, bayes_point_key(setting), setting.repetition, 0};

  // The pool: Gaussian tasks, not sphere-normalised (the authors' dmmse.py); C_train = I reproduces
  // TaskPool's Gaussian pool exactly.
  const Matrix pool = setting.train ? draw_tasks(*setting.train, k, base)
                                    : TaskPool::draw(k, d, TaskNorm::gaussian, base).tasks();
  // L with L L^T = C_train; the ridge posterior mean is C X (X^T C X + rho I)^-1 y, evaluated as
  // L (B a) with B = L^T X, which stays valid for singular C (no C^-1 anywhere).
  const bool isotropic = !setting.train;
  const Matrix factor = isotropic ? Matrix() : covariance_factor(*setting.train);
  // For C = I and l > d the primal d x d system is the cheaper one.
  const bool bartlett = l >= d && !setting.direct_covariates;
  const bool primal = isotropic && l > d && !bartlett;
  const long width = bartlett ? d : l;  // columns of X, or of its Bartlett factor

  SampleErrors errors(setting.samples);
  const long blocks = (setting.samples + setting.block - 1) / setting.block;
  const double inv_sqrt_d = 1.0 / std::sqrt(static_cast<double>(d));
  const double noise_sd = std::sqrt(rho);

#pragma omp parallel
  {
    Workspace ws(d, width, k);
#pragma omp for schedule(dynamic, 1)
    for (long blk = 0; blk < blocks; ++blk) {
      const long end = std::min(setting.samples, (blk + 1) * setting.block);
      for (long s = blk * setting.block; s < end; ++s) {
        StreamAddress address = base;
        address.unit = static_cast<std::uint64_t>(s);
        RandomStream rng(StreamId::test, address);

        // Shared by the ICL and IDG context of a sample (common random numbers sharpen g_task).
        if (bartlett) {
          // X = L V^T with L the lower Bartlett factor of X X^T ~ Wishart_d(l, I/d)
          // (L_ii^2 ~ chi^2_{l-i} / d, L_ij ~ N(0, 1/d) below the diagonal) and V (l x d) Haar,
          // independent of L. Write eps = V u + eps_perp with u ~ N(0, rho I_d). Then
          // ||y - X^T w_j||^2 = ||v - L^T w_j||^2 + ||eps_perp||^2 with v = L^T w + u, and the
          // second term is the same for every j (drops out of the softmax); the ridge posterior mean
          // C X (X^T C X + rho I)^-1 y = C L (L^T C L + rho I)^-1 v (eps_perp lies in ker X). So both
          // estimators are the same functions of (L, v) as of (X, y): the loop below runs on them.
          ws.x.setZero();
          for (Eigen::Index c = 0; c < d; ++c) {
            ws.x(c, c) = std::sqrt(rng.chi_square(static_cast<double>(l - c)) / static_cast<double>(d));
            for (Eigen::Index r = c + 1; r < d; ++r) ws.x(r, c) = rng.normal() * inv_sqrt_d;
          }
        } else {
          for (Eigen::Index c = 0; c < ws.x.cols(); ++c)
            for (Eigen::Index r = 0; r < ws.x.rows(); ++r) ws.x(r, c) = rng.normal() * inv_sqrt_d;
        }
        for (Eigen::Index r = 0; r < d; ++r) ws.query[r] = rng.normal() * inv_sqrt_d;
        for (Eigen::Index r = 0; r < d; ++r) ws.task[r] = rng.normal();
        if (!isotropic) ws.task = (factor * ws.task).eval();
        const auto idg = static_cast<Eigen::Index>(rng.below(static_cast<std::uint64_t>(k)));

        ws.y.col(0).noalias() = ws.x.transpose() * ws.task;
        ws.y.col(1).noalias() = ws.x.transpose() * pool.row(idg).transpose();
        for (Eigen::Index c = 0; c < 2; ++c)
          for (Eigen::Index r = 0; r < ws.y.rows(); ++r) ws.y(r, c) += noise_sd * rng.normal();
        const double target_icl = ws.query.dot(ws.task) + noise_sd * rng.normal();
        const double target_idg = ws.query.dot(pool.row(idg)) + noise_sd * rng.normal();

        // dMMSE.
        if (bartlett) {
          ws.g.noalias() = pool * ws.x.triangularView<Eigen::Lower>();  // half the flops of a GEMM
        } else {
          ws.g.noalias() = pool * ws.x;
        }
        ws.g_norm2 = ws.g.rowwise().squaredNorm();
        ws.gy.noalias() = ws.g * ws.y;
        ws.wq.noalias() = pool * ws.query;
        const double e_icl = target_icl - dmmse_prediction(ws, 0, rho);
        const double e_idg = target_idg - dmmse_prediction(ws, 1, rho);
        const auto slot = static_cast<std::size_t>(s);
        errors.dmmse_icl[slot] = e_icl * e_icl;
        errors.dmmse_idg[slot] = e_idg * e_idg;

        // Bayes ridge (both label columns share one factorisation).
        Eigen::Vector2d prediction;
        if (primal) {
          // Only the lower triangle: SYRK does half the work of a GEMM and LLT reads nothing else.
          ws.gram.setZero(d, d);
          ws.gram.selfadjointView<Eigen::Lower>().rankUpdate(ws.x);
          ws.gram.diagonal().array() += rho;
          ws.rhs.noalias() = ws.x * ws.y;
          Eigen::LLT<Eigen::Ref<Matrix>> llt(ws.gram);
          llt.solveInPlace(ws.rhs);
          prediction.noalias() = ws.rhs.transpose() * ws.query;
        } else {
          if (!isotropic) ws.b.noalias() = factor.transpose() * ws.x;
          const Matrix& b = isotropic ? ws.x : ws.b;
          ws.gram.setZero(b.cols(), b.cols());
          ws.gram.selfadjointView<Eigen::Lower>().rankUpdate(b.transpose());
          ws.gram.diagonal().array() += rho;
          ws.rhs = ws.y;
          Eigen::LLT<Eigen::Ref<Matrix>> llt(ws.gram);
          llt.solveInPlace(ws.rhs);
          // x . (L B a) = (L^T x) . (B a)
          const Vector lx = isotropic ? ws.query : Vector(factor.transpose() * ws.query);
          const Vector bx = b.transpose() * lx;
          prediction.noalias() = ws.rhs.transpose() * bx;
        }
        errors.ridge_icl[slot] = (target_icl - prediction[0]) * (target_icl - prediction[0]);
        errors.ridge_idg[slot] = (target_idg - prediction[1]) * (target_idg - prediction[1]);
      }
    }
  }

  BayesEstimates out;
  out.context_length = l;
  out.num_tasks = k;
  out.dmmse_icl = summarise(errors.dmmse_icl);
  out.dmmse_idg = summarise(errors.dmmse_idg);
  out.ridge_icl = summarise(errors.ridge_icl);
  out.ridge_idg = summarise(errors.ridge_idg);
  out.dmmse_gtask = summarise(errors.dmmse_icl, &errors.dmmse_idg);
  out.ridge_gtask = summarise(errors.ridge_icl, &errors.ridge_idg);
  return out;
}

}  // namespace iclab
