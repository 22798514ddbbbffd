// Exact test error of a fixed Gamma (spec: Lu et al. §3) against closed forms and Monte Carlo.
#include <cmath>

#include <gtest/gtest.h>

#include "iclab/evaluation/test_error.hpp"
#include "iclab/sampling/task_pool.hpp"

using namespace iclab;

namespace {

Matrix random_gamma(long d, std::uint64_t seed, double scale) {
  RandomStream s(StreamId::test, {seed, 0, 0, 0});
  Matrix g(d, d + 1);
  for (long i = 0; i < d; ++i)
    for (long j = 0; j <= d; ++j) g(i, j) = scale * s.normal() / std::sqrt(static_cast<double>(d));
  g.leftCols(d).diagonal().array() += 0.7;
  return g;
}

Matrix fresh_tasks(long count, long d, TaskNorm norm, std::uint64_t seed) {
  return TaskPool::draw(count, d, norm, {seed, 99, 0, 0}).tasks();
}

}  // namespace

TEST(TestError, ScaledIdentityClosedForm) {
  // Gamma = [c I, 0]: E = 1 + rho - 2c + c^2 ((1+rho)/alpha + 1 + 1/l) (spec §3 and checkpoint 7).
  const long d = 100, ell = 1000;
  const double rho = 0.01, alpha = 10.0;
  const TaskMoments icl = isotropic_task_moments(d, rho, TaskNorm::sphere);
  Matrix gamma = Matrix::Zero(d, d + 1);
  gamma.leftCols(d).diagonal().setOnes();
  EXPECT_NEAR(test_error(gamma, icl, ell, rho), 0.112000, 1e-12);
  const double c_opt = 1.0 / ((1 + rho) / alpha + 1 + 1.0 / ell);
  gamma.leftCols(d).diagonal().setConstant(c_opt);
  EXPECT_NEAR(test_error(gamma, icl, ell, rho), 0.102559, 1e-6);
  // The Gaussian correction only involves the s column, zero here.
  EXPECT_DOUBLE_EQ(test_error(gamma, isotropic_task_moments(d, rho, TaskNorm::gaussian), ell, rho),
                   test_error(gamma, icl, ell, rho));
}

// Monte Carlo over token-level contexts: 4.5 standard errors (two-sided p ~ 7e-6 per check).
TEST(TestError, MatchesMonteCarlo) {
  const long d = 10, ell = 20;
  const double rho = 0.3;
  const long samples = 150000;
  const Matrix gamma = random_gamma(d, 3, 3.0);
  struct Case {
    const char* name;
    Matrix tasks;
    TaskMoments moments;
  };
  const Matrix pool = fresh_tasks(5, d, TaskNorm::gaussian, 1);  // unnormalised pool: exercises E[q w], E[q^2]
  std::vector<Case> cases;
  cases.push_back({"icl gaussian", fresh_tasks(samples, d, TaskNorm::gaussian, 2),
                   isotropic_task_moments(d, rho, TaskNorm::gaussian)});
  cases.push_back({"icl sphere", fresh_tasks(samples, d, TaskNorm::sphere, 3),
                   isotropic_task_moments(d, rho, TaskNorm::sphere)});
  cases.push_back({"idg pool", pool, pool_task_moments(pool, rho)});
  for (const Case& c : cases) {
    const double exact = test_error(gamma, c.moments, ell, rho);
    const auto mc = monte_carlo_test_error(gamma, c.tasks, ell, rho, samples, {5, 1, 0, 0});
    EXPECT_NEAR(exact, mc.mean, 4.5 * mc.standard_error) << c.name << " exact " << exact << " mc " << mc.mean;
  }
  // The Gaussian correction (2/d^2)(1 + 2/l)||Gamma_s||^2 is resolved by the MC for a Gamma that reads
  // mostly s: the sphere formula applied to Gaussian tasks is then off by many standard errors.
  Matrix reads_s = Matrix::Zero(d, d + 1);
  reads_s.col(d).setConstant(1.0);
  const double sphere_formula = test_error(reads_s, isotropic_task_moments(d, rho, TaskNorm::sphere), ell, rho);
  const double gaussian_formula = test_error(reads_s, isotropic_task_moments(d, rho, TaskNorm::gaussian), ell, rho);
  const auto mc = monte_carlo_test_error(reads_s, cases[0].tasks, ell, rho, samples, {5, 2, 0, 0});
  EXPECT_NEAR(gaussian_formula, mc.mean, 4.5 * mc.standard_error);
  EXPECT_GT(std::fabs(sphere_formula - mc.mean), 6 * mc.standard_error);
  EXPECT_NEAR(gaussian_formula - sphere_formula, 2.0 / (d * d) * (1 + 2.0 / ell) * reads_s.col(d).squaredNorm(),
              1e-12);
}

TEST(TestError, AsymptoticFormDiffersByOrderOneOverL) {
  const long d = 20;
  const double rho = 0.1;
  const Matrix gamma = random_gamma(d, 4, 1.0);
  // sphere tasks: E[q^2] = E[q]^2, so only the 1/l terms separate the two forms
  const TaskMoments m = isotropic_task_moments(d, rho, TaskNorm::sphere);
  for (long ell : {20L, 200L, 2000L}) {
    const double exact = test_error(gamma, m, ell, rho, ErrorForm::exact);
    const double asym = test_error(gamma, m, ell, rho, ErrorForm::asymptotic);
    EXPECT_GT(exact, asym);  // the dropped terms are positive here
    EXPECT_LT((exact - asym) / exact, 5.0 / static_cast<double>(ell));
  }
}
