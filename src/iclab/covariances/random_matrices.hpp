// Random matrices behind the `wishart:SEED` and `rot:SEED:...` covariance specifications. Every entry
// comes from the counter-based stream StreamId::covariance, StreamAddress{seed, point_key(kind), 0, row},
// so a draw depends only on (seed, d) and not on threads or on what else was drawn.
#pragma once

#include <cstdint>

#include "iclab/linalg/dense.hpp"

namespace iclab {

// G d x d with i.i.d. N(0, 1) entries; row i from unit i of the stream named `kind`.
Matrix gaussian_matrix(long d, std::uint64_t seed, const char* kind);
// G G^T (unnormalised Wishart with d degrees of freedom), symmetric to the last bit.
Matrix wishart_matrix(long d, std::uint64_t seed);
// Haar-distributed orthogonal Q: QR of a Gaussian matrix with the signs of diag(R) moved into Q
// (without that correction Q is not Haar; Mezzadri 2007).
Matrix haar_orthogonal(long d, std::uint64_t seed);

}  // namespace iclab
