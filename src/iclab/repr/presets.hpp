// The figures of Yang, Huang, Liang & Chi (2408.10147) as presets: `compute` trains / evaluates at a
// documented CPU scale (docs/representations.md) and writes CSVs; `plot` only reads them.
#pragma once

#include <vector>

#include "iclab/reproduce/presets.hpp"

namespace iclab::repr {

// yang2024-fig2 ... yang2024-fig5.
std::vector<Preset> representation_presets();

}  // namespace iclab::repr
