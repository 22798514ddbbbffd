// The Transformer presets. Every experiment file says its scale in its description; the papers' own
// grids (GPU scale) are listed in docs/transformers.md. CPU scale: d = 10, reduced grids, 3 seeds, and
// a learning rate of 1e-3 (the papers: 1e-4) to reach the end of training in ~10x fewer steps.
// `quick` (tests): d = 5, one seed, a few dozen steps; the curves are then noise, only the pipeline runs.
#include "iclab/nn/presets.hpp"

#include <map>
#include <string>

#include "iclab/io/table.hpp"
#include "iclab/nn/transformer_plots.hpp"
#include "iclab/reproduce/preset_support.hpp"

namespace iclab::nn {
namespace {

// One experiment per architecture (their tau grids differ), plus the isotropic theory of the reduced
// linear-attention model for panel A.
std::vector<PresetExperiment> lu2024_fig5(bool quick) {
  struct Model {
    const char* name;
    const char* taus_cpu;
    const char* title;
  };
  const Model models[] = {
      {"linear-attention", "[0.5, 0.8, 1, 1.2, 1.5, 2, 3, 5]", "A, linear attention"},
      {"softmax", "[0.3, 0.6, 1, 1.4, 2, 3, 4.5, 6]", "B, 1 softmax block"},
      {"softmax-mlp2", "[0.5, 1, 1.5, 2, 3, 4, 6, 8]", "C, 2 x (softmax + MLP)"},
      {"softmax-mlp3", "[0.5, 1, 1.5, 2, 3, 4, 6, 8]", "D, 3 x (softmax + MLP)"},
  };
  std::vector<PresetExperiment> out;
  for (const Model& m : models) {
    const std::string name = std::string("fig5-") + m.name;
    const std::map<std::string, std::string> v = {
        {"name", name},
        {"model", m.name},
        {"title", m.title},
        {"scale", quick ? "quick scale (pipeline only): d = 5, 40 steps, 1 seed"
                        : "CPU scale: d = 10, 500 epochs at lr 1e-3 (paper: d = 20-80, 20 000 epochs at lr 1e-4), "
                          "3 seeds"},
        {"d", quick ? "5" : "10"},
        {"repeats", quick ? "1" : "3"},
        {"length", quick ? "steps = 40" : "epochs = 500"},
        {"lr", quick ? "1e-3" : "1e-3"},
        {"test_contexts", quick ? "200" : "20000"},
        {"taus", quick ? "[0.5, 1, 2, 4]" : m.taus_cpu}};
    out.push_back({name, fill_template(R"TOML(name = "{name}"
description = "Lu et al. Fig 5 {title}: ICL error of the trained Transformer against tau = n/d^2 (alpha = 1, kappa = inf, rho = 0.01, batch = n/10); {scale}"
compute = ["transformer"]
seed = 1
repeats = {repeats}
[parameters]
d = {d}
alpha = 1
kappa = inf
rho = 0.01
model = "{model}"
batch = 0.1
lr = {lr}
{length}
test_contexts = {test_contexts}
[grid]
tau = {taus}
)TOML",
                                       v)});
  }
  out.push_back({"fig5-theory", R"TOML(name = "fig5-theory"
description = "Lu et al. Fig 5A overlay: isotropic theory of the reduced linear-attention model, ridgeless, alpha = 1, kappa = inf, rho = 0.01 (d -> inf)"
compute = ["theory"]
[parameters]
alpha = 1
kappa = inf
rho = 0.01
lambda = 0
[grid]
tau = "log:0.3:10:120"
)TOML"});
  return out;
}

std::vector<PresetExperiment> lu2024_fig6(bool quick) {
  const std::map<std::string, std::string> v = {
      {"scale", quick ? "quick scale (pipeline only): d = 5, tau = 4, 40 steps, 1 seed"
                      : "CPU scale: d = 10, tau = 10, 200 epochs at lr 1e-3 (paper: d = 20-80, 100 000 epochs at "
                        "lr 1e-4), 3 seeds"},
      {"d", quick ? "5" : "10"},
      {"tau", quick ? "4" : "10"},
      {"repeats", quick ? "1" : "3"},
      {"length", quick ? "steps = 40" : "epochs = 200"},
      {"test_contexts", quick ? "200" : "20000"},
      {"kappas", quick ? "[0.4, 1, inf]" : "[0.2, 0.4, 0.6, 0.8, 1, 1.5, 2, 4, inf]"}};
  return {{"fig6-kappa", fill_template(R"TOML(name = "fig6-kappa"
description = "Lu et al. Fig 6: ICL, IDG and g_task of 2 x (softmax + MLP) against kappa = K/d (alpha = 1, rho = 0.01, batch = n/10); {scale}"
compute = ["transformer"]
seed = 1
repeats = {repeats}
[parameters]
d = {d}
alpha = 1
tau = {tau}
rho = 0.01
model = "softmax-mlp2"
batch = 0.1
lr = 1e-3
{length}
test_contexts = {test_contexts}
[grid]
kappa = {kappas}
)TOML",
                                       v)}};
}

std::vector<PresetExperiment> letey2025_fig3(bool quick) {
  // Spec A2.2: the matched test, 11 power laws and 5 low-rank ones (f = 1 is the isotropic one).
  std::string tests = "\"power:0.9\"";
  for (int i = 0; i <= 10; ++i) tests += ", \"power:" + format_number((4.0 + i) / 10.0) + "\"";
  tests += ", \"lowrank:0.2\", \"lowrank:0.4\", \"lowrank:0.6\", \"lowrank:0.8\", \"iso\"";
  const std::string d = quick ? "5" : "10";
  const std::map<std::string, std::string> v = {
      {"scale", quick ? "quick scale (pipeline only): d = 5, 40 steps, 1 seed"
                      : "CPU scale: d = 10, 300 epochs of 1 + n/16 steps at lr 1e-3 (paper: d = 20, 1000 epochs at "
                        "lr 1e-4, 8 seeds), 3 seeds"},
      {"d", d},
      {"hidden", std::to_string(std::stol(d) + 1)},
      {"repeats", quick ? "1" : "3"},
      {"length", quick ? "steps = 40" : "epochs = 300"},
      {"test_contexts", quick ? "200" : "50000"},
      {"kappas", quick ? "[0.4, 2]" : "[0.2, 0.5, 1, 2, 10]"},
      {"tests", tests}};
  return {{"fig3-transformer", fill_template(R"TOML(name = "fig3-transformer"
description = "Letey et al. Fig 3: trained 2 x (softmax + MLP), h = d + 1, batch 16, alpha = 2, tau = 4, C_train = power law 0.9, ICL error per C_test; {scale}"
compute = ["transformer"]
seed = 1
repeats = {repeats}
[parameters]
d = {d}
alpha = 2
tau = 4
rho = 0.01
ctrain = "power:0.9"
ctest = [{tests}]
model = "softmax-mlp2"
hidden = {hidden}
batch = 16
lr = 1e-3
{length}
test_contexts = {test_contexts}
[grid]
kappa = {kappas}
)TOML",
                                             v)},
          {"fig3-measures", fill_template(R"TOML(name = "fig3-measures"
description = "Letey et al. Fig 3 x-axes: the four alignment measures (task-alignment theory) at the transformer's d, alpha, tau, kappa, rho, C_train and tests"
compute = ["alignment"]
[parameters]
d = {d}
alpha = 2
tau = 4
rho = 0.01
ctrain = "power:0.9"
ctest = [{tests}]
[grid]
kappa = {kappas}
)TOML",
                                          v)}};
}

}  // namespace

std::vector<Preset> transformer_presets() {
  return {
      {"lu2024-fig5",
       "Lu et al. Fig 5: double descent in tau of trained Transformers (4 architectures; D: threshold tau* from the "
       "train loss)",
       lu2024_fig5, plot_lu2024_fig5},
      {"lu2024-fig6", "Lu et al. Fig 6: ICL, IDG and g_task of 2 x (softmax + MLP) against kappa = K/d at tau = 10",
       lu2024_fig6, plot_lu2024_fig6},
      {"letey2025-fig3",
       "Letey et al. Fig 3: trained Transformer's ICL error against the four alignment measures (Spearman)",
       letey2025_fig3, plot_letey2025_fig3},
  };
}

}  // namespace iclab::nn
