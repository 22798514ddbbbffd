// The Transformer presets: their experiment files are the figure folders figures/lu2024-fig5,
// figures/lu2024-fig6 and figures/letey2025-fig3 (one sub-folder per scale: quick, cpu, paper; each
// file's comment names its source in the spec), read through preset_experiments. Here: their plots.
#include "iclab/nn/presets.hpp"

#include "iclab/nn/transformer_plots.hpp"

namespace iclab::nn {

std::vector<Preset> transformer_presets() {
  return {
      {"lu2024-fig5",
       "Lu et al. Fig 5: double descent in tau of trained Transformers (4 architectures; D: threshold tau* from the "
       "train loss)",
       plot_lu2024_fig5},
      {"lu2024-fig6", "Lu et al. Fig 6: ICL, IDG and g_task of 2 x (softmax + MLP) against kappa = K/d at tau = 10",
       plot_lu2024_fig6},
      {"letey2025-fig3",
       "Letey et al. Fig 3: trained Transformer's ICL error against the four alignment measures (Spearman)",
       plot_letey2025_fig3},
  };
}

}  // namespace iclab::nn
