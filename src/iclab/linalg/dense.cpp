#include "iclab/linalg/dense.hpp"

#include <algorithm>
#include <limits>
#include <stdexcept>
#include <vector>

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <cblas.h>  // openblas_set_num_threads
#include <lapacke.h>

namespace iclab {

namespace {
// In-place triangle copies (explicit loops: no temporary, no aliasing question).
void copy_upper_to_lower(Matrix& g) {
  for (Eigen::Index j = 0; j < g.cols(); ++j)
    for (Eigen::Index i = j + 1; i < g.rows(); ++i) g(i, j) = g(j, i);
}
}  // namespace

void symmetrize_from_lower(Matrix& g) {
  for (Eigen::Index j = 0; j < g.cols(); ++j)
    for (Eigen::Index i = 0; i < j; ++i) g(i, j) = g(j, i);
}

std::string to_string(SymmetricSolve method) {
  return method == SymmetricSolve::cholesky ? "cholesky" : "bunch-kaufman";
}

SymmetricSolve solve_symmetric(Matrix& a, Matrix& b) {
  // OpenBLAS's threaded dpotrf/dsysv block differently with the thread count and the last bits of the
  // solution change with it; one thread keeps results independent of the machine.
  const BlasThreadScope single(1);
  const auto n = static_cast<lapack_int>(a.rows());
  const auto nrhs = static_cast<lapack_int>(b.cols());
  const auto lda = static_cast<lapack_int>(a.rows());
  const auto ldb = static_cast<lapack_int>(b.rows());
  // dpotrf overwrites only the lower triangle: keep the matrix in the upper one (and the diagonal
  // aside) so the fallback needs no second n x n copy.
  symmetrize_from_lower(a);
  const Vector diagonal = a.diagonal();
  lapack_int info = LAPACKE_dpotrf(LAPACK_COL_MAJOR, 'L', n, a.data(), lda);
  if (info == 0) {
    info = LAPACKE_dpotrs(LAPACK_COL_MAJOR, 'L', n, nrhs, a.data(), lda, b.data(), ldb);
    if (info != 0) throw std::runtime_error("dpotrs failed with info " + std::to_string(info));
    return SymmetricSolve::cholesky;
  }
  copy_upper_to_lower(a);
  a.diagonal() = diagonal;
  std::vector<lapack_int> pivots(static_cast<std::size_t>(n));
  info = LAPACKE_dsysv(LAPACK_COL_MAJOR, 'L', n, nrhs, a.data(), lda, pivots.data(), b.data(), ldb);
  if (info != 0)
    throw std::runtime_error("the ridge system is singular (dsysv info " + std::to_string(info) +
                             "); use lambda > 0 or move tau away from 1");
  return SymmetricSolve::bunch_kaufman;
}

int blas_threads() { return openblas_get_num_threads(); }
void set_blas_threads(int threads) { openblas_set_num_threads(threads); }

void retain_freed_memory(long bytes) {
#ifdef __GLIBC__
  // glibc refuses mmap thresholds above 32 MB (HEAP_MAX_SIZE / 2 on 64-bit); larger blocks stay mmapped.
  const int value = static_cast<int>(std::min<long>(bytes, std::numeric_limits<int>::max()));
  mallopt(M_MMAP_THRESHOLD, std::min(value, 32 << 20));
  mallopt(M_TRIM_THRESHOLD, value);
#else
  (void)bytes;
#endif
}

BlasThreadScope::BlasThreadScope(int threads) : previous_(blas_threads()) { set_blas_threads(threads); }
BlasThreadScope::~BlasThreadScope() { set_blas_threads(previous_); }

}  // namespace iclab
