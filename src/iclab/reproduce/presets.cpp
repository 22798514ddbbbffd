// The papers' figures as experiment files. Parameters: ../shared/specs (solvable-model-isotropic §5,
// task-alignment §6); where the papers' sources disagree the choice is stated in the description.
// `quick` keeps every curve of a figure at a reduced d, fewer repetitions and coarser grids.
#include "iclab/reproduce/presets.hpp"

#include <map>

#include "iclab/error.hpp"
#include "iclab/io/table.hpp"
#include "iclab/reproduce/preset_plots.hpp"
#include "iclab/reproduce/preset_support.hpp"

namespace iclab {
namespace {

std::vector<PresetExperiment> lu2024_fig1(bool quick) {
  const std::map<std::string, std::string> v = {
      {"d", quick ? "40" : "100"}, {"repeats", "10"}, {"taus", quick ? "log:0.1:2.2:60" : "log:0.1:2.2:200"}};
  return {
      {"fig1ab-theory", fill_template(R"TOML(name = "fig1ab-theory"
description = "Lu et al. Fig 1A/B: ridgeless e_ICL and e_IDG against tau (theory, d -> inf)"
compute = ["theory"]
[parameters]
kappa = 0.5
rho = 0.01
lambda = 0
[grid]
alpha = [1, 10, 100]
tau = "{taus}"
)TOML",
                                      v)},
      {"fig1ab-simulation", fill_template(R"TOML(name = "fig1ab-simulation"
description = "Lu et al. Fig 1A/B simulations: sphere tasks and balanced assignment as in the authors' code, lambda = 1e-8 (their logs)"
compute = ["simulation"]
seed = 1
repeats = {repeats}
[parameters]
d = {d}
kappa = 0.5
rho = 0.01
lambda = 1e-8
task_norm = "sphere"
assignment = "balanced"
[grid]
alpha = [1, 10, 100]
tau = [0.2, 0.5, 0.85, 1.15, 1.5, 2]
)TOML",
                                          v)},
      {"fig1c-theory", fill_template(R"TOML(name = "fig1c-theory"
description = "Lu et al. Fig 1C: ridge e_ICL against tau at kappa = inf (theory)"
compute = ["theory"]
[parameters]
alpha = 10
kappa = inf
rho = 0.01
lambda = [1e-5, 0.1, 1]
[grid]
tau = "{taus}"
)TOML",
                                     v)},
      {"fig1c-simulation", fill_template(R"TOML(name = "fig1c-simulation"
description = "Lu et al. Fig 1C simulations (a fresh task per context, sphere tasks; one draw per repetition serves all lambda)"
compute = ["simulation"]
seed = 1
repeats = {repeats}
[parameters]
d = {d}
alpha = 10
kappa = inf
rho = 0.01
lambda = [1e-5, 0.1, 1]
task_norm = "sphere"
[grid]
tau = [0.2, 0.5, 0.85, 1, 1.15, 1.5, 2]
)TOML",
                                         v)},
  };
}

std::vector<PresetExperiment> lu2024_fig2(bool quick) {
  struct Panel {
    const char* name;
    const char* what;
    const char* tau;
    const char* rho;
    const char* kappas;
    const char* alphas;
    const char* d_full;
  };
  // 2C follows the authors' code and job names (rho = 0.1, kappa with 1.5, d = 50 of their {100, 75, 50});
  // the paper's markdown says rho = 0.5 (spec §8, item 2).
  const Panel panels[] = {
      {"fig2a", "IDG", "0.5", "0.5", "[0.1, 0.3, 0.5, 0.7, 2]", "[1, 5.6, 6.15, 7.4, 100, 1000]", "100"},
      {"fig2b", "ICL", "0.5", "0.1", "[0.2, 0.4, 0.5, 0.6, 1.5]", "[2.35, 5.5, 9.62, 22.7, 100, 1000]", "100"},
      {"fig2c", "ICL", "20", "0.1", "[0.25, 0.75, 1, 1.5]", "[1, 8.4, 31.3, 143.3, 1000]", "50"},
  };
  std::vector<PresetExperiment> out;
  for (const Panel& p : panels) {
    const std::map<std::string, std::string> v = {{"name", p.name},
                                                  {"what", p.what},
                                                  {"tau", p.tau},
                                                  {"rho", p.rho},
                                                  {"kappas", p.kappas},
                                                  {"alphas", p.alphas},
                                                  {"d", quick ? "30" : p.d_full},
                                                  {"repeats", quick ? "5" : "20"},
                                                  {"alpha_grid", quick ? "log:0.3:3000:60" : "log:0.3:3000:200"}};
    out.push_back({std::string(p.name) + "-theory", fill_template(R"TOML(name = "{name}-theory"
description = "Lu et al. Fig 2: {what} error against alpha at tau = {tau}, rho = {rho} (theory)"
compute = ["theory"]
[parameters]
tau = {tau}
rho = {rho}
lambda = 0
[grid]
kappa = {kappas}
alpha = "{alpha_grid}"
)TOML",
                                                                  v)});
    out.push_back({std::string(p.name) + "-simulation", fill_template(R"TOML(name = "{name}-simulation"
description = "Lu et al. Fig 2 simulations at the theory's alpha minima; lambda = 1e-6; sphere tasks"
compute = ["simulation"]
seed = 2
repeats = {repeats}
[parameters]
d = {d}
tau = {tau}
rho = {rho}
lambda = 1e-6
task_norm = "sphere"
[grid]
kappa = {kappas}
alpha = {alphas}
)TOML",
                                                                      v)});
  }
  return out;
}

std::vector<PresetExperiment> lu2024_fig3(bool quick) {
  const std::map<std::string, std::string> v = {{"kappas", quick ? "lin:0.1:2.1:81" : "lin:0.1:2.1:401"},
                                                {"rhos", quick ? "lin:0.01:1:60" : "lin:0.01:1:300"}};
  return {{"fig3-alpha-minimum", fill_template(R"TOML(name = "fig3-alpha-minimum"
description = "Lu et al. Fig 3: alpha at the interior minimum of e_ICL (tau = 0.5, 20) and e_IDG (tau = 0.5); empty where monotone"
compute = ["alpha_minimum"]
[parameters]
lambda = 0
[grid]
tau = [0.5, 20]
kappa = "{kappas}"
rho = "{rhos}"
)TOML",
                                               v)}};
}

std::vector<PresetExperiment> lu2024_fig4(bool quick) {
  // tau = 0.2 alpha (the paper's markdown); lambda is unspecified there: 1e-6 as in the quick demo.
  const std::map<std::string, std::string> v = {{"d", quick ? "30" : "100"},
                                                {"repeats", quick ? "3" : "5"},
                                                {"samples", quick ? "500" : "1000"},
                                                {"kappas", quick ? "log:0.1:50:8" : "log:0.08:95.72:31"},
                                                {"kappa_grid", quick ? "log:0.05:150:60" : "log:0.05:150:200"}};
  return {
      {"fig4-theory", fill_template(R"TOML(name = "fig4-theory"
description = "Lu et al. Fig 4: g_task = e_ICL - e_IDG against kappa, tau = 0.2 alpha (theory)"
compute = ["theory"]
[parameters]
rho = 0.01
lambda = 0
[zip]
alpha = [6, 10, 20, 40]
tau = [1.2, 2, 4, 8]
[grid]
kappa = "{kappa_grid}"
)TOML",
                                    v)},
      {"fig4-simulation", fill_template(R"TOML(name = "fig4-simulation"
description = "Lu et al. Fig 4 simulations: g_task of Gamma*, tau = 0.2 alpha, lambda = 1e-6, sphere tasks"
compute = ["simulation"]
seed = 4
repeats = {repeats}
[parameters]
d = {d}
rho = 0.01
lambda = 1e-6
task_norm = "sphere"
[zip]
alpha = [6, 10, 20, 40]
tau = [1.2, 2, 4, 8]
[grid]
kappa = "{kappas}"
)TOML",
                                        v)},
      {"fig4-dmmse", fill_template(R"TOML(name = "fig4-dmmse"
description = "Lu et al. Fig 4: g_task of the dMMSE (posterior mean over the k pretraining tasks), Monte Carlo"
compute = ["baselines"]
seed = 4
samples = {samples}
[parameters]
d = {d}
rho = 0.01
[grid]
alpha = [6, 10, 20, 40]
kappa = "{kappas}"
)TOML",
                                   v)},
  };
}

// Spikes at 0-based i = int(linspace(0, d - 1, 60))[c] for the plotted c = 0, 39, 49, 54, 59 (spec §6.1).
std::string fig1_tests(long d) {
  std::string tests = "\"linear\"";
  for (long c : {0L, 39L, 49L, 54L, 59L}) tests += ", \"spike:" + std::to_string(c * (d - 1) / 59) + "\"";
  return "[" + tests + "]";
}

std::vector<PresetExperiment> letey2025_fig1(bool quick) {
  const long d = quick ? 40 : 120;
  const std::map<std::string, std::string> v = {{"d", std::to_string(d)},
                                                {"repeats", quick ? "5" : "30"},
                                                {"tests", fig1_tests(d)},
                                                {"kappas", quick ? "lin:0.1:2.1:11" : "lin:0.1:2.1:21"},
                                                {"kappa_grid", quick ? "lin:0.05:2.15:22" : "lin:0.05:2.15:43"}};
  return {
      {"fig1-theory", fill_template(R"TOML(name = "fig1-theory"
description = "Letey et al. Fig 1: e_ICL and e_misalign against kappa, C_train = uniform spectrum ('piano'), tests C_train and spikes (theory)"
compute = ["theory"]
[parameters]
d = {d}
alpha = 2
tau = 4
rho = 0.01
ctrain = "linear"
ctest = {tests}
[grid]
kappa = "{kappa_grid}"
)TOML",
                                    v)},
      {"fig1-simulation", fill_template(R"TOML(name = "fig1-simulation"
description = "Letey et al. Fig 1 simulations (lambda = 1e-6); simulated e_misalign = icl_mean - e_scalar"
compute = ["theory", "simulation"]
seed = 5
repeats = {repeats}
[parameters]
d = {d}
alpha = 2
tau = 4
rho = 0.01
lambda = 1e-6
ctrain = "linear"
ctest = {tests}
[grid]
kappa = "{kappas}"
)TOML",
                                        v)},
  };
}

std::vector<PresetExperiment> letey2025_fig2(bool quick) {
  // Spec §4: 5 low-rank tests, 11 power laws, then the matched C_test = C_train: 17 tests.
  std::string tests = "\"lowrank:0.2\", \"lowrank:0.4\", \"lowrank:0.6\", \"lowrank:0.8\", \"iso\"";
  for (int i = 0; i <= 10; ++i) tests += ", \"power:" + format_number((4.0 + i) / 10.0) + "\"";
  tests += ", \"power:0.9\"";
  return {{"fig2-measures", fill_template(R"TOML(name = "fig2-measures"
description = "Letey et al. Fig 2: theory e_ICL against the four alignment measures, C_train = power law 0.9"
compute = ["alignment"]
[parameters]
d = {d}
alpha = 2
tau = 4
rho = 0.01
ctrain = "power:0.9"
ctest = [{tests}]
[grid]
kappa = [0.2, 0.5, 1, 2, 10]
)TOML",
                                          {{"d", quick ? "60" : "120"}, {"tests", tests}})}};
}

std::vector<PresetExperiment> letey2025_fig4(bool quick) {
  // C_train = power law p_test + dp, dp = linspace(-0.5, 2, 51) (p_train spelled exactly), C_test = power 0.9.
  const int steps = quick ? 26 : 51;
  std::string trains;
  for (int i = 0; i < steps; ++i)
    trains += (i ? ", \"power:" : "\"power:") + format_number(0.4 + 2.5 * i / (steps - 1)) + "\"";
  return {{"fig4-optimal-pretraining",
           fill_template(R"TOML(name = "fig4-optimal-pretraining"
description = "Letey et al. Fig 4: e_ICL for C_test = power law 0.9 and C_train = power law 0.9 + dp (theory)"
compute = ["theory"]
[parameters]
d = 100
alpha = 1
tau = 4
rho = 0.01
ctest = "power:0.9"
[grid]
ctrain = [{trains}]
kappa = "{kappas}"
)TOML",
                         {{"trains", trains}, {"kappas", quick ? "lin:0.1:2.1:41" : "lin:0.1:2.1:81"}})}};
}

std::vector<PresetExperiment> letey2025_fig5(bool quick) {
  return {{"fig5-k-spectrum", fill_template(R"TOML(name = "fig5-k-spectrum"
description = "Letey et al. Fig 5: eigenvalues k_i of K against C_train's (power law 0.9) for tau < 1"
compute = ["k_spectrum"]
[parameters]
d = {d}
tau = 0.5
rho = 0.01
ctrain = "power:0.9"
[grid]
alpha = [0.5, 2, 8]
kappa = [0.2, 0.5, 1, 2, 10]
)TOML",
                                            {{"d", quick ? "50" : "100"}})}};
}

std::vector<PresetExperiment> letey2025_fig6(bool quick) {
  const std::map<std::string, std::string> v = {{"d", quick ? "30" : "80"},
                                                {"alpha", quick ? "30" : "80"},
                                                {"repeats", quick ? "3" : "30"},
                                                {"kappas", quick ? "lin:0.2:2.2:11" : "lin:0.2:2.2:21"},
                                                {"kappa_grid", quick ? "lin:0.1:2.3:45" : "lin:0.1:2.3:89"}};
  const char* tests = R"(["lowrank:0.5", "iso", "power:0.5", "revpower:0.5", "spike:1"])";
  auto text = [&](const char* body) { return fill_template(fill_template(body, v), {{"tests", tests}}); };
  return {
      {"fig6-theory", text(R"TOML(name = "fig6-theory"
description = "Letey et al. Fig 6: the kappa transition for a rank-d/2 C_train ('half manifold'), alpha = tau = {alpha} (theory)"
compute = ["theory"]
[parameters]
d = {d}
alpha = {alpha}
tau = {alpha}
rho = 0.01
ctrain = "lowrank:0.5"
ctest = {tests}
[grid]
kappa = "{kappa_grid}"
)TOML")},
      {"fig6-simulation", text(R"TOML(name = "fig6-simulation"
description = "Letey et al. Fig 6 simulations: Gaussian tasks t ~ N(0, C_train), random assignment, lambda = 1e-6"
compute = ["simulation"]
seed = 6
repeats = {repeats}
[parameters]
d = {d}
alpha = {alpha}
tau = {alpha}
rho = 0.01
lambda = 1e-6
ctrain = "lowrank:0.5"
ctest = {tests}
[grid]
kappa = "{kappas}"
)TOML")},
  };
}

std::vector<PresetExperiment> letey2025_testtime(bool quick) {
  const std::map<std::string, std::string> v = {{"d", quick ? "40" : "150"},
                                                {"repeats", quick ? "3" : "10"},
                                                {"alpha_tests", quick ? "log:0.1:1000:11" : "log:0.1:1000:21"},
                                                {"alpha_grid", quick ? "log:0.1:1000:41" : "log:0.1:1000:81"}};
  // C_test = C_train for I and the power laws 1.0 and 1.5 (the plotted options 0, 4, 3 of spec §6.6).
  return {
      {"testtime-theory", fill_template(R"TOML(name = "testtime-theory"
description = "Letey et al. (appendix): e_ICL against the test context length alpha_test = l_test/d, C_test = C_train (theory)"
compute = ["theory"]
[parameters]
d = {d}
alpha = 2
tau = 4
kappa = 1
rho = 0.01
alpha_test = "{alpha_grid}"
[zip]
ctrain = ["iso", "power:1", "power:1.5"]
ctest = ["iso", "power:1", "power:1.5"]
)TOML",
                                        v)},
      {"testtime-simulation", fill_template(R"TOML(name = "testtime-simulation"
description = "Letey et al. test-time context length: one Gamma* per repetition scored at every l_test = int(alpha_test d), lambda = 1e-4"
compute = ["simulation"]
seed = 7
repeats = {repeats}
[parameters]
d = {d}
alpha = 2
tau = 4
kappa = 1
rho = 0.01
lambda = 1e-4
alpha_test = "{alpha_tests}"
[zip]
ctrain = ["iso", "power:1", "power:1.5"]
ctest = ["iso", "power:1", "power:1.5"]
)TOML",
                                            v)},
  };
}

}  // namespace

const std::vector<Preset>& presets() {
  static const std::vector<Preset> all = {
      {"lu2024-fig1", "Lu et al. Fig 1: double descent in tau (A: ICL, B: IDG, ridgeless; C: ridge at kappa = inf)",
       lu2024_fig1, plot_lu2024_fig1},
      {"lu2024-fig2", "Lu et al. Fig 2: non-monotone context length (A: IDG at tau = 0.5; B, C: ICL at tau = 0.5, 20)",
       lu2024_fig2, plot_lu2024_fig2},
      {"lu2024-fig3", "Lu et al. Fig 3: heatmaps of the alpha minimising e_ICL / e_IDG over (kappa, rho)", lu2024_fig3,
       plot_lu2024_fig3},
      {"lu2024-fig4", "Lu et al. Fig 4: task generalisation gap g_task against kappa, with the dMMSE", lu2024_fig4,
       plot_lu2024_fig4},
      {"letey2025-fig1", "Letey et al. Fig 1: e_ICL and e_misalign against kappa for spiked tests ('piano' C_train)",
       letey2025_fig1, plot_letey2025_fig1},
      {"letey2025-fig2", "Letey et al. Fig 2: theory e_ICL against the four alignment measures (Spearman)",
       letey2025_fig2, plot_letey2025_fig2},
      {"letey2025-fig4", "Letey et al. Fig 4: optimal pretraining, improvement over C_train = C_test (heatmap)",
       letey2025_fig4, plot_letey2025_fig4},
      {"letey2025-fig5", "Letey et al. Fig 5: eigenvalues of the alignment matrix K against C_train's", letey2025_fig5,
       plot_letey2025_fig5},
      {"letey2025-fig6", "Letey et al. Fig 6: the kappa transition depends on rank(C_train) ('half manifold')",
       letey2025_fig6, plot_letey2025_fig6},
      {"letey2025-testtime", "Letey et al. (appendix): e_ICL against the test-time context length", letey2025_testtime,
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
