#include "iclab/model/solver_kernels.hpp"

#include <lapacke.h>
#include <omp.h>

#include <algorithm>
#include <limits>
#include <numeric>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "iclab/error.hpp"
#include "iclab/model/cg_solver.hpp"

namespace iclab::ridge_detail {
namespace {

// Row blocks whose size depends on n only (never on the thread count): about 64 blocks, enough
// for any thread count we run, each large enough for an efficient single-threaded GEMM.
struct RowBlocks {
  explicit RowBlocks(long rows)
      : n(rows), size(std::clamp<long>((rows + 63) / 64, 256, 4096)), count(rows > 0 ? (rows + size - 1) / size : 0) {}
  long start(long i) const { return i * size; }
  long rows(long i) const { return std::min(size, n - i * size); }
  long n, size, count;
};

// Partial sums added in block order: the same bits whichever thread computed which block.
Matrix sum_in_order(std::vector<Matrix>& partial, long rows, long cols) {
  Matrix total = Matrix::Zero(rows, cols);
  for (const Matrix& p : partial) total += p;
  return total;
}

}  // namespace

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::string format_bytes(double bytes) {
  std::ostringstream out;
  out.precision(3);
  out << bytes / (1024.0 * 1024.0 * 1024.0) << " GiB";
  return out.str();
}

void require_memory(const std::string& what, double bytes, long n, long d) {
  const double available = available_memory_bytes();
  if (available > 0 && bytes > available)
    throw InvalidArgument("memory: " + what + " needs about " + format_bytes(bytes) + " for n=" + std::to_string(n) +
                          ", d=" + std::to_string(d) + " but only " + format_bytes(available) + " is available");
}

bool fits_comfortably(double bytes) {
  const double available = available_memory_bytes();
  return available <= 0 || bytes <= 0.75 * available;
}

Vector predictions(const FeatureBatch& batch, const Matrix& gamma) {
  const RowBlocks blocks(batch.size());
  Vector out(batch.size());
#pragma omp parallel
  {
    Matrix t;
#pragma omp for schedule(static)
    for (long i = 0; i < blocks.count; ++i) {
      const long start = blocks.start(i), rows = blocks.rows(i);
      t.noalias() = batch.x_query.middleRows(start, rows) * gamma;
      out.segment(start, rows) = t.cwiseProduct(batch.z.middleRows(start, rows)).rowwise().sum();
    }
  }
  return out;
}

Matrix weighted_cross(const FeatureBatch& batch, const Eigen::Ref<const Vector>& w) {
  const RowBlocks blocks(batch.size());
  std::vector<Matrix> partial(static_cast<std::size_t>(blocks.count));
#pragma omp parallel
  {
    Matrix t;
#pragma omp for schedule(static)
    for (long i = 0; i < blocks.count; ++i) {
      const long start = blocks.start(i), rows = blocks.rows(i);
      t = w.segment(start, rows).asDiagonal() * batch.z.middleRows(start, rows);
      partial[static_cast<std::size_t>(i)].noalias() = batch.x_query.middleRows(start, rows).transpose() * t;
    }
  }
  return sum_in_order(partial, batch.dim(), batch.dim() + 1);
}

GramOperator::GramOperator(const FeatureBatch& batch) : batch_(batch) {
  const RowBlocks blocks(batch.size());
  const long d = batch.dim();
  partial_.assign(static_cast<std::size_t>(blocks.count), Matrix(d, d + 1));
  const auto threads = static_cast<std::size_t>(omp_get_max_threads());
  rows_.assign(threads, Matrix(blocks.size, d + 1));
  r_.assign(threads, Vector(blocks.size));
  result_.resize(d, d + 1);
}

const Matrix& GramOperator::apply(const Matrix& gamma) {
  const RowBlocks blocks(batch_.size());
#pragma omp parallel
  {
    const auto thread = static_cast<std::size_t>(omp_get_thread_num());
    Matrix& t = rows_[thread];
    Vector& r = r_[thread];
#pragma omp for schedule(static)
    for (long i = 0; i < blocks.count; ++i) {
      const long start = blocks.start(i), rows = blocks.rows(i);
      const auto x = batch_.x_query.middleRows(start, rows);
      const auto z = batch_.z.middleRows(start, rows);
      auto tb = t.topRows(rows);
      auto rb = r.head(rows);
      tb.noalias() = x * gamma;
      rb.noalias() = tb.cwiseProduct(z).rowwise().sum();
      tb.noalias() = rb.asDiagonal() * z;
      partial_[static_cast<std::size_t>(i)].noalias() = x.transpose() * tb;
    }
  }
  // Partial sums added in block order: the same bits whichever thread computed which block.
  result_.setZero();
  for (const Matrix& p : partial_) result_ += p;
  return result_;
}

Matrix gram_apply(const FeatureBatch& batch, const Matrix& gamma) { return GramOperator(batch).apply(gamma); }

double pass_workspace_bytes(long n, long d) {
  const RowBlocks blocks(n);
  const double p = static_cast<double>(d) * static_cast<double>(d + 1);
  const double threads = static_cast<double>(omp_get_max_threads());
  return 8.0 * (static_cast<double>(blocks.count) * p + threads * static_cast<double>(blocks.size) * static_cast<double>(d + 2));
}

Matrix column_gram(const Matrix& a) {
  const RowBlocks blocks(static_cast<long>(a.rows()));
  std::vector<Matrix> partial(static_cast<std::size_t>(blocks.count));
#pragma omp parallel for schedule(static)
  for (long i = 0; i < blocks.count; ++i) {
    const auto rows = a.middleRows(blocks.start(i), blocks.rows(i));
    partial[static_cast<std::size_t>(i)].noalias() = rows.transpose() * rows;
  }
  return sum_in_order(partial, a.cols(), a.cols());
}

Matrix dual_kernel(const FeatureBatch& batch) {
  const long n = batch.size();
  constexpr long tile = 256;
  const long tiles = (n + tile - 1) / tile;
  std::vector<std::pair<long, long>> lower;  // (row tile, column tile), column <= row
  for (long i = 0; i < tiles; ++i)
    for (long j = 0; j <= i; ++j) lower.emplace_back(i, j);
  Matrix k(n, n);
  const long count = static_cast<long>(lower.size());
  // Tiles write disjoint parts of K, so the dynamic schedule does not change any bits.
#pragma omp parallel
  {
    Matrix kz;
#pragma omp for schedule(dynamic, 1)
    for (long t = 0; t < count; ++t) {
      const auto [ti, tj] = lower[static_cast<std::size_t>(t)];
      const long i0 = ti * tile, j0 = tj * tile;
      const long rows = std::min(tile, n - i0), cols = std::min(tile, n - j0);
      auto block = k.block(i0, j0, rows, cols);
      block.noalias() = batch.x_query.middleRows(i0, rows) * batch.x_query.middleRows(j0, cols).transpose();
      kz.noalias() = batch.z.middleRows(i0, rows) * batch.z.middleRows(j0, cols).transpose();
      block.array() *= kz.array();
    }
  }
  return k;
}

Vector dual_kernel_diagonal(const FeatureBatch& batch) {
  return batch.x_query.rowwise().squaredNorm().cwiseProduct(batch.z.rowwise().squaredNorm());
}

double normal_residual(const FeatureBatch& batch, const Matrix& gamma, double lambda, const Matrix& rhs) {
  const double shift = static_cast<double>(batch.size()) / static_cast<double>(batch.dim()) * lambda;
  const Matrix diff = gram_apply(batch, gamma) + shift * gamma - rhs;
  const double scale = frobenius(rhs);
  return scale > 0 ? frobenius(diff) / scale : frobenius(diff);
}

void symmetric_eigen(Matrix& a, Vector& eigenvalues) {
  const auto m = static_cast<lapack_int>(a.rows());
  eigenvalues.resize(a.rows());
  if (m == 0) return;
  const lapack_int info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'L', m, a.data(), m, eigenvalues.data());
  if (info != 0) throw std::runtime_error("dsyevd failed with info " + std::to_string(info));
}

double symmetric_eigen_workspace_bytes(long m) {
  const double mm = static_cast<double>(m);
  return 8.0 * (1.0 + 6.0 * mm + 2.0 * mm * mm) + 4.0 * (3.0 + 5.0 * mm);
}

Matrix spectral_solve(const Matrix& vectors, const Vector& eigenvalues, const Vector& b,
                      const std::vector<double>& shifts) {
  const long m = static_cast<long>(eigenvalues.size());
  const Vector projected = vectors.transpose() * b;
  const double top = m > 0 ? std::max(eigenvalues.maxCoeff(), 0.0) : 0.0;
  const double cutoff = static_cast<double>(m) * std::numeric_limits<double>::epsilon() * top;
  Matrix scaled(m, static_cast<long>(shifts.size()));
  for (std::size_t j = 0; j < shifts.size(); ++j) {
    const double shift = shifts[j];
    for (long i = 0; i < m; ++i) {
      const double e = std::max(eigenvalues(i), 0.0);
      const bool zero_mode = shift == 0.0 && e <= cutoff;
      scaled(i, static_cast<long>(j)) = zero_mode ? 0.0 : projected(i) / (e + shift);
    }
  }
  return vectors * scaled;
}

std::vector<std::size_t> largest_first(std::span<const double> lambdas) {
  std::vector<std::size_t> order(lambdas.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return lambdas[a] > lambdas[b]; });
  return order;
}

CgSettings cg_settings(double tolerance, long max_iterations, long n, long d) {
  CgSettings settings;
  settings.tolerance = tolerance;
  settings.max_iterations =
      max_iterations > 0 ? max_iterations : ConjugateGradientRidgeSolver::automatic_iteration_cap(n, d);
  settings.stall_window = std::max<long>(100, settings.max_iterations / 4);
  return settings;
}

void throw_fallback_refused(const std::string& what, double relative_residual, long iterations) {
  throw InvalidArgument(what + " (needed because cg stalled at relative residual " + std::to_string(relative_residual) +
                        " after " + std::to_string(iterations) + " iterations)");
}

}  // namespace iclab::ridge_detail
