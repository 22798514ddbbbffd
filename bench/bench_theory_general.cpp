// Timings of the general-covariance theory (targets: one point at d = 1000 < 1 ms; the Fig 4 heatmap,
// 51 x 81 cells at d = 100, < 50 ms).
#include <benchmark/benchmark.h>

#include <vector>

#include "iclab/covariances/covariance_spec.hpp"
#include "iclab/theory/general.hpp"
#include "iclab/theory/optimal_pretraining.hpp"

namespace {

using iclab::Vector;
using namespace iclab::theory;

// One theory point: every C_train-dependent quantity plus one C_test, from the spectra (the
// eigendecomposition, if any, is done once per C_train and not part of a point).
void theory_point(benchmark::State& state, double tau) {
  const long d = state.range(0);
  const Vector train = iclab::power_law_spectrum(d, 0.9);
  const Vector test = iclab::power_law_spectrum(d, 1.4);
  const AlignmentPoint p{2.0, tau, 1.0, 0.01, std::nullopt};
  for (auto _ : state) {
    const PretrainingTheory t = pretraining_theory(train, p);
    benchmark::DoNotOptimize(icl_error(t, test).e_icl);
  }
}
void BM_TheoryPointTauAbove1(benchmark::State& state) { theory_point(state, 4.0); }
void BM_TheoryPointTauBelow1(benchmark::State& state) { theory_point(state, 0.5); }  // nested root for lambda~
BENCHMARK(BM_TheoryPointTauAbove1)->Arg(1000)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_TheoryPointTauBelow1)->Arg(1000)->Unit(benchmark::kMicrosecond);

std::vector<double> linspace(double start, double stop, int n) {
  std::vector<double> v(static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<std::size_t>(i)] = start + i * (stop - start) / (n - 1);
  return v;
}

void BM_OptimalPretrainingHeatmap(benchmark::State& state) {
  HeatmapRequest request;  // Fig 4: d = 100, p_test = 0.9, alpha = 1, tau = 4, rho = 0.01
  request.d = state.range(0);
  request.delta_p = linspace(-0.5, 2.0, 51);
  request.kappa = linspace(0.1, 2.1, 81);
  for (auto _ : state) benchmark::DoNotOptimize(optimal_pretraining_heatmap(request).data());
}
BENCHMARK(BM_OptimalPretrainingHeatmap)->Arg(100)->Unit(benchmark::kMillisecond);

// A non-diagonal C_train: projecting one C_test into its eigenbasis (one d x d product).
void BM_ProjectNonCommutingTest(benchmark::State& state) {
  const long d = state.range(0);
  const AlignmentTheory alignment(iclab::parse_covariance("rot:1:power:0.9", d, "--ctrain"));
  const iclab::TaskCovariance test = iclab::parse_covariance("wishart:2", d, "--ctest");
  for (auto _ : state) benchmark::DoNotOptimize(alignment.project(test).data());
}
BENCHMARK(BM_ProjectNonCommutingTest)->Arg(300)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
