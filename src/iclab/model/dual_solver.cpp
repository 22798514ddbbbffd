#include "iclab/model/dual_solver.hpp"

#include <chrono>

#include "iclab/model/cg_solver.hpp"
#include "iclab/model/solver_kernels.hpp"

namespace iclab {
namespace {

using namespace ridge_detail;

double kernel_bytes(long n) { return 8.0 * static_cast<double>(n) * static_cast<double>(n); }

double eigen_bytes(long n, std::size_t lambdas) {
  return kernel_bytes(n) + symmetric_eigen_workspace_bytes(n) +
         8.0 * static_cast<double>(n) * static_cast<double>(lambdas + 2);
}

std::string to_string(DualOptions::Method method) {
  switch (method) {
    case DualOptions::Method::cholesky:
      return "cholesky";
    case DualOptions::Method::eigen:
      return "eigen";
    case DualOptions::Method::cg:
      return "cg";
    default:
      return "automatic";
  }
}

}  // namespace

DualOptions::Method DualRidgeSolver::resolve(long n, long d, std::size_t lambdas) const {
  (void)d;
  if (options_.method != DualOptions::Method::automatic) return options_.method;
  if (lambdas >= kEigenPathMinLambdas && fits_comfortably(eigen_bytes(n, lambdas))) return DualOptions::Method::eigen;
  if (fits_comfortably(kernel_bytes(n))) return DualOptions::Method::cholesky;
  return DualOptions::Method::cg;
}

double DualRidgeSolver::estimate_bytes(long n, long d) const {
  switch (resolve(n, d, 1)) {
    case DualOptions::Method::eigen:
      return eigen_bytes(n, 1) + pass_workspace_bytes(n, d);
    case DualOptions::Method::cg: {
      ConjugateGradientOptions cg;
      cg.system = ConjugateGradientOptions::System::dual;
      return ConjugateGradientRidgeSolver(cg).estimate_bytes(n, d);
    }
    default:
      return kernel_bytes(n) + pass_workspace_bytes(n, d) + 8.0 * 4.0 * static_cast<double>(n);
  }
}

std::vector<RidgeFit> DualRidgeSolver::fit_path_cancellable(const FeatureBatch& batch, std::span<const double> lambdas,
                                                            const std::stop_token& stop) const {
  const auto start = std::chrono::steady_clock::now();
  const long n = batch.size();
  const long d = batch.dim();
  const std::size_t count = lambdas.size();
  const DualOptions::Method method = resolve(n, d, count);

  if (method == DualOptions::Method::cg) {
    ConjugateGradientOptions cg;
    cg.system = ConjugateGradientOptions::System::dual;
    cg.tolerance = options_.tolerance;
    cg.max_iterations = options_.max_iterations;
    std::vector<RidgeFit> fits = ConjugateGradientRidgeSolver(cg).fit_path_cancellable(batch, lambdas, stop);
    for (RidgeFit& fit : fits) fit.report.solver = name() + fit.report.solver.substr(2);  // "cg..." -> "dual..."
    return fits;
  }

  const double needed = method == DualOptions::Method::eigen ? eigen_bytes(n, count) : kernel_bytes(n);
  require_memory("the dual solver (" + to_string(method) + ")", needed + pass_workspace_bytes(n, d), n, d);
  const SingleThreadedBlas blas;
  const double ridge_scale = static_cast<double>(n) / static_cast<double>(d);
  const Matrix rhs = weighted_cross(batch, batch.y_query);  // H^T y, for the reported residual

  std::vector<RidgeFit> fits(count);
  const auto finish = [&](std::size_t j, const Eigen::Ref<const Vector>& c, const std::string& factorization,
                          double seconds) {
    RidgeFit& fit = fits[j];
    fit.lambda = lambdas[j];
    fit.gamma = weighted_cross(batch, c);
    fit.report.solver = name();
    fit.report.system = "dual";
    fit.report.factorization = factorization;
    fit.report.relative_residual = normal_residual(batch, fit.gamma, fit.lambda, rhs);
    fit.report.seconds = seconds;
  };

  if (method == DualOptions::Method::eigen) {
    throw_if_stopped(stop);
    Matrix vectors = dual_kernel(batch);
    throw_if_stopped(stop);
    Vector eigenvalues;
    symmetric_eigen(vectors, eigenvalues);
    throw_if_stopped(stop);
    std::vector<double> shifts(count);
    for (std::size_t j = 0; j < count; ++j) shifts[j] = ridge_scale * lambdas[j];
    const Matrix solutions = spectral_solve(vectors, eigenvalues, batch.y_query, shifts);
    const double shared = seconds_since(start);
    for (std::size_t j = 0; j < count; ++j) {
      const auto solve_start = std::chrono::steady_clock::now();
      finish(j, solutions.col(static_cast<long>(j)), "eigen", seconds_since(solve_start) + (j == 0 ? shared : 0.0));
    }
    return fits;
  }

  // Cholesky per lambda. K is kept and copied for the next lambda when a second n x n fits,
  // otherwise rebuilt (2 n^2 d flops, well below the n^3/3 of the factorisation).
  const bool keep_kernel = count > 1 && fits_comfortably(2.0 * kernel_bytes(n));
  Matrix kernel;
  for (std::size_t j = 0; j < count; ++j) {
    throw_if_stopped(stop);
    const auto solve_start = std::chrono::steady_clock::now();
    Matrix a;
    if (keep_kernel) {
      if (kernel.size() == 0) kernel = dual_kernel(batch);
      a = j + 1 < count ? kernel : std::move(kernel);
    } else {
      a = dual_kernel(batch);
    }
    throw_if_stopped(stop);
    a.diagonal().array() += ridge_scale * lambdas[j];
    Matrix c = batch.y_query;
    const SymmetricSolve solved = solve_symmetric(a, c);
    finish(j, c.col(0), to_string(solved), seconds_since(j == 0 ? start : solve_start));
  }
  return fits;
}

}  // namespace iclab
