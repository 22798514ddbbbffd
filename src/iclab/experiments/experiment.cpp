#include "iclab/experiments/experiment.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>

#include "iclab/experiments/schema.hpp"
#include "iclab/io/table.hpp"
#include "iclab/io/text_file.hpp"
#include "iclab/params/model_params.hpp"
#include "iclab/params/value_list.hpp"
#include "iclab/random/streams.hpp"

namespace iclab {

std::string to_string(Quantity quantity) {
  switch (quantity) {
    case Quantity::theory:
      return "theory";
    case Quantity::simulation:
      return "simulation";
    case Quantity::baselines:
      return "baselines";
    case Quantity::alignment:
      return "alignment";
    case Quantity::alpha_minimum:
      return "alpha_minimum";
    case Quantity::k_spectrum:
      return "k_spectrum";
  }
  return "?";
}

std::string describe(Quantity quantity) {
  switch (quantity) {
    case Quantity::theory:
      return "asymptotic errors: isotropic (Lu et al.) or task-alignment (Letey et al.)";
    case Quantity::simulation:
      return "Gamma* fits on sampled data, exact ICL/IDG errors (mean/std over repeats)";
    case Quantity::baselines:
      return "Monte-Carlo dMMSE and Bayes ridge: ICL, IDG, g_task";
    case Quantity::alignment:
      return "the four alignment measures of each C_test (with the task-alignment theory)";
    case Quantity::alpha_minimum:
      return "alpha at the interior minimum of e_ICL / e_IDG (isotropic theory)";
    case Quantity::k_spectrum:
      return "eigenvalues k_i of the alignment matrix K against C_train's";
  }
  return "?";
}

const std::vector<Quantity>& core_quantity_list() {
  static const std::vector<Quantity> list = {Quantity::theory,    Quantity::simulation,    Quantity::baselines,
                                             Quantity::alignment, Quantity::alpha_minimum, Quantity::k_spectrum};
  return list;
}

namespace {

// The parameters an experiment may set: the schema's keys (schema.hpp: the core's and the modules').
// Row-level keys may hold a list in [parameters]: their values are evaluated on one draw (lambda) or
// one fit (alpha_test, ctest) instead of forming grid points.
using KeyInfo = KeySpec;
using Kind = KeyKind;

const KeyInfo* find_key(const std::string& name) { return experiment_schema().find_key(name); }

std::string key_list() {
  std::string out;
  for (const KeyInfo& k : experiment_schema().keys()) out += (out.empty() ? "" : ", ") + k.name;
  return out;
}

std::vector<std::string> quantity_names() {
  std::vector<std::string> out;
  for (const QuantitySpec& q : experiment_schema().quantities()) out.push_back(q.name);
  return out;
}

// Parsing context: every error names the file, the line and the key.
struct Reader {
  std::string source;
  [[noreturn]] void fail(const toml::node& node, const std::string& key, const std::string& message) const {
    throw InvalidArgument(source + ":" + std::to_string(node.source().begin.line) + ": " + key + ": " + message);
  }
  [[noreturn]] void fail(const std::string& key, const std::string& message) const {
    throw InvalidArgument(source + ": " + key + ": " + message);
  }
};

// Checks a numeric value against its key's domain.
std::optional<std::string> numeric_problem(const KeyInfo& key, double v) {
  if (std::isnan(v)) return "NaN is not allowed";
  if (key.kind == Kind::number_or_inf)
    return v > 0 ? std::nullopt : std::optional<std::string>("values must be > 0 (or inf)");
  if (!std::isfinite(v)) return "values must be finite";
  // Counts become 64-bit integers: past 2^53 a double no longer holds every integer, and a cast past
  // 2^63 is undefined.
  constexpr double kLargestCount = 9007199254740992.0;  // 2^53
  if (key.kind == Kind::count) {
    const double minimum = key.minimum.value_or(1.0);
    if (v != std::floor(v)) return "values must be integers";
    if (v < minimum) return "values must be >= " + format_number(minimum);
    if (v > kLargestCount) return "values must be <= 2^53 (9007199254740992)";
    return std::nullopt;
  }
  if (key.kind == Kind::batch) {
    if (v > 0 && v < 1) return std::nullopt;
    if (v >= 1 && v == std::floor(v) && v <= kLargestCount) return std::nullopt;
    return "expected a fraction in (0, 1) or an integer in [1, 2^53]";
  }
  if (key.kind == Kind::boolean) return v == 0 || v == 1 ? std::nullopt : std::optional<std::string>("expected 1 or 0");
  if (key.kind == Kind::integer) {
    if (v != std::floor(v)) return "values must be integers";
    if (v < 2) return "values must be >= 2";
    // d(d+1), the reduced model's parameter count, must stay an exact count (ModelParams' 2^53 rule).
    if (v > 94906265.0) return "values must be <= 94906265 (so that d(d+1) <= 2^53)";
    return std::nullopt;
  }
  if (key.minimum)
    return v >= *key.minimum ? std::nullopt
                             : std::optional<std::string>("values must be >= " + format_number(*key.minimum));
  return v > 0 ? std::nullopt : std::optional<std::string>("values must be > 0");
}

// The values of one TOML node for `key`: a scalar, an array of scalars, or (numeric keys) a value-list
// string "0.5,1,2" / "lin:a:b:n" / "log:a:b:n".
std::vector<ParamValue> read_values(const Reader& r, const toml::node& node, const KeyInfo& key,
                                    const std::string& qualified) {
  std::vector<ParamValue> out;
  auto scalar = [&](const toml::node& n) {
    if (key.kind == Kind::text) {
      if (!n.is_string()) r.fail(n, qualified, "expected " + key.allowed);
      const std::string text = *n.value<std::string>();
      const bool listed = !key.values.empty();
      if (listed && !position_of(key.values, text))
        r.fail(n, qualified, "expected " + key.allowed + ", got '" + text + "'");
      if (text.empty()) r.fail(n, qualified, "empty text");
      if (key.domain == "device" && text != "cpu" && text != "cuda" &&
          !(text.rfind("cuda:", 0) == 0 && text.size() > 5 &&
            text.find_first_not_of("0123456789", 5) == std::string::npos))
        r.fail(n, qualified, "expected " + key.allowed + ", got '" + text + "'");
      out.emplace_back(text);
      return;
    }
    if (key.kind == Kind::boolean) {
      if (n.is_boolean()) {
        out.emplace_back(*n.value<bool>() ? 1.0 : 0.0);
        return;
      }
      if (!n.is_integer()) r.fail(n, qualified, "expected " + key.allowed);
    }
    std::vector<double> values;
    if (n.is_integer() || n.is_floating_point()) {
      values.push_back(*n.value<double>());
    } else if (n.is_string()) {
      try {
        values =
            parse_value_list(*n.value<std::string>(), qualified, {.allow_infinity = key.kind == Kind::number_or_inf});
      } catch (const InvalidArgument& e) {
        r.fail(n, qualified, std::string(e.what()).substr(qualified.size() + 2));
      }
    } else {
      r.fail(n, qualified, "expected " + key.allowed);
    }
    for (double v : values) {
      if (auto problem = numeric_problem(key, v)) r.fail(n, qualified, *problem);
      out.emplace_back(v);
    }
  };
  if (const toml::array* array = node.as_array()) {
    if (array->empty()) r.fail(node, qualified, "empty list");
    for (const toml::node& element : *array) {
      if (element.is_array() || element.is_table()) r.fail(element, qualified, "nested lists are not allowed");
      scalar(element);
    }
  } else if (node.is_table()) {
    r.fail(node, qualified, "expected " + key.allowed + " or a list of them");
  } else {
    scalar(node);
  }
  return out;
}

const KeyInfo& known_key(const Reader& r, const toml::node& node, const std::string& section, const std::string& key) {
  const KeyInfo* info = find_key(key);
  if (!info) r.fail(node, section + "." + key, "unknown parameter (allowed: " + key_list() + ")");
  return *info;
}

template <typename T>
T integer_at(const Reader& r, const toml::node& node, const std::string& key, long minimum,
             long maximum = std::numeric_limits<long>::max()) {
  if (!node.is_integer()) r.fail(node, key, "expected an integer >= " + std::to_string(minimum));
  const std::int64_t v = *node.value<std::int64_t>();
  if (v < minimum) r.fail(node, key, "must be >= " + std::to_string(minimum));
  if (v > maximum) r.fail(node, key, "must be at most " + std::to_string(maximum));
  return static_cast<T>(v);
}

std::string text_at(const Reader& r, const toml::node& node, const std::string& key,
                    const std::vector<std::string>& allowed = {}) {
  if (!node.is_string()) r.fail(node, key, "expected a text");
  const std::string v = *node.value<std::string>();
  if (allowed.size() == 0) return v;
  std::string list;
  for (const std::string& a : allowed) {
    if (v == a) return v;
    list += (list.empty() ? "'" : ", '") + a + "'";
  }
  r.fail(node, key, "expected one of " + list + ", got '" + v + "'");
}

// ["a"] or ["b"], for "an option of compute = ... only".
std::string compute_choices(const std::vector<std::string>& quantities) {
  std::string out;
  for (std::size_t i = 0; i < quantities.size(); ++i) {
    if (i) out += i + 1 == quantities.size() ? " or " : ", ";
    out += "[\"" + quantities[i] + "\"]";
  }
  return out;
}

// The rules of a module's quantity, as its schema file states them.
void check_module_quantity(const Reader& r, const Experiment& e, const QuantitySpec& q) {
  for (const std::string& key : q.needs)
    if (!e.sets(key)) {
      std::string message = "'";  // built by append: GCC 12 warns falsely (-Wrestrict) on operator+ here
      message.append(q.name).append("' needs the parameter '").append(key);
      r.fail("compute", message + "' ([parameters], [grid] or [zip])");
    }
  for (const std::string& key : q.unused)
    if (e.sets(key)) throw InvalidArgument(e.where(key) + ": not used by '" + q.name + "' (" + q.unused_reason + ")");
  if (!q.exactly_one_of.empty()) {
    const auto set = std::count_if(q.exactly_one_of.begin(), q.exactly_one_of.end(),
                                   [&](const std::string& key) { return e.sets(key); });
    if (set != 1) {
      std::string list;
      for (std::size_t i = 0; i < q.exactly_one_of.size(); ++i)
        list += (i == 0 ? "'" : i + 1 == q.exactly_one_of.size() ? " and '" : ", '") + q.exactly_one_of[i] + "'";
      r.fail("compute", "'" + q.name + "' needs exactly one of the parameters " + list);
    }
  }
}

// The parameters each quantity needs, checked once for the whole experiment.
void check_requirements(const Reader& r, const Experiment& e) {
  const ExperimentSchema& schema = experiment_schema();
  const bool general = e.sets("ctrain") || e.sets("ctest") || e.sets("alpha_test");
  auto need = [&](Quantity q, std::initializer_list<const char*> keys) {
    for (const char* key : keys)
      if (!e.sets(key)) {
        std::string message = "'";  // built by append: GCC 12 warns falsely (-Wrestrict) on operator+ here
        message.append(to_string(q)).append("' needs the parameter '").append(key);
        r.fail("compute", message + "' ([parameters], [grid] or [zip])");
      }
  };
  auto forbid = [&](Quantity q, std::initializer_list<const char*> keys, const char* why) {
    for (const char* key : keys)
      if (e.sets(key)) r.fail(key, std::string("not used by '") + to_string(q) + "' (" + why + ")");
  };
  for (const std::string& name : e.compute) {
    const QuantitySpec& spec = *schema.find_quantity(name);
    if (!spec.module.empty()) {
      check_module_quantity(r, e, spec);
      continue;
    }
    Quantity q = Quantity::theory;
    for (Quantity core : core_quantity_list())
      if (to_string(core) == name) q = core;
    switch (q) {
      case Quantity::simulation:
        need(q, {"d", "alpha", "tau", "kappa", "rho"});
        break;
      case Quantity::theory:
        need(q, {"alpha", "tau", "kappa", "rho"});
        if (general) need(q, {"d"});
        break;
      case Quantity::baselines:
        need(q, {"d", "alpha", "kappa", "rho"});
        break;
      case Quantity::alignment:
        need(q, {"d", "alpha", "tau", "kappa", "rho", "ctrain", "ctest"});
        break;
      case Quantity::alpha_minimum:
        need(q, {"tau", "kappa", "rho"});
        forbid(q, {"alpha", "ctrain", "ctest", "alpha_test"}, "it scans alpha in the isotropic theory");
        break;
      case Quantity::k_spectrum:
        need(q, {"d", "ctrain", "alpha", "tau", "kappa", "rho"});
        break;
    }
  }
  // A module's key applies to the quantities its schema file names.
  for (const KeyInfo& k : schema.keys()) {
    if (k.module.empty() || !e.sets(k.name)) continue;
    const bool accepted = std::any_of(e.compute.begin(), e.compute.end(),
                                      [&](const std::string& q) { return ExperimentSchema::accepts(k, q); });
    if (!accepted)
      throw InvalidArgument(e.where(k.name) + ": an option of compute = " + compute_choices(k.quantities) + " only");
  }
  for (const std::string& name : e.compute)
    if (schema.find_quantity(name)->alone && e.compute.size() > 1)
      r.fail("compute", "'" + name + "' has its own rows and cannot be combined with other quantities");
  const bool exclusive = e.computes(Quantity::alpha_minimum) || e.computes(Quantity::k_spectrum);
  if (exclusive && e.compute.size() > 1)
    r.fail("compute", "'alpha_minimum' and 'k_spectrum' have their own rows and cannot be combined with others");
  if (general && e.computes(Quantity::theory) && e.sets("lambda")) {
    // The task-alignment theory is ridgeless; a lambda list is allowed only for the simulation.
    if (!e.computes(Quantity::simulation))
      r.fail("lambda", "the task-alignment theory is ridgeless (lambda -> 0+); lambda applies to simulations only");
  }
}

}  // namespace

std::string module_use(const Experiment& e) {
  const ExperimentSchema& schema = experiment_schema();
  for (const std::string& name : e.compute)
    if (schema.find_quantity(name)->needs_torch) return "compute: '" + name + "'";
  // A module's key is read by torch-free code only when a torch-free module quantity computed here takes
  // it (repr_gap's m, K, N); any other (a simulation's `device`) needs the module's program.
  const auto torch_free_use = [&](const KeySpec& key) {
    return std::any_of(e.compute.begin(), e.compute.end(), [&](const std::string& name) {
      const QuantitySpec* q = schema.find_quantity(name);
      return !q->module.empty() && !q->needs_torch && ExperimentSchema::accepts(key, name);
    });
  };
  for (const KeySpec& key : schema.keys())
    if (!key.module.empty() && e.sets(key.name) && !torch_free_use(key)) return e.where(key.name);
  return "";
}

bool Experiment::computes(Quantity quantity) const { return computes(to_string(quantity)); }

bool Experiment::computes(const std::string& quantity) const {
  return std::find(compute.begin(), compute.end(), quantity) != compute.end();
}

std::string Experiment::where(const std::string& key) const {
  const auto it = locations.find(key);
  return it == locations.end() ? key : it->second;
}

bool Experiment::sets(const std::string& key) const {
  if (fixed.count(key)) return true;
  for (const auto& axis : axes)
    if (std::find(axis.keys.begin(), axis.keys.end(), key) != axis.keys.end()) return true;
  return false;
}

std::size_t Experiment::num_points() const {
  std::size_t n = 1;
  for (const auto& axis : axes) n *= axis.size();
  return n;
}

namespace {
nlohmann::json value_json(const ParamValue& v) {
  if (const double* x = std::get_if<double>(&v)) return std::isfinite(*x) ? nlohmann::json(*x) : nlohmann::json("inf");
  return std::get<std::string>(v);
}
}  // namespace

nlohmann::json Experiment::identity() const {
  nlohmann::json j;
  j["name"] = name;
  j["compute"] = nlohmann::json::array();
  for (const std::string& q : compute) j["compute"].push_back(q);
  j["seed"] = seed;
  j["repeats"] = repeats;
  j["samples"] = samples;
  j["solver"] = solver;
  j["error_form"] = error_form;
  for (const auto& [key, values] : fixed)
    for (const auto& v : values) j["parameters"][key].push_back(value_json(v));
  j["axes"] = nlohmann::json::array();
  for (const auto& axis : axes) {
    nlohmann::json a;
    for (std::size_t k = 0; k < axis.keys.size(); ++k)
      for (const auto& v : axis.values[k]) a[axis.keys[k]].push_back(value_json(v));
    j["axes"].push_back(std::move(a));
  }
  return j;
}

std::string Experiment::identity_hash() const {
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(point_key(identity().dump())));
  return hex;
}

Experiment parse_experiment(const std::string& toml_text, const std::string& source) {
  const Reader r{source};
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    throw InvalidArgument(source + ":" + std::to_string(e.source().begin.line) + ": " + std::string(e.description()));
  }
  Experiment e;
  bool have_name = false, have_compute = false;
  for (auto&& [key_view, node] : root) {
    const std::string key(key_view.str());
    if (key == "name") {
      e.name = text_at(r, node, key);
      have_name = true;
      const bool ok = !e.name.empty() && std::all_of(e.name.begin(), e.name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
      });
      if (!ok) r.fail(node, key, "use letters, digits, '-', '_' and '.' only (it names the output)");
    } else if (key == "description") {
      e.description = text_at(r, node, key);
    } else if (key == "compute") {
      const toml::array* array = node.as_array();
      if (!array || array->empty()) r.fail(node, key, "expected a non-empty list, e.g. [\"theory\", \"simulation\"]");
      std::set<std::string> names;
      for (const toml::node& item : *array) names.insert(text_at(r, item, key, quantity_names()));
      for (const std::string& name : quantity_names())  // in the schema's order, each once
        if (names.count(name)) e.compute.push_back(name);
      have_compute = true;
    } else if (key == "seed") {
      e.seed = integer_at<std::uint64_t>(r, node, key, 0);
    } else if (key == "repeats") {
      e.repeats = integer_at<long>(r, node, key, 1, kMaxRepeats);
    } else if (key == "samples") {
      e.samples = integer_at<long>(r, node, key, 1);
    } else if (key == "solver") {
      e.solver = text_at(r, node, key, {"auto", "direct", "cg", "dual"});
    } else if (key == "error_form") {
      e.error_form = text_at(r, node, key, {"exact", "asymptotic"});
    } else if (key == "output") {
      e.output = text_at(r, node, key);
    } else if (key == "parameters" || key == "grid") {
      const toml::table* table = node.as_table();
      if (!table) r.fail(node, key, "expected a table [" + key + "]");
      for (auto&& [name_view, value] : *table) {
        const std::string name(name_view.str());
        const KeyInfo& info = known_key(r, value, key, name);
        const std::string qualified = key + "." + name;
        if (e.sets(name))
          r.fail(value, qualified, "set more than once ([parameters], [grid] and [zip] exclude each other)");
        auto values = read_values(r, value, info, qualified);
        e.locations[name] = source + ":" + std::to_string(value.source().begin.line) + ": " + qualified;
        if (key == "parameters") {
          if (values.size() != 1 && !info.row_level)
            r.fail(value, qualified, "one value here; put a list in [grid] or [zip]");
          e.fixed[name] = std::move(values);
        } else {
          e.axes.push_back({{name}, {std::move(values)}, static_cast<long>(value.source().begin.line)});
        }
      }
    } else if (key == "zip") {
      const toml::table* table = node.as_table();
      if (!table || table->empty()) r.fail(node, key, "expected a non-empty table [zip] of equally long lists");
      ExperimentAxis axis;
      axis.line = static_cast<long>(node.source().begin.line);
      for (auto&& [name_view, value] : *table) {
        const std::string name(name_view.str());
        const KeyInfo& info = known_key(r, value, key, name);
        const std::string qualified = "zip." + name;
        if (e.sets(name))
          r.fail(value, qualified, "set more than once ([parameters], [grid] and [zip] exclude each other)");
        auto values = read_values(r, value, info, qualified);
        e.locations[name] = source + ":" + std::to_string(value.source().begin.line) + ": " + qualified;
        if (!axis.values.empty() && values.size() != axis.size())
          r.fail(value, qualified,
                 "has " + std::to_string(values.size()) + " values, the other [zip] lists have " +
                     std::to_string(axis.size()) + " (zipped lists advance together)");
        axis.keys.push_back(name);
        axis.values.push_back(std::move(values));
      }
      e.axes.push_back(std::move(axis));
    } else {
      r.fail(node, key,
             "unknown key (allowed: name, description, compute, seed, repeats, samples, solver, error_form, output, "
             "[parameters], [grid], [zip])");
    }
  }
  // toml++ iterates tables in key order; the grid's order is the file's (the first axis varies slowest).
  std::stable_sort(e.axes.begin(), e.axes.end(), [](const auto& a, const auto& b) { return a.line < b.line; });
  if (!have_name) r.fail("name", "missing (a short name for the experiment and its output)");
  if (!have_compute) {
    std::string list;
    for (const std::string& name : quantity_names()) list += (list.empty() ? "" : ", ") + name;
    r.fail("compute", "missing (a list of: " + list + ")");
  }
  check_requirements(r, e);
  // Fail on impossible points now, before any work or output.
  (void)expand_points(e);
  return e;
}

Experiment load_experiment(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw InvalidArgument("EXPERIMENT: '" + path + "' is a directory, not an experiment file (to rerun an " +
                          "output directory, give its experiment.toml: " +
                          (std::filesystem::path(path) / "experiment.toml").string() + ")");
  const auto text = read_text_file(path);
  if (!text) throw InvalidArgument("EXPERIMENT: cannot read '" + path + "'");
  return parse_experiment(*text, path);
}

std::vector<ExperimentPoint> expand_points(const Experiment& e) {
  std::vector<std::size_t> sizes;
  for (const auto& axis : e.axes) sizes.push_back(axis.size());
  const GridIndex grid(sizes);
  std::vector<ExperimentPoint> points;
  points.reserve(grid.size());
  for (std::size_t i = 0; i < grid.size(); ++i) {
    std::map<std::string, std::vector<ParamValue>> values = e.fixed;
    const auto ix = grid.at(i);
    for (std::size_t a = 0; a < e.axes.size(); ++a)
      for (std::size_t k = 0; k < e.axes[a].keys.size(); ++k) values[e.axes[a].keys[k]] = {e.axes[a].values[k][ix[a]]};
    ExperimentPoint p;
    p.index = i;
    auto number = [&](const char* key) -> std::optional<double> {
      auto it = values.find(key);
      if (it == values.end()) return std::nullopt;
      return std::get<double>(it->second.front());
    };
    auto numbers = [&](const char* key) {
      std::vector<double> out;
      if (auto it = values.find(key); it != values.end())
        for (const auto& v : it->second) out.push_back(std::get<double>(v));
      return out;
    };
    auto texts = [&](const char* key) {
      std::vector<std::string> out;
      if (auto it = values.find(key); it != values.end())
        for (const auto& v : it->second) out.push_back(std::get<std::string>(v));
      return out;
    };
    if (auto d = number("d")) p.d = static_cast<long>(*d);
    p.alpha = number("alpha");
    p.tau = number("tau");
    p.kappa = number("kappa");
    p.rho = number("rho");
    if (auto t = texts("task_norm"); !t.empty()) p.task_norm = t.front();
    if (auto t = texts("assignment"); !t.empty()) p.assignment = t.front();
    if (auto t = texts("ctrain"); !t.empty()) p.ctrain = t.front();
    if (auto l = numbers("lambda"); !l.empty()) p.lambdas = l;
    p.alpha_tests = numbers("alpha_test");
    p.ctests = texts("ctest");
    for (const KeySpec& key : experiment_schema().keys())
      if (auto it = values.find(key.name); !key.module.empty() && it != values.end())
        p.options[key.name] = it->second.front();
    points.push_back(std::move(p));
  }
  return points;
}

}  // namespace iclab
