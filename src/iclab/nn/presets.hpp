// The Transformer figures of the two linear-attention papers as presets (docs/transformers.md,
// "Presets and scales"): experiment files with compute = ["transformer"] (run by the experiment runner:
// resumable, shardable) and plots that read their CSVs. The full scale is a documented CPU scale; the
// papers' GPU grids are in the docs.
#pragma once

#include <vector>

#include "iclab/reproduce/presets.hpp"

namespace iclab::nn {

// lu2024-fig5, lu2024-fig6, letey2025-fig3.
std::vector<Preset> transformer_presets();

}  // namespace iclab::nn
