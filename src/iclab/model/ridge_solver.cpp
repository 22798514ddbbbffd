#include "iclab/model/ridge_solver.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <sstream>

#include "iclab/params/model_params.hpp"

namespace iclab {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Gram-side operator: X^T diag(r) Z, i.e. sum_mu r_mu x_mu z_mu^T (d x (d+1)).
Matrix weighted_cross(const FeatureBatch& batch, const Vector& r) {
  return batch.x_query.transpose() * (r.asDiagonal() * batch.z);
}

std::string format_bytes(double bytes) {
  std::ostringstream out;
  out.precision(3);
  out << bytes / (1024.0 * 1024.0 * 1024.0) << " GiB";
  return out.str();
}

}  // namespace

nlohmann::json SolverReport::to_json() const {
  return {{"solver", solver},         {"system", system},
          {"factorization", factorization}, {"iterations", iterations},
          {"relative_residual", relative_residual}, {"seconds", seconds}};
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
  const double n = static_cast<double>(batch.size());
  const double d = static_cast<double>(batch.dim());
  // predictions r_mu = x_mu^T Gamma z_mu
  const Vector pred = ((batch.x_query * gamma).cwiseProduct(batch.z)).rowwise().sum();
  const Matrix rhs = weighted_cross(batch, batch.y_query);
  const Matrix lhs = weighted_cross(batch, pred) + (n / d) * lambda * gamma;
  const double scale = rhs.norm();
  return scale > 0 ? (lhs - rhs).norm() / scale : (lhs - rhs).norm();
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

std::vector<RidgeFit> DirectRidgeSolver::fit_path(const FeatureBatch& batch,
                                                  std::span<const double> lambdas) const {
  const auto start = std::chrono::steady_clock::now();
  const long n = batch.size();
  const long d = batch.dim();
  const long p = d * (d + 1);
  const double needed = estimate_bytes(n, d);
  const double available = available_memory_bytes();
  if (available > 0 && needed > available)
    throw InvalidArgument("memory: the direct solver needs about " + format_bytes(needed) + " for n=" +
                          std::to_string(n) + ", d=" + std::to_string(d) + " but only " + format_bytes(available) +
                          " is available");
  const bool dual = use_dual(n, d);
  const double ridge_scale = static_cast<double>(n) / static_cast<double>(d);

  Matrix system;  // lower triangle holds the symmetric matrix without the ridge
  Vector rhs;
  if (dual) {
    Matrix kx = Matrix::Zero(n, n);
    Matrix kz = Matrix::Zero(n, n);
    syrk_lower(batch.x_query, kx, 0.0);
    syrk_lower(batch.z, kz, 0.0);
    kx.array() *= kz.array();  // Hadamard product (X X^T) o (Z Z^T); only the lower triangle is used
    system = std::move(kx);
    rhs = batch.y_query;
  } else {
    system = Matrix::Zero(p, p);
    const long block = std::clamp<long>(static_cast<long>(8'000'000 / p), 64, 2048);
    Matrix rows(p, std::min(block, n));
    for (long start_row = 0; start_row < n; start_row += block) {
      const long m = std::min(block, n - start_row);
      if (m != rows.cols()) rows.resize(p, m);
#pragma omp parallel for schedule(static)
      for (long c = 0; c < m; ++c) {
        const long mu = start_row + c;
        for (long a = 0; a < d; ++a)
          rows.col(c).segment(a * (d + 1), d + 1) = batch.x_query(mu, a) * batch.z.row(mu).transpose();
      }
      syrk_lower(rows, system, 1.0);
    }
    rhs = vec_row_major(weighted_cross(batch, batch.y_query));
  }
  const double build_seconds = seconds_since(start);

  std::vector<RidgeFit> fits;
  fits.reserve(lambdas.size());
  for (double lambda : lambdas) {
    const auto solve_start = std::chrono::steady_clock::now();
    Matrix a = system;
    a.diagonal().array() += ridge_scale * lambda;
    Matrix solution = rhs;
    const SymmetricSolve method = solve_symmetric(a, solution);
    RidgeFit fit;
    fit.lambda = lambda;
    fit.gamma = dual ? Matrix(weighted_cross(batch, solution.col(0))) : unvec_row_major(solution.col(0), d);
    fit.report.solver = name();
    fit.report.system = dual ? "dual" : "primal";
    fit.report.factorization = to_string(method);
    fit.report.relative_residual = normal_equation_residual(batch, fit.gamma, lambda);
    fit.report.seconds = seconds_since(solve_start) + (fits.empty() ? build_seconds : 0.0);
    fits.push_back(std::move(fit));
  }
  return fits;
}

std::unique_ptr<RidgeSolver> make_ridge_solver(const std::string& name) {
  if (name == "direct") return std::make_unique<DirectRidgeSolver>();
  throw InvalidArgument("--solver: expected 'direct', got '" + name + "'");
}

}  // namespace iclab
