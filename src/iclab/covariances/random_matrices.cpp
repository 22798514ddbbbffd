#include "iclab/covariances/random_matrices.hpp"

#include "iclab/random/streams.hpp"

namespace iclab {

Matrix gaussian_matrix(long d, std::uint64_t seed, const char* kind) {
  Matrix g(d, d);
  const std::uint64_t point = point_key(kind);
  for (long i = 0; i < d; ++i) {
    RandomStream stream(StreamId::covariance, StreamAddress{seed, point, 0, static_cast<std::uint64_t>(i)});
    for (long j = 0; j < d; ++j) g(i, j) = stream.normal();
  }
  return g;
}

Matrix wishart_matrix(long d, std::uint64_t seed) {
  const Matrix g = gaussian_matrix(d, seed, "wishart");
  Matrix w = Matrix::Zero(d, d);
  w.selfadjointView<Eigen::Lower>().rankUpdate(g);
  // rankUpdate fills one triangle only; mirroring makes the result exactly symmetric.
  return w.selfadjointView<Eigen::Lower>();
}

Matrix haar_orthogonal(long d, std::uint64_t seed) {
  const Eigen::HouseholderQR<Matrix> qr(gaussian_matrix(d, seed, "rot"));
  Matrix q = qr.householderQ();
  const Matrix& r = qr.matrixQR();
  for (long j = 0; j < d; ++j)
    if (r(j, j) < 0.0) q.col(j) = -q.col(j);
  return q;
}

}  // namespace iclab
