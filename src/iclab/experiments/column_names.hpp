// Every column name of columns.inc as a constant, columns::e_icl for the column "e_icl": code that writes a
// header cell, a metadata key about a column or reads a column of a results file names it through these, so
// each name is spelled once in the code (tests/test_columns.cpp's ColumnNamesAreSpelledOnce checks the
// table-building sources). Keys of experiment files and CLI options that share a name are not columns.
#pragma once

namespace iclab::columns {

// Arrays of char rather than std::string_view: they convert implicitly to std::string (a Table's column
// list, JSON keys) as well as to std::string_view and const char*, so a literal and its constant are
// interchangeable. (Comparing two of them compares addresses; -Warray-compare rejects that.)
#define ICLAB_COLUMN(name, meaning, formerly) inline constexpr char name[] = #name;
#include "iclab/experiments/columns.inc"
#undef ICLAB_COLUMN

}  // namespace iclab::columns
