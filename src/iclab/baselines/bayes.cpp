#include "iclab/baselines/bayes.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/random/normal_distribution.hpp>
#include <lapacke.h>

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

// Samples per batched pool product. A fixed constant, not `block`: the GEMM shapes, and so every
// rounding, depend only on the setting and on this partition, never on the threads or on `block`.
constexpr long kBatch = 128;
// The dMMSE's k x d(d+1)/2 table of task outer products is kept only up to this size.
constexpr double kMaxPoolTableBytes = 1024.0 * 1024.0 * 1024.0;

// Per-sample squared errors, one slot per sample (the order of the final sums is fixed).
struct SampleErrors {
  std::vector<double> dmmse_icl, dmmse_idg, ridge_icl, ridge_idg;
  explicit SampleErrors(long n)
      : dmmse_icl(static_cast<std::size_t>(n)), dmmse_idg(static_cast<std::size_t>(n)),
        ridge_icl(static_cast<std::size_t>(n)), ridge_idg(static_cast<std::size_t>(n)) {}
};

// How the dMMSE gets ||F^T w_j||^2 (F the d x m design: the Bartlett factor, m = d, or X, m = l).
//  * gram: w_j^T A w_j with A = F F^T, i.e. <vech(w_j w_j^T), vech(A)> (off-diagonal entries of A
//    doubled). One GEMM (k x D) x (D x batch) with D = d(d+1)/2 per batch of samples: k d(d+1)/2
//    multiply-adds per sample, the same count as the triangular product W L but at GEMM speed, and
//    A is shared with the ridge.
//  * direct: G = W F per sample (k d m multiply-adds; cheaper when m < (d+1)/2) and its row norms.
enum class PoolMode { gram, direct };

// Workspace of one thread, reused over its batches so that the hot loop does not allocate.
struct Workspace {
  Matrix x;        // d x m design: Bartlett factor L or covariates X
  Matrix u;        // d x d: L reversed (upper), then R A R (R the reversal), see lower_wishart
  Matrix a;        // d x d: A = F F^T (lower triangle)
  Matrix chol;     // d x d: A + rho I (lower), factorised in place
  Vector query;    // d
  Vector task;     // d, the ICL task
  Matrix y;        // m x 2: column 0 ICL labels, column 1 IDG labels
  Matrix fy;       // d x 2: F y
  Matrix g;        // k x m (direct mode): W F
  Matrix ahat;     // D x batch (gram mode): vech(A) with doubled off-diagonals, one column a sample
  Matrix quad;     // k x batch: ||F^T w_j||^2
  Matrix rhs3;     // d x 3 batch: per sample [F y_icl, F y_idg, x_query]
  Matrix cross;    // k x 3 batch: W rhs3
  Vector logits;   // k
  Vector weights;  // k
  Matrix b;        // general C: L_C^T F
  Matrix gram;     // general C: m x m
  Matrix rhs;      // general C: 2 columns
  std::vector<double> target_icl, target_idg, ridge_icl, ridge_idg;  // per batch column
  Workspace(long d, long m, long k, PoolMode mode)
      : x(d, m), a(Matrix::Zero(d, d)), query(d), task(d), y(m, 2), fy(d, 2), quad(k, kBatch), rhs3(d, 3 * kBatch),
        cross(k, 3 * kBatch), logits(k), weights(k), target_icl(kBatch), target_idg(kBatch),
        ridge_icl(kBatch), ridge_idg(kBatch) {
    if (mode == PoolMode::gram) ahat.resize(d * (d + 1) / 2, kBatch);
    else g.resize(k, m);
  }
};

// A = F F^T (lower triangle) for the d x m design F. For the Bartlett factor (lower triangular) the
// reversal R turns L into the upper triangular U = R L R, and LAPACK's dlauum forms U U^T = R A R in
// d^3/3 flops (a third of a SYRK that ignores the zeros); the loops below only reverse indices.
void lower_wishart(Workspace& ws, bool bartlett) {
  const Eigen::Index d = ws.x.rows();
  if (bartlett) {
    ws.u.setZero(d, d);
    for (Eigen::Index c = 0; c < d; ++c)
      for (Eigen::Index r = c; r < d; ++r) ws.u(d - 1 - r, d - 1 - c) = ws.x(r, c);
    const lapack_int info =
        LAPACKE_dlauum_work(LAPACK_COL_MAJOR, 'U', static_cast<lapack_int>(d), ws.u.data(), static_cast<lapack_int>(d));
    if (info != 0) throw std::runtime_error("bayes: dlauum failed");
    for (Eigen::Index c = 0; c < d; ++c)
      for (Eigen::Index r = c; r < d; ++r) ws.a(r, c) = ws.u(d - 1 - r, d - 1 - c);
  } else {
    ws.a.setZero(d, d);
    ws.a.selfadjointView<Eigen::Lower>().rankUpdate(ws.x);
  }
}

// x . w_hat of the dMMSE for one label column: the softmax weights of the pool tasks under the
// likelihood exp(-||y - F^T w_j||^2 / (2 rho)), shifted by their maximum (log-sum-exp), so that
// contexts where one task dominates by thousands of nats do not overflow.
// ||y - F^T w_j||^2 = ||y||^2 - 2 w_j . (F y) + ||F^T w_j||^2; ||y||^2 is the same for every j and
// drops out. The cancellation costs about log10(l / (l rho)) digits, harmless for any rho the
// papers use. The buffers are the workspace's own (fixed alignment), so Eigen's vectorised exp and
// sum always split the same way: bit-identical whatever the batch column.
double dmmse_prediction(Workspace& ws, Eigen::Index column, Eigen::Index label, double rho) {
  const double scale = 1.0 / (2.0 * rho);
  ws.logits = (2.0 * ws.cross.col(3 * column + label) - ws.quad.col(column)) * scale;
  const double top = ws.logits.maxCoeff();
  ws.weights = (ws.logits.array() - top).exp().matrix();
  ws.logits = ws.cross.col(3 * column + 2);  // W x_query, reusing the buffer
  const double total = ws.weights.sum();
  const double weighted = ws.weights.dot(ws.logits);
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
  const bool bartlett = l >= d && !setting.direct_covariates;
  const long width = bartlett ? d : l;  // columns of the design F: X, or its Bartlett factor
  const long packed = d * (d + 1) / 2;
  const PoolMode mode = 2 * width > d + 1 && static_cast<double>(k) * static_cast<double>(packed) * 8.0 <= kMaxPoolTableBytes
                            ? PoolMode::gram
                            : PoolMode::direct;
  // For C = I and m >= d the primal d x d system (A + rho I) w = F y is the cheaper one, and in gram
  // mode A is already there.
  const bool primal = isotropic && width >= d;

  // Gram mode: row j of `outer` is vech(w_j w_j^T) in the order of lower_wishart's A (column-major
  // lower triangle); the doubled off-diagonals sit in ahat. Elementwise products: exact.
  Matrix outer;
  if (mode == PoolMode::gram) {
    outer.resize(k, packed);
#pragma omp parallel for schedule(static)
    for (long c = 0; c < d; ++c) {
      const long first = c * d - c * (c - 1) / 2;  // vech index of (c, c)
      for (long r = c; r < d; ++r) outer.col(first + r - c) = pool.col(r).cwiseProduct(pool.col(c));
    }
  }

  SampleErrors errors(setting.samples);
  const long batches = (setting.samples + kBatch - 1) / kBatch;
  const long per_item = std::max(1L, (setting.block + kBatch - 1) / kBatch);  // whole batches per work item
  const long items = (batches + per_item - 1) / per_item;
  const double inv_sqrt_d = 1.0 / std::sqrt(static_cast<double>(d));
  const double noise_sd = std::sqrt(rho);

#pragma omp parallel
  {
    Workspace ws(d, width, k, mode);
#pragma omp for schedule(dynamic, 1)
    for (long item = 0; item < items; ++item) {
      for (long batch = item * per_item; batch < std::min(batches, (item + 1) * per_item); ++batch) {
        const long first = batch * kBatch;
        const long count = std::min(setting.samples, first + kBatch) - first;

        // Phase 1, per sample: draws, labels, F y, A (or the direct pool product), the ridge.
        for (long col = 0; col < count; ++col) {
          StreamAddress address = base;
          address.unit = static_cast<std::uint64_t>(first + col);
          RandomStream rng(StreamId::test, address);
          // The Bartlett factor alone needs d(d-1)/2 normals per sample: Boost.Random's ziggurat is
          // about 3x faster than RandomStream::normal's Box-Muller (6 vs 19 ns per normal here).
          boost::random::normal_distribution<double> gaussian;

          // Shared by the ICL and IDG context of a sample (common random numbers sharpen g_task).
          if (bartlett) {
            // X = L V^T with L the lower Bartlett factor of X X^T ~ Wishart_d(l, I/d)
            // (L_ii^2 ~ chi^2_{l-i} / d, L_ij ~ N(0, 1/d) below the diagonal) and V (l x d) Haar,
            // independent of L. Write eps = V u + eps_perp with u ~ N(0, rho I_d). Then
            // ||y - X^T w_j||^2 = ||v - L^T w_j||^2 + ||eps_perp||^2 with v = L^T w + u, and the
            // second term is the same for every j (drops out of the softmax); the ridge posterior mean
            // C X (X^T C X + rho I)^-1 y = C L (L^T C L + rho I)^-1 v (eps_perp lies in ker X). So both
            // estimators are the same functions of (L, v) as of (X, y): the code below runs on them.
            ws.x.setZero();
            for (Eigen::Index c = 0; c < d; ++c) {
              ws.x(c, c) = std::sqrt(rng.chi_square(static_cast<double>(l - c)) / static_cast<double>(d));
              for (Eigen::Index r = c + 1; r < d; ++r) ws.x(r, c) = gaussian(rng) * inv_sqrt_d;
            }
          } else {
            for (Eigen::Index c = 0; c < ws.x.cols(); ++c)
              for (Eigen::Index r = 0; r < ws.x.rows(); ++r) ws.x(r, c) = gaussian(rng) * inv_sqrt_d;
          }
          for (Eigen::Index r = 0; r < d; ++r) ws.query[r] = gaussian(rng) * inv_sqrt_d;
          for (Eigen::Index r = 0; r < d; ++r) ws.task[r] = gaussian(rng);
          if (!isotropic) ws.task = (factor * ws.task).eval();
          const auto idg = static_cast<Eigen::Index>(rng.below(static_cast<std::uint64_t>(k)));

          if (bartlett) {
            ws.y.col(0).noalias() = ws.x.triangularView<Eigen::Lower>().transpose() * ws.task;
            ws.y.col(1).noalias() = ws.x.triangularView<Eigen::Lower>().transpose() * pool.row(idg).transpose();
          } else {
            ws.y.col(0).noalias() = ws.x.transpose() * ws.task;
            ws.y.col(1).noalias() = ws.x.transpose() * pool.row(idg).transpose();
          }
          for (Eigen::Index c = 0; c < 2; ++c)
            for (Eigen::Index r = 0; r < ws.y.rows(); ++r) ws.y(r, c) += noise_sd * gaussian(rng);
          ws.target_icl[col] = ws.query.dot(ws.task) + noise_sd * gaussian(rng);
          ws.target_idg[col] = ws.query.dot(pool.row(idg)) + noise_sd * gaussian(rng);

          // F y for both label columns, and the query: one column triple of the batched cross product.
          if (bartlett) ws.fy.noalias() = ws.x.triangularView<Eigen::Lower>() * ws.y;
          else ws.fy.noalias() = ws.x * ws.y;
          ws.rhs3.col(3 * col) = ws.fy.col(0);
          ws.rhs3.col(3 * col + 1) = ws.fy.col(1);
          ws.rhs3.col(3 * col + 2) = ws.query;

          if (mode == PoolMode::gram || primal) lower_wishart(ws, bartlett);
          if (mode == PoolMode::gram) {
            double* out = ws.ahat.col(col).data();
            for (Eigen::Index c = 0; c < d; ++c) {
              *out++ = ws.a(c, c);
              for (Eigen::Index r = c + 1; r < d; ++r) *out++ = 2.0 * ws.a(r, c);
            }
          } else {
            if (bartlett) ws.g.noalias() = pool * ws.x.triangularView<Eigen::Lower>();
            else ws.g.noalias() = pool * ws.x;
            ws.quad.col(col) = ws.g.rowwise().squaredNorm();
          }

          // Bayes ridge (both label columns share one factorisation).
          Eigen::Vector2d prediction;
          if (primal) {
            // (F F^T + rho I) w_hat = F y: A is shared with the dMMSE; only its lower triangle is read.
            ws.chol = ws.a;
            ws.chol.diagonal().array() += rho;
            Eigen::LLT<Eigen::Ref<Matrix>> llt(ws.chol);
            llt.solveInPlace(ws.fy);
            prediction.noalias() = ws.fy.transpose() * ws.query;
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
          ws.ridge_icl[col] = (ws.target_icl[col] - prediction[0]) * (ws.target_icl[col] - prediction[0]);
          ws.ridge_idg[col] = (ws.target_idg[col] - prediction[1]) * (ws.target_idg[col] - prediction[1]);
        }

        // Phase 2, the pool work of the whole batch in (at most) two GEMMs.
        if (mode == PoolMode::gram) ws.quad.leftCols(count).noalias() = outer * ws.ahat.leftCols(count);
        ws.cross.leftCols(3 * count).noalias() = pool * ws.rhs3.leftCols(3 * count);

        // Phase 3, per sample: the two softmaxes.
        for (long col = 0; col < count; ++col) {
          const double e_icl = ws.target_icl[col] - dmmse_prediction(ws, col, 0, rho);
          const double e_idg = ws.target_idg[col] - dmmse_prediction(ws, col, 1, rho);
          const auto slot = static_cast<std::size_t>(first + col);
          errors.dmmse_icl[slot] = e_icl * e_icl;
          errors.dmmse_idg[slot] = e_idg * e_idg;
          errors.ridge_icl[slot] = ws.ridge_icl[col];
          errors.ridge_idg[slot] = ws.ridge_idg[col];
        }
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
