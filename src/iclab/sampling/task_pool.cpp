#include "iclab/sampling/task_pool.hpp"

#include <cmath>

namespace iclab {

TaskPool TaskPool::draw(long k, long d, TaskNorm norm, StreamAddress address) {
  Matrix tasks(k, d);
#pragma omp parallel for schedule(static)
  for (long j = 0; j < k; ++j) {
    StreamAddress unit = address;
    unit.unit = static_cast<std::uint64_t>(j);
    RandomStream stream(StreamId::task_pool, unit);
    for (long i = 0; i < d; ++i) tasks(j, i) = stream.normal();
    if (norm == TaskNorm::sphere) tasks.row(j) *= std::sqrt(static_cast<double>(d)) / tasks.row(j).norm();
  }
  return TaskPool(std::move(tasks));
}

std::vector<long> assign_tasks(const ModelParams& params, StreamAddress address) {
  const long n = params.num_contexts();
  std::vector<long> index(static_cast<std::size_t>(n));
  if (std::isinf(params.kappa)) {
    for (long mu = 0; mu < n; ++mu) index[static_cast<std::size_t>(mu)] = mu;
    return index;
  }
  const long k = params.num_tasks();
  if (params.assignment == Assignment::balanced) {
    // The authors' tiling [w_1..w_k, w_1..w_k, ...].
    for (long mu = 0; mu < n; ++mu) index[static_cast<std::size_t>(mu)] = mu % k;
    return index;
  }
#pragma omp parallel for schedule(static)
  for (long mu = 0; mu < n; ++mu) {
    StreamAddress unit = address;
    unit.unit = static_cast<std::uint64_t>(mu);
    RandomStream stream(StreamId::assignment, unit);
    index[static_cast<std::size_t>(mu)] = static_cast<long>(stream.below(static_cast<std::uint64_t>(k)));
  }
  return index;
}

}  // namespace iclab
