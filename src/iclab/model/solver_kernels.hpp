// Building blocks shared by the fast Gamma* solvers (cg, dual, auto); internal to iclab/model.
//
// The design H has rows vec(H_mu) = x_mu (x) z_mu and is never formed: every product goes through
// the factors X (n x d) and Z (n x (d+1)), so one pass costs two skinny GEMMs, O(n d^2).
//
// Bit-identical results whatever the thread counts: OpenBLAS 0.3.21 gives different bits for
// dgemm, dpotrf and dsyevd with 1 and 2 threads (measured on this project's sizes), so
// these kernels cut the rows into blocks whose size depends on n only, run single-threaded BLAS on
// each block, spread the blocks over OpenMP threads, and add block partial sums in block order.
// Callers hold a SingleThreadedBlas scope while they run.
#pragma once

#include <chrono>
#include <cmath>
#include <cstddef>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "iclab/cancel.hpp"
#include "iclab/model/ridge_solver.hpp"

namespace iclab::ridge_detail {

// One BLAS thread for the scope (BLAS calls then have one code path, hence one set of bits);
// the parallelism comes from OpenMP over fixed blocks instead.
class SingleThreadedBlas {
 public:
  SingleThreadedBlas() : scope_(1) {}

 private:
  BlasThreadScope scope_;
};

double seconds_since(std::chrono::steady_clock::time_point start);
std::string format_bytes(double bytes);

// Throws InvalidArgument("memory: <what> needs about X GiB ... but only Y GiB is available")
// when `bytes` exceed the available memory (no check when it is unknown).
void require_memory(const std::string& what, double bytes, long n, long d);
// Whether `bytes` fit comfortably (3/4 of the available memory), for choosing between methods.
bool fits_comfortably(double bytes);

// r_mu = x_mu^T Gamma z_mu (the predictions, H vec(Gamma)).
Vector predictions(const FeatureBatch& batch, const Matrix& gamma);
// X^T diag(w) Z = sum_mu w_mu x_mu z_mu^T (H^T w).
Matrix weighted_cross(const FeatureBatch& batch, const Eigen::Ref<const Vector>& w);
// X^T diag(predictions(Gamma)) Z (H^T H vec(Gamma)), fused in one pass over the rows.
Matrix gram_apply(const FeatureBatch& batch, const Matrix& gamma);

// gram_apply with its workspaces (per-block partial sums, per-thread row buffers) allocated once and
// reused: CG applies the operator ~100 times, and fresh allocations each time cost page faults that
// serialise the threads (measured: a third of the time at d = 100).
class GramOperator {
 public:
  explicit GramOperator(const FeatureBatch& batch);
  const Matrix& apply(const Matrix& gamma);  // valid until the next call

 private:
  const FeatureBatch& batch_;
  std::vector<Matrix> partial_;
  std::vector<Matrix> rows_;    // per thread: x_b Gamma, then diag(r) z_b
  std::vector<Vector> r_;       // per thread
  Matrix result_;
};
// Workspace bytes of one pass of the kernels above (block partial sums and per-thread buffers).
double pass_workspace_bytes(long n, long d);
// A^T A of a tall matrix, by row blocks.
Matrix column_gram(const Matrix& a);

// Lower triangle of the dual kernel K = (X X^T) o (Z Z^T), n x n, built by tiles.
Matrix dual_kernel(const FeatureBatch& batch);
// diag(K)_mu = ||x_mu||^2 ||z_mu||^2.
Vector dual_kernel_diagonal(const FeatureBatch& batch);

// ||H^T H g + (n/d) lambda g - H^T y|| / ||H^T y|| (rhs = H^T y passed in), deterministic.
double normal_residual(const FeatureBatch& batch, const Matrix& gamma, double lambda, const Matrix& rhs);

// Eigendecomposition of a symmetric matrix given by its lower triangle (LAPACKE_dsyevd): `a` is
// overwritten by the eigenvectors, eigenvalues ascending. Throws std::runtime_error on failure.
void symmetric_eigen(Matrix& a, Vector& eigenvalues);
// Bytes dsyevd needs for an m x m problem beyond the matrix itself (its 1 + 6m + 2m^2 workspace).
double symmetric_eigen_workspace_bytes(long m);

// Solutions of (V diag(e) V^T + shift I) x = b for several shifts at once, from an
// eigendecomposition: x = V ((V^T b) ./ (e + shift)). The matrix is positive semi-definite, so
// negative eigenvalues are rounding and count as zero; for shift = 0, eigenvalues below
// m * eps * max(e) are treated as exact zeros and dropped (the ridgeless limit lambda -> 0+, the
// minimum-norm solution). Column j of the result belongs to shifts[j].
Matrix spectral_solve(const Matrix& vectors, const Vector& eigenvalues, const Vector& b,
                      const std::vector<double>& shifts);

// Indices of the lambdas from the largest to the smallest (stable for ties): the CG solvers fit a path
// in this order, each fit warm-starting the next, since a larger ridge is the better-conditioned (faster)
// problem to start from.
std::vector<std::size_t> largest_first(std::span<const double> lambdas);

// Preconditioned conjugate gradients for a symmetric positive-definite operator on matrices
// (Gamma-shaped for the primal system, n x 1 for the dual one). Not Eigen::ConjugateGradient:
// that one stops on the recursively updated residual, which drifts from the true one at the
// 1e-10 level asked here, and cannot tell a stall (the cue to fall back to a direct solve) from
// slow progress.
struct CgSettings {
  double tolerance = 1e-10;   // stop when ||b - A x|| / ||b|| <= tolerance (checked on the true residual)
  long max_iterations = 1000;
  long stall_window = 200;    // give up when the residual has not halved for this many iterations
  // Polled before each iteration: a requested stop throws Cancelled (iclab/cancel.hpp).
  std::stop_token stop;
};
template <class Vec>
struct BasicCgOutcome {
  Vec solution;
  long iterations = 0;
  double relative_residual = 0.0;  // true residual ||b - A x|| / ||b|| of `solution`
  bool converged = false;
};
using CgOutcome = BasicCgOutcome<Matrix>;

// The settings of the CG solvers (cg, dual's matrix-free method, the tensor solver's cg) for n contexts at
// dimension d: the iteration cap `max_iterations`, or ConjugateGradientRidgeSolver::automatic_iteration_cap
// when it is 0, and a stall window of a quarter of the cap (at least 100 iterations). No stop token.
CgSettings cg_settings(double tolerance, long max_iterations, long n, long d);
// Throws InvalidArgument: `what` (why the direct solve that CG fell back to was refused, e.g. memory) and
// the stall that made the fallback necessary.
[[noreturn]] void throw_fallback_refused(const std::string& what, double relative_residual, long iterations);

// Inner product and norm over all entries; Eigen's own reductions (sequential, no BLAS ddot).
inline double inner(const Matrix& a, const Matrix& b) { return a.cwiseProduct(b).sum(); }
inline double frobenius(const Matrix& a) { return std::sqrt(a.squaredNorm()); }

// What the CG loop needs of its vector type, for Eigen matrices. Another vector type (the tensor
// solver's torch::Tensor, nn/tensor_solver.cpp) brings a struct with the same members.
struct EigenCgOps {
  using Vector = Matrix;
  static double inner(const Matrix& a, const Matrix& b) { return ridge_detail::inner(a, b); }
  static double norm(const Matrix& a) { return frobenius(a); }
  static void set_zero(Matrix& x) { x.setZero(); }
  static Matrix copy(const Matrix& a) { return a; }  // a value that shares nothing with `a`
  static void add_scaled(Matrix& x, double step, const Matrix& d) { x += step * d; }       // x += step d
  static void subtract_scaled(Matrix& r, double step, const Matrix& q) { r -= step * q; }  // r -= step q
};

// The loop, over any vector type described by Ops (EigenCgOps's members); the operator and the
// preconditioner take and return Ops::Vector.
template <class Ops, class Apply, class Precondition>
BasicCgOutcome<typename Ops::Vector> preconditioned_cg(const Apply& apply, const Precondition& precondition,
                                                       const typename Ops::Vector& rhs, typename Ops::Vector start,
                                                       const CgSettings& settings) {
  using Vec = typename Ops::Vector;
  BasicCgOutcome<Vec> out;
  out.solution = std::move(start);
  const double rhs_norm = Ops::norm(rhs);
  if (rhs_norm == 0.0) {  // b = 0: the solution is 0
    Ops::set_zero(out.solution);
    out.converged = true;
    return out;
  }
  Vec residual = rhs - apply(out.solution);
  out.relative_residual = Ops::norm(residual) / rhs_norm;
  if (out.relative_residual <= settings.tolerance) {
    out.converged = true;
    return out;
  }
  Vec z = precondition(residual);
  Vec direction = Ops::copy(z);
  double rz = Ops::inner(residual, z);
  double mark = out.relative_residual;  // last residual level that counted as progress
  long mark_iteration = 0;
  while (out.iterations < settings.max_iterations) {
    throw_if_stopped(settings.stop);
    ++out.iterations;
    const Vec q = apply(direction);
    const double curvature = Ops::inner(direction, q);
    if (!(curvature > 0.0) || !(rz > 0.0)) break;  // lost positive definiteness to rounding
    const double step = rz / curvature;
    Ops::add_scaled(out.solution, step, direction);
    Ops::subtract_scaled(residual, step, q);
    double relative = Ops::norm(residual) / rhs_norm;
    if (relative <= settings.tolerance) {
      // The recursively updated residual drifts from the true one: confirm, else restart from it.
      residual = rhs - apply(out.solution);
      relative = Ops::norm(residual) / rhs_norm;
      out.relative_residual = relative;
      if (relative <= settings.tolerance) {
        out.converged = true;
        return out;
      }
      z = precondition(residual);
      direction = Ops::copy(z);
      rz = Ops::inner(residual, z);
      continue;
    }
    if (relative < 0.5 * mark) {
      mark = relative;
      mark_iteration = out.iterations;
    } else if (out.iterations - mark_iteration >= settings.stall_window) {
      break;
    }
    z = precondition(residual);
    const double rz_next = Ops::inner(residual, z);
    direction = z + (rz_next / rz) * direction;
    rz = rz_next;
  }
  out.relative_residual = Ops::norm(rhs - apply(out.solution)) / rhs_norm;
  out.converged = out.relative_residual <= settings.tolerance;
  return out;
}

template <class Apply, class Precondition>
CgOutcome conjugate_gradient(const Apply& apply, const Precondition& precondition, const Matrix& rhs, Matrix start,
                             const CgSettings& settings) {
  return preconditioned_cg<EigenCgOps>(apply, precondition, rhs, std::move(start), settings);
}

}  // namespace iclab::ridge_detail
