#include "iclab/model/cg_solver.hpp"

#include <algorithm>
#include <chrono>
#include <limits>
#include <optional>

#include "iclab/error.hpp"
#include "iclab/model/solver_kernels.hpp"

namespace iclab {
namespace {

using namespace ridge_detail;

// (Sx (x) Sz + shift I)^-1 on Gamma-shaped matrices (row-major vec: (A (x) B) vec(R) = vec(A R B^T)).
class KroneckerPreconditioner {
 public:
  explicit KroneckerPreconditioner(const FeatureBatch& batch)
      : ux_(column_gram(batch.x_query) / static_cast<double>(batch.size())), uz_(column_gram(batch.z)) {
    symmetric_eigen(ux_, dx_);
    symmetric_eigen(uz_, dz_);
    dx_ = dx_.cwiseMax(0.0);  // Gram matrices are PSD: negative eigenvalues are rounding
    dz_ = dz_.cwiseMax(0.0);
  }
  void set_shift(double shift) {
    denominators_ = dx_ * dz_.transpose();
    denominators_.array() += shift;
    // Without a ridge a flat direction would divide by ~0; cap the amplification instead.
    const double floor = std::numeric_limits<double>::epsilon() * std::max(denominators_.maxCoeff(), 1e-300);
    denominators_ = denominators_.cwiseMax(floor);
  }
  Matrix operator()(const Matrix& r) const {
    const Matrix rotated = ux_.transpose() * r * uz_;
    return ux_ * rotated.cwiseQuotient(denominators_) * uz_.transpose();
  }

 private:
  Matrix ux_, uz_;
  Vector dx_, dz_;
  Matrix denominators_;
};

}  // namespace

long ConjugateGradientRidgeSolver::automatic_iteration_cap(long n, long d) {
  const double nn = static_cast<double>(n), dd = static_cast<double>(d);
  const double p = dd * (dd + 1.0);
  const double iteration = 4.0 * nn * p;
  // flops of the direct solve: Gram (SYRK) + Cholesky, primal or dual
  const double direct = n > d * (d + 1) ? nn * p * p + p * p * p / 3.0 : nn * nn * (2.0 * dd + 1.0) + nn * nn * nn / 3.0;
  return static_cast<long>(std::clamp(direct / iteration, 300.0, 20000.0));
}

bool ConjugateGradientRidgeSolver::use_dual(long n, long d) const {
  if (options_.system == ConjugateGradientOptions::System::primal) return false;
  if (options_.system == ConjugateGradientOptions::System::dual) return true;
  return n <= d * (d + 1);
}

double ConjugateGradientRidgeSolver::estimate_bytes(long n, long d) const {
  const double p = static_cast<double>(d) * static_cast<double>(d + 1);
  const double vectors = use_dual(n, d) ? 8.0 * static_cast<double>(n) + 4.0 * p  // c, r, z, q, ... and Gamma
                                        : 12.0 * p + 4.0 * static_cast<double>((d + 1) * (d + 1));
  return pass_workspace_bytes(n, d) + 8.0 * vectors;
}

std::vector<RidgeFit> ConjugateGradientRidgeSolver::fit_path_cancellable(const FeatureBatch& batch,
                                                                         std::span<const double> lambdas,
                                                                         const std::stop_token& stop) const {
  const auto start = std::chrono::steady_clock::now();
  const long n = batch.size();
  const long d = batch.dim();
  require_memory("the cg solver", estimate_bytes(n, d), n, d);
  const SingleThreadedBlas blas;
  const bool dual = use_dual(n, d);
  const double ridge_scale = static_cast<double>(n) / static_cast<double>(d);

  CgSettings settings = cg_settings(options_.tolerance, options_.max_iterations, n, d);
  settings.stop = stop;

  const Matrix rhs = weighted_cross(batch, batch.y_query);  // H^T y
  std::optional<KroneckerPreconditioner> kronecker;
  std::optional<GramOperator> gram;  // primal operator with reusable workspaces
  Vector kernel_diagonal;
  Matrix labels;
  if (dual) {
    kernel_diagonal = dual_kernel_diagonal(batch);
    labels = batch.y_query;
  } else {
    kronecker.emplace(batch);
    gram.emplace(batch);
  }
  const double setup_seconds = seconds_since(start);

  std::vector<RidgeFit> fits(lambdas.size());
  Matrix warm = dual ? Matrix::Zero(n, 1) : Matrix::Zero(d, d + 1);
  const std::vector<std::size_t> order = largest_first(lambdas);
  for (std::size_t k = 0; k < order.size(); ++k) {
    const std::size_t index = order[k];
    const double lambda = lambdas[index];
    const double shift = ridge_scale * lambda;
    const auto solve_start = std::chrono::steady_clock::now();
    CgOutcome out;
    if (dual) {
      Vector jacobi = kernel_diagonal.array() + shift;
      jacobi = jacobi.cwiseMax(std::numeric_limits<double>::epsilon() * std::max(jacobi.maxCoeff(), 1e-300));
      const auto apply = [&](const Matrix& c) {
        Matrix kc = predictions(batch, weighted_cross(batch, c.col(0)));
        kc += shift * c;
        return kc;
      };
      const auto precondition = [&](const Matrix& r) { return Matrix(r.cwiseQuotient(jacobi)); };
      out = conjugate_gradient(apply, precondition, labels, warm, settings);
    } else {
      kronecker->set_shift(shift);
      const auto apply = [&](const Matrix& g) {
        Matrix ag = gram->apply(g);
        ag += shift * g;
        return ag;
      };
      out = conjugate_gradient(apply, *kronecker, rhs, warm, settings);
    }
    const double cg_seconds = seconds_since(solve_start) + (k == 0 ? setup_seconds : 0.0);

    if (!out.converged && options_.fallback_to_direct) {
      // A stall means CG cannot reach the tolerance (tiny ridge near tau = 1); smaller lambdas
      // would only be worse, so the direct solver takes this and all remaining lambdas.
      std::vector<double> rest;
      for (std::size_t j = k; j < order.size(); ++j) rest.push_back(lambdas[order[j]]);
      std::vector<RidgeFit> direct;
      try {
        direct = DirectRidgeSolver().fit_path_cancellable(batch, rest, stop);
      } catch (const InvalidArgument& error) {
        throw_fallback_refused(error.what(), out.relative_residual, out.iterations);
      }
      for (std::size_t j = 0; j < direct.size(); ++j) {
        RidgeFit& fit = fits[order[k + j]];
        fit = std::move(direct[j]);
        fit.report.solver = name() + "->direct";
        fit.report.iterations = j == 0 ? out.iterations : 0;  // CG iterations spent before falling back
        if (j == 0) fit.report.seconds += cg_seconds;
      }
      break;
    }

    RidgeFit& fit = fits[index];
    fit.lambda = lambda;
    fit.gamma = dual ? weighted_cross(batch, out.solution.col(0)) : out.solution;
    fit.report.solver = name();
    fit.report.system = dual ? "dual" : "primal";
    fit.report.factorization = dual ? "pcg-jacobi" : "pcg-kronecker";
    fit.report.iterations = out.iterations;
    // The primal normal-equation residual, as the direct solver reports it (for the primal
    // system that is exactly CG's own true residual).
    fit.report.relative_residual = dual ? normal_residual(batch, fit.gamma, lambda, rhs) : out.relative_residual;
    fit.report.seconds = seconds_since(solve_start) + (k == 0 ? setup_seconds : 0.0);
    warm = std::move(out.solution);
  }
  return fits;
}

}  // namespace iclab
