#include "iclab/experiments/schema.hpp"

#include <toml++/toml.h>

#include <algorithm>
#include <iterator>
#include <stdexcept>
#include <string_view>

#include "iclab/experiments/experiment.hpp"
#include "iclab/io/table.hpp"
#include "iclab/params/model_params.hpp"
#include "iclab/sampling/link.hpp"

namespace iclab {
namespace {

KeySpec core_key(const char* name, KeyKind kind, const char* allowed, bool row_level = false) {
  KeySpec k;
  k.name = name;
  k.kind = kind;
  k.allowed = allowed;
  k.row_level = row_level;
  return k;
}

// The linear model's keys (docs/experiments.md).
std::vector<KeySpec> core_keys() {
  std::vector<KeySpec> keys = {
      core_key("d", KeyKind::integer, "an integer >= 2"),
      core_key("alpha", KeyKind::number, "a number > 0"),
      core_key("tau", KeyKind::number, "a number > 0"),
      core_key("kappa", KeyKind::number_or_inf, "a number > 0 or inf"),
      core_key("rho", KeyKind::number, "a number >= 0"),
      core_key("lambda", KeyKind::number, "a number >= 0", true),
      core_key("alpha_test", KeyKind::number, "a number > 0", true),
      core_key("task_norm", KeyKind::text, ""),
      core_key("assignment", KeyKind::text, ""),
      core_key("ctrain", KeyKind::text, "a covariance spec (e.g. 'power:0.9')"),
      core_key("ctest", KeyKind::text, "a covariance spec (e.g. 'power:0.9')", true),
  };
  const char* help[] = {"token dimension",
                        "context length ratio l/d",
                        "pretraining contexts ratio n/d^2 (Yang et al.: the representation-noise variance)",
                        "task diversity k/d (inf: every context its own task)",
                        "label-noise variance",
                        "ridge penalty of the Gamma* fit (0: ridgeless)",
                        "test context length ratio l_test/d (default alpha)",
                        "the law of the tasks: Gaussian, or on the sphere ||w|| = sqrt(d)",
                        "how contexts are assigned to the k tasks",
                        "pretraining task covariance",
                        "test task covariance"};
  static_assert(std::size(help) == 11);
  for (std::size_t i = 0; i < keys.size(); ++i) keys[i].help = help[i];
  for (KeySpec& k : keys) {
    if (k.name == "rho" || k.name == "lambda") k.minimum = 0.0;
    if (k.name == "ctrain" || k.name == "ctest") k.domain = "covariance";
  }
  keys[7].values = {to_string(TaskNorm::gaussian), to_string(TaskNorm::sphere)};
  keys[7].allowed = quoted_choices(keys[7].values);
  keys[8].values = {to_string(Assignment::random), to_string(Assignment::balanced)};
  keys[8].allowed = quoted_choices(keys[8].values);
  return keys;
}

std::vector<QuantitySpec> core_quantities() {
  std::vector<QuantitySpec> out;
  for (Quantity q : core_quantity_list()) {
    QuantitySpec s;
    s.name = to_string(q);
    s.description = describe(q);
    out.push_back(std::move(s));
  }
  return out;
}

[[noreturn]] void bad_file(const SchemaFile& file, const std::string& what) {
  throw std::logic_error(std::string(file.path) + ": " + what);
}

std::vector<std::string> strings(const SchemaFile& file, const toml::node* node, const std::string& key) {
  std::vector<std::string> out;
  if (!node) return out;
  const toml::array* array = node->as_array();
  if (!array) bad_file(file, key + ": expected a list of texts");
  for (const toml::node& item : *array) {
    if (!item.is_string()) bad_file(file, key + ": expected a list of texts");
    out.push_back(*item.value<std::string>());
  }
  return out;
}

std::string text(const SchemaFile& file, const toml::table& table, const std::string& key, bool required = false) {
  const toml::node* node = table.get(key);
  if (!node) {
    if (required) bad_file(file, key + ": missing");
    return "";
  }
  if (!node->is_string()) bad_file(file, key + ": expected a text");
  return *node->value<std::string>();
}

KeyKind parse_kind(const SchemaFile& file, const std::string& name) {
  if (name == "count") return KeyKind::count;
  if (name == "number") return KeyKind::number;
  if (name == "text") return KeyKind::text;
  if (name == "boolean") return KeyKind::boolean;
  if (name == "batch") return KeyKind::batch;
  bad_file(file, "kind: '" + name + "' is not one of count, number, text, boolean, batch");
}

std::string default_allowed(const KeySpec& k) {
  switch (k.kind) {
    case KeyKind::count:
      return "an integer >= " + format_number(k.minimum.value_or(1.0));
    case KeyKind::number:
      return k.minimum ? "a number >= " + format_number(*k.minimum) : "a number > 0";
    case KeyKind::boolean:
      return "true or false (or 1/0)";
    case KeyKind::text:
      return k.values.empty() ? "a text" : quoted_choices(k.values);
    default:
      return "";
  }
}

}  // namespace

std::string quoted_choices(const std::vector<std::string>& values) {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += i + 1 == values.size() ? " or " : ", ";
    out += "'" + values[i] + "'";
  }
  return out;
}

std::optional<std::size_t> position_of(const std::vector<std::string>& values, const std::string& text) {
  const auto it = std::find(values.begin(), values.end(), text);
  if (it == values.end()) return std::nullopt;
  return static_cast<std::size_t>(it - values.begin());
}

ExperimentSchema::ExperimentSchema(const std::vector<SchemaFile>& modules)
    : keys_(core_keys()), quantities_(core_quantities()) {
  for (const SchemaFile& file : modules) add_module(file);
}

void ExperimentSchema::add_module(const SchemaFile& file) {
  toml::table root;
  try {
    root = toml::parse(std::string_view(file.text), std::string_view(file.path));
  } catch (const toml::parse_error& e) {
    bad_file(file, std::string(e.description()));
  }
  const std::string module = text(file, root, "module", true);
  const std::string evaluated_by = text(file, root, "requires", true);
  std::vector<std::string> own;  // this file's quantities
  if (const toml::array* list = root["quantity"].as_array()) {
    for (const toml::node& node : *list) {
      const toml::table* t = node.as_table();
      if (!t) bad_file(file, "[[quantity]]: expected a table");
      QuantitySpec q;
      q.name = text(file, *t, "name", true);
      if (find_quantity(q.name)) bad_file(file, "quantity '" + q.name + "' is declared twice");
      q.description = text(file, *t, "description");
      q.module = module;
      // A quantity may override the file's `requires`: the torch-free ones (torch = false), evaluated by
      // iclab_modules in every program.
      q.evaluated_by = t->get("requires") ? text(file, *t, "requires") : evaluated_by;
      if (const toml::node* torch = t->get("torch")) {
        if (!torch->is_boolean()) bad_file(file, q.name + ".torch: expected true or false");
        q.needs_torch = *torch->value<bool>();
      } else {
        q.needs_torch = true;
      }
      q.needs = strings(file, t->get("needs"), "needs");
      q.exactly_one_of = strings(file, t->get("exactly_one_of"), "exactly_one_of");
      q.unused = strings(file, t->get("unused"), "unused");
      q.unused_reason = text(file, *t, "unused_reason");
      if (const toml::node* alone = t->get("alone")) q.alone = alone->value_or(false);
      own.push_back(q.name);
      quantities_.push_back(std::move(q));
    }
  }
  if (const toml::array* list = root["key"].as_array()) {
    for (const toml::node& node : *list) {
      const toml::table* t = node.as_table();
      if (!t) bad_file(file, "[[key]]: expected a table");
      KeySpec k;
      k.name = text(file, *t, "name", true);
      if (find_key(k.name)) bad_file(file, "key '" + k.name + "' is declared twice");
      k.kind = parse_kind(file, text(file, *t, "kind", true));
      if (const toml::node* minimum = t->get("minimum")) {
        if (!minimum->is_number()) bad_file(file, k.name + ".minimum: expected a number");
        k.minimum = *minimum->value<double>();
      }
      k.values = strings(file, t->get("values"), k.name + ".values");
      k.labels = strings(file, t->get("labels"), k.name + ".labels");
      if (!k.labels.empty() && k.labels.size() != k.values.size())
        bad_file(file, k.name + ".labels: one label per value");
      k.domain = text(file, *t, "domain");
      if (k.domain == "link") k.values = link_names();
      if (!k.domain.empty() && k.domain != "link" && k.domain != "device" && k.domain != "covariance")
        bad_file(file, k.name + ".domain: one of link, device, covariance");
      k.help = text(file, *t, "help");
      k.module = module;
      k.quantities = own;
      for (const std::string& q : strings(file, t->get("also_for"), k.name + ".also_for")) {
        if (!find_quantity(q)) bad_file(file, k.name + ".also_for: no quantity '" + q + "'");
        k.quantities.push_back(q);
      }
      k.allowed = text(file, *t, "allowed");
      if (k.allowed.empty()) k.allowed = default_allowed(k);
      keys_.push_back(std::move(k));
    }
  }
  for (const std::string& shared : strings(file, root.get("shared_keys"), "shared_keys")) {
    auto it = std::find_if(keys_.begin(), keys_.end(), [&](const KeySpec& k) { return k.name == shared; });
    if (it == keys_.end() || it->module.empty()) bad_file(file, "shared_keys: no module key '" + shared + "'");
    it->quantities.insert(it->quantities.end(), own.begin(), own.end());
  }
  // A key lists its quantities in the schema's order (the core's first), as messages show them.
  auto position = [&](const std::string& name) {
    return std::find_if(quantities_.begin(), quantities_.end(), [&](const QuantitySpec& q) { return q.name == name; }) -
           quantities_.begin();
  };
  for (KeySpec& k : keys_)
    std::stable_sort(k.quantities.begin(), k.quantities.end(),
                     [&](const std::string& a, const std::string& b) { return position(a) < position(b); });
  for (const QuantitySpec& q : quantities_)
    if (q.module == module)
      for (const auto* list : {&q.needs, &q.exactly_one_of, &q.unused})
        for (const std::string& key : *list)
          if (!find_key(key)) bad_file(file, q.name + ": no key '" + key + "'");
}

const KeySpec* ExperimentSchema::find_key(const std::string& name) const {
  for (const KeySpec& k : keys_)
    if (k.name == name) return &k;
  return nullptr;
}

const QuantitySpec* ExperimentSchema::find_quantity(const std::string& name) const {
  for (const QuantitySpec& q : quantities_)
    if (q.name == name) return &q;
  return nullptr;
}

const std::vector<std::string>& ExperimentSchema::values(const std::string& key) const {
  const KeySpec* k = find_key(key);
  if (!k || k->values.empty()) throw std::logic_error("experiment schema: no text key '" + key + "' with values");
  return k->values;
}

std::vector<std::string> ExperimentSchema::module_quantities(const std::string& module) const {
  std::vector<std::string> out;
  for (const QuantitySpec& q : quantities_)
    if (!module.empty() && q.module == module) out.push_back(q.name);
  return out;
}

bool ExperimentSchema::accepts(const KeySpec& key, const std::string& quantity) {
  return key.module.empty() ||
         std::find(key.quantities.begin(), key.quantities.end(), quantity) != key.quantities.end();
}

std::vector<std::string> ExperimentSchema::keys_of(const std::string& quantity) const {
  std::vector<std::string> out;
  for (const KeySpec& k : keys_)
    if (!k.module.empty() && accepts(k, quantity)) out.push_back(k.name);
  return out;
}

std::string to_string(KeyKind kind) {
  switch (kind) {
    case KeyKind::integer:
      return "integer";
    case KeyKind::count:
      return "count";
    case KeyKind::number:
      return "number";
    case KeyKind::number_or_inf:
      return "number_or_inf";
    case KeyKind::text:
      return "text";
    case KeyKind::boolean:
      return "boolean";
    case KeyKind::batch:
      return "batch";
  }
  return "";
}

namespace {

// A table cell: '|' would end it, a line break would end the row.
std::string cell(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '|')
      out += "\\|";
    else
      out += c == '\n' ? ' ' : c;
  }
  return out;
}

std::string code_list(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "`" : ", `") + name + "`";
  return out;
}

void quantity_table(std::string& md, const std::vector<const QuantitySpec*>& quantities, bool module) {
  if (!module) {  // the core's rules are code (experiment.cpp), shown in docs/experiments.md
    md += "| quantity | description |\n|---|---|\n";
    for (const QuantitySpec* q : quantities) md += "| `" + q->name + "` | " + cell(q->description) + " |\n";
    return;
  }
  md += "| quantity | description | needs | refuses | own rows | evaluated by |\n|---|---|---|---|---|---|\n";
  for (const QuantitySpec* q : quantities) {
    std::string needs = code_list(q->needs);
    if (!q->exactly_one_of.empty())
      needs += (needs.empty() ? "" : "; ") + std::string("exactly one of ") + code_list(q->exactly_one_of);
    std::string refuses = code_list(q->unused);
    if (!q->unused_reason.empty()) refuses += " (" + q->unused_reason + ")";
    const std::string by = q->module.empty() ? "the core (every program)"
                           : q->needs_torch  ? q->evaluated_by + ", `iclab-nn`"
                                             : q->evaluated_by + ", every program";
    md += "| `" + q->name + "` | " + cell(q->description) + " | " + cell(needs) + " | " + cell(refuses) + " | " +
          (q->alone ? "yes" : "") + " | " + cell(by) + " |\n";
  }
}

void key_table(std::string& md, const std::vector<const KeySpec*>& keys, bool module) {
  md += module ? "| key | kind | allowed | for | meaning |\n|---|---|---|---|---|\n"
               : "| key | kind | allowed | meaning |\n|---|---|---|---|\n";
  for (const KeySpec* k : keys) {
    std::string kind = to_string(k->kind);
    if (k->row_level) kind += ", row-level";
    md += "| `" + k->name + "` | " + kind + " | " + cell(k->allowed) + " | ";
    if (module) md += cell(code_list(k->quantities)) + " | ";
    md += cell(k->help) + " |\n";
  }
}

// The allowed values of text keys, with their labels: the model names and the other enums.
void value_table(std::string& md, const std::vector<const KeySpec*>& keys) {
  bool any = false;
  for (const KeySpec* k : keys) {
    if (k->kind != KeyKind::text || k->values.empty() || !k->domain.empty()) continue;
    if (!any)
      md +=
          "\nAllowed values of the text keys (the model names among them), in the order of their enum:\n\n"
          "| key | value | label |\n|---|---|---|\n";
    any = true;
    for (std::size_t i = 0; i < k->values.size(); ++i)
      md += "| `" + k->name + "` | `" + k->values[i] + "` | " + (k->labels.empty() ? "" : cell(k->labels[i])) + " |\n";
  }
}

}  // namespace

std::string schema_markdown(const ExperimentSchema& schema) {
  std::string md =
      "# The experiment schema\n\n"
      "<!-- Generated: `iclab schema --markdown > docs/schema.md` after editing src/iclab/experiments/schema.cpp\n"
      "     or a module's schema.toml. Do not edit by hand: Runner.SchemaDocIsTheSchema (tests/test_experiments.cpp)\n"
      "     fails while this page and the schema differ. -->\n\n"
      "Every quantity an experiment file may `compute` and every key it may set ([experiments.md](experiments.md)\n"
      "has the file format, [columns.md](columns.md) the result columns). The core's are the linear model's; the\n"
      "core's rules for its quantities (which keys each needs) are in experiments.md. A module declares its own\n"
      "in a schema file compiled into every program, so that `iclab` without libtorch checks a module's\n"
      "experiment file completely before it runs it, or hands it to `iclab-nn` when it needs torch. A module's\n"
      "key applies to the quantities listed under *for*; the core's keys apply to every quantity.\n";
  std::vector<std::string> modules = {""};
  for (const QuantitySpec& q : schema.quantities())
    if (std::find(modules.begin(), modules.end(), q.module) == modules.end()) modules.push_back(q.module);
  for (const KeySpec& k : schema.keys())
    if (std::find(modules.begin(), modules.end(), k.module) == modules.end()) modules.push_back(k.module);
  for (const std::string& module : modules) {
    std::vector<const QuantitySpec*> quantities;
    for (const QuantitySpec& q : schema.quantities())
      if (q.module == module) quantities.push_back(&q);
    std::vector<const KeySpec*> keys;
    for (const KeySpec& k : schema.keys())
      if (k.module == module) keys.push_back(&k);
    md += module.empty() ? "\n## The core: the linear model\n"
                         : "\n## Module `" + module + "` (src/iclab/" + module + "/schema.toml)\n";
    if (!quantities.empty()) {
      md += "\nQuantities:\n\n";
      quantity_table(md, quantities, !module.empty());
    }
    if (!keys.empty()) {
      md += "\nKeys:\n\n";
      key_table(md, keys, !module.empty());
      value_table(md, keys);
    }
  }
  return md;
}

const ExperimentSchema& experiment_schema() {
  static const ExperimentSchema schema(module_schema_files());
  return schema;
}

}  // namespace iclab
