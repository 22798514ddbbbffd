#include "iclab/experiments/command_tables.hpp"

#include <cmath>
#include <string>

#include "iclab/error.hpp"
#include "iclab/experiments/column_names.hpp"
#include "iclab/experiments/point_evaluation.hpp"
#include "iclab/params/value_list.hpp"

namespace iclab {
namespace {

void call(const std::function<void()>& hook) {
  if (hook) hook();
}

nlohmann::json alignment_theory_meta() {
  return {{"kind", "task-alignment theory (Letey et al.), ridgeless, d -> inf; F_kappa by a bracketed root"},
          {"covariances", "normalised to trace d unless 'raw:'; C_test enters through diag(U^T C_test U)"}};
}

}  // namespace

CommandTable isotropic_theory_table(const std::vector<theory::IsotropicPoint>& points,
                                    const std::function<void()>& on_point) {
  CommandTable out{Table({columns::alpha, columns::tau, columns::kappa, columns::rho, columns::lambda, columns::e_icl,
                          columns::e_idg, columns::g_task})};
  for (const auto& p : points) {
    const IsotropicTheoryValues v = evaluate_isotropic_theory(p);
    out.table.add_row({p.alpha, p.tau, p.kappa, p.rho, p.lambda, v.e_icl, v.e_idg, v.g_task});
    call(on_point);
  }
  out.meta["kind"] = "isotropic asymptotic theory (d -> infinity)";
  out.meta["formulas"] =
      "lambda = 0: ridgeless closed forms (Lu et al.); lambda > 0: ridge e_ICL via the "
      "self-consistent root, ridge e_IDG = tau q (iclab, docs/ridge-idg.md)";
  return out;
}

CommandTable alpha_min_table(theory::Observable observable, const std::vector<theory::IsotropicPoint>& points,
                             const std::function<void()>& on_point) {
  const std::string name = observable == theory::Observable::icl ? "icl" : "idg";
  const char* column = observable == theory::Observable::icl ? columns::alpha_min_icl : columns::alpha_min_idg;
  CommandTable out{Table({columns::tau, columns::kappa, columns::rho, columns::lambda, column})};
  for (const auto& p : points) {
    out.table.add_row({p.tau, p.kappa, p.rho, p.lambda,
                       optional_cell(evaluate_alpha_minimum(observable, p.tau, p.kappa, p.rho, p.lambda))});
    call(on_point);
  }
  out.meta["kind"] = "isotropic asymptotic theory (d -> infinity)";
  out.meta["alpha_min"] = {{"observable", name},
                           {"search", "log grid alpha in [1e-3, 1e6], 40 points per decade, then Brent"},
                           {"empty_means", "monotone in alpha over the search range"}};
  return out;
}

CommandTable alignment_theory_table(long d, const std::vector<TaskCovariance>& trains,
                                    const std::vector<TaskCovariance>& tests,
                                    const std::vector<theory::AlignmentPoint>& points) {
  CommandTable out{Table({columns::d, columns::ctrain, columns::ctest, columns::alpha, columns::alpha_test,
                          columns::tau, columns::kappa, columns::rho, columns::e_icl, columns::e_idg, columns::e_scalar,
                          columns::e_misalign, columns::q, columns::lambda_tilde, columns::sigma}),
                   alignment_theory_meta()};
  for (const TaskCovariance& train : trains) {
    const theory::AlignmentTheory alignment(train);
    for (const auto& p : points) {
      const AlignmentTheoryValues v = evaluate_alignment_theory(alignment, train, p, tests);
      const theory::PretrainingTheory& solved = v.solved;
      for (std::size_t t = 0; t < tests.size(); ++t) {
        const theory::IclError& e = v.tests[t].error;
        out.table.add_row({d, train.spec(), tests[t].spec(), p.alpha, p.test_alpha(), p.tau, p.kappa, p.rho, e.e_icl,
                           solved.e_idg(), e.e_scalar, e.e_misalign, solved.q, solved.lambda_tilde, solved.sigma});
      }
    }
  }
  return out;
}

AlignTable align_table(const TaskCovariance& train, const std::vector<TaskCovariance>& tests,
                       const std::vector<theory::AlignmentPoint>& points) {
  AlignTable out;
  out.table = Table({columns::ctest, columns::kappa, columns::e_icl, columns::e_misalign, columns::resolvent,
                     columns::trace, columns::inv_cka});
  const theory::AlignmentTheory alignment(train);
  for (const auto& p : points) {
    const AlignmentTheoryValues v = evaluate_alignment_theory(alignment, train, p, tests, /*with_measures=*/true);
    auto& row = out.measures.emplace_back();
    for (std::size_t t = 0; t < tests.size(); ++t) {
      const auto& m = row.emplace_back(*v.tests[t].measures);
      out.trace_singular = out.trace_singular || m.trace_singular;
      out.table.add_row(
          {tests[t].spec(), p.kappa, v.tests[t].error.e_icl, m.misalignment, m.resolvent, m.trace, m.inverse_cka});
    }
  }
  out.meta["measures"] = {{columns::e_misalign, "<C_test K>"},
                          {columns::resolvent, "<C_test F_kappa(sigma)>"},
                          {columns::trace, "<C_train^-1 C_test> (inf when C_train is singular)"},
                          {columns::inv_cka, "1/CKA(C_train, C_test)"}};
  out.meta["trace_singular"] = out.trace_singular;
  return out;
}

CommandTable heatmap_table(const theory::HeatmapRequest& request) {
  if (request.d < 2) throw InvalidArgument("--d: must be an integer >= 2");
  for (double dp : request.delta_p)
    if (!std::isfinite(request.p_test + dp)) throw InvalidArgument("--dp: p_test + dp must be finite");
  for (double kappa : request.kappa)
    theory::AlignmentPoint{request.alpha, request.tau, kappa, request.rho, std::nullopt}.validate();
  CommandTable out{Table({columns::dp, columns::kappa, columns::e_icl, columns::e_matched, columns::improvement_pct})};
  for (const auto& cell : theory::optimal_pretraining_heatmap(request))
    out.table.add_row({cell.delta_p, cell.kappa, cell.e_icl, cell.e_matched, cell.improvement_pct});
  out.meta["kind"] =
      "C_test = power:ptest, C_train = power:(ptest + dp), both trace d; improvement of e_ICL over "
      "C_train = C_test, in percent";
  return out;
}

CommandTable kspectrum_table(const TaskCovariance& train, const std::vector<theory::AlignmentPoint>& points) {
  CommandTable out{Table({columns::alpha, columns::tau, columns::kappa, columns::rho, columns::index,
                          columns::train_eigenvalue, columns::k_eigenvalue})};
  for (const auto& p : points)
    for (const auto& e : theory::k_spectrum(train.eigenvalues(), p))
      out.table.add_row({p.alpha, p.tau, p.kappa, p.rho, e.index, e.train_eigenvalue, e.k});
  out.meta["kind"] = "eigenvalues k_i of K = q F + (q lambda~ - sigma^2) F' against C_train's eigenvalues";
  return out;
}

ErrorForm parse_error_form(const std::string& text) {
  if (text == "exact") return ErrorForm::exact;
  if (text == "asymptotic") return ErrorForm::asymptotic;
  throw InvalidArgument("--error-form: expected 'exact' or 'asymptotic', got '" + text + "'");
}

void validate(const SimulationRequest& r) {
  if (r.repeats < 1 || r.repeats > kMaxRepeats)
    throw InvalidArgument("--repeats: must be an integer in [1, " + std::to_string(kMaxRepeats) + "]");
  for (double l : r.lambdas)
    if (!(l >= 0)) throw InvalidArgument("--lambda: must be >= 0");
  if (r.solver == nullptr) throw InvalidArgument("--solver: internal: no solver");
  for (const ModelParams& m : r.points) {
    m.validate();
    for (double l : r.lambdas)
      if (m.tau == 1.0 && l == 0.0)
        throw InvalidArgument("--lambda: tau = 1 with lambda = 0 is the interpolation threshold; use lambda > 0");
    if (r.settings.count(m.d) == 0)
      throw InvalidArgument("--d: internal: no task setting for d = " + std::to_string(m.d));
  }
  // Memory (the host's, and a device's for a device solver) for every point before any work.
  for (const ModelParams& m : r.points) require_simulation_memory(m, *r.solver);
}

CommandTable simulation_table(const SimulationRequest& r, const std::function<void()>& on_repetition) {
  validate(r);
  std::vector<std::string> header = {columns::d};
  if (r.general) header.insert(header.end(), {columns::ctrain, columns::ctest});
  header.insert(header.end(),
                {columns::alpha, columns::kappa, columns::tau, columns::rho, columns::lambda, columns::repeats,
                 columns::icl_mean, columns::icl_std, columns::idg_mean, columns::idg_std});
  if (r.with_theory)
    header.insert(header.end(), {columns::e_icl, columns::e_idg});  // ridgeless with covariances (meta)
  header.insert(header.end(),
                {columns::ell, columns::k, columns::n, columns::task_norm, columns::assignment, columns::seed});
  CommandTable out{Table(header)};
  nlohmann::json reports = nlohmann::json::array();
  for (const ModelParams& m : r.points) {
    const TaskSetting& setting = r.settings.at(m.d);
    const auto results = simulate_point(m, setting, r.lambdas, r.repeats, r.seed, *r.solver, on_repetition, r.stop);
    // The task-alignment theory (ridgeless) is solved once per point and evaluated on every test.
    std::optional<AlignmentTheoryValues> general_theory;
    if (r.with_theory && r.general)
      general_theory = evaluate_alignment_theory(theory::AlignmentTheory(*setting.train), *setting.train,
                                                 {m.alpha, m.tau, m.kappa, m.rho, std::nullopt}, setting.tests);
    for (const SimulationResult& s : results) {
      for (std::size_t t = 0; t < setting.num_tests(); ++t) {
        std::vector<Cell> row = {m.d};
        if (r.general) row.insert(row.end(), {setting.train->spec(), setting.tests[t].spec()});
        row.insert(row.end(), {m.alpha, m.kappa, m.tau, m.rho, s.lambda, r.repeats, s.icl_mean[t], s.icl_std[t],
                               s.idg_mean, s.idg_std});
        if (general_theory) {
          row.insert(row.end(), {general_theory->tests[t].error.e_icl, general_theory->solved.e_idg()});
        } else if (r.with_theory) {
          const IsotropicTheoryValues v = evaluate_isotropic_theory({m.alpha, m.tau, m.kappa, m.rho, s.lambda});
          row.insert(row.end(), {v.e_icl, v.e_idg});
        }
        row.insert(row.end(), {m.context_length(), m.num_tasks(), m.num_contexts(), to_string(m.task_norm),
                               to_string(m.assignment), static_cast<long>(r.seed)});
        out.table.add_row(std::move(row));
      }
      nlohmann::json entry = m.to_json();
      if (r.general) entry[columns::ctrain] = setting.train->spec();
      entry[columns::lambda] = s.lambda;
      entry["solver"] = nlohmann::json::array();
      for (const auto& rep : s.repetitions) entry["solver"].push_back(rep.report.to_json());
      reports.push_back(std::move(entry));
    }
  }
  out.meta[columns::seed] = r.seed;
  out.meta["points"] = std::move(reports);
  if (r.with_theory)
    out.meta["theory"] = r.general ? "task-alignment theory (Letey et al.), ridgeless lambda -> 0+, d -> inf"
                                   : "isotropic theory (d -> inf) at the simulation's lambda";
  if (r.general)
    out.meta["tasks"] =
        "pretraining t ~ N(0, C_train) (sphere: rescaled to ||t||^2 = tr C_train); ICL test t ~ N(0, C_test)";
  return out;
}

}  // namespace iclab
