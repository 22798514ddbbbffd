// Evaluation of an experiment's grid points into result rows. The column layout depends only on the
// experiment (its quantities and which parameters it sets), so every point, shard and resumed run
// writes the same columns; the values depend only on (experiment, point), never on the run order.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "iclab/covariances/covariance_spec.hpp"
#include "iclab/experiments/experiment.hpp"
#include "iclab/io/table.hpp"
#include "iclab/model/ridge_solver.hpp"

namespace iclab {

// Where a group's unfinished work may be kept between runs (runner.hpp, results{S}.snapshot*): an
// evaluator whose groups run long (a Transformer ensemble trains for hours at the papers' scale) saves
// its state there now and then, and a run killed inside the group resumes from it instead of from the
// group's start. The runner removes a group's snapshots once its rows are journaled.
struct GroupSnapshots {
  std::string stem;          // path prefix of this group's snapshot files ("": keep none)
  std::string key;           // the group's identity (experiment hash, points): a snapshot under another is ignored
  double every_seconds = 0;  // the longest stretch of work a kill may lose (> 0)
  // Told when the group's work resumes from a snapshot (what resumes, in words), e.g. for stderr.
  std::function<void(const std::string&)> on_resume;
  // Told when a snapshot cannot be written (why): the work goes on without snapshots rather than fail.
  std::function<void(const std::string&)> on_error;
};

// What the runner needs of an experiment's evaluation. The core library implements it for the linear
// model (PointEvaluator); other modules (iclab_nn's TransformerEvaluator) plug in through an
// EvaluatorFactory, so the core never depends on them.
class Evaluator {
 public:
  virtual ~Evaluator() = default;
  // The first column is always "point" (the canonical point index).
  virtual const std::vector<std::string>& columns() const = 0;
  // Units of work of a point, for progress bars.
  virtual long work_units() const = 0;
  // The rows of one point, cells in column order. `on_unit` is called after each unit of work.
  virtual std::vector<std::vector<Cell>> evaluate(const ExperimentPoint& point,
                                                  const std::function<void()>& on_unit = {}) = 0;
  // Checks that a point can be evaluated without computing it; throws InvalidArgument.
  virtual void validate(const ExperimentPoint& point) = 0;
  // What the columns mean and which theory or model produced them, for the run's metadata.
  virtual nlohmann::json description() const = 0;

  // Points evaluated together (e.g. Transformers trained as one ensemble): a partition of `points`
  // (the whole grid, canonical order) into groups of indices into it. It must depend on the
  // experiment alone, never on shards or resumes: the runner shards and journals by group. Default:
  // one point per group.
  virtual std::vector<std::vector<std::size_t>> groups(const std::vector<ExperimentPoint>& points) const;
  // The rows of each point of a group (any subset of a group: a resumed run evaluates the points not
  // yet journaled), in the order given. Default: evaluate() per point.
  virtual std::vector<std::vector<std::vector<Cell>>> evaluate_group(const std::vector<const ExperimentPoint*>& points,
                                                                     const std::function<void()>& on_unit = {});
  // Where the next evaluate_group may keep and find its snapshots (an empty stem: nowhere). Default:
  // ignored (a linear-model point takes seconds; the journal is its snapshot).
  virtual void use_snapshots(const GroupSnapshots& snapshots) { (void)snapshots; }
};

// Makes the evaluator of an experiment; throws InvalidArgument when it cannot be evaluated here.
using EvaluatorFactory = std::function<std::unique_ptr<Evaluator>(const Experiment&)>;

// The core's factory: a PointEvaluator; InvalidArgument for a module's quantity (schema.hpp: that needs
// the factory of a front end built with the module), and for a simulation with a `device` unless
// `solvers` can make solvers for devices (iclab_nn's nn::make_ridge_solver_on).
// `stop` (optional) is polled inside each point's simulation (iclab/cancel.hpp: throws Cancelled).
std::unique_ptr<Evaluator> make_point_evaluator(const Experiment& experiment, RidgeSolverFactory solvers = {},
                                                std::stop_token stop = {});
// `factory` when set, else make_point_evaluator.
std::unique_ptr<Evaluator> make_evaluator(const EvaluatorFactory& factory, const Experiment& experiment);

class PointEvaluator : public Evaluator {
 public:
  // `solvers` makes the simulation's solver for a point's `device` (empty: the core's solvers only).
  // `stop`: polled inside the simulation (per block of contexts, solver iteration, repetition).
  explicit PointEvaluator(Experiment experiment, RidgeSolverFactory solvers = {}, std::stop_token stop = {});

  // The first column is always "point" (the canonical point index).
  const std::vector<std::string>& columns() const override { return columns_; }
  // Units of work of a point, for progress bars (simulation repetitions, else 1).
  long work_units() const override;
  // The rows of one point, cells in column order. `on_unit` is called after each unit of work.
  std::vector<std::vector<Cell>> evaluate(const ExperimentPoint& point,
                                          const std::function<void()>& on_unit = {}) override;
  // Checks that a point can be evaluated (sizes, covariance specs, theory domain) without computing it.
  void validate(const ExperimentPoint& point) override;
  // What the columns mean and which theory produced them, for the run's metadata.
  nlohmann::json description() const override;

 private:
  const TaskCovariance& covariance(const std::string& spec, long d, const std::string& key);
  const RidgeSolver& solver(const ExperimentPoint& point);  // the simulation's, on the point's device
  bool general() const { return general_; }

  Experiment experiment_;
  bool general_ = false;        // task-alignment (Letey et al.) setting: a ctrain, ctest or alpha_test is given
  bool lambda_column_ = false;  // rows carry a lambda (set once with the columns, read for every row)
  std::vector<std::string> columns_;
  RidgeSolverFactory solver_factory_;
  std::stop_token stop_;
  std::map<std::string, std::unique_ptr<RidgeSolver>> solvers_;  // by device ("" : the core's)
  // The simulation's fits in this session, for the metadata: count, solvers used, worst residuals.
  long fits_ = 0;
  std::set<std::string> fit_solvers_;
  double worst_residual_ = 0.0, worst_host_residual_ = -1.0;
  std::map<std::pair<std::string, long>, TaskCovariance> covariances_;  // parsed once per (spec, d)
};

}  // namespace iclab
