// Throughput of an ensemble of Transformers against the same models trained one at a time, in one
// process and one run (these machines are noisy: compare the ratio). Members get taus spread evenly
// over [TAU_MIN, TAU_MAX] (so ragged batches B = 0.1 tau d^2) and seeds 1..M, alpha = 1, kappa = inf.
// Prints one JSON line: ms per ensemble step, model-steps per second both ways, and their ratio, by the
// wall clock and by the main thread's CPU time (on a shared machine the latter is the steadier; with
// THREADS = 1 all the training runs on the main thread), and the instruction set of the CPU kernels
// (cpu_kernels: sse2, avx2 or avx512, the widest this processor runs; all give the same bits).
//
//   build/bench/nn_ensemble MODEL D M STEPS [THREADS] [DEVICE] [TAU_MIN] [TAU_MAX] [SEPARATE] [GRAPH] [CHUNK]
// SEPARATE = all (default): every member alone; 1: only the first, scaled by M (for large M on a GPU).
// GRAPH = graph (default) or eager: on CUDA, replay each step as a captured CUDA graph or not.
// CHUNK = contexts per chunk (default 16); the largest batch B makes every member one padded chunk,
// i.e. the padding-with-masks layout, for comparison.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include "iclab/nn/chunk_kernels.hpp"
#include "iclab/nn/ensemble.hpp"

namespace {

// The instruction set of the CPU kernels this processor runs (every set gives the same bits).
const char* kernel_isa() {
  switch (iclab::nn::kernels::fastest_isa()) {
    case iclab::nn::kernels::Isa::avx512:
      return "avx512";
    case iclab::nn::kernels::Isa::avx2:
      return "avx2";
    default:
      return "sse2";
  }
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double thread_cpu_seconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}

struct Seconds {
  double wall = 0, cpu = 0;
  Seconds& operator+=(const Seconds& o) {
    wall += o.wall;
    cpu += o.cpu;
    return *this;
  }
};

// Time of `steps` training steps after a warm-up of steps / 10 (graph capture, allocator).
Seconds train_seconds(const std::vector<iclab::nn::EnsembleMember>& members, const iclab::nn::EnsembleOptions& options,
                      long steps, bool* graph) {
  iclab::nn::EnsembleTrainer trainer(members, options);
  const long warmup = std::max(5L, steps / 10);
  for (long m = 0; m < trainer.size(); ++m) trainer.set_schedule(m, 0, warmup);
  trainer.train();
  for (long m = 0; m < trainer.size(); ++m) trainer.set_schedule(m, 0, warmup + steps);
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = thread_cpu_seconds();
  trainer.train();
  (void)trainer.train_losses().front();  // waits for the device
  if (graph) *graph = trainer.used_cuda_graph();
  return {seconds_since(start), thread_cpu_seconds() - cpu_start};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(
        stderr,
        "usage: nn_ensemble MODEL D M STEPS [THREADS] [DEVICE] [TAU_MIN] [TAU_MAX] [SEPARATE] [GRAPH] [CHUNK]\n");
    return 2;
  }
  iclab::retain_freed_memory(1L << 30);  // as the iclab front end does
  const std::string model = argv[1];
  const long d = std::atol(argv[2]), count = std::atol(argv[3]), steps = std::atol(argv[4]);
  iclab::nn::EnsembleOptions options;
  options.threads = argc > 5 ? std::atoi(argv[5]) : 1;
  options.device = argc > 6 ? argv[6] : "cpu";
  const double tau_min = argc > 7 ? std::atof(argv[7]) : 0.5, tau_max = argc > 8 ? std::atof(argv[8]) : 5.0;
  const bool all_separately = !(argc > 9 && std::string(argv[9]) == "1");
  options.cuda_graph = !(argc > 10 && std::string(argv[10]) == "eager");
  if (argc > 11) options.chunk = std::atol(argv[11]);
  std::vector<iclab::nn::EnsembleMember> members;
  for (long m = 0; m < count; ++m) {
    iclab::nn::EnsembleMember member;
    member.data.d = d;
    member.data.alpha = 1.0;
    member.data.tau = count == 1 ? tau_min : tau_min + (tau_max - tau_min) * double(m) / double(count - 1);
    member.architecture.architecture = iclab::nn::parse_architecture(model);
    member.training.seed = static_cast<std::uint64_t>(m + 1);
    member.training.steps = steps;
    members.push_back(member);
  }
  bool graph = false;
  const Seconds together = train_seconds(members, options, steps, &graph);
  Seconds apart;
  if (all_separately) {
    for (const auto& member : members) apart += train_seconds({member}, options, steps, nullptr);
  } else {
    const Seconds one = train_seconds({members.front()}, options, steps, nullptr);
    apart = {static_cast<double>(count) * one.wall, static_cast<double>(count) * one.cpu};
  }
  const double model_steps = static_cast<double>(count * steps);
  std::printf(
      "{\"model\": \"%s\", \"d\": %ld, \"members\": %ld, \"taus\": [%g, %g], \"device\": \"%s\", \"threads\": %d, "
      "\"chunk\": %ld, \"cuda_graph\": %s, \"ms_per_ensemble_step\": %.3f, \"model_steps_per_s_ensemble\": %.0f, "
      "\"model_steps_per_s_separate\": %.0f, \"speedup\": %.2f, \"cpu_ms_per_ensemble_step\": %.3f, "
      "\"speedup_cpu\": %.2f, \"separate\": \"%s\", \"cpu_kernels\": \"%s\"}\n",
      model.c_str(), d, count, tau_min, tau_max, options.device.c_str(), options.threads, options.chunk,
      graph ? "true" : "false", 1e3 * together.wall / static_cast<double>(steps), model_steps / together.wall,
      model_steps / apart.wall, apart.wall / together.wall, 1e3 * together.cpu / static_cast<double>(steps),
      apart.cpu / together.cpu, all_separately ? "every member alone" : "first member alone, times M", kernel_isa());
  return 0;
}
