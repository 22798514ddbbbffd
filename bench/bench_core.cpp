// Core kernels of the foundation: isotropic theory, the exact context sampler (whose cost must not
// grow with the context length l), and the exact test error.
#include <benchmark/benchmark.h>

#include <cmath>
#include <limits>
#include <span>
#include <vector>

#include "iclab/evaluation/test_error.hpp"
#include "iclab/model/ridge_solver.hpp"
#include "iclab/sampling/context_sampler.hpp"
#include "iclab/sampling/task_pool.hpp"
#include "iclab/theory/isotropic.hpp"

using namespace iclab;

static void BM_TheoryRidgelessPoint(benchmark::State& state) {
  double tau = 0.5;
  for (auto _ : state) {
    benchmark::DoNotOptimize(theory::icl_error({10, tau, 0.5, 0.01, 0.0}) + theory::idg_error({10, tau, 0.5, 0.01, 0.0}));
    tau = tau == 0.5 ? 2.0 : 0.5;
  }
}
BENCHMARK(BM_TheoryRidgelessPoint);

static void BM_TheoryRidgePoint(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(theory::icl_error({10, 2, 0.5, 0.01, 1e-6}));
}
BENCHMARK(BM_TheoryRidgePoint);

// The ridge theory over a 16^4 grid of alpha, tau, kappa (inf included), rho at lambda = 1e-3, point by
// point and in SIMD lanes (the same bits; the Python module's arrays take the lanes). Items: points.
static std::vector<theory::IsotropicPoint> ridge_grid() {
  std::vector<theory::IsotropicPoint> points;
  for (int a = 0; a < 16; ++a)
    for (int t = 0; t < 16; ++t)
      for (int k = 0; k < 16; ++k)
        for (int r = 0; r < 16; ++r)
          points.push_back({0.5 * std::pow(200.0, a / 15.0), 0.1 * std::pow(100.0, (t + 0.5) / 16.0),
                            k == 15 ? std::numeric_limits<double>::infinity() : 0.1 * std::pow(100.0, k / 14.0),
                            1e-3 * std::pow(1e3, r / 15.0), 1e-3});
  return points;
}

static void BM_TheoryRidgeGridPointByPoint(benchmark::State& state) {
  const std::vector<theory::IsotropicPoint> points = ridge_grid();
  std::vector<theory::IsotropicErrors> out(points.size());
  for (auto _ : state) {
    for (std::size_t i = 0; i < points.size(); ++i) out[i] = theory::isotropic_errors(points[i]);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<long>(points.size()));
}
BENCHMARK(BM_TheoryRidgeGridPointByPoint)->Unit(benchmark::kMillisecond);

static void BM_TheoryRidgeGridLockstep(benchmark::State& state) {
  const std::vector<theory::IsotropicPoint> points = ridge_grid();
  std::vector<theory::IsotropicErrors> out(points.size());
  for (auto _ : state) {
    theory::isotropic_errors(std::span(points), std::span(out));
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<long>(points.size()));
}
BENCHMARK(BM_TheoryRidgeGridLockstep)->Unit(benchmark::kMillisecond);

static void BM_AlphaMinimum(benchmark::State& state) {
  for (auto _ : state)
    benchmark::DoNotOptimize(theory::alpha_minimising(theory::Observable::icl, {1, 0.5, 0.4, 0.1, 0.0}));
}
BENCHMARK(BM_AlphaMinimum)->Unit(benchmark::kMicrosecond);

// Contexts per second of the exact sampler at d = 100 for l = 100 ... 1e6: flat in l.
static void BM_ExactSampler(benchmark::State& state) {
  const long d = 100, n = 2000;
  const Matrix tasks = TaskPool::draw(1, d, TaskNorm::gaussian, {1, 0, 0, 0}).tasks();
  const std::vector<long> task_of(n, 0);
  for (auto _ : state) benchmark::DoNotOptimize(sample_features(tasks, task_of, state.range(0), 0.01, {2, 0, 0, 0}));
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_ExactSampler)->Arg(100)->Arg(10'000)->Arg(1'000'000)->Unit(benchmark::kMillisecond);

// The token-level sampler for comparison: O(l d) per context.
static void BM_TokenSampler(benchmark::State& state) {
  const long d = 100, n = 200;
  const Matrix tasks = TaskPool::draw(1, d, TaskNorm::gaussian, {1, 0, 0, 0}).tasks();
  const std::vector<long> task_of(n, 0);
  for (auto _ : state)
    benchmark::DoNotOptimize(sample_features_direct(tasks, task_of, state.range(0), 0.01, {2, 0, 0, 0}));
  state.SetItemsProcessed(state.iterations() * n);
}
BENCHMARK(BM_TokenSampler)->Arg(100)->Arg(10'000)->Unit(benchmark::kMillisecond);

static void BM_ExactTestError(benchmark::State& state) {
  const long d = state.range(0);
  const Matrix gamma = Matrix::Random(d, d + 1);
  const TaskMoments icl = isotropic_task_moments(d, 0.01, TaskNorm::gaussian);
  for (auto _ : state) benchmark::DoNotOptimize(test_error(gamma, icl, 10 * d, 0.01));
}
BENCHMARK(BM_ExactTestError)->Arg(40)->Arg(100)->Unit(benchmark::kMicrosecond);

static void BM_DirectFit(benchmark::State& state) {
  const long d = state.range(0);
  ModelParams m;
  m.d = d;
  m.alpha = 10;
  m.tau = static_cast<double>(state.range(1)) / 10.0;
  m.kappa = 0.5;
  m.rho = 0.01;
  const StreamAddress a{1, 2, 0, 0};
  const TaskPool pool = TaskPool::draw(m.num_tasks(), d, m.task_norm, a);
  const FeatureBatch batch = sample_features(pool.tasks(), assign_tasks(m, a), m.context_length(), m.rho, a);
  const DirectRidgeSolver solver;
  for (auto _ : state) benchmark::DoNotOptimize(solver.fit(batch, 1e-8));
}
BENCHMARK(BM_DirectFit)->Args({40, 5})->Args({40, 20})->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
