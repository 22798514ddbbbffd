// iclab._core: the library's public API for the Python package (python/iclab/__init__.py builds the grids,
// broadcasts arguments and wraps the columns returned here into DataFrames). Every function validates all
// of its input before any work, with the messages of the `iclab` program (InvalidArgument -> ValueError),
// and releases the GIL while it computes; the long ones stop on Ctrl-C (cancel.hpp). Like the CLI, every
// call runs OpenBLAS single-threaded (parallelism is iclab's OpenMP over fixed partitions, so the bits never
// depend on the thread count); the previous setting, e.g. NumPy's, is restored when the call returns.
#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "cancel.hpp"
#include "iclab/covariances/covariance_spec.hpp"
#include "iclab/covariances/task_draws.hpp"
#include "iclab/error.hpp"
#include "iclab/evaluation/test_error.hpp"
#include "iclab/experiments/column_names.hpp"
#include "iclab/experiments/columns.hpp"
#include "iclab/experiments/command_tables.hpp"
#include "iclab/experiments/evaluate.hpp"
#include "iclab/experiments/experiment.hpp"
#include "iclab/experiments/point_evaluation.hpp"
#include "iclab/experiments/runner.hpp"
#include "iclab/experiments/simulate.hpp"
#include "iclab/io/atomic_file.hpp"
#include "iclab/io/progress.hpp"
#include "iclab/io/table.hpp"
#include "iclab/linalg/dense.hpp"
#include "iclab/model/ridge_solver.hpp"
#include "iclab/params/model_params.hpp"
#include "iclab/params/value_list.hpp"
#include "iclab/repr/gap_evaluator.hpp"
#include "iclab/reproduce/presets.hpp"
#include "iclab/theory/alignment.hpp"
#include "iclab/theory/general.hpp"
#include "iclab/theory/isotropic.hpp"
#include "iclab/theory/optimal_pretraining.hpp"
#include "iclab/version.hpp"
#include "tables.hpp"

namespace py = pybind11;
using namespace pybind11::literals;

namespace iclab::python {
namespace {

using Array = py::array_t<double, py::array::c_style | py::array::forcecast>;

// A flat view of a 1-D float64 array (no copy when the caller's array is already contiguous float64).
struct Column {
  const double* data = nullptr;
  std::size_t size = 0;
  Array keep;
  explicit Column(Array a) : keep(std::move(a)) {
    if (keep.ndim() != 1) throw InvalidArgument("internal: expected a 1-D array");
    data = keep.data();
    size = static_cast<std::size_t>(keep.shape(0));
  }
  double operator[](std::size_t i) const { return data[i]; }
};

// Exceptions must not leave an OpenMP region: the first one is kept and rethrown after the loop.
class FirstFailure {
 public:
  template <class F>
  void run(F&& f) {
    try {
      f();
    } catch (...) {
#pragma omp critical(iclab_python_failure)
      if (!failure_) failure_ = std::current_exception();
    }
  }
  void rethrow() {
    if (failure_) std::rethrow_exception(std::exchange(failure_, nullptr));
  }

 private:
  std::exception_ptr failure_;
};

// Values the CLI's parser refuses (inf where not allowed): the parser's own message for the same text.
void check_parseable(double value, const char* option, bool allow_infinity = false) {
  if (std::isfinite(value) || (allow_infinity && value == kInfinity)) return;
  (void)parse_value_list(format_number(value), option, {.allow_infinity = allow_infinity});
}

void check_column(const Column& c, const char* option, bool allow_infinity = false) {
  for (std::size_t i = 0; i < c.size; ++i) check_parseable(c[i], option, allow_infinity);
}

void check_same_length(std::initializer_list<const Column*> columns) {
  for (const Column* c : columns)
    if (c->size != (*columns.begin())->size) throw InvalidArgument("internal: columns of different lengths");
}

theory::IsotropicPoint isotropic_point(double alpha, double tau, double kappa, double rho, double lambda,
                                       bool needs_alpha = true) {
  if (needs_alpha) check_parseable(alpha, "--alpha");
  check_parseable(tau, "--tau");
  check_parseable(kappa, "--kappa", true);
  check_parseable(rho, "--rho");
  check_parseable(lambda, "--lambda");
  const theory::IsotropicPoint p{alpha, tau, kappa, rho, lambda};
  theory::validate(p, needs_alpha);
  return p;
}

nlohmann::json base_meta(const std::string& call) {
  nlohmann::json j;
  j["program"] = "iclab (Python)";
  j["version"] = std::string(version());
  j["git"] = std::string(git_describe());
  j["call"] = call;
  j["conventions"] = conventions_json();
  return j;
}

py::dict result(const Table& table, nlohmann::json meta) {
  py::dict out;
  out["columns"] = table_to_columns(table);
  meta["column_meanings"] = column_meanings(table.columns());  // docs/columns.md
  out["meta"] = meta.dump();
  return out;
}

// --- isotropic theory ----------------------------------------------------------------------------------

// The columns e_icl, e_idg, g_task (named by the C++ constants: the Python side spells no column name).
py::dict isotropic(Array alpha_in, Array tau_in, Array kappa_in, Array rho_in, Array lambda_in) {
  const Column alpha(std::move(alpha_in)), tau(std::move(tau_in)), kappa(std::move(kappa_in)), rho(std::move(rho_in)),
      lambda(std::move(lambda_in));
  check_same_length({&alpha, &tau, &kappa, &rho, &lambda});
  const std::size_t n = alpha.size;
  // As the CLI: every list is parsed (inf refused) before any point is checked. One pass finds whether
  // every point is valid (finite, kappa = inf allowed, inside the theory's domain: isotropic_point's
  // checks); only when one is not do the checks run in the CLI's order, for its message.
  bool all_valid = true;
  for (std::size_t i = 0; i < n; ++i) {
    const bool valid = alpha[i] > 0 && alpha[i] < kInfinity && tau[i] > 0 && tau[i] < kInfinity && kappa[i] > 0 &&
                       rho[i] >= 0 && rho[i] < kInfinity && lambda[i] >= 0 && lambda[i] < kInfinity &&
                       !(tau[i] == 1.0 && lambda[i] == 0.0);
    all_valid = all_valid && valid;
  }
  if (!all_valid) {
    check_column(alpha, "--alpha");
    check_column(tau, "--tau");
    check_column(kappa, "--kappa", true);
    check_column(rho, "--rho");
    check_column(lambda, "--lambda");
    for (std::size_t i = 0; i < n; ++i) (void)isotropic_point(alpha[i], tau[i], kappa[i], rho[i], lambda[i]);
  }
  Array icl(static_cast<py::ssize_t>(n)), idg(static_cast<py::ssize_t>(n)), gap(static_cast<py::ssize_t>(n));
  double *e_icl = icl.mutable_data(), *e_idg = idg.mutable_data(), *g = gap.mutable_data();
  FirstFailure failures;
  // Every point is a pure function of its own values: the thread count changes no bit. One parallel
  // region for the whole array, blocks handed out dynamically: with a region per Ctrl-C chunk, threads
  // spun at every chunk's barrier while a sibling waited for a core shared with other work (two threads
  // were twice as slow as one on a loaded machine). Each block goes through the lockstep (SIMD) form of
  // theory::isotropic_errors, equal bit for bit to the point-by-point one. Large arrays run on
  // run_interruptible's worker, whose stop flag every block reads; small ones (under ~20 ms) on this thread.
  constexpr long kBlock = 1024;
  const long blocks = (static_cast<long>(n) + kBlock - 1) / kBlock;
  auto compute = [&](const StopFlag* stop) {
#pragma omp parallel for schedule(dynamic, 1) if (n > 4096)
    for (long b = 0; b < blocks; ++b) {
      if (stop != nullptr && stop->stopped()) continue;
      const auto first = static_cast<std::size_t>(b * kBlock);
      const std::size_t count = std::min<std::size_t>(kBlock, n - first);
      failures.run([&] {
        std::array<theory::IsotropicPoint, kBlock> points;
        std::array<theory::IsotropicErrors, kBlock> errors;
        for (std::size_t j = 0; j < count; ++j)
          points[j] = {alpha[first + j], tau[first + j], kappa[first + j], rho[first + j], lambda[first + j]};
        theory::isotropic_errors(std::span(points.data(), count), std::span(errors.data(), count));
        for (std::size_t j = 0; j < count; ++j) {
          e_icl[first + j] = errors[j].e_icl;
          e_idg[first + j] = errors[j].e_idg;
          g[first + j] = errors[j].e_icl - errors[j].e_idg;
        }
      });
    }
    if (stop != nullptr) stop->check();
    failures.rethrow();
  };
  if (n > (std::size_t{1} << 16)) {
    run_interruptible([&](const StopFlag& stop) { compute(&stop); });
  } else {
    py::gil_scoped_release release;
    compute(nullptr);
  }
  py::dict out;
  out[columns::e_icl] = icl;
  out[columns::e_idg] = idg;
  out[columns::g_task] = gap;
  return out;
}

// e_ICL or e_IDG of one point, for py::vectorize (scalars in, a float out; arrays broadcast NumPy's way).
double isotropic_icl(double alpha, double tau, double kappa, double rho, double lambda) {
  return theory::icl_error(isotropic_point(alpha, tau, kappa, rho, lambda));
}
double isotropic_idg(double alpha, double tau, double kappa, double rho, double lambda) {
  return theory::idg_error(isotropic_point(alpha, tau, kappa, rho, lambda));
}

// One column, alpha_min_icl or alpha_min_idg.
py::dict alpha_min(const std::string& what, Array tau_in, Array kappa_in, Array rho_in, Array lambda_in) {
  const theory::Observable observable = theory::parse_observable(what);
  const Column tau(std::move(tau_in)), kappa(std::move(kappa_in)), rho(std::move(rho_in)), lambda(std::move(lambda_in));
  check_same_length({&tau, &kappa, &rho, &lambda});
  check_column(tau, "--tau");
  check_column(kappa, "--kappa", true);
  check_column(rho, "--rho");
  check_column(lambda, "--lambda");
  std::vector<theory::IsotropicPoint> points;
  for (std::size_t i = 0; i < tau.size; ++i)
    points.push_back(isotropic_point(1.0, tau[i], kappa[i], rho[i], lambda[i], false));
  Array out(static_cast<py::ssize_t>(points.size()));
  double* data = out.mutable_data();
  FirstFailure failures;
  constexpr std::size_t kChunk = 256;  // about 1.5 ms of work per point and chunk element on one core
  for (std::size_t start = 0; start < points.size(); start += kChunk) {
    const auto end = static_cast<long>(std::min(points.size(), start + kChunk));
    {
      py::gil_scoped_release release;
#pragma omp parallel for schedule(dynamic, 8)
      for (long i = static_cast<long>(start); i < end; ++i) {
        const auto k = static_cast<std::size_t>(i);
        failures.run([&] {
          const theory::IsotropicPoint& p = points[k];
          data[k] = evaluate_alpha_minimum(observable, p.tau, p.kappa, p.rho, p.lambda)
                        .value_or(std::numeric_limits<double>::quiet_NaN());
        });
      }
    }
    failures.rethrow();
    check_signals();
  }
  py::dict column;
  column[observable == theory::Observable::icl ? columns::alpha_min_icl : columns::alpha_min_idg] = out;
  return column;
}

// --- covariances ---------------------------------------------------------------------------------------

TaskCovariance covariance_from_array(py::array_t<double, py::array::f_style | py::array::forcecast> a,
                                     const std::string& label, const std::string& option) {
  const BlasThreadScope blas(1);  // as the CLI: results independent of OpenBLAS's threads
  if (a.ndim() == 1) {
    Vector diagonal = Eigen::Map<const Vector>(a.data(), a.shape(0));
    return TaskCovariance::from_diagonal(diagonal, label, option);
  }
  if (a.ndim() != 2)
    throw InvalidArgument(option + ": a covariance array must be a d x d matrix or a length-d diagonal, got " +
                          std::to_string(a.ndim()) + " dimensions");
  Matrix m = Eigen::Map<const Matrix>(a.data(), a.shape(0), a.shape(1));
  return TaskCovariance::from_matrix(std::move(m), label, option);
}

void require_dim(const TaskCovariance& c, long d, const std::string& option) {
  if (c.dim() != d)
    throw InvalidArgument(option + ": '" + c.spec() + "' is " + std::to_string(c.dim()) + " x " +
                          std::to_string(c.dim()) + ", expected d = " + std::to_string(d));
}

long single_d(long d) {
  if (d < 2) throw InvalidArgument("--d: must be an integer >= 2");
  return d;
}

theory::AlignmentPoint alignment_point(double alpha, double alpha_test, double tau, double kappa, double rho) {
  check_parseable(alpha, "--alpha");
  if (!std::isnan(alpha_test)) check_parseable(alpha_test, "--alpha-test");
  check_parseable(tau, "--tau");
  check_parseable(kappa, "--kappa", true);
  check_parseable(rho, "--rho");
  theory::AlignmentPoint p{alpha, tau, kappa, rho, std::nullopt};
  if (!std::isnan(alpha_test)) p.alpha_test = alpha_test;
  p.validate();
  return p;
}

// --- task-alignment theory, alignment measures, heatmap, K spectrum ------------------------------------

py::dict alignment_theory(long d, const std::vector<TaskCovariance>& trains, const std::vector<TaskCovariance>& tests,
                          Array alpha_in, Array alpha_test_in, Array tau_in, Array kappa_in, Array rho_in) {
  const BlasThreadScope blas(1);  // as the CLI: results independent of OpenBLAS's threads
  const Column alpha(std::move(alpha_in)), alpha_test(std::move(alpha_test_in)), tau(std::move(tau_in)),
      kappa(std::move(kappa_in)), rho(std::move(rho_in));
  check_same_length({&alpha, &alpha_test, &tau, &kappa, &rho});
  for (const auto& c : trains) require_dim(c, d, "--ctrain");
  for (const auto& c : tests) require_dim(c, d, "--ctest");
  check_column(alpha, "--alpha");
  for (std::size_t i = 0; i < alpha_test.size; ++i)
    if (!std::isnan(alpha_test[i])) check_parseable(alpha_test[i], "--alpha-test");
  check_column(tau, "--tau");
  check_column(kappa, "--kappa", true);
  check_column(rho, "--rho");
  std::vector<theory::AlignmentPoint> points;
  for (std::size_t i = 0; i < alpha.size; ++i)
    points.push_back(alignment_point(alpha[i], alpha_test[i], tau[i], kappa[i], rho[i]));
  CommandTable out;
  {
    py::gil_scoped_release release;
    out = alignment_theory_table(d, trains, tests, points);
  }
  nlohmann::json meta = base_meta("theory");
  meta.update(out.meta);
  return result(out.table, meta);
}

py::dict align(const TaskCovariance& train, const std::vector<TaskCovariance>& tests, double alpha, double alpha_test,
               double tau, const std::vector<double>& kappas, double rho) {
  const BlasThreadScope blas(1);  // as the CLI: results independent of OpenBLAS's threads
  for (const auto& c : tests) require_dim(c, train.dim(), "--ctest");
  std::vector<theory::AlignmentPoint> points;
  for (double kappa : kappas) points.push_back(alignment_point(alpha, alpha_test, tau, kappa, rho));
  AlignTable out;
  {
    py::gil_scoped_release release;
    out = align_table(train, tests, points);
  }
  nlohmann::json meta = base_meta("align");
  meta.update(out.meta);
  return result(out.table, meta);
}

py::dict heatmap(long d, double ptest, double alpha, double tau, double rho, const std::vector<double>& dps,
                 const std::vector<double>& kappas) {
  const BlasThreadScope blas(1);  // as the CLI: results independent of OpenBLAS's threads
  theory::HeatmapRequest request;
  request.d = single_d(d);
  check_parseable(ptest, "--ptest");
  request.p_test = ptest;
  request.alpha = alpha;
  request.tau = tau;
  request.rho = rho;
  for (double dp : dps) check_parseable(dp, "--dp");
  request.delta_p = dps;
  request.kappa = kappas;
  for (double kappa : request.kappa) (void)alignment_point(alpha, std::nan(""), tau, kappa, rho);
  CommandTable out;
  {
    py::gil_scoped_release release;
    out = heatmap_table(request);
  }
  nlohmann::json meta = base_meta("heatmap");
  meta.update(out.meta);
  return result(out.table, meta);
}

py::dict kspectrum(const TaskCovariance& train, Array alpha_in, Array tau_in, Array kappa_in, Array rho_in) {
  const BlasThreadScope blas(1);  // as the CLI: results independent of OpenBLAS's threads
  const Column alpha(std::move(alpha_in)), tau(std::move(tau_in)), kappa(std::move(kappa_in)), rho(std::move(rho_in));
  check_same_length({&alpha, &tau, &kappa, &rho});
  check_column(alpha, "--alpha");
  check_column(tau, "--tau");
  check_column(kappa, "--kappa", true);
  check_column(rho, "--rho");
  std::vector<theory::AlignmentPoint> points;
  for (std::size_t i = 0; i < alpha.size; ++i)
    points.push_back(alignment_point(alpha[i], std::nan(""), tau[i], kappa[i], rho[i]));
  CommandTable out;
  {
    py::gil_scoped_release release;
    out = kspectrum_table(train, points);
  }
  nlohmann::json meta = base_meta("kspectrum");
  meta.update(out.meta);
  return result(out.table, meta);
}

// --- simulation ----------------------------------------------------------------------------------------

// A covariance argument of simulate: a spec parsed for each d, or a fixed covariance (one d only).
using CovarianceArg = std::variant<std::string, TaskCovariance>;

TaskCovariance covariance_for(const CovarianceArg& arg, long d, const std::string& option) {
  if (const auto* text = std::get_if<std::string>(&arg)) return parse_covariance(*text, d, option);
  const auto& c = std::get<TaskCovariance>(arg);
  require_dim(c, d, option);
  return c;
}

void check_output_target(const std::string& out) {
  if (out.empty()) return;
  namespace fs = std::filesystem;
  const fs::path target(out);
  const fs::path dir = target.has_parent_path() ? target.parent_path() : fs::path(".");
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) throw InvalidArgument("--out: directory '" + dir.string() + "' does not exist");
  if (fs::is_directory(target, ec)) throw InvalidArgument("--out: '" + out + "' is a directory");
}

py::dict simulate(const std::vector<long>& ds, const std::vector<double>& alphas, const std::vector<double>& kappas,
                  const std::vector<double>& taus, const std::vector<double>& rhos, const std::vector<double>& lambdas,
                  long repeats, const std::string& seed_text, const std::string& task_norm,
                  const std::string& assignment_text, const std::string& solver_name,
                  const std::optional<CovarianceArg>& ctrain, const std::vector<CovarianceArg>& ctests,
                  const std::string& error_form, bool with_theory, bool progress, const std::string& out) {
  const BlasThreadScope blas(1);  // as the CLI: results independent of OpenBLAS's threads
  // The CLI's checks, in its order (apps/cli/simulate_command.cpp).
  check_output_target(out);
  for (double v : alphas) check_parseable(v, "--alpha");
  for (double v : kappas) check_parseable(v, "--kappa", true);
  for (double v : taus) check_parseable(v, "--tau");
  for (double v : rhos) check_parseable(v, "--rho");
  for (double v : lambdas) check_parseable(v, "--lambda");
  SimulationRequest request;
  request.repeats = repeats;
  request.lambdas = lambdas;
  request.seed = parse_seed(seed_text, "--seed");
  const TaskNorm norm = parse_task_norm(task_norm);
  const Assignment assignment = parse_assignment(assignment_text);
  const ErrorForm form = parse_error_form(error_form);
  const auto solver = make_ridge_solver(solver_name);
  request.solver = solver.get();
  request.general = ctrain.has_value() || !ctests.empty();
  request.with_theory = with_theory;
  for (long d : ds) {
    if (d < 2) throw InvalidArgument("--d: must be an integer >= 2, got " + std::to_string(d));
    if (request.settings.count(d)) continue;
    TaskSetting& setting = request.settings[d];
    setting.form = form;
    if (request.general) {
      setting.train = covariance_for(ctrain.value_or(CovarianceArg(std::string("iso"))), d, "--ctrain");
      if (ctests.empty()) setting.tests.push_back(parse_covariance("iso", d, "--ctest"));
      for (const auto& t : ctests) {
        if (const auto* text = std::get_if<std::string>(&t)) {
          for (auto& c : parse_covariance_list(*text, d, "--ctest")) setting.tests.push_back(std::move(c));
        } else {
          setting.tests.push_back(covariance_for(t, d, "--ctest"));
        }
      }
    }
  }
  const std::size_t n = ds.size();
  if (alphas.size() != n || kappas.size() != n || taus.size() != n || rhos.size() != n)
    throw InvalidArgument("internal: simulate expects one value per grid point");
  for (std::size_t i = 0; i < n; ++i) {
    ModelParams& m = request.points.emplace_back();
    m.d = ds[i];
    m.alpha = alphas[i];
    m.kappa = kappas[i];
    m.tau = taus[i];
    m.rho = rhos[i];
    m.task_norm = norm;
    m.assignment = assignment;
  }
  validate(request);

  nlohmann::json meta = base_meta("simulate");
  meta["error_form"] = error_form;
  meta["solver"] = solver_name;
  CommandTable table;
  run_interruptible([&](const StopFlag& stop) {
    request.stop = stop.token();  // polled inside each repetition
    std::optional<ProgressBar> bar;
    if (progress) bar.emplace("simulate", static_cast<long>(n) * repeats);
    table = simulation_table(request, [&] {
      if (bar) bar->advance();
      stop.check();
    });
    if (bar) bar->finish();
  });
  meta.update(table.meta);
  meta["column_meanings"] = column_meanings(table.table.columns());  // as result(), for the file too
  if (!out.empty()) {
    // As the CLI's --out: the CSV and FILE.meta.json, each written atomically once everything is computed.
    write_file_atomically(out, table.table.to_csv());
    write_file_atomically(out + ".meta.json", meta.dump(2) + "\n");
  }
  return result(table.table, meta);
}

// --- building blocks: sample, fit, evaluate -------------------------------------------------------------

ModelParams model_params(long d, double alpha, double tau, double kappa, double rho, const std::string& task_norm,
                         const std::string& assignment) {
  check_parseable(alpha, "--alpha");
  check_parseable(kappa, "--kappa", true);
  check_parseable(tau, "--tau");
  check_parseable(rho, "--rho");
  if (d < 2) throw InvalidArgument("--d: must be an integer >= 2, got " + std::to_string(d));
  ModelParams m;
  m.d = d;
  m.alpha = alpha;
  m.tau = tau;
  m.kappa = kappa;
  m.rho = rho;
  m.task_norm = parse_task_norm(task_norm);
  m.assignment = parse_assignment(assignment);
  m.validate();
  return m;
}

py::dict sample_contexts(long d, double alpha, double tau, double kappa, double rho, const std::string& seed_text,
                         long repetition, const std::string& task_norm, const std::string& assignment,
                         const std::optional<CovarianceArg>& ctrain) {
  const BlasThreadScope blas(1);  // as the CLI: results independent of OpenBLAS's threads
  const ModelParams m = model_params(d, alpha, tau, kappa, rho, task_norm, assignment);
  const std::uint64_t seed = parse_seed(seed_text, "--seed");
  if (repetition < 0) throw InvalidArgument("repetition: must be an integer >= 0");
  TaskSetting setting;
  if (ctrain) setting.train = covariance_for(*ctrain, d, "--ctrain");
  require_simulation_memory(m, *make_ridge_solver("auto"));
  std::optional<PretrainingDraw> draw;
  run_interruptible([&](const StopFlag& stop) {
    draw.emplace(draw_pretraining(m, setting, seed, static_cast<std::uint64_t>(repetition), stop.token()));
  });
  py::dict out;
  // Moved into NumPy arrays (Eigen's column-major storage, no copy).
  out["x_query"] = py::cast(std::move(draw->batch.x_query));
  out["z"] = py::cast(std::move(draw->batch.z));
  out["y_query"] = py::cast(std::move(draw->batch.y_query));
  out["tasks"] = py::cast(Matrix(draw->pool.tasks()));
  py::array_t<std::int64_t> task_of(static_cast<py::ssize_t>(draw->task_of.size()));
  for (std::size_t i = 0; i < draw->task_of.size(); ++i) task_of.mutable_data()[i] = draw->task_of[i];
  out["task_of"] = task_of;
  out["ell"] = m.context_length();
  out["k"] = m.num_tasks();
  out["n"] = m.num_contexts();
  out["seed"] = seed;
  out["repetition"] = repetition;
  return out;
}

using FArray = py::array_t<double, py::array::f_style | py::array::forcecast>;

Matrix to_matrix(const FArray& a, const char* name) {
  if (a.ndim() != 2) throw InvalidArgument(std::string(name) + ": expected a 2-D array");
  return Eigen::Map<const Matrix>(a.data(), a.shape(0), a.shape(1));
}

py::list fit(const FArray& x_query, const FArray& z, const Array& y_query, const std::vector<double>& lambdas,
             const std::string& solver_name) {
  const BlasThreadScope blas(1);  // as the CLI: results independent of OpenBLAS's threads
  FeatureBatch batch;
  batch.x_query = to_matrix(x_query, "x_query");
  batch.z = to_matrix(z, "z");
  if (y_query.ndim() != 1) throw InvalidArgument("y_query: expected a 1-D array");
  batch.y_query = Eigen::Map<const Vector>(y_query.data(), y_query.shape(0));
  const long n = batch.x_query.rows(), d = batch.x_query.cols();
  if (d < 1 || n < 1) throw InvalidArgument("x_query: expected an n x d array with n, d >= 1");
  if (batch.z.rows() != n || batch.z.cols() != d + 1)
    throw InvalidArgument("z: expected " + std::to_string(n) + " x " + std::to_string(d + 1) + " (n x (d+1)), got " +
                          std::to_string(batch.z.rows()) + " x " + std::to_string(batch.z.cols()));
  if (batch.y_query.size() != n)
    throw InvalidArgument("y_query: expected length " + std::to_string(n) + ", got " +
                          std::to_string(batch.y_query.size()));
  if (lambdas.empty()) throw InvalidArgument("--lambda: give at least one value");
  for (double l : lambdas) {
    check_parseable(l, "--lambda");
    if (!(l >= 0)) throw InvalidArgument("--lambda: must be >= 0");
  }
  const auto solver = make_ridge_solver(solver_name);
  std::vector<RidgeFit> fits;
  run_interruptible([&](const StopFlag& stop) { fits = solver->fit_path_cancellable(batch, lambdas, stop.token()); });
  py::list out;
  for (RidgeFit& f : fits) {
    py::dict item;
    item["lambda"] = f.lambda;
    item["gamma"] = py::cast(std::move(f.gamma));
    item["report"] = f.report.to_json().dump();
    out.append(item);
  }
  return out;
}

double test_error_of(const FArray& gamma_in, long ell, double rho, const std::string& test,
                     const std::optional<FArray>& tasks, const std::optional<TaskCovariance>& covariance,
                     const std::string& task_norm, const std::string& error_form) {
  const BlasThreadScope blas(1);  // as the CLI: results independent of OpenBLAS's threads
  const Matrix gamma = to_matrix(gamma_in, "gamma");
  const long d = gamma.rows();
  if (d < 1 || gamma.cols() != d + 1)
    throw InvalidArgument("gamma: expected a d x (d+1) array, got " + std::to_string(gamma.rows()) + " x " +
                          std::to_string(gamma.cols()));
  if (ell < 1) throw InvalidArgument("ell: must be an integer >= 1");
  check_parseable(rho, "--rho");
  if (!(rho >= 0)) throw InvalidArgument("--rho: must be >= 0");
  const ErrorForm form = parse_error_form(error_form);
  TaskMoments moments;
  if (test == "icl") {
    if (covariance) {
      require_dim(*covariance, d, "--ctest");
      moments = gaussian_task_moments(*covariance, rho);
    } else {
      moments = isotropic_task_moments(d, rho, parse_task_norm(task_norm));
    }
  } else if (test == "idg") {
    if (!tasks) throw InvalidArgument("tasks: the IDG test needs the pretraining tasks (a k x d array)");
    const Matrix pool = to_matrix(*tasks, "tasks");
    if (pool.cols() != d || pool.rows() < 1)
      throw InvalidArgument("tasks: expected a k x " + std::to_string(d) + " array");
    moments = pool_task_moments(pool, rho);
  } else {
    throw InvalidArgument("test: expected 'icl' or 'idg', got '" + test + "'");
  }
  py::gil_scoped_release release;
  return iclab::test_error(gamma, moments, ell, rho, form);
}

// --- experiment files and figures -----------------------------------------------------------------------

py::dict run(const std::string& toml_text, const std::string& source, const std::string& out, const std::string& shard,
             bool progress) {
  const BlasThreadScope blas(1);  // as the CLI: results independent of OpenBLAS's threads
  const Experiment experiment = parse_experiment(toml_text, source);
  RunOptions options;
  options.shard = parse_shard(shard);
  options.out_dir = !out.empty() ? out : !experiment.output.empty() ? experiment.output : experiment.name;
  options.experiment_text = toml_text;
  options.command_line = "iclab.run(" + source + ")";
  options.progress = progress;
  RunSummary summary;
  run_interruptible([&](const StopFlag& stop) {
    options.checkpoint = [&stop] { stop.check(); };
    // The point evaluator polls the token inside a point's simulation too (one point can be long). Yang et
    // al.'s repr_gap is torch-free module work (iclab_modules), evaluated here as by the plain `iclab`;
    // the rest of the modules' work needs `iclab-nn`, and make_point_evaluator says so.
    options.evaluator = [&stop](const Experiment& e) -> std::unique_ptr<Evaluator> {
      if (repr::computes_repr_gap(e)) return std::make_unique<repr::ReprGapEvaluator>(e);
      return make_point_evaluator(e, {}, stop.token());
    };
    summary = run_experiment(experiment, options);
  });
  py::dict s;
  s["results_path"] = summary.results_path;
  s["points_total"] = summary.points_total;
  s["points_in_shard"] = summary.points_in_shard;
  s["points_resumed"] = summary.points_resumed;
  s["rows"] = summary.rows;
  s["seconds"] = summary.seconds;
  return s;
}

py::list preset_list() {
  py::list out;
  for (const Preset& p : presets()) out.append(py::make_tuple(p.name, p.description));
  return out;
}

py::dict reproduce(const std::string& name, bool quick, const std::string& out, bool plot_only,
                   const std::string& reference_data, bool progress) {
  const BlasThreadScope blas(1);  // as the CLI: results independent of OpenBLAS's threads
  const Preset& preset = find_preset(name);
  if (!reference_data.empty() && !std::filesystem::is_directory(reference_data))
    throw InvalidArgument("--reference-data: '" + reference_data + "' is not a directory");
  const std::string scale = quick ? "quick" : "cpu";
  const std::string dir = !out.empty() ? out : "reproduce/" + preset.name + (quick ? "-quick" : "");
  std::vector<std::pair<Experiment, PresetExperiment>> experiments;
  for (PresetExperiment& e : preset_experiments(preset, scale)) {
    Experiment parsed = parse_experiment(e.toml, preset.name + "/" + e.name + ".toml");
    (void)make_point_evaluator(parsed);
    experiments.emplace_back(std::move(parsed), std::move(e));
  }
  py::dict results;
  std::vector<std::pair<std::string, std::string>> paths;
  run_interruptible([&](const StopFlag& stop) {
    if (!plot_only) {
      for (const auto& [experiment, source] : experiments) {
        RunOptions options;
        options.out_dir = dir + "/" + source.name;
        options.experiment_text = source.toml;
        options.command_line = "iclab.reproduce(" + preset.name + ")";
        options.progress = progress;
        options.checkpoint = [&stop] { stop.check(); };
        options.evaluator = [&stop](const Experiment& e) { return make_point_evaluator(e, {}, stop.token()); };
        const RunSummary s = run_experiment(experiment, options);
        paths.emplace_back(source.name, s.results_path);
      }
    } else {
      for (const auto& [experiment, source] : experiments)
        paths.emplace_back(source.name, dir + "/" + source.name + "/results.csv");
    }
    stop.check();
    preset.plot(dir, PlotOptions{quick, reference_data});
  });
  py::dict out_dict;
  py::dict files;
  for (const auto& [experiment, path] : paths) files[py::str(experiment)] = path;
  out_dict["dir"] = dir;
  out_dict["figure"] = dir + "/" + preset.name + ".png";
  out_dict["results"] = files;
  return out_dict;
}

}  // namespace
}  // namespace iclab::python

PYBIND11_MODULE(_core, m) {
  using namespace iclab;
  using namespace iclab::python;
  m.doc() = "iclab's C++ core (use the package `iclab`, which wraps these functions)";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const InvalidArgument& e) {
      // The CLI prints the first line only (apps/cli/main.cpp).
      const std::string message = e.what();
      PyErr_SetString(PyExc_ValueError, message.substr(0, message.find('\n')).c_str());
    } catch (const Interrupted&) {
      PyErr_SetNone(PyExc_KeyboardInterrupt);
    }
  });

  py::class_<TaskCovariance>(m, "Covariance", R"doc(A task covariance C (t ~ N(0, C)), validated and eigendecomposed.

Make one with iclab.covariance(spec_or_array, d).)doc")
      .def_property_readonly("spec", &TaskCovariance::spec, "the text it came from (its label for arrays)")
      .def_property_readonly("d", &TaskCovariance::dim)
      .def_property_readonly(
          "matrix", [](const TaskCovariance& c) { return Matrix(c.matrix()); }, "C, d x d")
      .def_property_readonly(
          "eigenvalues", [](const TaskCovariance& c) { return Vector(c.eigenvalues()); },
          "C's eigenvalues (index order for a diagonal C, else ascending)")
      .def_property_readonly("is_diagonal", &TaskCovariance::is_diagonal)
      .def("__repr__", [](const TaskCovariance& c) {
        return "<iclab.Covariance '" + c.spec() + "' d=" + std::to_string(c.dim()) + ">";
      });
  m.def(
      "parse_covariances",
      [](const std::string& text, long d, const std::string& option) {
        const BlasThreadScope blas(1);  // rot: and wishart: multiply matrices
        return parse_covariance_list(text, d, option);
      },
      "text"_a, "d"_a, "option"_a);
  m.def("covariance_from_array", &covariance_from_array, "array"_a, "label"_a, "option"_a);

  m.def(
      "parse_values",
      [](const std::string& text, const std::string& option, bool allow_infinity) {
        return parse_value_list(text, option, {.allow_infinity = allow_infinity});
      },
      "text"_a, "option"_a, "allow_infinity"_a = false);
  m.def(
      "parse_integers",
      [](const std::string& text, const std::string& option) { return parse_integer_list(text, option); }, "text"_a,
      "option"_a);
  m.def("isotropic", &isotropic, "alpha"_a, "tau"_a, "kappa"_a, "rho"_a, "lam"_a);
  const char* point_doc = R"doc(%s of the isotropic theory (Lu et al., d -> inf) at one point, or elementwise
over arrays broadcast NumPy's way (a scalar in, a float out).

alpha = l/d, tau = n/d^2, kappa = k/d (inf: a fresh task per context), rho: label-noise variance,
lam: ridge lambda with the (n/d) lambda ||Gamma||^2 normalisation (0: the ridgeless closed forms).)doc";
  char icl_doc[1024], idg_doc[1024];
  std::snprintf(icl_doc, sizeof icl_doc, point_doc, "e_ICL");
  std::snprintf(idg_doc, sizeof idg_doc, point_doc, "e_IDG");
  m.def("e_icl", py::vectorize(&isotropic_icl), "alpha"_a, "tau"_a, "kappa"_a, "rho"_a, "lam"_a = 0.0, icl_doc);
  m.def("e_idg", py::vectorize(&isotropic_idg), "alpha"_a, "tau"_a, "kappa"_a, "rho"_a, "lam"_a = 0.0, idg_doc);
  m.def("alpha_min", &alpha_min, "what"_a, "tau"_a, "kappa"_a, "rho"_a, "lam"_a);
  m.def("alignment_theory", &alignment_theory, "d"_a, "trains"_a, "tests"_a, "alpha"_a, "alpha_test"_a, "tau"_a,
        "kappa"_a, "rho"_a);
  m.def("align", &align, "train"_a, "tests"_a, "alpha"_a, "alpha_test"_a, "tau"_a, "kappas"_a, "rho"_a);
  m.def("heatmap", &heatmap, "d"_a, "ptest"_a, "alpha"_a, "tau"_a, "rho"_a, "dp"_a, "kappa"_a);
  m.def("kspectrum", &kspectrum, "train"_a, "alpha"_a, "tau"_a, "kappa"_a, "rho"_a);
  m.def("simulate", &simulate, "d"_a, "alpha"_a, "kappa"_a, "tau"_a, "rho"_a, "lam"_a, "repeats"_a, "seed"_a,
        "task_norm"_a, "assignment"_a, "solver"_a, "ctrain"_a, "ctest"_a, "error_form"_a, "with_theory"_a, "progress"_a,
        "out"_a);
  m.def("sample_contexts", &sample_contexts, "d"_a, "alpha"_a, "tau"_a, "kappa"_a, "rho"_a, "seed"_a, "repetition"_a,
        "task_norm"_a, "assignment"_a, "ctrain"_a);
  m.def("fit", &fit, "x_query"_a, "z"_a, "y_query"_a, "lam"_a, "solver"_a);
  m.def("test_error", &test_error_of, "gamma"_a, "ell"_a, "rho"_a, "test"_a, "tasks"_a, "covariance"_a, "task_norm"_a,
        "error_form"_a);
  m.def("run", &run, "toml_text"_a, "source"_a, "out"_a, "shard"_a, "progress"_a);
  m.def("presets", &preset_list);
  m.def("reproduce", &reproduce, "name"_a, "quick"_a, "out"_a, "plot_only"_a, "reference_data"_a, "progress"_a);
  m.def("version", [] { return std::string(version()); });
  m.def("git_describe", [] { return std::string(git_describe()); });
  m.def("conventions", [] { return conventions_json().dump(); });
}
