// Training M independent Transformers as one batched model (torch-free interface).
//
// Each member keeps its own data (tau, kappa, C_train, link), seed, minibatches and learning rate /
// weight decay; the members share the architecture, d and alpha (the token shape), AdamW's betas and
// epsilon, and the device. Parameters are stacked along a member axis; one forward/backward pass and
// one AdamW update over one flat buffer serve all members. Ragged minibatches (B = 0.1 tau d^2 differs
// across tau) are concatenated in chunks of `chunk` contexts, each owned by one member.
//
// Reproducibility contract (CPU): a member's numbers (weights, losses, errors) are bit-identical
// whatever the other members of its ensemble and whatever the thread count. Chunking is what buys
// this (see ensemble_model.hpp); `chunk` is therefore part of the experiment, never of the machine.
// On CUDA the float32 results deviate from the CPU's by rounding (index_add uses atomics); docs/
// transformers.md gives the measured deviation.
//
// Members may train for different step counts: the ensemble steps until the longest is done and a
// finished member's parameters and optimizer state stay frozen.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "iclab/linalg/dense.hpp"
#include "iclab/nn/architecture.hpp"
#include "iclab/nn/trainer_options.hpp"

namespace iclab::nn {

struct EnsembleMember {
  PretrainingData data;
  ArchitectureOptions architecture;
  TrainingOptions training;  // its device and threads must equal the ensemble's
};

struct EnsembleOptions {
  std::string device = "cpu";
  int threads = 1;         // torch intra-op and BLAS threads while training/scoring (restored afterwards)
  long chunk = 16;         // contexts per chunk: part of the numbers' definition (see above)
  bool cuda_graph = true;  // on CUDA, replay each step as one captured graph (falls back to eager)
  void validate() const;
  nlohmann::json to_json() const;
};

class EnsembleTrainer {
 public:
  EnsembleTrainer(std::vector<EnsembleMember> members, EnsembleOptions options = {});
  ~EnsembleTrainer();
  EnsembleTrainer(EnsembleTrainer&&) noexcept;
  EnsembleTrainer& operator=(EnsembleTrainer&&) noexcept;

  // Bytes of memory (host for cpu, device for cuda) that training these members at once needs:
  // data, parameters and optimizer state, one step's activations and one scoring chunk.
  static std::size_t estimate_bytes(const std::vector<EnsembleMember>& members, const EnsembleOptions& options);
  // Splits members (in order) into consecutive groups whose estimate_bytes stays within budget_bytes
  // and that share what an ensemble must share. A single member over budget is refused (InvalidArgument
  // naming what it needs and the budget).
  static std::vector<std::vector<std::size_t>> plan(const std::vector<EnsembleMember>& members,
                                                    const EnsembleOptions& options, std::size_t budget_bytes);
  // Memory available to an ensemble on `device` (bytes): free device memory for cuda, available RAM
  // for cpu.
  static std::size_t available_bytes(const std::string& device);

  long size() const;
  const EnsembleMember& member(long m) const;
  const EnsembleOptions& options() const;
  long batch_size(long m) const;
  long steps_per_epoch(long m) const;
  long total_steps(long m) const;
  long max_steps() const;
  long steps_done() const;      // shared by all members (finished ones stop counting at total_steps)
  long num_parameters() const;  // per member
  // Changes member m's training length (e.g. to continue a loaded checkpoint for more epochs).
  void set_schedule(long m, long epochs, long steps);
  bool used_cuda_graph() const;

  // Runs to max_steps(). on_epoch(member, log) after each of a member's epochs (steps mode: every
  // steps_per_epoch steps and at its end), with the full-set train loss every train_loss_every epochs
  // (0: never); on_step(steps_done, max_steps) after every step (for progress bars: no device sync).
  void train(const std::function<void(long, const EpochLog&)>& on_epoch = {}, long train_loss_every = 0,
             const std::function<void(long, long)>& on_step = {});

  // Per member, in member order. MSEs of the query prediction (no 1/2), summed in float64.
  std::vector<double> train_losses();
  // Fresh-task ICL error with tasks ~ N(0, C_test) (ctest: a covariance spec; "" : each member's
  // pretraining law); common random numbers across tests (the same normals for every ctest) and across
  // members that differ only in tau, kappa or C_train (a test set is keyed by seed, d, l, rho, link and its
  // covariance; the ensemble draws each distinct one once). Scores are kept until the next train().
  std::vector<double> icl_errors(const std::string& ctest, long contexts);
  // The same for several tests at once (one vector per test, in order): the same numbers as one call per
  // test, with each context's normals drawn once for all the test covariances (they share them).
  std::vector<std::vector<double>> icl_errors(const std::vector<std::string>& ctests, long contexts);
  // Tasks from each member's pretraining pool (kappa = inf: the ICL error on the pretraining law).
  std::vector<double> idg_errors(long contexts);
  // Member m's predictions for explicit contexts: tokens[c] is (l+1) x (d+1) (last label ignored).
  Vector predict(long m, const std::vector<Matrix>& tokens);

  // Every member's parameters and optimizer state and the step count, written atomically; `key` (any
  // text, e.g. the runner's group snapshot identity) is stored with them.
  void save(const std::string& path, const std::string& key = "") const;
  static EnsembleTrainer load(const std::string& path, const std::string& device = "cpu");
  // The key a checkpoint was saved with; nullopt when `path` is not a readable checkpoint.
  static std::optional<std::string> saved_key(const std::string& path);

  nlohmann::json member_json(long m) const;  // data, architecture, training, conventions
  nlohmann::json engine_json() const;        // the ensemble: size, device, chunk, graph, threads

 private:
  struct State;
  explicit EnsembleTrainer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace iclab::nn
