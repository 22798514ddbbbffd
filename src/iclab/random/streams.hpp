// Counter-based random streams (Random123 Philox4x64-10). Every draw is a pure function of
// (seed, stream, point, repetition, unit, position), so a result never depends on the thread
// count, on the evaluation order or on how a sweep is split.
#pragma once

#include <cstdint>
#include <string_view>

#include <Random123/philox.h>

namespace iclab {

// Independent purposes get independent streams, so e.g. changing the noise never changes the tasks.
enum class StreamId : std::uint64_t {
  task_pool = 1,   // the k pretraining tasks
  assignment = 2,  // which task each context uses
  context = 3,     // covariates of pretraining contexts (and their query)
  noise = 4,       // label noise of pretraining contexts
  test = 5,        // Monte-Carlo test contexts (validation only)
  covariance = 6,  // random covariance matrices and rotations
  network = 7,     // initial weights of neural networks
  minibatch = 8,   // minibatch indices of network training
};

// Identifies one unit of random work: the counter prefix of its stream.
struct StreamAddress {
  std::uint64_t seed = 0;
  std::uint64_t point = 0;       // hash of the grid point (see point_key)
  std::uint64_t repetition = 0;
  std::uint64_t unit = 0;        // e.g. the task index or the context index
};

// A sequential generator over one (seed, stream, point, repetition, unit) address.
class RandomStream {
 public:
  RandomStream(StreamId id, const StreamAddress& address);

  double uniform();               // in (0, 1]
  double normal();                // N(0, 1), Box-Muller on Philox output
  double gamma(double shape);     // Gamma(shape, 1), Marsaglia-Tsang; shape > 0
  double chi_square(double dof);  // chi^2 with dof >= 0 degrees of freedom (0 gives 0)
  std::uint64_t below(std::uint64_t bound);  // uniform integer in [0, bound), unbiased

  // UniformRandomBitGenerator (64 uniform bits per call): Boost/std distributions can draw from it,
  // e.g. boost::random::normal_distribution's ziggurat where millions of normals are needed.
  using result_type = std::uint64_t;
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return ~result_type{0}; }
  result_type operator()() { return next_bits(); }

 private:
  std::uint64_t next_bits();

  r123::Philox4x64 philox_;
  r123::Philox4x64::key_type key_{};
  r123::Philox4x64::ctr_type counter_{};
  r123::Philox4x64::ctr_type block_{};
  int used_ = 4;
  bool has_spare_normal_ = false;
  double spare_normal_ = 0.0;
};

// Stable 64-bit key of a grid point from its canonical text (e.g. "d=40;alpha=10;..."):
// the same parameters give the same draws whatever grid they sit in.
std::uint64_t point_key(std::string_view canonical);

}  // namespace iclab
