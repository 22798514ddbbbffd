#include "iclab/experiments/simulate.hpp"

#include <cmath>
#include <cstdio>
#include <exception>
#include <future>

#include "iclab/cancel.hpp"
#include "iclab/covariances/task_draws.hpp"
#include "iclab/model/solver_kernels.hpp"
#include "iclab/sampling/context_sampler.hpp"
#include "iclab/sampling/task_pool.hpp"

namespace iclab {

std::uint64_t simulation_point_key(const ModelParams& m, const TaskSetting& setting) {
  char text[256];
  std::snprintf(text, sizeof text, "d=%ld;alpha=%.17g;tau=%.17g;kappa=%.17g;rho=%.17g;norm=%s;assign=%s", m.d,
                m.alpha, m.tau, m.kappa, m.rho, to_string(m.task_norm).c_str(), to_string(m.assignment).c_str());
  std::string canonical = text;
  if (setting.train) canonical.append(";ctrain=").append(setting.train->spec());
  return point_key(canonical);
}

namespace {

TaskPool draw_pool(const ModelParams& model, const TaskSetting& setting, const StreamAddress& address) {
  if (!setting.train) return TaskPool::draw(model.num_tasks(), model.d, model.task_norm, address);
  Matrix tasks = draw_tasks(*setting.train, model.num_tasks(), address);
  if (model.task_norm == TaskNorm::sphere) {
    const double radius = std::sqrt(setting.train->normalised_trace() * static_cast<double>(model.d));
    for (Eigen::Index j = 0; j < tasks.rows(); ++j) tasks.row(j) *= radius / tasks.row(j).norm();
  }
  return TaskPool(std::move(tasks));
}

}  // namespace

void require_simulation_memory(const ModelParams& model, const RidgeSolver& solver) {
  // The features (x_query, z, y), the task pool (k = n for kappa = inf) and the solver's own memory;
  // two draws at once when the next repetition is drawn while one fits. A device's own memory: the solver.
  const double n = static_cast<double>(model.num_contexts()), d = static_cast<double>(model.d);
  const double draws = solver.scheduling() == RidgeSolver::Scheduling::overlapped ? 2.0 : 1.0;
  const double data_bytes = draws * 8.0 * (n * (2.0 * d + 2.0) + static_cast<double>(model.num_tasks()) * d);
  solver.require_device_memory(model.num_contexts(), model.d);
  ridge_detail::require_memory("the simulation (features + " + solver.name() + " solver)",
                               data_bytes + solver.estimate_bytes(model.num_contexts(), model.d), model.num_contexts(),
                               model.d);
}

PretrainingDraw draw_pretraining(const ModelParams& model, const TaskSetting& setting, std::uint64_t seed,
                                 std::uint64_t repetition, const std::stop_token& stop) {
  throw_if_stopped(stop);
  const StreamAddress address{seed, simulation_point_key(model, setting), repetition, 0};
  PretrainingDraw draw;
  draw.pool = draw_pool(model, setting, address);
  draw.task_of = assign_tasks(model, address);
  draw.batch = sample_features(draw.pool.tasks(), draw.task_of, model.context_length(), model.rho, address, 0, stop);
  return draw;
}

namespace {

// The fits of one repetition's draw, each evaluated on every test.
std::vector<RepetitionResult> fit_and_score(const ModelParams& model, const TaskSetting& setting,
                                            std::span<const double> lambdas, const PretrainingDraw& draw,
                                            const RidgeSolver& solver, const std::stop_token& stop) {
  const TaskPool& pool = draw.pool;
  const FeatureBatch& batch = draw.batch;
  const long ell = model.context_length();
  std::vector<TaskMoments> icl_tasks;
  if (setting.tests.empty())
    icl_tasks.push_back(isotropic_task_moments(model.d, model.rho, model.task_norm));
  for (const TaskCovariance& test : setting.tests) icl_tasks.push_back(gaussian_task_moments(test, model.rho));
  const TaskMoments idg_tasks = pool_task_moments(pool.tasks(), model.rho);
  std::vector<RepetitionResult> out;
  for (RidgeFit& fit : solver.fit_path_cancellable(batch, lambdas, stop)) {
    throw_if_stopped(stop);
    RepetitionResult r;
    for (const TaskMoments& icl : icl_tasks) {
      if (setting.test_context_lengths.empty())
        r.icl_errors.push_back(test_error(fit.gamma, icl, ell, model.rho, setting.form));
      for (long test_ell : setting.test_context_lengths)
        r.icl_errors.push_back(test_error(fit.gamma, icl, test_ell, model.rho, setting.form));
    }
    r.idg_error = test_error(fit.gamma, idg_tasks, ell, model.rho, setting.form);
    r.report = std::move(fit.report);
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

std::vector<RepetitionResult> simulate_repetition(const ModelParams& model, const TaskSetting& setting,
                                                  std::span<const double> lambdas, std::uint64_t seed,
                                                  std::uint64_t repetition, const RidgeSolver& solver,
                                                  const std::stop_token& stop) {
  require_simulation_memory(model, solver);
  return fit_and_score(model, setting, lambdas, draw_pretraining(model, setting, seed, repetition, stop), solver, stop);
}

std::pair<double, double> mean_and_population_std(const std::vector<double>& values) {
  double mean = 0.0;
  for (double v : values) mean += v;
  mean /= static_cast<double>(values.size());
  double var = 0.0;
  for (double v : values) var += (v - mean) * (v - mean);
  return {mean, std::sqrt(var / static_cast<double>(values.size()))};
}

std::vector<SimulationResult> simulate_point(const ModelParams& model, const TaskSetting& setting,
                                             std::span<const double> lambdas, long repeats, std::uint64_t seed,
                                             const RidgeSolver& solver, const std::function<void()>& on_repetition,
                                             const std::stop_token& stop) {
  std::vector<std::vector<RepetitionResult>> per_rep(static_cast<std::size_t>(repeats));
  // BLAS always runs single-threaded: threaded OpenBLAS changes the last bits of dgemm/dpotrf/dsyevd
  // with the thread count. Parallelism comes from OpenMP instead: small problems run one repetition
  // per thread, large ones one at a time with OpenMP inside the samplers and solvers (fixed partitions,
  // fixed summation order). Both give identical numbers.
  const BlasThreadScope single(1);
  const RidgeSolver::Scheduling scheduling = solver.scheduling();
  if (scheduling != RidgeSolver::Scheduling::concurrent) {
    // One fit at a time. Overlapped (a GPU): the next repetition is drawn on another thread (with its own
    // OpenMP team inside the sampler) while this one fits; the draws depend on (seed, point, repetition)
    // only, so they are the same as in any other order. A pending draw is finished before an exception
    // leaves (the future's destructor waits).
    require_simulation_memory(model, solver);
    const auto draw = [&](long r) {
      return draw_pretraining(model, setting, seed, static_cast<std::uint64_t>(r), stop);
    };
    const bool overlap = scheduling == RidgeSolver::Scheduling::overlapped;
    std::future<PretrainingDraw> next;
    if (overlap) next = std::async(std::launch::async, draw, 0L);
    for (long r = 0; r < repeats; ++r) {
      const PretrainingDraw current = overlap ? next.get() : draw(r);
      if (overlap && r + 1 < repeats) next = std::async(std::launch::async, draw, r + 1);
      per_rep[static_cast<std::size_t>(r)] = fit_and_score(model, setting, lambdas, current, solver, stop);
      if (on_repetition) on_repetition();
    }
  }
  const bool small = model.d <= 64 && repeats > 1;
  // Exceptions must not leave an OpenMP region: keep the first and rethrow it after the loop.
  std::exception_ptr failure;
  const long concurrent_repeats = scheduling == RidgeSolver::Scheduling::concurrent ? repeats : 0;  // else above
#pragma omp parallel for schedule(dynamic, 1) if (small)
  for (long r = 0; r < concurrent_repeats; ++r) {
    bool stopped = false;
#pragma omp critical(iclab_failure)
    stopped = failure != nullptr;
    if (stopped) continue;  // after a failure (or a caller's stop from on_repetition) start nothing new
    try {
      per_rep[static_cast<std::size_t>(r)] =
          simulate_repetition(model, setting, lambdas, seed, static_cast<std::uint64_t>(r), solver, stop);
      if (on_repetition) {
        // An exception must not leave the critical section either (GCC terminates): carry it out.
        std::exception_ptr thrown;
#pragma omp critical(iclab_progress)
        try {
          on_repetition();
        } catch (...) {
          thrown = std::current_exception();
        }
        if (thrown) std::rethrow_exception(thrown);
      }
    } catch (...) {
#pragma omp critical(iclab_failure)
      if (!failure) failure = std::current_exception();
    }
  }
  if (failure) std::rethrow_exception(failure);
  std::vector<SimulationResult> results;
  for (std::size_t li = 0; li < lambdas.size(); ++li) {
    SimulationResult s;
    s.model = model;
    s.lambda = lambdas[li];
    std::vector<double> idg;
    for (auto& rep : per_rep) {
      s.repetitions.push_back(rep[li]);
      idg.push_back(rep[li].idg_error);
    }
    for (std::size_t t = 0; t < setting.num_icl(); ++t) {
      std::vector<double> icl;
      for (const auto& rep : s.repetitions) icl.push_back(rep.icl_errors[t]);
      const auto [mean, sd] = mean_and_population_std(icl);
      s.icl_mean.push_back(mean);
      s.icl_std.push_back(sd);
    }
    std::tie(s.idg_mean, s.idg_std) = mean_and_population_std(idg);
    results.push_back(std::move(s));
  }
  return results;
}

}  // namespace iclab
