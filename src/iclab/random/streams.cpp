#include "iclab/random/streams.hpp"

#include <cmath>

#include <Random123/boxmuller.hpp>
#include <Random123/uniform.hpp>

namespace iclab {

RandomStream::RandomStream(StreamId id, const StreamAddress& address) {
  key_[0] = address.seed;
  key_[1] = static_cast<std::uint64_t>(id);
  counter_[0] = address.point;
  counter_[1] = address.repetition;
  counter_[2] = address.unit;
  counter_[3] = 0;  // position within the unit
}

std::uint64_t RandomStream::next_bits() {
  if (used_ == 4) {
    block_ = philox_(counter_, key_);
    ++counter_[3];
    used_ = 0;
  }
  return block_[used_++];
}

double RandomStream::uniform() { return r123::u01<double>(next_bits()); }

double RandomStream::normal() {
  if (has_spare_normal_) {
    has_spare_normal_ = false;
    return spare_normal_;
  }
  const std::uint64_t u0 = next_bits();
  const std::uint64_t u1 = next_bits();
  const r123::double2 pair = r123::boxmuller(u0, u1);
  spare_normal_ = pair.y;
  has_spare_normal_ = true;
  return pair.x;
}

double RandomStream::gamma(double shape) {
  if (shape < 1.0) {
    // Gamma(a) = Gamma(a + 1) * U^(1/a)
    const double g = gamma(shape + 1.0);
    return g * std::pow(uniform(), 1.0 / shape);
  }
  const double dd = shape - 1.0 / 3.0;
  const double c = 1.0 / std::sqrt(9.0 * dd);
  while (true) {
    double x = 0.0, v = 0.0;
    do {
      x = normal();
      v = 1.0 + c * x;
    } while (v <= 0.0);
    v = v * v * v;
    const double u = uniform();
    if (u < 1.0 - 0.0331 * x * x * x * x) return dd * v;
    if (std::log(u) < 0.5 * x * x + dd * (1.0 - v + std::log(v))) return dd * v;
  }
}

double RandomStream::chi_square(double dof) { return dof <= 0.0 ? 0.0 : 2.0 * gamma(0.5 * dof); }

std::uint64_t RandomStream::below(std::uint64_t bound) {
  // Rejection keeps the draw exactly uniform.
  const std::uint64_t limit = ~std::uint64_t{0} - (~std::uint64_t{0} % bound);
  while (true) {
    const std::uint64_t bits = next_bits();
    if (bits < limit) return bits % bound;
  }
}

std::uint64_t point_key(std::string_view canonical) {
  // FNV-1a followed by a splitmix64 finaliser: stable across platforms and releases.
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char ch : canonical) {
    h ^= ch;
    h *= 0x100000001b3ULL;
  }
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

}  // namespace iclab
