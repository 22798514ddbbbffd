#include "iclab/experiments/columns.hpp"

#include <algorithm>
#include <iterator>

namespace iclab {
namespace {

constexpr ColumnInfo kColumns[] = {
#define ICLAB_COLUMN(name, meaning, formerly) {#name, meaning, formerly},
#include "iclab/experiments/columns.inc"
#undef ICLAB_COLUMN
};

}  // namespace

std::span<const ColumnInfo> column_vocabulary() { return kColumns; }

const ColumnInfo* find_column_info(std::string_view name) {
  const auto it =
      std::find_if(std::begin(kColumns), std::end(kColumns), [name](const ColumnInfo& c) { return c.name == name; });
  return it == std::end(kColumns) ? nullptr : &*it;
}

nlohmann::json column_meanings(const std::vector<std::string>& columns) {
  nlohmann::json out = nlohmann::json::object();
  for (const std::string& name : columns)
    if (const ColumnInfo* info = find_column_info(name)) out[name] = std::string(info->meaning);
  return out;
}

}  // namespace iclab
