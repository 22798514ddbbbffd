#include "iclab/nn/ensemble.hpp"

#include <torch/torch.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <optional>
#include <tuple>

#include "iclab/covariances/covariance_spec.hpp"
#include "iclab/covariances/task_draws.hpp"
#include "iclab/io/table.hpp"
#include "iclab/nn/ensemble_model.hpp"
#include "iclab/nn/token_data.hpp"
#include "iclab/nn/torch_errors.hpp"
#include "iclab/nn/torch_support.hpp"
#include "iclab/sampling/task_pool.hpp"

// CUDA graphs and device memory queries need the CUDA headers beside a CUDA libtorch; without them
// CUDA still trains, eagerly.
#if defined(ICLAB_TORCH_CUDA) && __has_include(<ATen/cuda/CUDAGraph.h>) && __has_include(<cuda_runtime_api.h>)
#define ICLAB_CUDA_GRAPHS 1
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime_api.h>
#endif

namespace iclab::nn {
namespace {

constexpr long kEvaluationContexts = 32768;  // contexts per scoring pass, all members together
constexpr long kIndexBlock = 256;            // steps whose minibatch indices go to the device at once
constexpr const char* kCheckpointFormat = "iclab-ensemble-checkpoint-1";

TaskCovariance task_covariance(const std::string& spec, long d, const std::string& option) {
  return parse_covariance(spec.empty() ? "iso" : spec, d, option);
}

long ceil_div(long a, long b) { return (a + b - 1) / b; }

// What every member of one ensemble must share; "" when they do.
std::string incompatibility(const EnsembleMember& a, const EnsembleMember& b) {
  if (a.architecture.to_json() != b.architecture.to_json()) return "model and its variants";
  if (a.data.d != b.data.d) return "d";
  if (a.data.context_length() != b.data.context_length()) return "alpha (the context length l = int(alpha d))";
  if (a.training.beta1 != b.training.beta1 || a.training.beta2 != b.training.beta2 ||
      a.training.epsilon != b.training.epsilon)
    return "AdamW's betas and epsilon";
  return "";
}

}  // namespace

// ---------------------------------------------------------------------------------------------- options

void EnsembleOptions::validate() const {
  if (threads < 1) throw InvalidArgument("threads: must be >= 1");
  if (chunk < 1 || chunk > 4096) throw InvalidArgument("chunk: must lie in [1, 4096] contexts");
  parse_device(device);
}

nlohmann::json EnsembleOptions::to_json() const {
  return {{"device", device}, {"threads", threads}, {"chunk", chunk}, {"cuda_graph", cuda_graph}};
}

// ---------------------------------------------------------------------------------------------- state

struct EnsembleTrainer::State {
  struct Member {
    EnsembleMember spec;
    std::uint64_t data_key = 0;
    std::optional<TaskCovariance> ctrain;
    Matrix pool;  // pretraining tasks (k x d) for the IDG test; empty at kappa = inf
    long n = 0, batch = 0, steps_per_epoch = 0, total = 0;
    long first_row = 0;    // of its training set in train_tokens
    long first_chunk = 0;  // of its minibatch chunks
    long chunks = 0;
    std::vector<long> order;  // identity permutation of 0..n-1, restored after each draw

    StreamAddress address(std::uint64_t point) const { return StreamAddress{spec.training.seed, point, 0, 0}; }
    // Contexts of this member's law, addressed by `canonical` + purpose.
    ContextFamily family(const std::string& canonical, const std::string& purpose) const {
      ContextFamily f;
      f.ell = spec.data.context_length();
      f.rho = spec.data.rho;
      f.link = spec.data.link;
      f.address = address(point_key(canonical + purpose));
      return f;
    }
  };

  // A member's test contexts. Members with the same non-empty key are given the same contexts, drawn once.
  struct TestSet {
    ContextFamily family;
    std::string key;
    std::string draws_key;  // fresh tasks: the sets with this key share their normals (draw_fresh_contexts)
  };
  // Fresh tasks ~ N(0, C) (`covariance`, its spec text): addressed by the test's own parameters (d, l, rho,
  // link and the seed), not by the pretraining set's (tau, kappa, C_train), so members that differ only in
  // those see the same test contexts: common random numbers across a figure's axis, drawn once per ensemble.
  static TestSet fresh_test(const Member& m, const std::string& covariance) {
    const std::string canonical = m.spec.data.test_canonical();
    const std::string draws_key = canonical + "|seed=" + std::to_string(m.spec.training.seed);
    TestSet t{m.family(canonical, "|icl-test"),
              draws_key + "|C=" + (covariance.empty() ? m.spec.data.ctrain : covariance), draws_key};
    t.family.fresh_tasks = true;
    t.family.fresh_factor =
        covariance_factor(covariance.empty() ? *m.ctrain : task_covariance(covariance, m.spec.data.d, "ctest"));
    return t;
  }

  std::vector<Member> members;
  EnsembleOptions options;
  torch::Device device{torch::kCPU};
  std::unique_ptr<EnsembleModel> model;
  long length = 0, width = 0;  // tokens per context (l + 1), token width (d + 1)
  long chunks = 0;             // minibatch chunks of one step, all members
  long zero_row = 0;           // an all-zero context: the padding of a member's last chunk
  torch::Tensor train_tokens, train_targets;
  torch::Tensor owner, weight;                // per chunk: member; per slot: 1/B (0 for padding)
  torch::Tensor valid;                        // per chunk: its real contexts (the CPU kernels skip the rest)
  torch::Tensor exp_avg, exp_avg_sq;          // AdamW moments, like flat
  torch::Tensor learning_rate, decay;         // per element: lr and 1 - lr wd of its member
  torch::Tensor index, schedule;              // this step's rows; (lr scale 1/(1-b1^t), 1/sqrt(1-b2^t))
  torch::Tensor index_block, schedule_block;  // kIndexBlock steps of them, on the device
  long block_first = -1;                      // first step held by index_block
  torch::Tensor loss_sum;                     // per member: the sum of its minibatch losses (float64)
  // Test errors already computed since the last training: (member, test key, contexts) -> error. A kappa =
  // inf member's IDG test and its default ICL test are the same contexts, scored once.
  std::map<std::tuple<long, std::string, long>, double> scored;
  long steps_done = 0;
  bool graph_used = false;

  long max_steps() const {
    long most = 0;
    for (const Member& m : members) most = std::max(most, m.total);
    return most;
  }
  // One value per member, spread over the flat buffer's elements (parameter-major: each parameter's
  // block holds every member's copy in turn).
  torch::Tensor per_element(const std::vector<float>& per_member) const;
  void fill_block(long first_step);
  void prepare_step(long step);
  void step_body();
  void adamw(bool all_active);
  // (set, member, first, count) -> that member's contexts [first, first + count) of set `set`: tokens and
  // targets.
  using Source = std::function<std::pair<torch::Tensor, torch::Tensor>(std::size_t, long, long, long)>;
  // Every member's error on each of several sets of contexts (contexts[set][member] of them; 0: none),
  // pass by pass, each pass scoring every set's share of it in set order: a source can then draw what the
  // sets of a pass share once.
  std::vector<std::vector<double>> score(const std::vector<std::vector<long>>& contexts, const Source& source);
  // Each member's error on each of several tests (tests[t][member]), each distinct test set sampled once
  // per pass, and the normals that sets of one draws key share drawn once per pass.
  std::vector<std::vector<double>> score_tests(const std::vector<std::vector<TestSet>>& tests, long contexts);
  std::pair<torch::Tensor, torch::Tensor> on_device(const TokenBatch& batch) const;
  std::pair<torch::Tensor, torch::Tensor> sample(const ContextFamily& family, long first, long count) const;
};

torch::Tensor EnsembleTrainer::State::per_element(const std::vector<float>& per_member) const {
  std::vector<float> values(static_cast<std::size_t>(model->flat().numel()));
  for (const auto& param : model->parameters())
    for (std::size_t k = 0; k < per_member.size(); ++k)
      std::fill_n(values.begin() + param.offset + static_cast<long>(k) * param.numel, param.numel, per_member[k]);
  return to_device(values, {model->flat().numel()}, device);
}

void EnsembleTrainer::State::fill_block(long first_step) {
  // B indices per member without replacement, a pure function of (member seed, data, step): partial
  // Fisher-Yates on the identity, whose swaps are undone afterwards (O(B) per step).
  const long steps = kIndexBlock;
  const long slots = chunks * options.chunk;
  torch::Tensor host = torch::empty({steps, slots}, torch::kInt64);
  torch::Tensor host_schedule = torch::empty({steps, 2}, torch::kFloat32);
  std::int64_t* out = host.data_ptr<std::int64_t>();
  float* sched = host_schedule.data_ptr<float>();
  const TrainingOptions& t0 = members.front().spec.training;
  for (long s = 0; s < steps; ++s) {
    const long step = first_step + s;
    std::int64_t* row = out + s * slots;
    for (Member& m : members) {
      StreamAddress a = m.address(m.data_key);
      a.unit = static_cast<std::uint64_t>(step);
      RandomStream stream(StreamId::minibatch, a);
      std::int64_t* slot = row + m.first_chunk * options.chunk;
      std::vector<long> swapped(static_cast<std::size_t>(m.batch));
      for (long i = 0; i < m.batch; ++i) {
        const long j = i + static_cast<long>(stream.below(static_cast<std::uint64_t>(m.n - i)));
        std::swap(m.order[static_cast<std::size_t>(i)], m.order[static_cast<std::size_t>(j)]);
        swapped[static_cast<std::size_t>(i)] = j;
        slot[i] = m.first_row + m.order[static_cast<std::size_t>(i)];
      }
      for (long i = m.batch - 1; i >= 0; --i)
        std::swap(m.order[static_cast<std::size_t>(i)],
                  m.order[static_cast<std::size_t>(swapped[static_cast<std::size_t>(i)])]);
      for (long i = m.batch; i < m.chunks * options.chunk; ++i) slot[i] = zero_row;
    }
    // AdamW's bias corrections at step t = step + 1 (every member steps together).
    const double t = static_cast<double>(step + 1);
    sched[2 * s] = static_cast<float>(1.0 / (1.0 - std::pow(t0.beta1, t)));
    sched[2 * s + 1] = static_cast<float>(1.0 / std::sqrt(1.0 - std::pow(t0.beta2, t)));
  }
  index_block.copy_(host);
  schedule_block.copy_(host_schedule);
  block_first = first_step;
}

void EnsembleTrainer::State::prepare_step(long step) {
  if (block_first < 0 || step < block_first || step >= block_first + kIndexBlock) fill_block(step);
  // Device-to-device copies into the buffers the step reads: a captured graph replays them in place.
  index.copy_(index_block.select(0, step - block_first), /*non_blocking=*/true);
  schedule.copy_(schedule_block.select(0, step - block_first), /*non_blocking=*/true);
}

void EnsembleTrainer::State::step_body() {
  const long chunk = options.chunk;
  const torch::Tensor tokens = train_tokens.index_select(0, index).view({chunks, chunk, length, width});
  const torch::Tensor targets = train_targets.index_select(0, index).view({chunks, chunk});
  model->flat_grad().zero_();
  const torch::Tensor squared = (model->forward(tokens, owner, valid) - targets).pow(2).mul(weight);
  squared.sum().backward();
  torch::NoGradGuard no_grad;
  loss_sum.index_add_(0, owner, squared.detach().sum(1).to(torch::kFloat64));
}

void EnsembleTrainer::State::adamw(bool all_active) {
  // AdamW as optax.adamw / torch's: p <- p (1 - lr wd) - lr/(1-b1^t) m / (sqrt(v)/sqrt(1-b2^t) + eps),
  // with each member's lr and wd as per-element tensors and t-dependent scalars read from the device.
  torch::NoGradGuard no_grad;
  torch::Tensor& p = model->flat();
  const torch::Tensor& g = model->flat_grad();
  const TrainingOptions& t0 = members.front().spec.training;
  std::optional<torch::Tensor> old_p, old_m, old_v;
  if (!all_active) {
    old_p = p.clone();
    old_m = exp_avg.clone();
    old_v = exp_avg_sq.clone();
  }
  p.mul_(decay);
  exp_avg.mul_(t0.beta1).add_(g, 1.0 - t0.beta1);
  exp_avg_sq.mul_(t0.beta2).addcmul_(g, g, 1.0 - t0.beta2);
  const torch::Tensor denominator = exp_avg_sq.sqrt().mul_(schedule.select(0, 1)).add_(t0.epsilon);
  p.sub_(exp_avg.div(denominator).mul_(learning_rate).mul_(schedule.select(0, 0)));
  if (!all_active) {
    // A finished member keeps its parameters and moments.
    std::vector<float> still_training;
    for (const Member& m : members) still_training.push_back(m.total > steps_done ? 1.0f : 0.0f);
    const torch::Tensor active = per_element(still_training).to(torch::kBool);
    p.copy_(torch::where(active, p, *old_p));
    exp_avg.copy_(torch::where(active, exp_avg, *old_m));
    exp_avg_sq.copy_(torch::where(active, exp_avg_sq, *old_v));
  }
}

std::pair<torch::Tensor, torch::Tensor> EnsembleTrainer::State::on_device(const TokenBatch& batch) const {
  return {to_device(batch.values, {batch.contexts, batch.tokens, batch.width}, device),
          to_device(batch.targets, {batch.contexts}, device)};
}

std::pair<torch::Tensor, torch::Tensor> EnsembleTrainer::State::sample(const ContextFamily& family, long first,
                                                                       long count) const {
  return on_device(sample_token_batch(family, first, count));
}

std::vector<std::vector<double>> EnsembleTrainer::State::score(const std::vector<std::vector<long>>& contexts,
                                                               const Source& source) {
  // Each member's contexts in chunks of `chunk` (the last padded with zero contexts of weight 0, which the
  // CPU kernels skip); the chunks' float64 sums are added in context order by index_add, so a member's
  // result depends neither on the other members, nor on the other sets, nor on how many contexts a pass
  // holds (a multiple of chunk). A member with no contexts (left) contributes no chunk; its result is 0.
  torch::InferenceMode inference;
  const long chunk = options.chunk;
  const long count_members = static_cast<long>(members.size());
  long most = 0;
  for (const auto& set : contexts) most = std::max(most, *std::max_element(set.begin(), set.end()));
  const long per_pass = std::max(chunk, kEvaluationContexts / count_members / chunk * chunk);
  const auto float_options = torch::TensorOptions().dtype(torch::kFloat32).device(device);
  std::vector<torch::Tensor> sums;
  for (std::size_t t = 0; t < contexts.size(); ++t)
    sums.push_back(torch::zeros({count_members}, torch::TensorOptions().dtype(torch::kFloat64).device(device)));
  for (long first = 0; first < most; first += per_pass) {
    for (std::size_t t = 0; t < contexts.size(); ++t) {
      std::vector<torch::Tensor> token_parts, target_parts;
      std::vector<std::int64_t> owner_of_chunk, real_contexts;
      std::vector<double> mask;
      for (long m = 0; m < count_members; ++m) {
        const long count = std::clamp(contexts[t][static_cast<std::size_t>(m)] - first, 0L, per_pass);
        if (count == 0) continue;
        const long member_chunks = ceil_div(count, chunk), padded = member_chunks * chunk;
        auto [tokens, targets] = source(t, m, first, count);
        token_parts.push_back(tokens);
        target_parts.push_back(targets);
        if (padded > count) {
          token_parts.push_back(torch::zeros({padded - count, length, width}, float_options));
          target_parts.push_back(torch::zeros({padded - count}, float_options));
        }
        for (long c = 0; c < member_chunks; ++c) {
          owner_of_chunk.push_back(m);
          real_contexts.push_back(std::min(chunk, count - c * chunk));
        }
        mask.insert(mask.end(), static_cast<std::size_t>(count), 1.0);
        mask.insert(mask.end(), static_cast<std::size_t>(padded - count), 0.0);
      }
      if (owner_of_chunk.empty()) continue;
      const long total_chunks = static_cast<long>(owner_of_chunk.size());
      const torch::Tensor tokens = torch::cat(token_parts).view({total_chunks, chunk, length, width});
      const torch::Tensor targets = torch::cat(target_parts).view({total_chunks, chunk});
      const torch::Tensor chunk_owner = torch::tensor(owner_of_chunk, torch::kInt64).to(device);
      const torch::Tensor real = torch::tensor(real_contexts, torch::kInt64);  // read on the CPU only
      const torch::Tensor weights =
          torch::from_blob(mask.data(), {total_chunks, chunk}, torch::kFloat64).to(device, false, true);
      const torch::Tensor squared =
          (model->forward(tokens, chunk_owner, real) - targets).to(torch::kFloat64).pow(2) * weights;
      sums[t].index_add_(0, chunk_owner, squared.sum(1));
    }
  }
  std::vector<std::vector<double>> out;
  for (std::size_t t = 0; t < contexts.size(); ++t) {
    const torch::Tensor host = sums[t].cpu();
    std::vector<double> errors(static_cast<std::size_t>(count_members), 0.0);
    for (long m = 0; m < count_members; ++m)
      if (const long n = contexts[t][static_cast<std::size_t>(m)]; n > 0)
        errors[static_cast<std::size_t>(m)] = host[m].item<double>() / static_cast<double>(n);
    out.push_back(std::move(errors));
  }
  return out;
}

std::vector<std::vector<double>> EnsembleTrainer::State::score_tests(const std::vector<std::vector<TestSet>>& tests,
                                                                     long contexts) {
  const std::size_t count_tests = tests.size(), count_members = members.size();
  std::vector<std::vector<double>> out(count_tests, std::vector<double>(count_members));
  std::vector<std::vector<long>> left(count_tests, std::vector<long>(count_members, 0));  // still to score
  // A member's test whose key an earlier test of the call has is that test: scored once, copied.
  std::vector<std::vector<std::size_t>> same_as(count_tests, std::vector<std::size_t>(count_members));
  bool any = false;
  for (std::size_t m = 0; m < count_members; ++m) {
    std::map<std::string, std::size_t> first_with;
    for (std::size_t t = 0; t < count_tests; ++t) {
      const std::string& key = tests[t][m].key;
      same_as[t][m] = t;
      if (!key.empty()) {
        if (const auto known = scored.find({static_cast<long>(m), key, contexts}); known != scored.end()) {
          out[t][m] = known->second;
          continue;
        }
        if (const auto earlier = first_with.find(key); earlier != first_with.end()) {
          same_as[t][m] = earlier->second;
          continue;
        }
        first_with[key] = t;
      }
      left[t][m] = contexts;
      any = true;
    }
  }
  if (!any) return out;
  // The contexts of this pass by test key: every member with that key scores the same draw (the same
  // numbers it would have drawn alone, as each context's draws are addressed by its index). The normals
  // of the fresh-task sets of a draws key (one seed's tests under every covariance) are drawn once per
  // pass; the tokens of a set are kept while its test is scored.
  std::map<std::string, std::pair<torch::Tensor, torch::Tensor>> drawn;
  std::map<std::string, ContextDraws> shared;
  long drawn_first = -1;
  std::size_t drawn_test = count_tests;
  const auto fresh = score(left, [&](std::size_t t, long m, long first, long count) {
    const TestSet& test = tests[t][static_cast<std::size_t>(m)];
    if (test.key.empty()) return sample(test.family, first, count);
    const bool new_pass = first != drawn_first;
    if (new_pass) {
      shared.clear();
      drawn_first = first;
    }
    if (new_pass || t != drawn_test) {
      drawn.clear();
      drawn_test = t;
    }
    auto it = drawn.find(test.key);
    if (it == drawn.end() || it->second.first.size(0) != count) {
      std::pair<torch::Tensor, torch::Tensor> tokens;
      if (test.family.fresh_tasks && !test.draws_key.empty()) {
        auto d = shared.find(test.draws_key);
        if (d == shared.end() || d->second.size() != count)
          d = shared.insert_or_assign(test.draws_key, draw_fresh_contexts(test.family, first, count)).first;
        tokens = on_device(tokens_of(test.family, d->second, 1));
      } else {
        tokens = sample(test.family, first, count);
      }
      it = drawn.insert_or_assign(test.key, std::move(tokens)).first;
    }
    return it->second;
  });
  for (std::size_t t = 0; t < count_tests; ++t)
    for (std::size_t m = 0; m < count_members; ++m) {
      if (left[t][m] == 0) continue;
      out[t][m] = fresh[t][m];
      if (!tests[t][m].key.empty()) scored[{static_cast<long>(m), tests[t][m].key, contexts}] = fresh[t][m];
    }
  for (std::size_t t = 0; t < count_tests; ++t)
    for (std::size_t m = 0; m < count_members; ++m)
      if (same_as[t][m] != t) out[t][m] = out[same_as[t][m]][m];
  return out;
}

// ---------------------------------------------------------------------------------------------- trainer

EnsembleTrainer::EnsembleTrainer(std::vector<EnsembleMember> members, EnsembleOptions options)
    : state_(std::make_unique<State>()) {
  State& s = *state_;
  if (members.empty()) throw InvalidArgument("ensemble: needs at least one member");
  options.validate();
  s.options = options;
  s.device = parse_device(options.device);
  for (std::size_t k = 0; k < members.size(); ++k) {
    EnsembleMember& m = members[k];
    m.data.validate();
    m.architecture.validate();
    m.training.device = options.device;
    m.training.threads = options.threads;
    m.training.validate();
    const std::string why = incompatibility(members.front(), m);
    if (!why.empty())
      throw InvalidArgument("ensemble: member " + std::to_string(k) + " differs from member 0 in " + why +
                            ", which the members of one ensemble share");
  }
  const TorchThreadScope threads(s.options.threads);
  const EnsembleMember& first = members.front();
  s.length = first.data.context_length() + 1;
  s.width = first.data.d + 1;

  // Every member's dataset: one fixed draw of n contexts, addressed by (seed, data parameters).
  long rows = 0, chunks = 0;
  std::vector<TokenBatch> sets;
  for (EnsembleMember& spec : members) {
    State::Member m;
    m.spec = std::move(spec);
    m.n = m.spec.data.num_contexts();
    m.batch = minibatch_size(m.spec.data, m.spec.training);
    if (m.batch > m.n)
      throw InvalidArgument("batch: " + std::to_string(m.batch) + " is more than the " + std::to_string(m.n) +
                            " pretraining contexts");
    m.steps_per_epoch = nn::steps_per_epoch(m.spec.data, m.spec.training);
    m.total = scheduled_steps(m.spec.data, m.spec.training);
    m.order.resize(static_cast<std::size_t>(m.n));
    for (long i = 0; i < m.n; ++i) m.order[static_cast<std::size_t>(i)] = i;
    m.first_row = rows;
    m.first_chunk = chunks;
    m.chunks = ceil_div(m.batch, s.options.chunk);
    rows += m.n;
    chunks += m.chunks;

    m.data_key = point_key(m.spec.data.canonical());
    const StreamAddress data_address = m.address(m.data_key);
    m.ctrain = task_covariance(m.spec.data.ctrain, m.spec.data.d, "ctrain");
    const ModelParams params = m.spec.data.model_params();
    m.pool = draw_tasks(*m.ctrain, params.num_tasks(), data_address);
    ContextFamily family;
    family.tasks = m.pool;
    family.task_of = assign_tasks(params, data_address);
    family.ell = m.spec.data.context_length();
    family.rho = m.spec.data.rho;
    family.link = m.spec.data.link;
    family.address = data_address;
    sets.push_back(sample_token_batch(family, 0, m.n));
    if (!std::isfinite(m.spec.data.kappa)) m.pool = Matrix();  // IDG = ICL on the pretraining law
    s.members.push_back(std::move(m));
  }
  s.chunks = chunks;
  s.zero_row = rows;
  const auto float_options = torch::TensorOptions().dtype(torch::kFloat32).device(s.device);
  s.train_tokens = torch::zeros({rows + 1, s.length, s.width}, float_options);
  s.train_targets = torch::zeros({rows + 1}, float_options);
  for (std::size_t k = 0; k < sets.size(); ++k) {
    const TokenBatch& set = sets[k];
    const long at = s.members[k].first_row;
    s.train_tokens.narrow(0, at, set.contexts)
        .copy_(to_device(set.values, {set.contexts, s.length, s.width}, s.device));
    s.train_targets.narrow(0, at, set.contexts).copy_(to_device(set.targets, {set.contexts}, s.device));
  }
  sets.clear();

  // Chunk layout of a step: member-major, each member's B slots padded to whole chunks.
  const long count = static_cast<long>(s.members.size());
  std::vector<std::int64_t> owner, valid;
  std::vector<float> weight;
  for (long k = 0; k < count; ++k) {
    const State::Member& m = s.members[static_cast<std::size_t>(k)];
    for (long c = 0; c < m.chunks; ++c) {
      owner.push_back(k);
      valid.push_back(std::min(s.options.chunk, m.batch - c * s.options.chunk));
    }
    for (long i = 0; i < m.chunks * s.options.chunk; ++i)
      weight.push_back(i < m.batch ? static_cast<float>(1.0 / static_cast<double>(m.batch)) : 0.0f);
  }
  s.owner = torch::tensor(owner, torch::kInt64).to(s.device);
  s.valid = torch::tensor(valid, torch::kInt64);  // read on the CPU only
  s.weight = to_device(weight, {chunks, s.options.chunk}, s.device);

  s.model = std::make_unique<EnsembleModel>(count, first.data.d, first.architecture, s.device);
  for (long k = 0; k < count; ++k)
    s.model->initialise(k, s.members[static_cast<std::size_t>(k)].address(point_key("nn-network")));
  const long total = s.model->flat().numel();
  s.exp_avg = torch::zeros({total}, float_options);
  s.exp_avg_sq = torch::zeros({total}, float_options);
  std::vector<float> learning_rate, decay;
  for (const State::Member& m : s.members) {
    learning_rate.push_back(static_cast<float>(m.spec.training.learning_rate));
    decay.push_back(static_cast<float>(1.0 - m.spec.training.learning_rate * m.spec.training.weight_decay));
  }
  s.learning_rate = s.per_element(learning_rate);
  s.decay = s.per_element(decay);
  s.index = torch::zeros({chunks * s.options.chunk}, torch::TensorOptions().dtype(torch::kInt64).device(s.device));
  s.schedule = torch::zeros({2}, float_options);
  s.index_block = torch::zeros({kIndexBlock, chunks * s.options.chunk},
                               torch::TensorOptions().dtype(torch::kInt64).device(s.device));
  s.schedule_block = torch::zeros({kIndexBlock, 2}, float_options);
  s.loss_sum = torch::zeros({count}, torch::TensorOptions().dtype(torch::kFloat64).device(s.device));
}

EnsembleTrainer::EnsembleTrainer(std::unique_ptr<State> state) : state_(std::move(state)) {}
EnsembleTrainer::~EnsembleTrainer() = default;
EnsembleTrainer::EnsembleTrainer(EnsembleTrainer&&) noexcept = default;
EnsembleTrainer& EnsembleTrainer::operator=(EnsembleTrainer&&) noexcept = default;

long EnsembleTrainer::size() const { return static_cast<long>(state_->members.size()); }
const EnsembleMember& EnsembleTrainer::member(long m) const {
  return state_->members.at(static_cast<std::size_t>(m)).spec;
}
const EnsembleOptions& EnsembleTrainer::options() const { return state_->options; }
long EnsembleTrainer::batch_size(long m) const { return state_->members.at(static_cast<std::size_t>(m)).batch; }
long EnsembleTrainer::steps_per_epoch(long m) const {
  return state_->members.at(static_cast<std::size_t>(m)).steps_per_epoch;
}
long EnsembleTrainer::total_steps(long m) const { return state_->members.at(static_cast<std::size_t>(m)).total; }
long EnsembleTrainer::max_steps() const { return state_->max_steps(); }
long EnsembleTrainer::steps_done() const { return state_->steps_done; }
long EnsembleTrainer::num_parameters() const { return state_->model->parameters_per_member(); }
bool EnsembleTrainer::used_cuda_graph() const { return state_->graph_used; }

void EnsembleTrainer::set_schedule(long m, long epochs, long steps) {
  if (epochs < 0 || steps < 0) throw InvalidArgument("epochs/steps: must be >= 0");
  auto& member = state_->members.at(static_cast<std::size_t>(m));
  member.spec.training.epochs = epochs;
  member.spec.training.steps = steps;
  member.total = scheduled_steps(member.spec.data, member.spec.training);
}

void EnsembleTrainer::train(const std::function<void(long, const EpochLog&)>& on_epoch, long train_loss_every,
                            const std::function<void(long, long)>& on_step) {
  State& s = *state_;
  const TorchThreadScope threads(s.options.threads);
  const auto start = std::chrono::steady_clock::now();
  const long last = s.max_steps();
  const long count = size();
  std::vector<long> steps_in_epoch(static_cast<std::size_t>(count), 0);
  s.loss_sum.zero_();
  s.scored.clear();  // training changes every score

  auto all_active = [&] {
    for (const auto& m : s.members)
      if (m.total <= s.steps_done) return false;
    return true;
  };
  auto after_step = [&] {
    ++s.steps_done;
    if (on_epoch) {
      std::vector<long> due;
      for (long k = 0; k < count; ++k) {
        const auto& m = s.members[static_cast<std::size_t>(k)];
        if (s.steps_done > m.total) continue;
        ++steps_in_epoch[static_cast<std::size_t>(k)];
        if (s.steps_done % m.steps_per_epoch == 0 || s.steps_done == m.total) due.push_back(k);
      }
      if (!due.empty()) {
        const torch::Tensor sums = s.loss_sum.cpu();
        std::optional<std::vector<double>> full;
        for (long k : due) {
          const auto& m = s.members[static_cast<std::size_t>(k)];
          EpochLog log;
          log.step = s.steps_done;
          log.epoch = (s.steps_done + m.steps_per_epoch - 1) / m.steps_per_epoch;
          log.batch_loss = sums[k].item<double>() / static_cast<double>(steps_in_epoch[static_cast<std::size_t>(k)]);
          if (train_loss_every > 0 && (log.epoch % train_loss_every == 0 || s.steps_done == m.total)) {
            if (!full) full = train_losses();
            log.train_loss = (*full)[static_cast<std::size_t>(k)];
          }
          log.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          s.loss_sum.narrow(0, k, 1).zero_();
          steps_in_epoch[static_cast<std::size_t>(k)] = 0;
          on_epoch(k, log);
        }
      }
    }
    if (on_step) on_step(s.steps_done, last);
  };
  auto eager_step = [&] {
    s.prepare_step(s.steps_done);
    s.step_body();
    s.adamw(all_active());
    after_step();
  };

#if defined(ICLAB_CUDA_GRAPHS)
  if (s.device.is_cuda()) {
    // Everything on one side stream: a graph is captured on a non-default stream, and the steps
    // before and after it must be ordered with it.
    const c10::cuda::CUDAStreamGuard stream_guard(c10::cuda::getStreamFromPool(false, s.device.index()));
    constexpr long kWarmup = 3;  // eager steps first: lazy initialisation (cuBLAS, autograd threads)
    std::unique_ptr<at::cuda::CUDAGraph> graph;
    while (s.steps_done < last) {
      if (!graph && s.options.cuda_graph && s.steps_done >= kWarmup && all_active() && last - s.steps_done > 8) {
        try {
          graph = std::make_unique<at::cuda::CUDAGraph>();
          graph->capture_begin();
          s.step_body();
          s.adamw(true);
          graph->capture_end();
          s.graph_used = true;
        } catch (const std::exception&) {
          graph.reset();  // eager from here on (the capture recorded but did not run anything)
          s.options.cuda_graph = false;
        }
      }
      if (graph && all_active()) {
        s.prepare_step(s.steps_done);
        graph->replay();
        after_step();
      } else {
        eager_step();
      }
    }
    c10::cuda::getCurrentCUDAStream(s.device.index()).synchronize();
    return;
  }
#endif
  while (s.steps_done < last) eager_step();
}

std::vector<double> EnsembleTrainer::train_losses() {
  State& s = *state_;
  const TorchThreadScope threads(s.options.threads);
  std::vector<long> contexts;
  for (const auto& m : s.members) contexts.push_back(m.n);
  return s
      .score({contexts},
             [&](std::size_t, long m, long first, long count) {
               const auto& member = s.members[static_cast<std::size_t>(m)];
               return std::make_pair(s.train_tokens.narrow(0, member.first_row + first, count),
                                     s.train_targets.narrow(0, member.first_row + first, count));
             })
      .front();
}

std::vector<double> EnsembleTrainer::icl_errors(const std::string& ctest, long contexts) {
  return icl_errors(std::vector<std::string>{ctest}, contexts).front();
}

std::vector<std::vector<double>> EnsembleTrainer::icl_errors(const std::vector<std::string>& ctests, long contexts) {
  State& s = *state_;
  if (contexts < 1) throw InvalidArgument("test_contexts: must be >= 1");
  const TorchThreadScope threads(s.options.threads);
  // Common random numbers: every test covariance sees the same normals (tasks L_test z, covariates,
  // noise), so differences between tests are not drowned in sampling noise (the Spearman protocol
  // ranks tests whose errors differ by ~1%).
  std::vector<std::vector<State::TestSet>> tests(ctests.size());
  for (std::size_t t = 0; t < ctests.size(); ++t)
    for (const auto& m : s.members) tests[t].push_back(State::fresh_test(m, ctests[t]));
  return s.score_tests(tests, contexts);
}

std::vector<double> EnsembleTrainer::idg_errors(long contexts) {
  State& s = *state_;
  if (contexts < 1) throw InvalidArgument("test_contexts: must be >= 1");
  const TorchThreadScope threads(s.options.threads);
  std::vector<State::TestSet> tests;
  for (const auto& m : s.members) {
    if (!std::isfinite(m.spec.data.kappa)) {
      tests.push_back(State::fresh_test(m, ""));  // IDG = ICL on the pretraining law: the same contexts
      continue;
    }
    // Tasks from the member's own pool: its contexts are its own (no key).
    State::TestSet t{m.family(m.spec.data.canonical(), "|idg-test"), "", ""};
    ContextFamily& f = t.family;
    f.tasks = m.pool;
    f.task_of.resize(static_cast<std::size_t>(contexts));
    for (long mu = 0; mu < contexts; ++mu) {
      StreamAddress a = f.address;
      a.unit = static_cast<std::uint64_t>(mu);
      RandomStream stream(StreamId::assignment, a);
      f.task_of[static_cast<std::size_t>(mu)] =
          static_cast<long>(stream.below(static_cast<std::uint64_t>(m.pool.rows())));
    }
    tests.push_back(std::move(t));
  }
  return s.score_tests({tests}, contexts).front();
}

Vector EnsembleTrainer::predict(long member, const std::vector<Matrix>& tokens) {
  State& s = *state_;
  const long count = static_cast<long>(tokens.size());
  const long chunk = s.options.chunk, chunks = ceil_div(std::max(count, 1L), chunk);
  std::vector<float> values(static_cast<std::size_t>(chunks * chunk * s.length * s.width), 0.0f);
  for (long c = 0; c < count; ++c) {
    const Matrix& m = tokens[static_cast<std::size_t>(c)];
    if (m.rows() != s.length || m.cols() != s.width)
      throw InvalidArgument("tokens: each context must be " + std::to_string(s.length) + " x " +
                            std::to_string(s.width));
    for (long i = 0; i < s.length; ++i)
      for (long j = 0; j < s.width; ++j)
        values[static_cast<std::size_t>((c * s.length + i) * s.width + j)] =
            (i == s.length - 1 && j == s.width - 1) ? 0.0f : static_cast<float>(m(i, j));
  }
  const TorchThreadScope threads(s.options.threads);
  torch::InferenceMode inference;
  const torch::Tensor owner =
      torch::full({chunks}, member, torch::TensorOptions().dtype(torch::kInt64).device(s.device));
  const torch::Tensor out = s.model->forward(to_device(values, {chunks, chunk, s.length, s.width}, s.device), owner)
                                .reshape({-1})
                                .to(torch::kCPU, torch::kFloat64)
                                .contiguous();
  Vector result(count);
  std::copy(out.data_ptr<double>(), out.data_ptr<double>() + count, result.data());
  return result;
}

// ---------------------------------------------------------------------------------------------- memory

std::size_t EnsembleTrainer::estimate_bytes(const std::vector<EnsembleMember>& members,
                                            const EnsembleOptions& options) {
  if (members.empty()) return 0;
  const EnsembleMember& first = members.front();
  const double length = static_cast<double>(first.data.context_length() + 1);
  const double width = static_cast<double>(first.data.d + 1);
  const double h = static_cast<double>(first.architecture.hidden_for(first.data.d));
  const double blocks = static_cast<double>(std::max(1L, first.architecture.blocks()));
  double rows = 0, slots = 0;
  for (const EnsembleMember& m : members) {
    rows += static_cast<double>(m.data.num_contexts());
    slots += static_cast<double>(ceil_div(minibatch_size(m.data, m.training), options.chunk) * options.chunk);
  }
  const double m = static_cast<double>(members.size());
  const double parameters = m * (width + 2.0) * h * 3.0 + m * blocks * (5.0 * h * h + 6.0 * h);
  // Saved activations per context and block: about a dozen (l+1) x h tensors and the (l+1)^2 scores
  // (softmax input and output), plus the gathered tokens; twice for the backward's temporaries.
  const double per_context = length * width + blocks * (14.0 * length * h + 3.0 * length * length);
  const double step = 2.0 * slots * per_context;
  const double scoring = static_cast<double>(std::max(options.chunk, kEvaluationContexts)) * per_context;
  const double index = static_cast<double>(kIndexBlock) * slots * 2.0;  // int64 = 2 floats
  const double floats = rows * (length * width + 1.0) + 6.0 * parameters + step + scoring + index;
  // + 64 MiB of fixed overhead. Saturated: a double past SIZE_MAX (d = 1e6 gives ~1e25 bytes) converted
  // to size_t is undefined and let such a model pass the memory check.
  const double bytes = floats * 4.0 + static_cast<double>(std::size_t{64} << 20);
  if (!(bytes < 1.8e19)) return std::numeric_limits<std::size_t>::max();
  return static_cast<std::size_t>(bytes);
}

std::size_t EnsembleTrainer::available_bytes(const std::string& device) {
  const torch::Device parsed = parse_device(device);
#if defined(ICLAB_CUDA_GRAPHS)
  if (parsed.is_cuda()) {
    const c10::cuda::CUDAGuard guard(parsed.index() < 0 ? 0 : parsed.index());
    std::size_t free_bytes = 0, total_bytes = 0;
    if (cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess) return free_bytes;
    return 0;
  }
#endif
  (void)parsed;
  const long pages = ::sysconf(_SC_AVPHYS_PAGES), page = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? static_cast<std::size_t>(pages) * static_cast<std::size_t>(page) : 0;
}

std::vector<std::vector<std::size_t>> EnsembleTrainer::plan(const std::vector<EnsembleMember>& members,
                                                            const EnsembleOptions& options, std::size_t budget_bytes) {
  std::vector<std::vector<std::size_t>> groups;
  std::vector<EnsembleMember> current;
  for (std::size_t k = 0; k < members.size(); ++k) {
    const std::size_t alone = estimate_bytes({members[k]}, options);
    if (alone > budget_bytes)
      throw InvalidArgument("memory: one model (d = " + std::to_string(members[k].data.d) +
                            ", tau = " + format_number(members[k].data.tau) + ") needs about " +
                            std::to_string(alone >> 20) + " MiB on " + options.device + ", and " +
                            std::to_string(budget_bytes >> 20) + " MiB are available");
    bool fits = !groups.empty() && incompatibility(current.front(), members[k]).empty();
    if (fits) {
      current.push_back(members[k]);
      fits = estimate_bytes(current, options) <= budget_bytes;
      current.pop_back();
    }
    if (fits) {
      groups.back().push_back(k);
      current.push_back(members[k]);
    } else {
      groups.push_back({k});
      current = {members[k]};
    }
  }
  return groups;
}

// ---------------------------------------------------------------------------------------------- records

nlohmann::json EnsembleTrainer::member_json(long m) const {
  const State::Member& member = state_->members.at(static_cast<std::size_t>(m));
  return {{"data", member.spec.data.to_json()},
          {"architecture", member.spec.architecture.to_json()},
          {"training", member.spec.training.to_json()},
          {"parameters", num_parameters()},
          {"batch_size", member.batch},
          {"steps_per_epoch", member.steps_per_epoch},
          {"conventions", transformer_conventions()}};
}

nlohmann::json EnsembleTrainer::engine_json() const {
  nlohmann::json j = state_->options.to_json();
  j["members"] = size();
  j["cuda_graph_used"] = state_->graph_used;
  j["layout"] =
      "parameters stacked along a member axis; minibatches concatenated in chunks of `chunk` contexts owned by one "
      "member (last chunk zero-padded, weight 0); per-chunk GEMMs and in-order per-member sums, so on the CPU a "
      "member's numbers do not depend on its companions or the thread count";
  return j;
}

void EnsembleTrainer::save(const std::string& path, const std::string& key) const {
  const State& s = *state_;
  // Whatever stream the last step ran on (a graph's side stream, left by an exception) is done first.
  if (s.device.is_cuda()) torch::cuda::synchronize(s.device.index());
  torch::serialize::OutputArchive archive;
  nlohmann::json meta;
  meta["format"] = kCheckpointFormat;
  meta["key"] = key;
  meta["steps_done"] = s.steps_done;
  meta["engine"] = s.options.to_json();
  meta["members"] = nlohmann::json::array();
  for (long m = 0; m < size(); ++m) meta["members"].push_back(member_json(m));
  archive.write("meta", c10::IValue(meta.dump()));
  archive.write("parameters", s.model->flat().detach().cpu());
  archive.write("exp_avg", s.exp_avg.cpu());
  archive.write("exp_avg_sq", s.exp_avg_sq.cpu());
  const std::string temporary = path + ".tmp";
  try {
    archive.save_to(temporary);
    std::filesystem::rename(temporary, path);
  } catch (const std::exception& e) {
    std::error_code ignored;
    std::filesystem::remove(temporary, ignored);
    throw std::runtime_error("cannot write the checkpoint '" + path +
                             "': " + describe_torch_error(e).value_or(e.what()));
  }
}

namespace {

// A checkpoint's archive and its metadata; nullopt when `path` is not one (unreadable, another format).
std::optional<nlohmann::json> read_checkpoint(const std::string& path, torch::serialize::InputArchive& archive) {
  if (!std::filesystem::is_regular_file(path)) return std::nullopt;
  try {
    archive.load_from(path);
    c10::IValue text;
    archive.read("meta", text);
    nlohmann::json meta = nlohmann::json::parse(text.toStringRef());
    if (meta.value("format", "") != kCheckpointFormat) return std::nullopt;
    return meta;
  } catch (const std::exception&) {
    return std::nullopt;
  }
}

}  // namespace

std::optional<std::string> EnsembleTrainer::saved_key(const std::string& path) {
  torch::serialize::InputArchive archive;
  const auto meta = read_checkpoint(path, archive);
  if (!meta) return std::nullopt;
  return meta->value("key", std::string());
}

EnsembleTrainer EnsembleTrainer::load(const std::string& path, const std::string& device) {
  if (!std::filesystem::is_regular_file(path)) throw InvalidArgument("checkpoint: '" + path + "' is not a file");
  torch::serialize::InputArchive archive;
  const auto read = read_checkpoint(path, archive);
  if (!read)
    throw InvalidArgument("checkpoint: '" + path + "' is not an iclab transformer checkpoint (" + kCheckpointFormat +
                          ")");
  const nlohmann::json& meta = *read;
  EnsembleOptions options;
  options.device = device;
  options.threads = meta.at("engine").at("threads");
  options.chunk = meta.at("engine").at("chunk");
  options.cuda_graph = meta.at("engine").at("cuda_graph");
  std::vector<EnsembleMember> members;
  for (const auto& j : meta.at("members"))
    members.push_back({pretraining_data_from_json(j.at("data")), architecture_from_json(j.at("architecture")),
                       training_options_from_json(j.at("training"))});
  EnsembleTrainer trainer(std::move(members), options);
  State& s = *trainer.state_;
  torch::Tensor parameters, exp_avg, exp_avg_sq;
  archive.read("parameters", parameters);
  archive.read("exp_avg", exp_avg);
  archive.read("exp_avg_sq", exp_avg_sq);
  if (parameters.numel() != s.model->flat().numel() || exp_avg.numel() != s.exp_avg.numel() ||
      exp_avg_sq.numel() != s.exp_avg_sq.numel())
    throw InvalidArgument("checkpoint: '" + path + "' has the wrong size");
  {
    torch::NoGradGuard no_grad;
    s.model->flat().copy_(parameters);
    s.exp_avg.copy_(exp_avg);
    s.exp_avg_sq.copy_(exp_avg_sq);
  }
  s.steps_done = meta.at("steps_done");
  return trainer;
}

}  // namespace iclab::nn
