#include "iclab/experiments/simulate.hpp"

#include <cmath>
#include <cstdio>

#include <omp.h>

#include "iclab/sampling/context_sampler.hpp"
#include "iclab/sampling/task_pool.hpp"

namespace iclab {

std::uint64_t simulation_point_key(const ModelParams& m) {
  char text[256];
  std::snprintf(text, sizeof text, "d=%ld;alpha=%.17g;tau=%.17g;kappa=%.17g;rho=%.17g;norm=%s;assign=%s", m.d,
                m.alpha, m.tau, m.kappa, m.rho, to_string(m.task_norm).c_str(), to_string(m.assignment).c_str());
  return point_key(text);
}

std::vector<RepetitionResult> simulate_repetition(const ModelParams& model, std::span<const double> lambdas,
                                                  std::uint64_t seed, std::uint64_t repetition,
                                                  const RidgeSolver& solver) {
  const StreamAddress address{seed, simulation_point_key(model), repetition, 0};
  const TaskPool pool = TaskPool::draw(model.num_tasks(), model.d, model.task_norm, address);
  const std::vector<long> task_of = assign_tasks(model, address);
  const long ell = model.context_length();
  const FeatureBatch batch = sample_features(pool.tasks(), task_of, ell, model.rho, address);
  const TaskMoments icl_tasks = isotropic_task_moments(model.d, model.rho, model.task_norm);
  const TaskMoments idg_tasks = pool_task_moments(pool.tasks(), model.rho);
  std::vector<RepetitionResult> out;
  for (RidgeFit& fit : solver.fit_path(batch, lambdas)) {
    RepetitionResult r;
    r.icl_error = test_error(fit.gamma, icl_tasks, ell, model.rho);
    r.idg_error = test_error(fit.gamma, idg_tasks, ell, model.rho);
    r.report = std::move(fit.report);
    out.push_back(std::move(r));
  }
  return out;
}

std::pair<double, double> mean_and_population_std(const std::vector<double>& values) {
  double mean = 0.0;
  for (double v : values) mean += v;
  mean /= static_cast<double>(values.size());
  double var = 0.0;
  for (double v : values) var += (v - mean) * (v - mean);
  return {mean, std::sqrt(var / static_cast<double>(values.size()))};
}

std::vector<SimulationResult> simulate_point(const ModelParams& model, std::span<const double> lambdas, long repeats,
                                             std::uint64_t seed, const RidgeSolver& solver,
                                             const std::function<void()>& on_repetition) {
  std::vector<std::vector<RepetitionResult>> per_rep(static_cast<std::size_t>(repeats));
  // Small problems: one repetition per thread with single-threaded BLAS. Large ones: one at a time
  // with threaded BLAS and samplers. Both give identical numbers (counter-based draws, and BLAS
  // kernels that do not split reductions across threads).
  const bool small = model.d <= 64 && repeats > 1;
  if (small) {
    const BlasThreadScope single(1);
#pragma omp parallel for schedule(dynamic, 1)
    for (long r = 0; r < repeats; ++r) {
      per_rep[static_cast<std::size_t>(r)] =
          simulate_repetition(model, lambdas, seed, static_cast<std::uint64_t>(r), solver);
      if (on_repetition) {
#pragma omp critical(iclab_progress)
        on_repetition();
      }
    }
  } else {
    for (long r = 0; r < repeats; ++r) {
      per_rep[static_cast<std::size_t>(r)] =
          simulate_repetition(model, lambdas, seed, static_cast<std::uint64_t>(r), solver);
      if (on_repetition) on_repetition();
    }
  }
  std::vector<SimulationResult> results;
  for (std::size_t li = 0; li < lambdas.size(); ++li) {
    SimulationResult s;
    s.model = model;
    s.lambda = lambdas[li];
    std::vector<double> icl, idg;
    for (auto& rep : per_rep) {
      s.repetitions.push_back(rep[li]);
      icl.push_back(rep[li].icl_error);
      idg.push_back(rep[li].idg_error);
    }
    std::tie(s.icl_mean, s.icl_std) = mean_and_population_std(icl);
    std::tie(s.idg_mean, s.idg_std) = mean_and_population_std(idg);
    results.push_back(std::move(s));
  }
  return results;
}

}  // namespace iclab
