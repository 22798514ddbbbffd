// Evaluation of an experiment's grid points into result rows. The column layout depends only on the
// experiment (its quantities and which parameters it sets), so every point, shard and resumed run
// writes the same columns; the values depend only on (experiment, point), never on the run order.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "iclab/covariances/covariance_spec.hpp"
#include "iclab/experiments/experiment.hpp"
#include "iclab/io/table.hpp"
#include "iclab/model/ridge_solver.hpp"

namespace iclab {

class PointEvaluator {
 public:
  explicit PointEvaluator(Experiment experiment);

  // The first column is always "point" (the canonical point index).
  const std::vector<std::string>& columns() const { return columns_; }
  // Units of work of a point, for progress bars (simulation repetitions, else 1).
  long work_units() const;
  // The rows of one point, cells in column order. `on_unit` is called after each unit of work.
  std::vector<std::vector<Cell>> evaluate(const ExperimentPoint& point, const std::function<void()>& on_unit = {});
  // Checks that a point can be evaluated (sizes, covariance specs, theory domain) without computing it.
  void validate(const ExperimentPoint& point);
  // What the columns mean and which theory produced them, for the run's metadata.
  nlohmann::json description() const;

 private:
  const TaskCovariance& covariance(const std::string& spec, long d, const std::string& key);
  bool general() const { return general_; }

  Experiment experiment_;
  bool general_ = false;        // task-alignment (Letey et al.) setting: a ctrain, ctest or alpha_test is given
  bool lambda_column_ = false;  // rows carry a lambda (set once with the columns, read for every row)
  std::vector<std::string> columns_;
  std::unique_ptr<RidgeSolver> solver_;
  std::map<std::pair<std::string, long>, TaskCovariance> covariances_;  // parsed once per (spec, d)
};

}  // namespace iclab
