// Monte-Carlo Bayes baselines (spec: solvable-model-isotropic §4.6): agreement with the asymptotic
// Bayes-ridge error, the dMMSE's known orderings, the authors' d = 10 g_task numbers, and
// thread-count independence.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <omp.h>

#include "iclab/baselines/bayes.hpp"
#include "iclab/error.hpp"
#include "iclab/theory/isotropic.hpp"

using namespace iclab;

namespace {

BayesSetting setting(long d, double alpha, double kappa, double rho, long samples, std::uint64_t seed = 7) {
  BayesSetting s;
  s.d = d;
  s.alpha = alpha;
  s.kappa = kappa;
  s.rho = rho;
  s.samples = samples;
  s.seed = seed;
  return s;
}

// The estimates computed with `threads` OpenMP threads and blocks of `block` samples; the thread count is
// restored afterwards.
BayesEstimates estimate_with(BayesSetting s, int threads, long block) {
  const int previous = omp_get_max_threads();
  omp_set_num_threads(threads);
  s.block = block;
  const BayesEstimates estimates = estimate_bayes_baselines(s);
  omp_set_num_threads(previous);
  return estimates;
}

double combined_se(const ErrorEstimate& a, const ErrorEstimate& b) {
  return std::hypot(a.standard_error, b.standard_error);
}

}  // namespace

TEST(BayesBaselines, RidgeIclMatchesAsymptoticBayesError) {
  // Spec §6 checkpoint 5: rho (1 + S_W(rho, alpha)) = 0.64039 at alpha = 1, rho = 0.25; the d = 100
  // finite-size offset measured there is 0.0018, so 0.003 plus 4 SE.
  const BayesEstimates e = estimate_bayes_baselines(setting(100, 1.0, 0.1, 0.25, 20000));
  const double theory = theory::bayes_ridge_error(1.0, 0.25);
  EXPECT_NEAR(theory, 0.64039, 1e-5);
  EXPECT_NEAR(e.ridge_icl.mean, theory, 0.003 + 4.0 * e.ridge_icl.standard_error);
  // The Gaussian posterior mean does not know the pool: on pool tasks it does just as well.
  EXPECT_NEAR(e.ridge_idg.mean, theory, 0.003 + 4.0 * e.ridge_idg.standard_error);
  EXPECT_NEAR(e.ridge_gtask.mean, 0.0, 4.0 * e.ridge_gtask.standard_error);
}

TEST(BayesBaselines, DmmseApproachesRidgeForManyTasks) {
  // k = 2000 >> d = 5: the uniform prior over the pool approaches N(0, I), so the dMMSE approaches the
  // Gaussian posterior mean on both test distributions, and far closer than with k = 10.
  const BayesEstimates many = estimate_bayes_baselines(setting(5, 2.0, 400.0, 0.25, 20000));
  EXPECT_NEAR(many.dmmse_idg.mean, many.ridge_icl.mean, 4.0 * combined_se(many.dmmse_idg, many.ridge_icl));
  EXPECT_NEAR(many.dmmse_icl.mean, many.ridge_icl.mean,
              0.02 + 4.0 * combined_se(many.dmmse_icl, many.ridge_icl));
  const BayesEstimates few = estimate_bayes_baselines(setting(5, 2.0, 2.0, 0.25, 20000));
  EXPECT_GT(few.dmmse_gtask.mean, 4.0 * many.dmmse_gtask.mean);
}

TEST(BayesBaselines, DmmseMemorisesBetterInDistributionAtSmallKappa) {
  // k = 5 tasks in d = 10: the dMMSE identifies the task, the ridge must learn it from l = 10 examples.
  const BayesEstimates e = estimate_bayes_baselines(setting(10, 1.0, 0.5, 0.25, 4000));
  EXPECT_LT(e.dmmse_idg.mean + 4.0 * combined_se(e.dmmse_idg, e.ridge_idg), e.ridge_idg.mean);
  // ...and pays for it out of distribution.
  EXPECT_GT(e.dmmse_icl.mean - 4.0 * combined_se(e.dmmse_icl, e.ridge_icl), e.ridge_icl.mean);
}

TEST(BayesBaselines, DmmseTaskGeneralisationGapFallsWithKappa) {
  const std::vector<double> kappas{0.2, 1.0, 4.0, 32.0};
  std::vector<ErrorEstimate> gaps;
  for (const double kappa : kappas) gaps.push_back(estimate_bayes_baselines(setting(10, 10.0, kappa, 0.01, 4000)).dmmse_gtask);
  for (std::size_t i = 1; i < gaps.size(); ++i) {
    EXPECT_LT(gaps[i].mean + 2.0 * std::hypot(gaps[i].standard_error, gaps[i - 1].standard_error), gaps[i - 1].mean)
        << "kappa " << kappas[i - 1] << " -> " << kappas[i];
  }
}

// Compares our dMMSE g_task with lu2024_gtask_dmmse_d{d}.csv (the authors' quick Fig-4 demo:
// alpha = 10, rho = 0.01, 12 kappa values, one pool of int(kappa d) Gaussian tasks and 1000 samples
// per kappa; their std is per sample).
//
// Tolerance. Their number is ONE pool's 1000-sample mean, so it scatters around the truth by the
// spread of single-pool means, sigma_1: the per-sample noise std / sqrt(1000) (their SE) plus the
// pool-to-pool variation of the mean itself (large when k is small, e.g. k = 2..8 at d = 10), which
// their per-sample std does not measure. We run `pools` independent pools with the same 1000 samples
// each, estimate sigma_1 by the spread s of our single-pool means, and average them (SE s/sqrt(pools)).
// s comes from only pools - 1 = 7 degrees of freedom, so it is floored by their SE (a lower bound on
// sigma_1). The combined standard error of (ours - theirs) is hypot(max(s, SE_theirs), s/sqrt(pools)),
// and we allow 4 of them: a two-sided 4-sigma band has a false-alarm rate ~6e-5 per row (~2e-3 over
// the 36 rows of the three files), and leaves room for a t_7-distributed s that happens to be small.
// A bias shared by all kappa would hide inside 12 separate 4-sigma bands, so the mean of the 12
// standardised differences is also required to stay within 4 / sqrt(12) (they are independent).
static void expect_authors_dmmse_gtask(long expected_d, int pools) {
  std::ifstream in(std::string(ICLAB_REFERENCE_DATA_DIR) + "/lu2024_gtask_dmmse_d" + std::to_string(expected_d) + ".csv");
  ASSERT_TRUE(in) << "missing reference data";
  std::string line;
  std::getline(in, line);
  int rows = 0;
  double z_sum = 0.0;
  while (std::getline(in, line)) {
    std::stringstream cells(line);
    std::vector<double> v;
    for (std::string cell; std::getline(cells, cell, ',');) v.push_back(std::stod(cell));
    ASSERT_EQ(v.size(), 7u);
    const long d = static_cast<long>(v[0]);
    ASSERT_EQ(d, expected_d);
    const long numavg = static_cast<long>(v[4]);
    double sum = 0.0;
    double sum2 = 0.0;
    for (int r = 0; r < pools; ++r) {
      BayesSetting s = setting(d, v[1], v[2], v[3], numavg, 2024);
      s.repetition = static_cast<std::uint64_t>(r);
      const double g = estimate_bayes_baselines(s).dmmse_gtask.mean;
      sum += g;
      sum2 += g * g;
    }
    const double mean = sum / pools;
    const double single_pool_sd = std::sqrt(std::max(0.0, (sum2 - pools * mean * mean) / (pools - 1)));
    const double theirs_se = v[6] / std::sqrt(v[4]);
    const double combined = std::hypot(std::max(single_pool_sd, theirs_se), single_pool_sd / std::sqrt(double(pools)));
    EXPECT_NEAR(mean, v[5], 4.0 * combined) << "d = " << d << ", kappa = " << v[2];
    z_sum += (mean - v[5]) / combined;
    ++rows;
  }
  EXPECT_EQ(rows, 12);
  EXPECT_LT(std::abs(z_sum / rows), 4.0 / std::sqrt(double(rows))) << "systematic offset at d = " << expected_d;
}

TEST(BayesBaselines, ReproducesAuthorsDmmseGtaskAtD10) { expect_authors_dmmse_gtask(10, 8); }
TEST(BayesBaselines, ReproducesAuthorsDmmseGtaskAtD32) { expect_authors_dmmse_gtask(32, 8); }
TEST(BayesBaselines, ReproducesAuthorsDmmseGtaskAtD64) { expect_authors_dmmse_gtask(64, 8); }

TEST(BayesBaselines, BitIdenticalWhateverTheThreadsAndBlocks) {
  const BayesSetting s = setting(20, 1.5, 2.0, 0.1, 300);
  const BayesEstimates one = estimate_with(s, 1, 64);
  const BayesEstimates two = estimate_with(s, 2, 7);
  EXPECT_EQ(one.dmmse_icl.mean, two.dmmse_icl.mean);
  EXPECT_EQ(one.dmmse_idg.mean, two.dmmse_idg.mean);
  EXPECT_EQ(one.ridge_icl.mean, two.ridge_icl.mean);
  EXPECT_EQ(one.ridge_idg.mean, two.ridge_idg.mean);
  EXPECT_EQ(one.dmmse_gtask.std, two.dmmse_gtask.std);
  // The same for the per-sample (direct) pool product, used when l < (d + 1) / 2, and for a general
  // C_train; 300 samples span three internal GEMM batches.
  for (const bool general : {false, true}) {
    BayesSetting t = setting(20, 0.4, 3.0, 0.1, 300);
    if (general) t.train = TaskCovariance::from_diagonal(Vector::LinSpaced(20, 0.2, 1.8), "linear", "--ctrain");
    const BayesEstimates a = estimate_with(t, 1, 1000);
    const BayesEstimates b = estimate_with(t, 2, 1);
    EXPECT_EQ(a.dmmse_icl.mean, b.dmmse_icl.mean);
    EXPECT_EQ(a.dmmse_idg.std, b.dmmse_idg.std);
    EXPECT_EQ(a.ridge_icl.mean, b.ridge_icl.mean);
  }
  // More samples extend the same draws: the key does not depend on the sample count.
  EXPECT_EQ(bayes_point_key(s), bayes_point_key(setting(20, 1.5, 2.0, 0.1, 5)));
}

TEST(BayesBaselines, GeneralCovarianceIdentityMatchesIsotropicLaw) {
  // C_train = I through the general (dual, factor) path: same pool and same law, so statistically equal.
  BayesSetting s = setting(10, 2.0, 1.0, 0.1, 4000);
  const BayesEstimates iso = estimate_bayes_baselines(s);
  s.train = TaskCovariance::from_diagonal(Vector::Ones(10), "iso", "--ctrain");
  const BayesEstimates general = estimate_bayes_baselines(s);
  EXPECT_NEAR(general.ridge_icl.mean, iso.ridge_icl.mean, 4.0 * combined_se(general.ridge_icl, iso.ridge_icl));
  EXPECT_NEAR(general.dmmse_idg.mean, iso.dmmse_idg.mean, 4.0 * combined_se(general.dmmse_idg, iso.dmmse_idg));
  // A rank-deficient prior: the posterior mean stays in the range of C, where all tasks live.
  Vector half = Vector::Zero(10);
  half.head(5).setConstant(2.0);
  s.train = TaskCovariance::from_diagonal(half, "lowrank:5", "--ctrain");
  const BayesEstimates low = estimate_bayes_baselines(s);
  EXPECT_TRUE(std::isfinite(low.ridge_icl.mean));
  EXPECT_LT(low.ridge_icl.mean, iso.ridge_icl.mean);  // half the unknowns, same l
}

TEST(BayesBaselines, RejectsInvalidSettings) {
  EXPECT_THROW(estimate_bayes_baselines(setting(10, 1.0, 0.05, 0.1, 10)), InvalidArgument);  // k = 0
  EXPECT_THROW(estimate_bayes_baselines(setting(10, 1.0, 1.0, 0.0, 10)), InvalidArgument);   // rho = 0
  EXPECT_THROW(estimate_bayes_baselines(setting(10, 0.05, 1.0, 0.1, 10)), InvalidArgument);  // l = 0
  EXPECT_THROW(estimate_bayes_baselines(setting(10, 1.0, 1.0, 0.1, 0)), InvalidArgument);
}

TEST(BayesBaselines, BartlettFactorMatchesDirectCovariates) {
  // For l >= d the default draws the Bartlett factor of X X^T instead of X: the same law, so the two
  // samplers agree within Monte-Carlo error (for C = I and for a general C_train).
  for (const bool general : {false, true}) {
    BayesSetting s = setting(10, 3.0, 1.0, 0.05, 6000);
    if (general) s.train = TaskCovariance::from_diagonal(Vector::LinSpaced(10, 0.2, 1.8), "linear", "--ctrain");
    const BayesEstimates fast = estimate_bayes_baselines(s);
    s.direct_covariates = true;
    const BayesEstimates direct = estimate_bayes_baselines(s);
    EXPECT_NEAR(fast.ridge_icl.mean, direct.ridge_icl.mean, 4.0 * combined_se(fast.ridge_icl, direct.ridge_icl));
    EXPECT_NEAR(fast.ridge_idg.mean, direct.ridge_idg.mean, 4.0 * combined_se(fast.ridge_idg, direct.ridge_idg));
    EXPECT_NEAR(fast.dmmse_icl.mean, direct.dmmse_icl.mean, 4.0 * combined_se(fast.dmmse_icl, direct.dmmse_icl));
    EXPECT_NEAR(fast.dmmse_idg.mean, direct.dmmse_idg.mean, 4.0 * combined_se(fast.dmmse_idg, direct.dmmse_idg));
  }
}
