#include "iclab/experiments/point_evaluation.hpp"

namespace iclab {

IsotropicTheoryValues evaluate_isotropic_theory(const theory::IsotropicPoint& point) {
  const theory::IsotropicErrors e = theory::isotropic_errors(point);
  return {e.e_icl, e.e_idg, e.e_icl - e.e_idg};
}

std::optional<double> evaluate_alpha_minimum(theory::Observable observable, double tau, double kappa, double rho,
                                             double lambda) {
  // alpha_minimising searches over alpha: the point's alpha is never read.
  return theory::alpha_minimising(observable, {0.0, tau, kappa, rho, lambda});
}

AlignmentTheoryValues evaluate_alignment_theory(const theory::AlignmentTheory& alignment, const TaskCovariance& train,
                                                const theory::AlignmentPoint& point,
                                                std::span<const TaskCovariance> tests, bool with_measures) {
  AlignmentTheoryValues out{alignment.solve(point), {}};
  out.tests.reserve(tests.size());
  for (const TaskCovariance& test : tests) {
    AlignmentTestValues& values = out.tests.emplace_back();
    values.error = alignment.evaluate(out.solved, test);
    if (with_measures) values.measures = theory::alignment_measures(alignment, out.solved, train, test);
  }
  return out;
}

std::pair<double, double> simulated_gap(const SimulationResult& result, std::size_t index) {
  std::vector<double> gaps;
  gaps.reserve(result.repetitions.size());
  for (const RepetitionResult& rep : result.repetitions) gaps.push_back(rep.icl_errors[index] - rep.idg_error);
  return mean_and_population_std(gaps);
}

}  // namespace iclab
