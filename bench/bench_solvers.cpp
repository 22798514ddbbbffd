// Time per Gamma* fit of each ridge solver (direct, cg, dual, auto) at d = 40, 60, 100 for
// tau = 0.5 (n < p) and tau = 2 (n > p); alpha = 10, kappa = 0.5, rho = 0.01, lambda = 1e-8.
// The dual solver is timed only for tau < 1, its regime. Counters: CG iterations and the
// normal-equation residual of the fit. Filter with e.g. --benchmark_filter='d:40/'.
#include <map>
#include <memory>
#include <string>
#include <utility>

#include <benchmark/benchmark.h>

#include "iclab/model/ridge_solver.hpp"
#include "iclab/sampling/task_pool.hpp"

using namespace iclab;

namespace {

const FeatureBatch& batch_for(long d, double tau) {
  static std::map<std::pair<long, double>, FeatureBatch> cache;
  auto it = cache.find({d, tau});
  if (it == cache.end()) {
    ModelParams m;
    m.d = d;
    m.alpha = 10;
    m.tau = tau;
    m.kappa = 0.5;
    m.rho = 0.01;
    const StreamAddress address{0, 1, 0, 0};
    const TaskPool pool = TaskPool::draw(m.num_tasks(), d, m.task_norm, address);
    it = cache.emplace(std::make_pair(d, tau),
                       sample_features(pool.tasks(), assign_tasks(m, address), m.context_length(), m.rho, address))
             .first;
  }
  return it->second;
}

void fit_once(benchmark::State& state, const std::string& solver_name, long d, double tau) {
  const FeatureBatch& batch = batch_for(d, tau);
  const auto solver = make_ridge_solver(solver_name);
  RidgeFit fit;
  for (auto _ : state) {
    fit = solver->fit(batch, 1e-8);
    benchmark::DoNotOptimize(fit.gamma.data());
  }
  state.counters["n"] = static_cast<double>(batch.size());
  state.counters["cg_iterations"] = static_cast<double>(fit.report.iterations);
  state.counters["residual"] = fit.report.relative_residual;
  state.SetLabel(fit.report.solver + "/" + fit.report.system + "/" + fit.report.factorization);
}

}  // namespace

int main(int argc, char** argv) {
  for (long d : {40L, 60L, 100L}) {
    for (double tau : {0.5, 2.0}) {
      for (const char* solver : {"direct", "cg", "dual", "auto"}) {
        if (std::string(solver) == "dual" && tau > 1) continue;
        const std::string name = std::string(solver) + "/d:" + std::to_string(d) + "/tau:" + (tau < 1 ? "0.5" : "2");
        auto* bench = benchmark::RegisterBenchmark(name.c_str(), fit_once, std::string(solver), d, tau);
        bench->Unit(benchmark::kMillisecond)->UseRealTime();
        if (d >= 100 || (d >= 60 && std::string(solver) == "direct")) bench->Iterations(1);  // fits of seconds
      }
    }
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
