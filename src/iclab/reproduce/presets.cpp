// The figures of the two linear-model papers. Their experiment files are the figure folders
// figures/<name>/{quick,cpu}/*.toml (cpu, the default: the papers' parameters, from ../shared/specs,
// solvable-model-isotropic §5 and task-alignment §6; quick: every curve at a reduced d, fewer
// repetitions and coarser grids), read through preset_experiments; each file's comment names its
// source and any choice where the papers' sources disagree. Here: each figure's plot.
#include "iclab/reproduce/presets.hpp"

#include "iclab/error.hpp"
#include "iclab/reproduce/preset_plots.hpp"

namespace iclab {

const std::vector<Preset>& presets() {
  static const std::vector<Preset> all = {
      {"lu2024-fig1", "Lu et al. Fig 1: double descent in tau (A: ICL, B: IDG, ridgeless; C: ridge at kappa = inf)",
       plot_lu2024_fig1},
      {"lu2024-fig2", "Lu et al. Fig 2: non-monotone context length (A: IDG at tau = 0.5; B, C: ICL at tau = 0.5, 20)",
       plot_lu2024_fig2},
      {"lu2024-fig3", "Lu et al. Fig 3: heatmaps of the alpha minimising e_ICL / e_IDG over (kappa, rho)",
       plot_lu2024_fig3},
      {"lu2024-fig4", "Lu et al. Fig 4: task generalisation gap g_task against kappa, with the dMMSE",
       plot_lu2024_fig4},
      {"letey2025-fig1", "Letey et al. Fig 1: e_ICL and e_misalign against kappa for spiked tests ('piano' C_train)",
       plot_letey2025_fig1},
      {"letey2025-fig2", "Letey et al. Fig 2: theory e_ICL against the four alignment measures (Spearman)",
       plot_letey2025_fig2},
      {"letey2025-fig4", "Letey et al. Fig 4: optimal pretraining, improvement over C_train = C_test (heatmap)",
       plot_letey2025_fig4},
      {"letey2025-fig5", "Letey et al. Fig 5: eigenvalues of the alignment matrix K against C_train's",
       plot_letey2025_fig5},
      {"letey2025-fig6", "Letey et al. Fig 6: the kappa transition depends on rank(C_train) ('half manifold')",
       plot_letey2025_fig6},
      {"letey2025-testtime", "Letey et al. (appendix): e_ICL against the test-time context length",
       plot_letey2025_testtime},
  };
  return all;
}

const Preset& find_preset(const std::string& name, const std::vector<Preset>& among) {
  std::string names;
  for (const Preset& p : among) {
    if (p.name == name) return p;
    names += (names.empty() ? "" : ", ") + p.name;
  }
  throw InvalidArgument("NAME: unknown figure '" + name + "' (known: " + names + ")");
}

}  // namespace iclab
