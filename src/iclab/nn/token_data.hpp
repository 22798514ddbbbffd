// Token-level contexts for the Transformers (spec A1.1), built by the same samplers as the reduced
// model (sampling/context_sampler.hpp): token i = [x_i ; y_i], the query's label slot is 0 and its
// label is the target. Torch-free (float buffers), so it is testable without libtorch.
#pragma once

#include <cstdint>
#include <vector>

#include "iclab/covariances/covariance_spec.hpp"
#include "iclab/linalg/dense.hpp"
#include "iclab/random/streams.hpp"
#include "iclab/sampling/context_sampler.hpp"
#include "iclab/sampling/link.hpp"

namespace iclab::nn {

struct TokenBatch {
  long contexts = 0;
  long tokens = 0;             // l + 1
  long width = 0;              // d + 1
  std::vector<float> values;   // contexts x tokens x width, row-major
  std::vector<float> targets;  // the query labels y_{l+1}
};

// A family of contexts: tasks (one per row) and, per context, which task it uses. Context mu draws
// its covariates and noise from the context/noise streams of `address` with unit = first_unit + mu,
// so a large set can be produced in chunks that concatenate to the same numbers.
struct ContextFamily {
  Matrix tasks;               // k x d
  std::vector<long> task_of;  // one entry per context (may be empty: see `fresh_tasks`)
  long ell = 0;
  double rho = 0.0;
  Link link = Link::linear;
  StreamAddress address;
  // A fresh task per context instead of a pool: task mu = L z_mu with z_mu from the task_pool stream
  // (unit first_unit + mu), L the factor of `fresh_covariance`. Used for test sets of any size.
  bool fresh_tasks = false;
  Matrix fresh_factor;  // L with L L^T = C
};

// `threads` OpenMP threads (0: every processor) sample the contexts; each context's draws are addressed
// by its unit, so the numbers never depend on it. It is a parameter rather than OpenMP's current setting
// because callers run under a TorchThreadScope of 1 thread (fastest for the small models' ops), and a
// single-threaded sampler then dominated scoring: 40 members x 17 tests x 50 000 contexts is 3e10 normals.
TokenBatch sample_token_batch(const ContextFamily& family, long first_unit, long count, int threads = 0);

// The task-free part of `count` contexts of a fresh-task family from first_unit on: each context's z
// (task_pool stream), its covariates and its noise's normals. They depend on the family's address, l and
// d only, so the test sets of one address under several covariances (common random numbers) share them,
// and the normals, most of a test set's cost, are drawn once instead of once per covariance.
struct ContextDraws {
  long first_unit = 0;
  std::vector<Vector> z;            // per context, d
  std::vector<TokenContext> draws;  // per context: x, and the noise's normals in y (draw_context)
  long size() const { return static_cast<long>(draws.size()); }
};
ContextDraws draw_fresh_contexts(const ContextFamily& family, long first_unit, long count, int threads = 0);
// The tokens of `family` (fresh tasks, at the address `draws` were drawn from) for those draws: bit for
// bit sample_token_batch(family, draws.first_unit, draws.size()).
TokenBatch tokens_of(const ContextFamily& family, const ContextDraws& draws, int threads = 0);

}  // namespace iclab::nn
