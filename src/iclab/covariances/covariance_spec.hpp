// Task covariances C (t ~ N(0, C)) of Letey et al. and the text specifications that name them
// (spec: task-alignment §1.1). A TaskCovariance is validated (square d x d, finite, symmetric, positive
// semi-definite) and carries its spectral decomposition, so the theory never decomposes it again.
//
// Specification syntax (indices 0-based; every family is scaled to tr C = d, i.e. <C> = 1, unless the
// text starts with `raw:`, which keeps the "before normalisation" definition):
//   iso                 I_d
//   power:P             lambda_j = j^-P, j = 1..d                      (decreasing for P > 0)
//   revpower:P          lambda_j = (d - j + 1)^-P                      (increasing for P > 0)
//   linear              diag(d, d-1, ..., 1)                           (the "piano" of Fig 1)
//   lowrank:R           diag((d/r) 1_r, 0_{d-r}); R an integer count r, or a fraction f in (0, 1): r = int(f d)
//   spike:I             d e_I e_I^T
//   spike:I:FLOOR       FLOOR on every other diagonal entry, d - FLOOR (d - 1) at I (trace d)
//   exp:B               lambda_j = exp(-B j)
//   wishart:SEED        G G^T, G d x d with i.i.d. N(0, 1) entries (counter-based stream, see below)
//   file:PATH           .npy (little-endian float64, C or Fortran order) or .csv; a d x d matrix or a
//                       length-d vector (the diagonal)
//   rot:SEED:SPEC       Q C Q^T with C given by SPEC and Q Haar-distributed on O(d)
// Random draws use StreamId::covariance with StreamAddress{SEED, point_key("wishart") or point_key("rot"),
// 0, row}: the same text gives the same matrix on every machine and thread count.
#pragma once

#include <string>
#include <vector>

#include "iclab/linalg/dense.hpp"

namespace iclab {

class TaskCovariance {
 public:
  // Validates `matrix` and decomposes it. `option` names the command-line option in error messages
  // (e.g. "--ctrain"); `spec` is the text it came from. Throws InvalidArgument when the matrix is not
  // square, has non-finite entries, is not symmetric (relative tolerance 1e-8) or has an eigenvalue below
  // -1e-10 * max|eigenvalue|. Exactly diagonal matrices are recognised and not decomposed.
  static TaskCovariance from_matrix(Matrix matrix, std::string spec, const std::string& option);
  // A diagonal covariance from its diagonal (validated the same way: finite and >= 0).
  static TaskCovariance from_diagonal(const Vector& diagonal, std::string spec, const std::string& option);
  // A covariance with a known decomposition C = U diag(eigenvalues) U^T (U orthogonal, eigenvalues >= 0);
  // used for rotations of covariances whose spectrum is already known. Not re-validated.
  static TaskCovariance from_eigendecomposition(Vector eigenvalues, Matrix eigenvectors, std::string spec);

  const std::string& spec() const { return spec_; }
  long dim() const { return static_cast<long>(matrix_.rows()); }
  const Matrix& matrix() const { return matrix_; }
  bool is_diagonal() const { return diagonal_; }
  // C = U diag(eigenvalues) U^T. For a diagonal covariance the eigenvalues are the diagonal in index
  // order and U = I is not stored (eigenvectors() is empty); otherwise the order is the solver's
  // (ascending) unless the decomposition was given. Eigenvalues within the PSD tolerance below 0 are
  // clipped to 0.
  const Vector& eigenvalues() const { return eigenvalues_; }
  const Matrix& eigenvectors() const { return eigenvectors_; }
  double normalised_trace() const;  // <C> = tr C / d

 private:
  TaskCovariance(std::string spec, Matrix matrix, Vector eigenvalues, Matrix eigenvectors, bool diagonal);

  std::string spec_;
  Matrix matrix_;
  Vector eigenvalues_;
  Matrix eigenvectors_;
  bool diagonal_ = false;
};

// The spectrum of `power:P` (lambda_j proportional to j^-P, j = 1..d, scaled to sum d) without building
// the matrix: the heatmap of optimal pretraining needs thousands of them.
Vector power_law_spectrum(long d, double p);

// Parses one specification for dimension d (syntax above). Throws InvalidArgument with a one-line
// message that starts with `option`, e.g. "--ctest: 'power:x': P must be a finite number, got 'x'".
TaskCovariance parse_covariance(const std::string& text, long d, const std::string& option);
// A ';'-separated list of specifications (surrounding blanks ignored, empty entries rejected).
std::vector<TaskCovariance> parse_covariance_list(const std::string& text, long d, const std::string& option);

}  // namespace iclab
