// Fits Gamma* on features saved by bench/compare_reference.py (the reference implementation's own
// draw), so iclab's solvers and the authors' pipeline are timed and compared on identical data.
// Usage: fit_from_npy DIR SOLVER LAMBDA ELL RHO   (DIR holds xq.npy, z.npy, y.npy, tasks.npy)
// Prints one JSON object: solver report, fit seconds, e_icl (sphere tasks) and e_idg (the pool).
#include <chrono>
#include <cstdio>
#include <string>

#include <nlohmann/json.hpp>

#include "iclab/covariances/matrix_file.hpp"
#include "iclab/evaluation/test_error.hpp"
#include "iclab/model/ridge_solver.hpp"

using namespace iclab;

int main(int argc, char** argv) {
  if (argc != 6) {
    std::fprintf(stderr, "usage: fit_from_npy DIR SOLVER LAMBDA ELL RHO\n");
    return 2;
  }
  const std::string dir = argv[1];
  const double lambda = std::stod(argv[3]);
  const long ell = std::stol(argv[4]);
  const double rho = std::stod(argv[5]);
  set_blas_threads(1);
  FeatureBatch batch;
  batch.x_query = read_matrix_file(dir + "/xq.npy", "xq");
  batch.z = read_matrix_file(dir + "/z.npy", "z");
  batch.y_query = read_matrix_file(dir + "/y.npy", "y").col(0);
  const Matrix tasks = read_matrix_file(dir + "/tasks.npy", "tasks");
  const auto solver = make_ridge_solver(argv[2]);
  const auto start = std::chrono::steady_clock::now();
  const RidgeFit fit = solver->fit(batch, lambda);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const long d = batch.dim();
  nlohmann::json out = fit.report.to_json();
  out["fit_seconds"] = seconds;
  out["e_icl"] = test_error(fit.gamma, isotropic_task_moments(d, rho, TaskNorm::sphere), ell, rho);
  out["e_idg"] = test_error(fit.gamma, pool_task_moments(tasks, rho), ell, rho);
  std::printf("%s\n", out.dump().c_str());
  return 0;
}
