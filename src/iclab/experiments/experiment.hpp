// A declarative experiment: which quantities to compute over which parameter grid (spec of the
// experiment-file format: docs/experiments.md). An Experiment is plain data; parse_experiment reads
// it from TOML, expand_points enumerates its grid points in their canonical order.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

namespace iclab {

// The core's quantities, computed at every grid point. A module adds its own in its schema file
// (schema.hpp): Experiment::compute holds names, and the core never spells a module's.
enum class Quantity {
  theory,         // asymptotic errors: isotropic (Lu et al.) or task-alignment (Letey et al.)
  simulation,     // Gamma* fits on sampled data, exact ICL/IDG errors (mean/std over repeats)
  baselines,      // Monte-Carlo dMMSE and Bayes ridge: ICL, IDG, g_task
  alignment,      // the four alignment measures of each C_test (with the task-alignment theory)
  alpha_minimum,  // alpha at the interior minimum of e_ICL / e_IDG (isotropic theory; Lu et al. Fig 3)
  k_spectrum,     // eigenvalues k_i of the alignment matrix K against C_train's (Letey et al. Fig 5)
};
std::string to_string(Quantity quantity);
std::string describe(Quantity quantity);            // one line, for docs and messages
const std::vector<Quantity>& core_quantity_list();  // in enum order

// A parameter value: a number (integers included) or a text (covariance specs, enum names).
using ParamValue = std::variant<double, std::string>;

// One axis of the grid: a single key ([grid]) or several keys advanced together ([zip]).
struct ExperimentAxis {
  std::vector<std::string> keys;
  std::vector<std::vector<ParamValue>> values;  // values[key index][position]
  long line = 0;                                // where it starts in the file: axes vary in file order
  std::size_t size() const { return values.empty() ? 0 : values.front().size(); }
};

struct Experiment {
  std::string name;
  std::string description;
  std::vector<std::string> compute;  // quantity names (schema.hpp), each once, in the schema's order
  std::uint64_t seed = 0;
  long repeats = 10;     // simulation repetitions per point (a module's networks: training seeds per point)
  long samples = 10000;  // Monte-Carlo samples per baseline estimate
  std::string solver = "auto";
  std::string error_form = "exact";
  std::string output;  // output directory ("" : the name)
  // Fixed parameters; the row-level keys (lambda, alpha_test, ctest) may hold several values.
  std::map<std::string, std::vector<ParamValue>> fixed;
  std::vector<ExperimentAxis> axes;  // product over the axes, the first varying slowest

  // Where each parameter is set, "exp.toml:7: parameters.ctest", for messages about its values.
  std::map<std::string, std::string> locations;
  std::string where(const std::string& key) const;

  bool computes(Quantity quantity) const;
  bool computes(const std::string& quantity) const;
  std::size_t num_points() const;
  bool sets(const std::string& key) const;  // in [parameters], [grid] or [zip]
  // Canonical JSON of everything that determines the results (not `output` or `description`):
  // two runs may share an output directory only if these agree.
  nlohmann::json identity() const;
  std::string identity_hash() const;  // hex of a 64-bit hash of identity().dump()
};

// A grid point: the values of the point-level parameters, and the row-level lists evaluated on one
// draw (a list of lambda reuses the pretraining data; tests and test lengths reuse the fit).
struct ExperimentPoint {
  std::size_t index = 0;  // position in the canonical order
  std::optional<long> d;
  std::optional<double> alpha, tau, kappa, rho;
  std::string task_norm = "gaussian", assignment = "random";
  std::string ctrain;  // "" : isotropic tasks
  std::vector<double> lambdas{0.0};
  std::vector<double> alpha_tests;  // empty: alpha
  std::vector<std::string> ctests;  // empty: the ICL test has the pretraining law
  // The module keys (schema.hpp: those a module's schema file declares) set for this point: numbers
  // (booleans as 0/1) or texts. Empty for the core's quantities.
  std::map<std::string, ParamValue> options;
};

// What of the experiment needs the neural-network module's program (schema.hpp): "compute: 'Q'" for a
// quantity that needs torch, else where a module's key is set that no torch-free module quantity computed
// here takes ("exp.toml:5: parameters.device"); "" when the core and the torch-free module code
// (iclab_modules: repr_gap) evaluate all of it.
std::string module_use(const Experiment& experiment);

// The points in canonical order (index = position). Throws InvalidArgument naming the parameter
// when a point is impossible (e.g. d missing for a simulation).
std::vector<ExperimentPoint> expand_points(const Experiment& experiment);

// Reads an experiment from TOML text; `source` (a file name) prefixes error messages, which name the
// key and its line: "exp.toml:7: grid.alpha: values must be > 0". Throws InvalidArgument.
Experiment parse_experiment(const std::string& toml_text, const std::string& source);
Experiment load_experiment(const std::string& path);  // reads the file, then parse_experiment

}  // namespace iclab
