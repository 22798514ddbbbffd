#include "iclab/nn/token_data.hpp"

#include <omp.h>

#include "iclab/sampling/context_sampler.hpp"

namespace iclab::nn {

TokenBatch sample_token_batch(const ContextFamily& family, long first_unit, long count, int threads) {
  const long d = family.fresh_tasks ? family.fresh_factor.rows() : family.tasks.cols();
  TokenBatch batch;
  batch.contexts = count;
  batch.tokens = family.ell + 1;
  batch.width = d + 1;
  batch.values.assign(static_cast<std::size_t>(count * batch.tokens * batch.width), 0.0f);
  batch.targets.assign(static_cast<std::size_t>(count), 0.0f);
#pragma omp parallel num_threads(threads > 0 ? threads : omp_get_num_procs())
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
      float* out = batch.values.data() + c * batch.tokens * batch.width;
      for (long i = 0; i < batch.tokens; ++i) {
        for (long j = 0; j < d; ++j) out[i * batch.width + j] = static_cast<float>(context.x(i, j));
        // The query's label slot stays 0: its label is the target.
        if (i < family.ell) out[i * batch.width + d] = static_cast<float>(context.y(i));
      }
      batch.targets[static_cast<std::size_t>(c)] = static_cast<float>(context.y(family.ell));
    }
  }
  return batch;
}

}  // namespace iclab::nn
