// Thin, explicit wrappers over the BLAS/LAPACK kernels the solvers rely on (OpenBLAS + LAPACKE).
#pragma once

#include <string>

#include <Eigen/Dense>

namespace iclab {

using Matrix = Eigen::MatrixXd;  // column-major
using Vector = Eigen::VectorXd;

// Mirror the lower triangle into the upper one.
void symmetrize_from_lower(Matrix& g);

// How a symmetric system was solved.
enum class SymmetricSolve {
  cholesky,       // dpotrf/dpotrs: the matrix was numerically positive definite
  bunch_kaufman,  // dsysv fallback for numerically semi-definite systems (tiny ridge near tau = 1)
};
std::string to_string(SymmetricSolve method);

// Solves A X = B for symmetric A given by its lower triangle. A and B are overwritten (B with X).
// Runs single-threaded: OpenBLAS's threaded factorisations are not bitwise thread-count independent.
// Throws std::runtime_error if the matrix is exactly singular.
SymmetricSolve solve_symmetric(Matrix& a, Matrix& b);

// Threads OpenBLAS may use. OpenBLAS 0.3.21 changes the last bits of dgemm, dpotrf and dsyevd with the
// thread count, so iclab runs BLAS single-threaded and parallelises with OpenMP over fixed partitions.
int blas_threads();
void set_blas_threads(int threads);

// Keeps freed blocks of up to `bytes` in the heap instead of returning them to the OS (glibc mallopt:
// mmap and trim thresholds). Training allocates and frees the same activation buffers every step; with
// glibc's defaults each becomes fresh page faults (2x slower at the papers' batch sizes). Process-wide:
// front ends call it once. No-op on other C libraries.
void retain_freed_memory(long bytes);

// Restores the previous BLAS thread count on scope exit.
class BlasThreadScope {
 public:
  explicit BlasThreadScope(int threads);
  ~BlasThreadScope();
  BlasThreadScope(const BlasThreadScope&) = delete;
  BlasThreadScope& operator=(const BlasThreadScope&) = delete;

 private:
  int previous_;
};

}  // namespace iclab
