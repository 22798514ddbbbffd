// The pretraining task pool {w_1..w_k} and the assignment of the n pretraining contexts to tasks.
#pragma once

#include <vector>

#include "iclab/linalg/dense.hpp"
#include "iclab/params/model_params.hpp"
#include "iclab/random/streams.hpp"

namespace iclab {

class TaskPool {
 public:
  TaskPool() = default;
  explicit TaskPool(Matrix tasks) : tasks_(std::move(tasks)) {}

  // k i.i.d. tasks w ~ N(0, I_d), renormalised to ||w|| = sqrt(d) for TaskNorm::sphere.
  // Task j is drawn from the task_pool stream with unit j.
  static TaskPool draw(long k, long d, TaskNorm norm, StreamAddress address);

  const Matrix& tasks() const { return tasks_; }  // k x d, one task per row
  long size() const { return static_cast<long>(tasks_.rows()); }
  long dim() const { return static_cast<long>(tasks_.cols()); }

 private:
  Matrix tasks_;
};

// Task index of each of the n pretraining contexts (see Assignment); for kappa = inf the
// pool has n tasks and context mu uses task mu.
std::vector<long> assign_tasks(const ModelParams& params, StreamAddress address);

}  // namespace iclab
