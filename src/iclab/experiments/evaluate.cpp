#include "iclab/experiments/evaluate.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "iclab/baselines/bayes.hpp"
#include "iclab/experiments/column_names.hpp"
#include "iclab/experiments/point_evaluation.hpp"
#include "iclab/experiments/schema.hpp"
#include "iclab/experiments/simulate.hpp"
#include "iclab/params/model_params.hpp"
#include "iclab/theory/general.hpp"
#include "iclab/theory/isotropic.hpp"
#include "iclab/theory/optimal_pretraining.hpp"

namespace iclab {
namespace {

bool has(const Experiment& e, Quantity q) { return e.computes(q); }

ErrorForm error_form(const std::string& text) {
  return text == "asymptotic" ? ErrorForm::asymptotic : ErrorForm::exact;
}

ModelParams model_params(const ExperimentPoint& p) {
  ModelParams m;
  m.d = p.d.value_or(0);
  m.alpha = p.alpha.value_or(0.0);
  m.tau = p.tau.value_or(0.0);
  m.kappa = p.kappa.value_or(0.0);
  m.rho = p.rho.value_or(0.0);
  m.task_norm = parse_task_norm(p.task_norm);
  m.assignment = parse_assignment(p.assignment);
  return m;
}

theory::AlignmentPoint alignment_point(const ExperimentPoint& p, std::optional<double> alpha_test) {
  return {p.alpha.value_or(0.0), p.tau.value_or(0.0), p.kappa.value_or(0.0), p.rho.value_or(0.0), alpha_test};
}

// l_test = int(alpha_test d), truncating like every other size.
long test_length(double alpha_test, long d) { return static_cast<long>(alpha_test * static_cast<double>(d)); }

std::string describe(const ExperimentPoint& p) {
  std::string s = "point " + std::to_string(p.index) + " (";
  auto add = [&s](const char* key, const std::string& value) {
    if (s.back() != '(') s += ", ";
    s += std::string(key) + "=" + value;
  };
  if (p.d) add("d", std::to_string(*p.d));
  if (p.alpha) add("alpha", format_number(*p.alpha));
  if (p.tau) add("tau", format_number(*p.tau));
  if (p.kappa) add("kappa", format_number(*p.kappa));
  if (p.rho) add("rho", format_number(*p.rho));
  if (!p.ctrain.empty()) add("ctrain", p.ctrain);
  return s + ")";
}

}  // namespace

std::unique_ptr<Evaluator> make_point_evaluator(const Experiment& experiment, RidgeSolverFactory solvers,
                                                std::stop_token stop) {
  for (const std::string& name : experiment.compute)  // a module's quantity (schema.hpp)
    if (const QuantitySpec* q = experiment_schema().find_quantity(name); q && !q->module.empty())
      throw InvalidArgument("compute: '" + name + "' needs a front end built with " + q->evaluated_by);
  return std::make_unique<PointEvaluator>(experiment, std::move(solvers), std::move(stop));
}

std::vector<std::vector<std::size_t>> Evaluator::groups(const std::vector<ExperimentPoint>& points) const {
  std::vector<std::vector<std::size_t>> out;
  for (std::size_t i = 0; i < points.size(); ++i) out.push_back({i});
  return out;
}

std::vector<std::vector<std::vector<Cell>>> Evaluator::evaluate_group(const std::vector<const ExperimentPoint*>& points,
                                                                      const std::function<void()>& on_unit) {
  std::vector<std::vector<std::vector<Cell>>> out;
  for (const ExperimentPoint* p : points) out.push_back(evaluate(*p, on_unit));
  return out;
}

std::unique_ptr<Evaluator> make_evaluator(const EvaluatorFactory& factory, const Experiment& experiment) {
  return factory ? factory(experiment) : make_point_evaluator(experiment);
}

PointEvaluator::PointEvaluator(Experiment experiment, RidgeSolverFactory solvers, std::stop_token stop)
    : experiment_(std::move(experiment)), solver_factory_(std::move(solvers)), stop_(std::move(stop)) {
  const Experiment& e = experiment_;
  solvers_[""] = make_ridge_solver(e.solver);
  if (e.sets("device") && has(e, Quantity::simulation) && !solver_factory_)
    throw InvalidArgument(
        e.where("device") +
        ": the simulation's fit on a device needs the neural-network module (-DICLAB_NN=ON, libtorch)");
  general_ = e.sets("ctrain") || e.sets("ctest") || e.sets("alpha_test");
  const bool sim = has(e, Quantity::simulation), base = has(e, Quantity::baselines);
  const bool theory = has(e, Quantity::theory) || has(e, Quantity::alignment);
  auto& c = columns_;
  c.push_back(columns::point);
  for (const char* key : {columns::d, columns::alpha, columns::alpha_test, columns::tau, columns::kappa, columns::rho})
    if (e.sets(key)) c.push_back(key);
  lambda_column_ = e.sets("lambda") || sim || has(e, Quantity::alpha_minimum) || (theory && !general_);
  if (lambda_column_) c.push_back(columns::lambda);
  if (sim) c.insert(c.end(), {columns::task_norm, columns::assignment});
  if (general_) c.insert(c.end(), {columns::ctrain, columns::ctest});
  if (theory) {
    c.insert(c.end(), {columns::e_icl, columns::e_idg, columns::g_task});
    if (general_) c.insert(c.end(), {columns::e_scalar, columns::e_misalign});
  }
  if (has(e, Quantity::alignment)) c.insert(c.end(), {columns::resolvent, columns::trace, columns::inv_cka});
  if (has(e, Quantity::alpha_minimum)) c.insert(c.end(), {columns::alpha_min_icl, columns::alpha_min_idg});
  if (has(e, Quantity::k_spectrum))
    c.insert(c.end(), {columns::index, columns::train_eigenvalue, columns::k_eigenvalue});
  if (sim) {
    c.insert(c.end(), {columns::repeats, columns::icl_mean, columns::icl_std, columns::idg_mean, columns::idg_std,
                       columns::gtask_mean, columns::gtask_std, columns::ell});
    if (e.sets("alpha_test")) c.push_back(columns::ell_test);
    c.insert(c.end(), {columns::k, columns::n});
  }
  if (base) {
    c.push_back(columns::samples);
    c.insert(c.end(),
             {columns::dmmse_icl_mean, columns::dmmse_icl_std, columns::dmmse_idg_mean, columns::dmmse_idg_std,
              columns::dmmse_gtask_mean, columns::dmmse_gtask_std, columns::ridge_icl_mean, columns::ridge_icl_std,
              columns::ridge_idg_mean, columns::ridge_idg_std, columns::ridge_gtask_mean, columns::ridge_gtask_std});
    if (!general_) c.push_back(columns::ridge_theory);
  }
  if (sim || base) c.push_back(columns::seed);
}

long PointEvaluator::work_units() const {
  return has(experiment_, Quantity::simulation) ? experiment_.repeats + (has(experiment_, Quantity::baselines) ? 1 : 0)
                                                : 1;
}

const TaskCovariance& PointEvaluator::covariance(const std::string& spec, long d, const std::string& key) {
  const auto id = std::make_pair(spec, d);
  auto it = covariances_.find(id);
  if (it == covariances_.end()) it = covariances_.emplace(id, parse_covariance(spec, d, key)).first;
  return it->second;
}

const RidgeSolver& PointEvaluator::solver(const ExperimentPoint& p) {
  std::string device;
  if (auto it = p.options.find("device"); it != p.options.end()) device = std::get<std::string>(it->second);
  auto found = solvers_.find(device);
  if (found == solvers_.end()) {
    try {
      found = solvers_.emplace(device, solver_factory_(experiment_.solver, device)).first;
    } catch (const InvalidArgument& error) {
      throw InvalidArgument(experiment_.where("device") + ": " + error.what());
    }
  }
  return *found->second;
}

void PointEvaluator::validate(const ExperimentPoint& p) {
  const Experiment& e = experiment_;
  try {
    const ModelParams m = model_params(p);
    if (general_ || has(e, Quantity::k_spectrum)) {
      covariance(p.ctrain.empty() ? "iso" : p.ctrain, *p.d, experiment_.where("ctrain"));
      for (const auto& spec : p.ctests) covariance(spec, *p.d, experiment_.where("ctest"));
      for (double a : p.alpha_tests)
        if (test_length(a, *p.d) < 1) throw InvalidArgument("alpha_test: int(alpha_test d) must be >= 1");
    }
    const bool isotropic_theory = !general_ && has(e, Quantity::theory);
    if (has(e, Quantity::simulation)) {
      m.validate();
      require_simulation_memory(m, solver(p));
    }
    for (double lambda : p.lambdas)
      if ((has(e, Quantity::simulation) || isotropic_theory) && lambda == 0.0 && p.tau == 1.0)
        throw InvalidArgument("lambda: tau = 1 with lambda = 0 is the interpolation threshold; use lambda > 0");
    if (has(e, Quantity::baselines)) {
      BayesSetting b;
      b.d = *p.d;
      b.alpha = *p.alpha;
      b.kappa = *p.kappa;
      b.rho = *p.rho;
      b.samples = e.samples;
      b.validate();
    }
    if ((general_ && (has(e, Quantity::theory) || has(e, Quantity::alignment))) || has(e, Quantity::k_spectrum))
      for (double a : p.alpha_tests.empty() ? std::vector<double>{*p.alpha} : p.alpha_tests)
        alignment_point(p, a).validate();
  } catch (const InvalidArgument& error) {
    // Lead with the file and line when the message names where the bad value is set.
    const std::string message = error.what();
    for (const auto& [key, location] : e.locations)
      if (message.rfind(location, 0) == 0) throw InvalidArgument(message + " (at " + describe(p) + ")");
    // Otherwise with the file and line of the key set in the file that the message names first ("lambda:
    // tau = 1 with lambda = 0 ...": tau; "memory: ... for n=36000000, d=3000": d), as docs/experiments.md
    // promises for every point that cannot be computed.
    std::size_t first = std::string::npos;
    std::string where;
    for (const auto& [key, location] : e.locations)
      for (std::size_t at = message.find(key); at != std::string::npos && at < first; at = message.find(key, at + 1)) {
        const auto word = [&](std::size_t i) {
          return i < message.size() && (std::isalnum(static_cast<unsigned char>(message[i])) || message[i] == '_');
        };
        if ((at == 0 || !word(at - 1)) && !word(at + key.size())) {
          first = at;
          where = location;
        }
      }
    if (!where.empty()) throw InvalidArgument(where + ": " + describe(p) + ": " + message);
    throw InvalidArgument(describe(p) + ": " + message);
  }
}

std::vector<std::vector<Cell>> PointEvaluator::evaluate(const ExperimentPoint& p,
                                                        const std::function<void()>& on_unit) {
  const Experiment& e = experiment_;
  validate(p);
  const ModelParams m = model_params(p);
  const long d = p.d.value_or(0);

  // The per-point parts: the ICL tests, the task-alignment theory, the simulation and the baselines.
  std::vector<std::string> test_specs = p.ctests;
  if (general_ && test_specs.empty()) test_specs.push_back("iso");
  const std::size_t num_tests = general_ ? test_specs.size() : 1;
  const std::vector<double> alpha_tests = p.alpha_tests;
  const std::size_t num_lengths = alpha_tests.empty() ? 1 : alpha_tests.size();
  const std::string train_spec = p.ctrain.empty() ? "iso" : p.ctrain;

  TaskSetting setting;
  setting.form = error_form(e.error_form);
  if (general_) {
    setting.train = covariance(train_spec, d, experiment_.where("ctrain"));
    for (const auto& spec : test_specs) setting.tests.push_back(covariance(spec, d, experiment_.where("ctest")));
    for (double a : alpha_tests) setting.test_context_lengths.push_back(test_length(a, d));
  }

  std::vector<SimulationResult> simulated;
  if (has(e, Quantity::simulation)) {
    simulated = simulate_point(m, setting, p.lambdas, e.repeats, e.seed, solver(p), on_unit, stop_);
    for (const SimulationResult& s : simulated)
      for (const RepetitionResult& rep : s.repetitions) {
        ++fits_;
        fit_solvers_.insert(rep.report.solver + (rep.report.device.empty() ? "" : " on " + rep.report.device));
        worst_residual_ = std::max(worst_residual_, rep.report.relative_residual);
        if (!std::isnan(rep.report.host_residual))
          worst_host_residual_ = std::max(worst_host_residual_, rep.report.host_residual);
      }
  }

  std::optional<BayesEstimates> bayes;
  if (has(e, Quantity::baselines)) {
    BayesSetting b;
    b.d = d;
    b.alpha = *p.alpha;
    b.kappa = *p.kappa;
    b.rho = *p.rho;
    b.samples = e.samples;
    b.seed = e.seed;
    if (general_) b.train = covariance(train_spec, d, experiment_.where("ctrain"));
    bayes = estimate_bayes_baselines(b);
    if (on_unit && has(e, Quantity::simulation)) on_unit();
  }

  // Task-alignment theory: one solve per test length (alpha_test enters e_scalar only), shared by every
  // lambda (the theory is ridgeless), evaluated on every test.
  const bool theory = has(e, Quantity::theory) || has(e, Quantity::alignment);
  std::optional<theory::AlignmentTheory> alignment;
  if ((theory && general_) || has(e, Quantity::k_spectrum))
    alignment.emplace(covariance(train_spec, d, experiment_.where("ctrain")));
  auto alpha_test_at = [&](std::size_t j) {
    return alpha_tests.empty() ? std::optional<double>{} : std::optional<double>{alpha_tests[j]};
  };
  std::vector<AlignmentTheoryValues> theory_by_length;
  if (theory && general_)
    for (std::size_t j = 0; j < num_lengths; ++j)
      theory_by_length.push_back(evaluate_alignment_theory(*alignment, *setting.train,
                                                           alignment_point(p, alpha_test_at(j)), setting.tests,
                                                           has(e, Quantity::alignment)));

  std::vector<std::vector<Cell>> rows;
  auto parameter_cells = [&](std::vector<Cell>& row, double lambda, std::optional<double> alpha_test,
                             const std::string& test) {
    row.push_back(static_cast<long>(p.index));
    if (e.sets("d")) row.push_back(d);
    if (e.sets("alpha")) row.push_back(*p.alpha);
    if (e.sets("alpha_test")) row.push_back(*alpha_test);
    if (e.sets("tau")) row.push_back(*p.tau);
    if (e.sets("kappa")) row.push_back(*p.kappa);
    if (e.sets("rho")) row.push_back(*p.rho);
    if (lambda_column_) row.push_back(lambda);
    if (has(e, Quantity::simulation)) row.insert(row.end(), {p.task_norm, p.assignment});
    if (general_) row.insert(row.end(), {train_spec, test});
  };

  if (has(e, Quantity::k_spectrum)) {
    const auto solved_point = alignment_point(p, std::nullopt);
    for (const auto& k : theory::k_spectrum(alignment->train_eigenvalues(), solved_point)) {
      std::vector<Cell> row;
      parameter_cells(row, p.lambdas.front(), std::nullopt, train_spec);
      row.insert(row.end(), {k.index, k.train_eigenvalue, k.k});
      rows.push_back(std::move(row));
    }
    if (on_unit) on_unit();
    return rows;
  }

  for (std::size_t li = 0; li < p.lambdas.size(); ++li) {
    const double lambda = p.lambdas[li];
    for (std::size_t t = 0; t < num_tests; ++t) {
      for (std::size_t j = 0; j < num_lengths; ++j) {
        const std::optional<double> alpha_test = alpha_test_at(j);
        std::vector<Cell> row;
        parameter_cells(row, lambda, alpha_test, general_ ? test_specs[t] : std::string());
        if (theory && !general_) {
          const IsotropicTheoryValues v = evaluate_isotropic_theory({*p.alpha, *p.tau, *p.kappa, *p.rho, lambda});
          row.insert(row.end(), {v.e_icl, v.e_idg, v.g_task});
        }
        if (theory && general_) {
          const AlignmentTheoryValues& v = theory_by_length[j];
          const theory::IclError& err = v.tests[t].error;
          const double idg = v.solved.e_idg();
          row.insert(row.end(), {err.e_icl, idg, err.e_icl - idg, err.e_scalar, err.e_misalign});
          if (const auto& measures = v.tests[t].measures)
            row.insert(row.end(), {measures->resolvent, measures->trace, measures->inverse_cka});
        }
        if (has(e, Quantity::alpha_minimum)) {
          for (const auto observable : {theory::Observable::icl, theory::Observable::idg})
            row.push_back(optional_cell(evaluate_alpha_minimum(observable, *p.tau, *p.kappa, *p.rho, lambda)));
        }
        if (has(e, Quantity::simulation)) {
          const SimulationResult& s = simulated[li];
          const std::size_t index = t * num_lengths + j;
          const auto [gap_mean, gap_std] = simulated_gap(s, index);
          row.insert(row.end(), {e.repeats, s.icl_mean[index], s.icl_std[index], s.idg_mean, s.idg_std, gap_mean,
                                 gap_std, m.context_length()});
          if (alpha_test) row.push_back(test_length(*alpha_test, d));
          row.insert(row.end(), {m.num_tasks(), m.num_contexts()});
        }
        if (bayes) {
          row.push_back(e.samples);
          for (const ErrorEstimate* est : {&bayes->dmmse_icl, &bayes->dmmse_idg, &bayes->dmmse_gtask, &bayes->ridge_icl,
                                           &bayes->ridge_idg, &bayes->ridge_gtask})
            row.insert(row.end(), {est->mean, est->std});
          if (!general_) row.push_back(theory::bayes_ridge_error(*p.alpha, *p.rho));
        }
        if (has(e, Quantity::simulation) || bayes) row.emplace_back(static_cast<long>(e.seed));
        rows.push_back(std::move(row));
      }
    }
  }
  if (on_unit && !has(e, Quantity::simulation)) on_unit();
  return rows;
}

nlohmann::json PointEvaluator::description() const {
  const Experiment& e = experiment_;
  nlohmann::json j;
  j[columns::point] = "index of the grid point in the canonical order (axes in file order, the first slowest)";
  if (has(e, Quantity::theory) || has(e, Quantity::alignment))
    j["theory"] = general_ ? "task-alignment theory (Letey et al.), ridgeless lambda -> 0+, d -> inf, F_kappa by a "
                             "bracketed root; pretraining t ~ N(0, C_train), ICL test t ~ N(0, C_test) (ctest "
                             "default 'iso'); alpha_test enters e_scalar only"
                           : "isotropic theory (Lu et al.), d -> inf: ridgeless closed forms at lambda = 0, the ridge "
                             "formulas otherwise (ridge IDG: iclab's derivation, docs/ridge-idg.md)";
  if (has(e, Quantity::alignment))
    j["alignment"] =
        "resolvent = <C_test F_kappa(sigma)>, trace = <C_train^-1 C_test> (inf if C_train is singular), "
        "inv_cka = 1/CKA(C_train, C_test); e_misalign = <C_test K>";
  if (has(e, Quantity::simulation))
    j["simulation"] =
        "Gamma* fitted with (n/d) lambda ||Gamma||^2 on one draw per repetition (a lambda list reuses "
        "the draw); exact test errors (error_form " +
        e.error_form +
        "); mean and population std "
        "(ddof = 0) over repetitions; gtask = icl - idg per repetition; ell_test = int(alpha_test d)";
  if (has(e, Quantity::simulation)) {
    // Which solvers fitted Gamma* in this session, and how well: the largest normal-equation residual
    // each fit reported, and for fits on a device the largest one recomputed on the host (Eigen).
    nlohmann::json fits = {{"solver", e.solver},
                           {"fits_this_session", fits_},
                           {"used", fit_solvers_},
                           {"max_relative_residual", worst_residual_}};
    if (worst_host_residual_ >= 0) fits["max_host_residual"] = worst_host_residual_;
    j["simulation_fits"] = std::move(fits);
  }
  if (has(e, Quantity::baselines))
    j["baselines"] =
        "Monte Carlo over `samples` test contexts: dMMSE (posterior mean over the k pool tasks) and Bayes "
        "ridge (posterior mean under N(0, C_train)); ICL tasks ~ N(0, C_train); std is the per-sample "
        "std (standard error = std / sqrt(samples)); ridge_theory = rho (1 + S_W(rho, alpha))";
  if (has(e, Quantity::alpha_minimum))
    j["alpha_min"] = "alpha at the interior minimum of the theory error over alpha in [1e-3, 1e6]; empty: monotone";
  if (has(e, Quantity::k_spectrum))
    j["k_spectrum"] = "eigenvalues k_i of K = q F + (q lambda~ - sigma^2) F' against C_train's eigenvalues";
  return j;
}

}  // namespace iclab
