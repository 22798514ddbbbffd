#include "iclab/nn/token_data.hpp"

#include <omp.h>

#include "iclab/sampling/context_sampler.hpp"

namespace iclab::nn {

namespace {

TokenBatch empty_batch(long count, long ell, long d) {
  TokenBatch batch;
  batch.contexts = count;
  batch.tokens = ell + 1;
  batch.width = d + 1;
  batch.values.assign(static_cast<std::size_t>(count * batch.tokens * batch.width), 0.0f);
  batch.targets.assign(static_cast<std::size_t>(count), 0.0f);
  return batch;
}

// Context c of `batch`: token i = [x_i ; y_i], the query's label slot 0 and its label the target.
void pack(const TokenContext& draws, const Vector& y, long c, TokenBatch& batch) {
  const long d = batch.width - 1, ell = batch.tokens - 1;
  float* out = batch.values.data() + c * batch.tokens * batch.width;
  for (long i = 0; i < batch.tokens; ++i) {
    for (long j = 0; j < d; ++j) out[i * batch.width + j] = static_cast<float>(draws.x(i, j));
    if (i < ell) out[i * batch.width + d] = static_cast<float>(y(i));
  }
  batch.targets[static_cast<std::size_t>(c)] = static_cast<float>(y(ell));
}

int thread_count(int threads) { return threads > 0 ? threads : omp_get_num_procs(); }

}  // namespace

TokenBatch sample_token_batch(const ContextFamily& family, long first_unit, long count, int threads) {
  const long d = family.fresh_tasks ? family.fresh_factor.rows() : family.tasks.cols();
  TokenBatch batch = empty_batch(count, family.ell, d);
#pragma omp parallel num_threads(thread_count(threads))
  {
    Vector task(d), z(d);
#pragma omp for schedule(static)
    for (long c = 0; c < count; ++c) {
      StreamAddress address = family.address;
      address.unit = static_cast<std::uint64_t>(first_unit + c);
      if (family.fresh_tasks) {
        RandomStream draws(StreamId::task_pool, address);
        for (long j = 0; j < d; ++j) z(j) = draws.normal();
        task.noalias() = family.fresh_factor * z;
      } else {
        task = family.tasks.row(family.task_of[static_cast<std::size_t>(first_unit + c)]).transpose();
      }
      RandomStream covariates(StreamId::context, address);
      RandomStream noise(StreamId::noise, address);
      const TokenContext context = sample_tokens(task, family.ell, family.rho, covariates, noise, family.link);
      pack(context, context.y, c, batch);
    }
  }
  return batch;
}

ContextDraws draw_fresh_contexts(const ContextFamily& family, long first_unit, long count, int threads) {
  const long d = family.fresh_factor.rows();
  ContextDraws out;
  out.first_unit = first_unit;
  out.z.resize(static_cast<std::size_t>(count));
  out.draws.resize(static_cast<std::size_t>(count));
#pragma omp parallel for schedule(static) num_threads(thread_count(threads))
  for (long c = 0; c < count; ++c) {
    StreamAddress address = family.address;
    address.unit = static_cast<std::uint64_t>(first_unit + c);
    RandomStream tasks(StreamId::task_pool, address);
    Vector& z = out.z[static_cast<std::size_t>(c)];
    z.resize(d);
    for (long j = 0; j < d; ++j) z(j) = tasks.normal();
    RandomStream covariates(StreamId::context, address);
    RandomStream noise(StreamId::noise, address);
    out.draws[static_cast<std::size_t>(c)] = draw_context(d, family.ell, covariates, noise);
  }
  return out;
}

TokenBatch tokens_of(const ContextFamily& family, const ContextDraws& draws, int threads) {
  const long d = family.fresh_factor.rows(), count = draws.size();
  TokenBatch batch = empty_batch(count, family.ell, d);
#pragma omp parallel num_threads(thread_count(threads))
  {
    Vector task(d), y(family.ell + 1);
#pragma omp for schedule(static)
    for (long c = 0; c < count; ++c) {
      // The expressions of sample_token_batch and sample_tokens, on the same types: the same bits.
      task.noalias() = family.fresh_factor * draws.z[static_cast<std::size_t>(c)];
      const TokenContext& context = draws.draws[static_cast<std::size_t>(c)];
      label_context(context, task, family.rho, family.link, y);
      pack(context, y, c, batch);
    }
  }
  return batch;
}

}  // namespace iclab::nn
