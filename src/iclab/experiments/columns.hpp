// The column vocabulary: the name and meaning of every column iclab writes, listed once (columns.inc)
// and shown in docs/columns.md. A table's columns are names from this list; each name means one thing.
#pragma once

#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace iclab {

struct ColumnInfo {
  std::string_view name;
  std::string_view meaning;
  std::string_view formerly;  // the names commands used before a rename, with the command (Markdown)
};

// Every column, in the order of docs/columns.md.
std::span<const ColumnInfo> column_vocabulary();
// The entry of a column name; nullptr when the name is not in the vocabulary.
const ColumnInfo* find_column_info(std::string_view name);
// {name: meaning} for the listed names among `columns` (for a run's metadata).
nlohmann::json column_meanings(const std::vector<std::string>& columns);

}  // namespace iclab
