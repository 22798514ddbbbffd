// The Gamma* fit of the reduced linear-attention model (spec: Lu et al. §2.3):
//   Gamma* = argmin_Gamma  sum_mu (y_mu - <Gamma, x_mu z_mu^T>)^2 + (n/d) lambda ||Gamma||_F^2.
// Solvers sit behind RidgeSolver so that callers never depend on how the system is solved.
#pragma once

#include <functional>
#include <limits>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <stop_token>
#include <string>
#include <vector>

#include "iclab/linalg/dense.hpp"
#include "iclab/sampling/context_sampler.hpp"

namespace iclab {

// What a solver did, recorded in the metadata of every output.
struct SolverReport {
  std::string solver;         // e.g. "direct"
  std::string system;         // "primal" (p x p Gram) or "dual" (n x n kernel)
  std::string factorization;  // e.g. "cholesky", "bunch-kaufman"
  long iterations = 0;        // 0 for direct factorizations
  double relative_residual = 0.0;  // ||A g - b|| / ||b|| of the solved system
  double seconds = 0.0;
  // Solvers off the host (nn/tensor_solver): the device ("cuda:0"), and the normal-equation residual of
  // the returned Gamma recomputed on the host by the core's kernels (NaN: not checked). Both are left
  // out of to_json when unset.
  std::string device;
  double host_residual = std::numeric_limits<double>::quiet_NaN();
  nlohmann::json to_json() const;
};

struct RidgeFit {
  Matrix gamma;  // d x (d+1)
  double lambda = 0.0;
  SolverReport report;
};

class RidgeSolver {
 public:
  virtual ~RidgeSolver() = default;
  virtual std::string name() const = 0;
  // One fit per lambda on the same data (a lambda path shares the expensive part).
  virtual std::vector<RidgeFit> fit_path(const FeatureBatch& batch, std::span<const double> lambdas) const = 0;
  // fit_path, polling `stop` (iclab/cancel.hpp) where the solver can: the core's solvers per CG
  // iteration, per lambda and per block of the Gram (never inside one LAPACK call). Throws Cancelled once
  // a stop is requested; otherwise the same bits as fit_path. Default: checks before and after fit_path.
  virtual std::vector<RidgeFit> fit_path_cancellable(const FeatureBatch& batch, std::span<const double> lambdas,
                                                     const std::stop_token& stop) const;
  // Bytes the solver will allocate for this problem size (for the memory guard).
  virtual double estimate_bytes(long n, long d) const = 0;
  // Solvers on an accelerator: throws InvalidArgument when the fit would not fit the device's memory
  // (naming what is needed and what the device has). Host memory is estimate_bytes's business.
  virtual void require_device_memory(long n, long d) const { (void)n, (void)d; }
  // How simulate_point may schedule the fits of a point's repetitions: concurrently (the core's solvers:
  // one repetition per thread for small d), serially (the fits hold a process-wide resource such as
  // torch's thread pool), or overlapped (serially on a device, while the host draws the next repetition).
  enum class Scheduling { concurrent, serial, overlapped };
  virtual Scheduling scheduling() const { return Scheduling::concurrent; }

  RidgeFit fit(const FeatureBatch& batch, double lambda) const;
};

// Reference solver: dense normal equations. The primal p x p Gram (lower triangle, by fixed panels of
// the rows x (x) z) when n >= p; the dual n x n kernel (X X^T) o (Z Z^T) when n < p. Cholesky per
// lambda, with a Bunch-Kaufman fallback where a tiny ridge leaves the system numerically
// semi-definite; a long lambda path uses one eigendecomposition instead.
class DirectRidgeSolver final : public RidgeSolver {
 public:
  enum class System { automatic, primal, dual };
  explicit DirectRidgeSolver(System system = System::automatic) : system_(system) {}
  std::string name() const override { return "direct"; }
  std::vector<RidgeFit> fit_path(const FeatureBatch& batch, std::span<const double> lambdas) const override {
    return fit_path_cancellable(batch, lambdas, {});
  }
  std::vector<RidgeFit> fit_path_cancellable(const FeatureBatch& batch, std::span<const double> lambdas,
                                             const std::stop_token& stop) const override;
  double estimate_bytes(long n, long d) const override;

 private:
  bool use_dual(long n, long d) const;
  System system_;
};

// "auto", "direct", "cg" or "dual" (the core's Eigen solvers). Throws InvalidArgument.
std::unique_ptr<RidgeSolver> make_ridge_solver(const std::string& name);

// Makes the solver `name` for `device` ("" : the core's solvers, make_ridge_solver). The core knows no
// device: front ends built with iclab_nn pass nn::make_ridge_solver_on (torch tensors on cpu or cuda).
using RidgeSolverFactory =
    std::function<std::unique_ptr<RidgeSolver>(const std::string& name, const std::string& device)>;

// vec(Gamma) <-> Gamma with the papers' row-major flattening, vec[a(d+1)+b] = Gamma(a, b).
Vector vec_row_major(const Matrix& gamma);
Matrix unvec_row_major(const Vector& v, long d);

// Ridge-objective helpers shared by solvers and tests: the normal-equation residual
// ||(H^T H + (n/d) lambda I) vec(Gamma) - H^T y|| / ||H^T y||, computed matrix-free in O(n d^2).
double normal_equation_residual(const FeatureBatch& batch, const Matrix& gamma, double lambda);

// Bytes of physical memory currently available (MemAvailable), or 0 when unknown.
double available_memory_bytes();

}  // namespace iclab
