// Monte-Carlo Bayes baselines at the authors' finitebayesrun.py size: d = 100, alpha = 1, rho = 0.01,
// 50 000 test contexts per kappa (the authors took 28-111 s per kappa). Uses all OpenMP threads
// (OMP_NUM_THREADS); BLAS runs single-threaded inside them.
//   build/bench/bench_baselines                                  # kappa in {0.1, 1, 10, 50}
//   build/bench/bench_baselines --benchmark_filter='/10/'         # kappa = 1 only (first arg is 10 kappa)
#include <benchmark/benchmark.h>

#include "iclab/baselines/bayes.hpp"

namespace {

void BM_BayesBaselines(benchmark::State& state) {
  iclab::BayesSetting s;
  s.d = 100;
  s.alpha = 1.0;
  s.kappa = static_cast<double>(state.range(0)) / 10.0;  // range(0) = 10 kappa, so kappa = 0.1 fits an int
  s.rho = 0.01;
  s.samples = state.range(1);
  s.seed = 1;
  for (auto _ : state) {
    const iclab::BayesEstimates e = iclab::estimate_bayes_baselines(s);
    benchmark::DoNotOptimize(e);
    state.counters["k"] = static_cast<double>(e.num_tasks);
    state.counters["dmmse_gtask"] = e.dmmse_gtask.mean;
    state.counters["dmmse_icl"] = e.dmmse_icl.mean;
    state.counters["ridge_icl"] = e.ridge_icl.mean;
  }
  state.counters["samples_per_s"] =
      benchmark::Counter(static_cast<double>(s.samples), benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace

BENCHMARK(BM_BayesBaselines)
    ->ArgNames({"kappa10", "samples"})
    ->Args({1, 50000})
    ->Args({10, 50000})
    ->Args({100, 50000})
    ->Args({500, 50000})
    ->Unit(benchmark::kSecond)
    ->Iterations(1)
    ->UseRealTime();

BENCHMARK_MAIN();
