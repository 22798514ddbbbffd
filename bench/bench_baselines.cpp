// Monte-Carlo Bayes baselines at the authors' finitebayesrun.py size: d = 100, alpha = 1, rho = 0.01,
// 50 000 test contexts per kappa (the authors took 28-111 s per kappa). Uses all OpenMP threads.
#include <benchmark/benchmark.h>

#include "iclab/baselines/bayes.hpp"

namespace {

void BM_BayesBaselines(benchmark::State& state) {
  iclab::BayesSetting s;
  s.d = 100;
  s.alpha = 1.0;
  s.kappa = static_cast<double>(state.range(0));
  s.rho = 0.01;
  s.samples = state.range(1);
  s.seed = 1;
  for (auto _ : state) {
    const iclab::BayesEstimates e = iclab::estimate_bayes_baselines(s);
    benchmark::DoNotOptimize(e);
    state.counters["dmmse_gtask"] = e.dmmse_gtask.mean;
    state.counters["ridge_icl"] = e.ridge_icl.mean;
  }
  state.counters["samples_per_s"] =
      benchmark::Counter(static_cast<double>(s.samples), benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

BENCHMARK(BM_BayesBaselines)->Args({1, 50000})->Args({10, 50000})->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

BENCHMARK_MAIN();
