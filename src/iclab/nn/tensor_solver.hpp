// The Gamma* ridge fit on libtorch tensors, float64, on the CPU or a CUDA device (torch-free header).
//
// The same methods as the core's Eigen solvers (model/), behind the same RidgeSolver interface:
//  * cg:     matrix-free preconditioned CG, primal (n > p = d(d+1)) with the Kronecker preconditioner
//            (Sx (x) Sz + (n/d) lambda I)^-1, dual (n <= p) with Jacobi; two GEMMs per iteration; a
//            stall (tiny ridge near tau = 1) falls back to the dense solve ("cg->direct");
//  * dual:   the n x n kernel (X X^T) o (Z Z^T): Cholesky per lambda, one eigendecomposition for paths
//            of >= 20 lambdas, matrix-free dual CG when the kernel does not fit the device;
//  * direct: the dense normal equations, the p x p Gram (GEMMs over row blocks of the design; n >= p)
//            or the n x n kernel (n < p), Cholesky (eigendecomposition where Cholesky fails, or for
//            long paths);
//  * auto:   the core's rule (AutoRidgeSolver) with the device's memory: dual for n <= p; for n > p
//            direct when p <= 256 or the predicted CG work exceeds the dense solve's, else cg.
// Only the fit moves: the features are sampled on the host and copied once per fit (x_query, z, y);
// Gamma comes back to the host. Every fit reports the normal-equation residual computed on the
// device and, on a GPU, the same residual recomputed on the host by the core's Eigen kernels
// (SolverReport::host_residual): the run's record that the device solved the same equations.
//
// Agreement: float64 throughout, so the fits agree with the Eigen solvers to the solver tolerance
// (CG: relative residual 1e-9 by default), not to the last bit; on the CPU, torch's kernels may round
// differently with the thread count. Fits hold torch's thread pool and the device, so they never run
// concurrently (scheduling()); on a GPU, simulate_point draws the next repetition while one fits.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "iclab/model/ridge_solver.hpp"

namespace iclab::nn {

struct TensorSolverOptions {
  std::string method = "auto";  // auto | direct | cg | dual (the --solver choices)
  std::string device = "cpu";   // cpu | cuda | cuda:N
  double tolerance = 1e-9;      // CG, on the relative residual of the system solved (as the core's cg)
  long max_iterations = 0;      // CG; 0: ConjugateGradientRidgeSolver::automatic_iteration_cap
  bool fallback_to_direct = true;
  // Recompute each fit's normal-equation residual on the host (Eigen); default: on a GPU only.
  enum class HostCheck { automatic, always, never };
  HostCheck host_check = HostCheck::automatic;
  // Torch and BLAS threads during a fit; 0: OpenMP's maximum on the CPU, 1 on a GPU (the host only
  // launches kernels there, and BLAS stays single-threaded for the draws made meanwhile).
  int threads = 0;
  // How simulate_point schedules the fits; default: serial on the CPU, overlapped on a GPU (overlapped
  // on the CPU only makes sense for tests: the draw and the fit then share the cores).
  std::optional<RidgeSolver::Scheduling> scheduling;
};

class TensorRidgeSolver final : public RidgeSolver {
 public:
  // Throws InvalidArgument for an unknown method or device (or cuda in a build/machine without it).
  explicit TensorRidgeSolver(TensorSolverOptions options);
  ~TensorRidgeSolver() override;

  std::string name() const override { return options_.method; }
  std::vector<RidgeFit> fit_path(const FeatureBatch& batch, std::span<const double> lambdas) const override;
  // Host bytes beyond the features: the whole workspace on the CPU, the host check's on a GPU.
  double estimate_bytes(long n, long d) const override;
  // Throws InvalidArgument naming what the fit needs on the device and what the device has free.
  void require_device_memory(long n, long d) const override;
  // One fit at a time (torch's thread pool, the device); on a GPU the host draws meanwhile.
  Scheduling scheduling() const override;

  // Bytes the fit of n samples at d needs on the device (features included) with the least
  // memory-hungry method the options allow (auto/cg/dual: matrix-free CG).
  double device_bytes(long n, long d) const;
  // Free bytes on the device for this solver: free device memory (cuda; plus what this solver's
  // earlier fits left in torch's cache) or available RAM (cpu).
  double device_available_bytes() const;

  const TensorSolverOptions& options() const { return options_; }

 private:
  TensorSolverOptions options_;
  mutable double cached_bytes_ = 0.0;  // the largest device footprint an earlier fit of this solver held
};

// The solver `method` on `device`: the core's Eigen solvers when device is empty, else a
// TensorRidgeSolver. Throws InvalidArgument. Front ends pass it to make_point_evaluator.
std::unique_ptr<RidgeSolver> make_ridge_solver_on(const std::string& method, const std::string& device);

}  // namespace iclab::nn
