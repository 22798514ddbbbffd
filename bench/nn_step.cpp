// Training-step time of iclab's Transformers (libtorch), for bench/compare_nn_step.py, which runs the
// same model in PyTorch from Python beside it. Prints one JSON line: microseconds per AdamW step
// (forward, backward, update, minibatch draw), the median of `--repeats` timed blocks.
//
//   build/bench/nn_step MODEL D ALPHA BATCH [STEPS] [REPEATS] [THREADS]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "iclab/nn/trainer.hpp"

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: nn_step MODEL D ALPHA BATCH [STEPS] [REPEATS] [THREADS]\n");
    return 2;
  }
  iclab::retain_freed_memory(1L << 30);  // as the iclab front end does
  iclab::nn::PretrainingData data;
  data.d = std::atol(argv[2]);
  data.alpha = std::atof(argv[3]);
  const long batch = std::atol(argv[4]);
  const long steps = argc > 5 ? std::atol(argv[5]) : 200;
  const int repeats = argc > 6 ? std::atoi(argv[6]) : 5;
  // Enough contexts for the batch: tau such that n = 10 B (the authors' B = 0.1 n).
  data.tau = 10.0 * static_cast<double>(batch) / static_cast<double>(data.d * data.d) + 1e-9;
  iclab::nn::ArchitectureOptions architecture;
  architecture.architecture = iclab::nn::parse_architecture(argv[1]);
  iclab::nn::TrainingOptions training;
  training.batch_size = batch;
  training.threads = argc > 7 ? std::atoi(argv[7]) : 1;
  training.steps = steps / 4;  // warm-up
  iclab::nn::TransformerTrainer trainer(data, architecture, training);
  trainer.train();
  std::vector<double> times;
  for (int r = 0; r < repeats; ++r) {
    trainer.set_schedule(0, trainer.steps_done() + steps);
    const auto start = std::chrono::steady_clock::now();
    trainer.train();
    times.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count() /
                    static_cast<double>(steps));
  }
  std::sort(times.begin(), times.end());
  std::printf(
      "{\"impl\": \"iclab\", \"model\": \"%s\", \"d\": %ld, \"alpha\": %g, \"batch\": %ld, \"params\": %ld, "
      "\"us_per_step\": %.2f}\n",
      argv[1], data.d, data.alpha, batch, trainer.num_parameters(), times[times.size() / 2]);
  return 0;
}
