// The authors' published Fig 1 simulations (Lu et al., d = 100; ../shared/reference-data) reproduced
// by iclab's pipeline in the authors' conventions (sphere tasks, balanced assignment, lambda = 1e-8).
// Both sides are means over independent repetitions with population std s (ddof = 0); the difference
// of two means has standard error sqrt(s1^2/(R1-1) + s2^2/(R2-1)). We require agreement within 4 such
// standard errors (24 comparisons: a false alarm has probability ~1.5e-3) plus 1% for the authors'
// lambda/rounding differences. Slow: about a minute on 2 cores with the fast solvers.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "iclab/experiments/simulate.hpp"

using namespace iclab;

namespace {

struct Row {
  double alpha, tau, icl_mean, icl_std, idg_mean, idg_std;
  double repeats;
};

std::vector<Row> read_fig1(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // d,alpha,kappa,tau,rho,lam,numavg,icl_mean,icl_std,idg_mean,idg_std
  std::vector<Row> rows;
  while (std::getline(in, line)) {
    std::vector<double> v;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) v.push_back(std::stod(cell));
    if (v.size() != 11) continue;
    rows.push_back({v[1], v[3], v[7], v[8], v[9], v[10], v[6]});
  }
  return rows;
}

}  // namespace

TEST(ReferenceData, LuFigure1AtD100) {
  const std::string path = std::string(ICLAB_REFERENCE_DATA_DIR) + "/lu2024_fig1_d100.csv";
  if (!std::filesystem::exists(path)) GTEST_SKIP() << path << " not found";
  const auto rows = read_fig1(path);
  ASSERT_EQ(rows.size(), 12u);
  const auto solver = make_ridge_solver(ICLAB_REFERENCE_SOLVER);
  const std::vector<double> lambdas = {1e-8};
  for (const Row& r : rows) {
    ModelParams m;
    m.d = 100;
    m.alpha = r.alpha;
    m.tau = r.tau;
    m.kappa = 0.5;
    m.rho = 0.01;
    m.task_norm = TaskNorm::sphere;
    m.assignment = Assignment::balanced;
    const long repeats = 4;
    const auto s = simulate_point(m, {}, lambdas, repeats, 100, *solver)[0];
    auto check = [&](const char* what, double ours, double our_sd, double theirs, double their_sd) {
      const double se = std::sqrt(our_sd * our_sd / (repeats - 1.0) + their_sd * their_sd / (r.repeats - 1.0));
      EXPECT_NEAR(ours, theirs, 4 * se + 0.01 * theirs)
          << what << " alpha " << r.alpha << " tau " << r.tau << ": iclab " << ours << " +- " << our_sd
          << ", authors " << theirs << " +- " << their_sd;
    };
    check("ICL", s.icl_mean[0], s.icl_std[0], r.icl_mean, r.icl_std);
    check("IDG", s.idg_mean, s.idg_std, r.idg_mean, r.idg_std);
  }
}
