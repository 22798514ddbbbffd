#include "iclab/model/ridge_solver.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>

#include "iclab/error.hpp"
#include "iclab/model/auto_solver.hpp"
#include "iclab/model/cg_solver.hpp"
#include "iclab/model/dual_solver.hpp"
#include "iclab/model/solver_kernels.hpp"

namespace iclab {
using ridge_detail::seconds_since;

nlohmann::json SolverReport::to_json() const {
  nlohmann::json j = {{"solver", solver},
                      {"system", system},
                      {"factorization", factorization},
                      {"iterations", iterations},
                      {"relative_residual", relative_residual},
                      {"seconds", seconds}};
  if (!device.empty()) j["device"] = device;
  if (!std::isnan(host_residual)) j["host_residual"] = host_residual;
  return j;
}

RidgeFit RidgeSolver::fit(const FeatureBatch& batch, double lambda) const {
  const double lambdas[] = {lambda};
  return std::move(fit_path(batch, lambdas).front());
}

Vector vec_row_major(const Matrix& gamma) {
  Vector v(gamma.size());
  const long cols = static_cast<long>(gamma.cols());
  for (long a = 0; a < gamma.rows(); ++a)
    for (long b = 0; b < cols; ++b) v(a * cols + b) = gamma(a, b);
  return v;
}

Matrix unvec_row_major(const Vector& v, long d) {
  Matrix gamma(d, d + 1);
  for (long a = 0; a < d; ++a)
    for (long b = 0; b <= d; ++b) gamma(a, b) = v(a * (d + 1) + b);
  return gamma;
}

double normal_equation_residual(const FeatureBatch& batch, const Matrix& gamma, double lambda) {
  const ridge_detail::SingleThreadedBlas blas;
  return ridge_detail::normal_residual(batch, gamma, lambda, ridge_detail::weighted_cross(batch, batch.y_query));
}

double available_memory_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  std::string key;
  double value = 0;
  std::string unit;
  while (meminfo >> key >> value >> unit)
    if (key == "MemAvailable:") return value * 1024.0;
  return 0.0;
}

bool DirectRidgeSolver::use_dual(long n, long d) const {
  if (system_ == System::primal) return false;
  if (system_ == System::dual) return true;
  return n < d * (d + 1);
}

double DirectRidgeSolver::estimate_bytes(long n, long d) const {
  const double p = static_cast<double>(d) * static_cast<double>(d + 1);
  const double m = use_dual(n, d) ? static_cast<double>(n) : p;
  // system + one copy per lambda being factorised + two n x n kernel factors (dual) or one block (primal)
  const double extra = use_dual(n, d) ? static_cast<double>(n) * static_cast<double>(n) : p * 1024.0;
  return 8.0 * (2.0 * m * m + extra);
}

std::vector<RidgeFit> RidgeSolver::fit_path_cancellable(const FeatureBatch& batch, std::span<const double> lambdas,
                                                        const std::stop_token& stop) const {
  throw_if_stopped(stop);
  std::vector<RidgeFit> fits = fit_path(batch, lambdas);
  throw_if_stopped(stop);
  return fits;
}

std::vector<RidgeFit> DirectRidgeSolver::fit_path_cancellable(const FeatureBatch& batch,
                                                              std::span<const double> lambdas,
                                                              const std::stop_token& stop) const {
  const auto start = std::chrono::steady_clock::now();
  const long n = batch.size();
  const long d = batch.dim();
  const long p = d * (d + 1);
  ridge_detail::require_memory("the direct solver", estimate_bytes(n, d), n, d);
  const bool dual = use_dual(n, d);
  const double ridge_scale = static_cast<double>(n) / static_cast<double>(d);
  // OpenBLAS 0.3.21 gives different bits for threaded dgemm, dpotrf and dsyevd with different thread
  // counts, so BLAS runs single-threaded and the Gram is parallelised over fixed panels instead.
  const ridge_detail::SingleThreadedBlas blas;

  Matrix system;  // lower triangle holds the symmetric matrix without the ridge
  Vector rhs;
  if (dual) {
    system = ridge_detail::dual_kernel(batch);  // (X X^T) o (Z Z^T), by tiles
    throw_if_stopped(stop);
    rhs = batch.y_query;
  } else {
    system = Matrix::Zero(p, p);
    const long block = std::clamp<long>(static_cast<long>(8'000'000 / p), 64, 2048);
    constexpr long panel = 256;
    const long panels = (p + panel - 1) / panel;
    Matrix rows(p, std::min(block, n));
    for (long start_row = 0; start_row < n; start_row += block) {
      throw_if_stopped(stop);
      const long m = std::min(block, n - start_row);
      if (m != rows.cols()) rows.resize(p, m);
#pragma omp parallel for schedule(static)
      for (long c = 0; c < m; ++c) {
        const long mu = start_row + c;
        for (long a = 0; a < d; ++a)
          rows.col(c).segment(a * (d + 1), d + 1) = batch.x_query(mu, a) * batch.z.row(mu).transpose();
      }
      // G[j0:, j0:j0+w] += R[j0:] R[j0:j0+w]^T panel by panel (the lower triangle, as dsyrk would);
      // panels are disjoint, so the dynamic schedule does not change any bits.
#pragma omp parallel for schedule(dynamic, 1)
      for (long k = 0; k < panels; ++k) {
        const long j0 = k * panel;
        const long w = std::min(panel, p - j0);
        system.block(j0, j0, p - j0, w).noalias() += rows.middleRows(j0, p - j0) * rows.middleRows(j0, w).transpose();
      }
    }
    rhs = vec_row_major(ridge_detail::weighted_cross(batch, batch.y_query));
    throw_if_stopped(stop);
  }
  const double build_seconds = seconds_since(start);
  const Matrix cross = dual ? ridge_detail::weighted_cross(batch, batch.y_query) : unvec_row_major(rhs, d);

  std::vector<RidgeFit> fits(lambdas.size());
  const auto finish = [&](std::size_t j, const Eigen::Ref<const Vector>& solution, const std::string& factorization,
                          double seconds) {
    RidgeFit& fit = fits[j];
    fit.lambda = lambdas[j];
    fit.gamma = dual ? ridge_detail::weighted_cross(batch, solution) : unvec_row_major(solution, d);
    fit.report.solver = name();
    fit.report.system = dual ? "dual" : "primal";
    fit.report.factorization = factorization;
    fit.report.relative_residual = ridge_detail::normal_residual(batch, fit.gamma, fit.lambda, cross);
    fit.report.seconds = seconds;
  };

  const long m = dual ? n : p;
  const double eigen_bytes = 8.0 * static_cast<double>(m) * static_cast<double>(m) +
                             ridge_detail::symmetric_eigen_workspace_bytes(m) +
                             8.0 * static_cast<double>(m) * static_cast<double>(lambdas.size() + 2);
  if (lambdas.size() >= DualRidgeSolver::kEigenPathMinLambdas && ridge_detail::fits_comfortably(eigen_bytes)) {
    // A long lambda path: one eigendecomposition, then a diagonal solve per lambda.
    Vector eigenvalues;
    ridge_detail::symmetric_eigen(system, eigenvalues);
    std::vector<double> shifts(lambdas.size());
    for (std::size_t j = 0; j < lambdas.size(); ++j) shifts[j] = ridge_scale * lambdas[j];
    throw_if_stopped(stop);
    const Matrix solutions = ridge_detail::spectral_solve(system, eigenvalues, rhs, shifts);
    const double shared = seconds_since(start);
    for (std::size_t j = 0; j < lambdas.size(); ++j) {
      const auto solve_start = std::chrono::steady_clock::now();
      finish(j, solutions.col(static_cast<long>(j)), "eigen", seconds_since(solve_start) + (j == 0 ? shared : 0.0));
    }
    return fits;
  }

  for (std::size_t j = 0; j < lambdas.size(); ++j) {
    throw_if_stopped(stop);
    const auto solve_start = std::chrono::steady_clock::now();
    Matrix a = j + 1 < lambdas.size() ? system : std::move(system);
    a.diagonal().array() += ridge_scale * lambdas[j];
    Matrix solution = rhs;
    const SymmetricSolve method = solve_symmetric(a, solution);
    finish(j, solution.col(0), to_string(method), seconds_since(solve_start) + (j == 0 ? build_seconds : 0.0));
  }
  return fits;
}

std::unique_ptr<RidgeSolver> make_ridge_solver(const std::string& name) {
  if (name == "auto") return std::make_unique<AutoRidgeSolver>();
  if (name == "direct") return std::make_unique<DirectRidgeSolver>();
  if (name == "cg") return std::make_unique<ConjugateGradientRidgeSolver>();
  if (name == "dual") return std::make_unique<DualRidgeSolver>();
  throw InvalidArgument("--solver: expected one of 'auto', 'direct', 'cg', 'dual', got '" + name + "'");
}

}  // namespace iclab
