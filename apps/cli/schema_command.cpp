// `iclab schema`: the experiment schema (experiments/schema.hpp), the core's quantities and keys and each
// compiled-in module's, as JSON, or as the Markdown page docs/schema.md (`--markdown`).
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "commands.hpp"
#include "iclab/experiments/schema.hpp"
#include "output.hpp"

namespace iclab::cli {
namespace {

nlohmann::json schema_json(const ExperimentSchema& schema) {
  nlohmann::json j;
  j["quantities"] = nlohmann::json::array();
  for (const QuantitySpec& q : schema.quantities())
    j["quantities"].push_back({{"name", q.name},
                               {"description", q.description},
                               {"module", q.module},
                               {"evaluated_by", q.evaluated_by},
                               {"needs_torch", q.needs_torch},
                               {"needs", q.needs},
                               {"exactly_one_of", q.exactly_one_of},
                               {"unused", q.unused},
                               {"unused_reason", q.unused_reason},
                               {"alone", q.alone}});
  j["keys"] = nlohmann::json::array();
  for (const KeySpec& k : schema.keys()) {
    nlohmann::json key = {
        {"name", k.name},     {"kind", to_string(k.kind)}, {"row_level", k.row_level}, {"allowed", k.allowed},
        {"values", k.values}, {"labels", k.labels},        {"domain", k.domain},       {"help", k.help},
        {"module", k.module}, {"quantities", k.quantities}};
    if (k.minimum) key["minimum"] = *k.minimum;
    j["keys"].push_back(std::move(key));
  }
  return j;
}

}  // namespace

Runner add_schema_command(CLI::App& app) {
  auto markdown = std::make_shared<bool>(false);
  CLI::App* cmd = app.add_subcommand(
      "schema", "The experiment schema: every quantity and key of experiment files, the modules' included (JSON)");
  cmd->add_flag("--markdown", *markdown, "the Markdown page docs/schema.md instead of JSON");
  return [markdown](const std::string&) {
    const ExperimentSchema& schema = experiment_schema();
    write_stdout(*markdown ? schema_markdown(schema) : schema_json(schema).dump(2) + "\n");
  };
}

}  // namespace iclab::cli
