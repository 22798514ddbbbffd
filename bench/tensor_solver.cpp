// The Gamma* fit on tensors (nn/tensor_solver) against the core's Eigen solvers, in one process and on
// the same draw (these machines are noisy: compare within a run). Prints JSON lines.
//
//   build/bench/tensor_solver fit SETTING [DEVICES] [REPEATS]
//     SETTING: lu-fig1 (d = 100, alpha = 10, kappa = 0.5, tau = 2, lambda = 1e-8: Lu et al. Fig 1),
//              letey-fig1 (d = 120, alpha = 2, kappa = 1, tau = 4, lambda = 1e-6: Letey et al. Fig 1),
//              or D,ALPHA,KAPPA,TAU,LAMBDA; rho = 0.01, Gaussian tasks (bench/compare_reference.py's).
//     DEVICES: comma-separated among eigen (the core's auto solver, all OpenMP threads), cpu and cuda[:N]
//              (the tensor solver's auto method); default eigen,cpu,cuda where CUDA is available.
//     One line per device: the median fit time over REPEATS (default 3) after one warm-up fit, the
//     solver's report, and the agreement with the first device's fit (Gamma, e_ICL and e_IDG relative).
//   build/bench/tensor_solver largest TAU DEVICE [D]
//     The largest d whose fit at tau (alpha = 2, kappa = 1) fits DEVICE's free memory (the tensor solver's
//     auto method; on the host too: the draw, 8 n (2d + 2) bytes of features and the task pool); then,
//     if D is given, draws and fits at d = D there once, timing the draw and the fit apart.
#include "iclab/nn/tensor_solver.hpp"

#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "iclab/error.hpp"
#include "iclab/evaluation/test_error.hpp"
#include "iclab/model/auto_solver.hpp"
#include "iclab/model/ridge_solver.hpp"
#include "iclab/nn/ensemble.hpp"
#include "iclab/params/model_params.hpp"
#include "iclab/sampling/context_sampler.hpp"
#include "iclab/sampling/task_pool.hpp"

namespace {

using namespace iclab;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

struct Setting {
  std::string name;
  ModelParams model;
  double lambda = 0.0;
};

Setting parse_setting(const std::string& text) {
  Setting s;
  s.name = text;
  s.model.rho = 0.01;
  double d = 0;
  if (text == "lu-fig1") {
    d = 100, s.model.alpha = 10, s.model.kappa = 0.5, s.model.tau = 2, s.lambda = 1e-8;
  } else if (text == "letey-fig1") {
    d = 120, s.model.alpha = 2, s.model.kappa = 1, s.model.tau = 4, s.lambda = 1e-6;
  } else {
    std::vector<double> v;
    std::stringstream in(text);
    std::string item;
    while (std::getline(in, item, ',')) v.push_back(std::atof(item.c_str()));
    if (v.size() != 5) throw InvalidArgument("SETTING: lu-fig1, letey-fig1 or D,ALPHA,KAPPA,TAU,LAMBDA");
    d = v[0], s.model.alpha = v[1], s.model.kappa = v[2], s.model.tau = v[3], s.lambda = v[4];
  }
  s.model.d = static_cast<long>(d);
  s.model.validate();
  return s;
}

struct Draw {
  Matrix tasks;
  FeatureBatch batch;
};

Draw draw(const ModelParams& m, std::uint64_t seed) {
  const StreamAddress address{seed, 101, 0, 0};
  Draw out;
  out.tasks = TaskPool::draw(m.num_tasks(), m.d, m.task_norm, address).tasks();
  out.batch = sample_features(out.tasks, assign_tasks(m, address), m.context_length(), m.rho, address);
  return out;
}

std::unique_ptr<RidgeSolver> make(const std::string& device) {
  if (device == "eigen") return make_ridge_solver("auto");
  return nn::make_ridge_solver_on("auto", device);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int fit_command(int argc, char** argv) {
  const Setting s = parse_setting(argv[2]);
  std::vector<std::string> devices;
  if (argc > 3) {
    std::stringstream in(argv[3]);
    std::string item;
    while (std::getline(in, item, ',')) devices.push_back(item);
  } else {
    devices = {"eigen", "cpu"};
    try {
      (void)nn::make_ridge_solver_on("auto", "cuda");
      devices.push_back("cuda");
    } catch (const InvalidArgument&) {  // no CUDA here
    }
  }
  const long repeats = argc > 4 ? std::atol(argv[4]) : 3;
  const ModelParams& m = s.model;
  auto start = std::chrono::steady_clock::now();
  const Draw data = draw(m, 1);
  const double draw_seconds = seconds_since(start);
  const TaskMoments icl = isotropic_task_moments(m.d, m.rho, m.task_norm);
  const TaskMoments idg = pool_task_moments(data.tasks, m.rho);
  const long ell = m.context_length();
  std::printf("%s\n", nlohmann::json{{"setting", s.name},
                                     {"d", m.d},
                                     {"n", m.num_contexts()},
                                     {"p", m.d * (m.d + 1)},
                                     {"lambda", s.lambda},
                                     {"draw_seconds", draw_seconds},
                                     {"threads", omp_get_max_threads()}}
                          .dump()
                          .c_str());
  std::fflush(stdout);
  Matrix first;
  double first_icl = 0, first_idg = 0;
  std::string first_device;
  for (const std::string& device : devices) {
    const auto solver = make(device);
    (void)solver->fit(data.batch, s.lambda);  // warm-up: torch's and cuBLAS's lazy initialisation
    std::vector<double> times;
    RidgeFit fit;
    for (long r = 0; r < repeats; ++r) {
      start = std::chrono::steady_clock::now();
      fit = solver->fit(data.batch, s.lambda);
      times.push_back(seconds_since(start));
    }
    const double e_icl = test_error(fit.gamma, icl, ell, m.rho), e_idg = test_error(fit.gamma, idg, ell, m.rho);
    nlohmann::json line = {{"setting", s.name},
                           {"device", device},
                           {"fit_seconds", median(times)},
                           {"repeats", repeats},
                           {"report", fit.report.to_json()},
                           {"e_icl", e_icl},
                           {"e_idg", e_idg}};
    if (first.size() == 0) {
      first = fit.gamma, first_icl = e_icl, first_idg = e_idg, first_device = device;
    } else {
      line["against"] = first_device;
      line["gamma_relative_difference"] = (fit.gamma - first).norm() / first.norm();
      line["e_icl_relative_difference"] = std::abs(e_icl - first_icl) / first_icl;
      line["e_idg_relative_difference"] = std::abs(e_idg - first_idg) / first_idg;
    }
    std::printf("%s\n", line.dump().c_str());
    std::fflush(stdout);
  }
  return 0;
}

int largest_command(int argc, char** argv) {
  const double tau = std::atof(argv[2]);
  const std::string device = argv[3];
  nn::TensorSolverOptions options;
  options.device = device;
  options.host_check = nn::TensorSolverOptions::HostCheck::never;  // O(n d^2) on the host: seconds at d ~ 1000
  const nn::TensorRidgeSolver solver(options);
  const double device_free = solver.device_available_bytes();
  const double host_free = available_memory_bytes();
  auto model_at = [&](long d) {
    ModelParams m;
    m.d = d, m.alpha = 2, m.kappa = 1, m.tau = tau, m.rho = 0.01;
    return m;
  };
  auto host_bytes = [&](const ModelParams& m) {
    const double n = static_cast<double>(m.num_contexts()), d = static_cast<double>(m.d);
    return 8.0 * (n * (2.0 * d + 2.0) + static_cast<double>(m.num_tasks()) * d) +
           solver.estimate_bytes(m.num_contexts(), m.d);
  };
  long largest = 0;
  for (long d = 10; d < 100000; d += 10) {
    const ModelParams m = model_at(d);
    const bool fits = solver.device_bytes(m.num_contexts(), d) <= device_free && host_bytes(m) <= host_free;
    if (!fits) break;
    largest = d;
  }
  const ModelParams top = model_at(largest);
  std::printf("%s\n",
              nlohmann::json{{"tau", tau},
                             {"device", device},
                             {"device_free_gib", device_free / (1 << 30)},
                             {"host_free_gib", host_free / (1 << 30)},
                             {"largest_d", largest},
                             {"n_at_largest", top.num_contexts()},
                             {"device_gib_at_largest", solver.device_bytes(top.num_contexts(), largest) / (1 << 30)},
                             {"host_gib_at_largest", host_bytes(top) / (1 << 30)}}
                  .dump()
                  .c_str());
  std::fflush(stdout);
  if (argc > 4) {
    const ModelParams m = model_at(std::atol(argv[4]));
    solver.require_device_memory(m.num_contexts(), m.d);
    if (host_bytes(m) > host_free)
      throw InvalidArgument("d = " + std::to_string(m.d) + " needs " + std::to_string(host_bytes(m) / (1 << 30)) +
                            " GiB on the host, " + std::to_string(host_free / (1 << 30)) + " GiB are available");
    auto start = std::chrono::steady_clock::now();
    const Draw data = draw(m, 1);
    const double draw_seconds = seconds_since(start);
    start = std::chrono::steady_clock::now();
    const RidgeFit fit = solver.fit(data.batch, 1e-6);
    const double fit_seconds = seconds_since(start);
    std::printf("%s\n", nlohmann::json{{"tau", tau},
                                       {"d", m.d},
                                       {"n", m.num_contexts()},
                                       {"device", device},
                                       {"draw_seconds", draw_seconds},
                                       {"fit_seconds", fit_seconds},
                                       {"device_gib", solver.device_bytes(m.num_contexts(), m.d) / (1 << 30)},
                                       {"report", fit.report.to_json()}}
                            .dump()
                            .c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  set_blas_threads(1);  // as the front end: BLAS single-threaded, OpenMP over fixed partitions
  const std::string command = argc > 1 ? argv[1] : "";
  try {
    if (command == "fit" && argc > 2) return fit_command(argc, argv);
    if (command == "largest" && argc > 3) return largest_command(argc, argv);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "tensor_solver: %s\n", error.what());
    return 1;
  }
  std::fprintf(stderr,
               "usage: tensor_solver fit SETTING [DEVICES] [REPEATS]\n"
               "       tensor_solver largest TAU DEVICE [D]\n");
  return 2;
}
