// The Transformer module (spec transformers-and-representations.md, A1 and C4-C5): the models' shapes
// and quirks, the data's scale, training, checkpoints and the CLI.
#include <gtest/gtest.h>
#include <torch/torch.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "iclab/covariances/covariance_spec.hpp"
#include "iclab/covariances/task_draws.hpp"
#include "iclab/nn/ensemble_model.hpp"
#include "iclab/nn/token_data.hpp"
#include "iclab/nn/torch_errors.hpp"
#include "iclab/nn/trainer.hpp"
#include "iclab/repr/training.hpp"
#include "iclab/theory/isotropic.hpp"

namespace {

using iclab::nn::Architecture;
using iclab::nn::ArchitectureOptions;
using iclab::nn::EnsembleModel;

// One model: an ensemble of one member whose contexts form one chunk.
struct TransformerModel {
  EnsembleModel ensemble;
  torch::Tensor forward(const torch::Tensor& tokens) const {
    return ensemble.forward(tokens.unsqueeze(0), torch::zeros({1}, torch::kInt64)).squeeze(0);
  }
  torch::Tensor forward_all_tokens(const torch::Tensor& tokens) const {
    return ensemble.forward_all_tokens(tokens.unsqueeze(0), torch::zeros({1}, torch::kInt64)).squeeze(0);
  }
};

const Architecture kAll[] = {Architecture::linear_attention, Architecture::softmax, Architecture::softmax_mlp2,
                             Architecture::softmax_mlp3};

std::shared_ptr<TransformerModel> make_model(Architecture a, long d, long hidden = 0) {
  ArchitectureOptions options;
  options.architecture = a;
  options.hidden = hidden;
  auto model = std::make_shared<TransformerModel>(TransformerModel{EnsembleModel(1, d, options, torch::kCPU)});
  model->ensemble.initialise(0, {7, 1, 0, 0});
  return model;
}

// A file name no other test process uses (ctest -j runs the tests of this file in parallel processes).
std::string unique_temp_path(const std::string& suffix) {
  const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
  return (std::filesystem::temp_directory_path() /
          ("iclab_test_nn_" + std::to_string(::getpid()) + "_" + test->name() + "_" + suffix))
      .string();
}

torch::Tensor random_tokens(long batch, long length, long width) {
  torch::manual_seed(3);  // test inputs only; the library never uses torch's generator
  return torch::randn({batch, length, width});
}

torch::Tensor parameter(TransformerModel& model, const std::string& name) {
  for (const auto& p : model.ensemble.parameters())
    if (p.name == name) return p.value.select(0, 0);
  throw std::runtime_error("no parameter " + name);
}

TEST(NnModels, ShapesAndTheQueryShortcut) {
  // The last block computes only the query's row; it must equal the full computation's last token.
  for (Architecture a : kAll) {
    auto model = make_model(a, 6, a == Architecture::softmax ? 9 : 0);
    const torch::Tensor tokens = random_tokens(5, 8, 7);
    const torch::Tensor out = model->forward(tokens);
    const torch::Tensor all = model->forward_all_tokens(tokens);
    ASSERT_EQ(out.sizes(), torch::IntArrayRef({5})) << to_string(a);
    ASSERT_EQ(all.sizes(), torch::IntArrayRef({5, 8})) << to_string(a);
    EXPECT_TRUE(torch::allclose(out, all.select(1, 7), 1e-5, 1e-6)) << to_string(a);
  }
}

TEST(NnModels, SoftmaxAttentionIsCausalAndLinearAttentionIsNot) {
  const torch::Tensor tokens = random_tokens(3, 8, 7);
  torch::Tensor changed = tokens.clone();
  changed.select(1, 5).add_(1.0);  // perturb token 5
  for (Architecture a : kAll) {
    auto model = make_model(a, 6);
    const torch::Tensor before = model->forward_all_tokens(tokens), after = model->forward_all_tokens(changed);
    const torch::Tensor diff = (before - after).abs().amax(0);  // per token position
    for (long i = 0; i < 8; ++i) {
      const double change = diff[i].item<double>();
      if (a == Architecture::linear_attention || i >= 5)
        EXPECT_GT(change, 1e-4) << to_string(a) << " token " << i;  // sees token 5
      else
        EXPECT_EQ(change, 0.0) << to_string(a) << " token " << i << " must not see a later token";
    }
  }
}

TEST(NnModels, BlockWithoutMlpOutputsLn2OfRPlusLn1R) {
  // Model 2's quirk: r = u + SHA(u), p = LN1(r), out = LN2(r + p); readout of the query.
  auto model = make_model(Architecture::softmax, 4);
  auto& m = *model;
  torch::NoGradGuard no_grad;
  // Non-trivial LayerNorm parameters, so that the two LayerNorms are told apart.
  for (const char* name : {"block0.norm1.weight", "block0.norm1.bias", "block0.norm2.weight", "block0.norm2.bias"})
    parameter(m, name).copy_(torch::linspace(0.5, 1.5, 4) * (name[11] == '1' ? 1.0 : -0.7));
  const torch::Tensor tokens = random_tokens(2, 6, 5);
  const torch::Tensor u = torch::linear(tokens, parameter(m, "embedding.weight"), parameter(m, "embedding.bias"));
  const torch::Tensor q = torch::linear(u, parameter(m, "block0.query.weight"));
  const torch::Tensor k = torch::linear(u, parameter(m, "block0.key.weight"));
  const torch::Tensor v = torch::linear(u, parameter(m, "block0.value.weight"));
  torch::Tensor s = torch::matmul(q, k.transpose(1, 2)) / 2.0;  // sqrt(h) = 2
  s = s.masked_fill(torch::ones({6, 6}).triu(1).to(torch::kBool), -1e30);
  const torch::Tensor r = u + torch::matmul(torch::softmax(s, -1), v);
  auto ln = [&](const torch::Tensor& x, const char* which) {
    const std::string w = std::string("block0.") + which;
    return torch::layer_norm(x, {4}, parameter(m, w + ".weight"), parameter(m, w + ".bias"), 1e-6);
  };
  const torch::Tensor out = ln(r + ln(r, "norm1"), "norm2");
  const torch::Tensor expected =
      torch::linear(out.select(1, 5), parameter(m, "readout.weight"), parameter(m, "readout.bias")).squeeze(-1);
  EXPECT_TRUE(torch::allclose(model->forward(tokens), expected, 1e-5, 1e-6));
}

TEST(NnModels, CpuKernelsAgreeWithTorchOps) {
  // The CPU kernels (nn/chunk_kernels.hpp) against the same model built from torch ops (the CUDA path):
  // two members, chunks owned 0, 1, 1, non-trivial LayerNorm parameters; outputs (query only and every
  // token) and every parameter's gradient. Both paths are float32 and differ only in the order of sums
  // of <= 8 terms per value (and how LayerNorm's variance is formed), so they agree to a few ulps per
  // op, ~1e-6 relative after a dozen chained ops; 1e-4 of each parameter's largest gradient leaves room
  // for that, while a missing term or a wrong member index is an O(1) error.
  std::vector<ArchitectureOptions> variants;
  for (Architecture a : kAll) variants.push_back({.architecture = a});
  variants.push_back({.architecture = Architecture::softmax_mlp2, .gelu_mlp = true, .attention_residual = false});
  variants.push_back({.architecture = Architecture::softmax_mlp2, .mlp_residual = false});
  for (const ArchitectureOptions& options : variants) {
    const std::string name = options.to_json().dump();
    EnsembleModel kernels(2, 6, options, torch::kCPU), reference(2, 6, options, torch::kCPU);
    reference.use_torch_ops();
    ASSERT_TRUE(kernels.uses_cpu_kernels());
    for (EnsembleModel* model : {&kernels, &reference}) {
      model->initialise(0, {7, 1, 0, 0});
      model->initialise(1, {8, 1, 0, 0});
      torch::NoGradGuard no_grad;
      for (const auto& p : model->parameters())
        if (p.fan_in <= 0) p.value.copy_(torch::linspace(0.5, 1.5, p.value.numel()).view(p.value.sizes()));
    }
    const torch::Tensor tokens = random_tokens(12, 8, 7).view({3, 4, 8, 7});
    const torch::Tensor owner = torch::tensor(std::vector<int64_t>{0, 1, 1});
    const torch::Tensor seen = random_tokens(3, 4, 1).view({3, 4});  // weights of a scalar loss
    for (EnsembleModel* model : {&kernels, &reference}) {
      model->flat_grad().zero_();
      (model->forward(tokens, owner) * seen).sum().backward();
    }
    const torch::Tensor out = kernels.forward(tokens, owner), expected = reference.forward(tokens, owner);
    EXPECT_LT((out - expected).abs().max().item<double>(), 1e-5 * expected.abs().max().item<double>()) << name;
    const torch::Tensor all = kernels.forward_all_tokens(tokens, owner);
    const torch::Tensor all_expected = reference.forward_all_tokens(tokens, owner);
    EXPECT_LT((all - all_expected).abs().max().item<double>(), 1e-5 * all_expected.abs().max().item<double>()) << name;
    for (std::size_t i = 0; i < kernels.parameters().size(); ++i) {
      const auto& p = kernels.parameters()[i];
      const torch::Tensor g = kernels.flat_grad().narrow(0, p.offset, p.numel * 2);
      const torch::Tensor g_expected = reference.flat_grad().narrow(0, p.offset, p.numel * 2);
      const double scale = g_expected.abs().max().item<double>();
      EXPECT_GT(scale, 0.0) << name << " " << p.name;  // every parameter is reached by the loss
      EXPECT_LT((g - g_expected).abs().max().item<double>(), 1e-4 * scale) << name << " " << p.name;
    }
  }
}

TEST(NnModels, DenseInitialisationIsTruncatedLecunNormal) {
  // flax lecun_normal: variance 1/fan_in, truncated at 2 / 0.8796 standard units of the unscaled normal.
  auto model = make_model(Architecture::softmax_mlp2, 79);  // 80 x 80 kernels: 6400 entries each
  for (const auto& item : model->ensemble.parameters()) {
    const std::string name = item.name;
    const torch::Tensor p = item.value.detach().select(0, 0).to(torch::kFloat64);
    if (name.find("norm") != std::string::npos) {
      EXPECT_TRUE(torch::all(p == (name.find("weight") != std::string::npos ? 1.0 : 0.0)).item<bool>()) << name;
    } else if (name.find("bias") != std::string::npos) {
      EXPECT_EQ(p.abs().max().item<double>(), 0.0) << name;
    } else {
      const double fan_in = static_cast<double>(p.size(1));
      const double variance = p.pow(2).mean().item<double>() * fan_in;
      // 6400 draws (readout: 80) of a variance-1 law with kurtosis < 3: relative error < 5 / sqrt(n).
      const double tolerance = 5.0 * std::sqrt(2.0 / static_cast<double>(p.numel()));
      EXPECT_NEAR(variance, 1.0, tolerance) << name;
      EXPECT_LE(p.abs().max().item<double>() * std::sqrt(fan_in), 2.0 / 0.87962566 + 1e-6) << name;
    }
  }
}

TEST(NnData, TokensFollowTheConventions) {
  // d = 8, l = 4, a fresh isotropic task per context: E y^2 = E||w||^2/d + rho = 1 + rho.
  const long d = 8, ell = 4, contexts = 100000;
  const iclab::TaskCovariance iso = iclab::parse_covariance("iso", d, "ctrain");
  iclab::nn::ContextFamily family;
  family.fresh_tasks = true;
  family.fresh_factor = iclab::covariance_factor(iso);
  family.ell = ell;
  family.rho = 0.01;
  family.address = {5, 9, 0, 0};
  const auto batch = iclab::nn::sample_token_batch(family, 0, contexts);
  ASSERT_EQ(batch.values.size(), static_cast<std::size_t>(contexts * (ell + 1) * (d + 1)));
  double y2 = 0.0, x2 = 0.0, query_label = 0.0;
  for (long c = 0; c < contexts; ++c) {
    const float* tokens = batch.values.data() + c * (ell + 1) * (d + 1);
    y2 += batch.targets[static_cast<std::size_t>(c)] * batch.targets[static_cast<std::size_t>(c)];
    for (long j = 0; j < d; ++j) x2 += tokens[j] * tokens[j];
    query_label += std::abs(tokens[ell * (d + 1) + d]);
  }
  EXPECT_EQ(query_label, 0.0);  // the query's label slot is empty
  // Var(y^2) ~ 2 (1 + rho)^2 + 2/d: the mean of 1e5 draws has sd ~ 0.005; 4 sd.
  EXPECT_NEAR(y2 / contexts, 1.01, 0.02);
  EXPECT_NEAR(x2 / contexts, 1.0, 0.01);  // ||x||^2 = 1 on average (x ~ N(0, I/d))
  // Chunks concatenate to the same numbers.
  const auto tail = iclab::nn::sample_token_batch(family, contexts - 3, 3);
  EXPECT_EQ(tail.targets[2], batch.targets.back());
  // The thread count never changes a number (each context's draws are addressed by its unit).
  const auto one = iclab::nn::sample_token_batch(family, 17, 1001, 1);
  const auto three = iclab::nn::sample_token_batch(family, 17, 1001, 3);
  EXPECT_EQ(one.values, three.values);
  EXPECT_EQ(one.targets, three.targets);
  EXPECT_EQ(std::vector<float>(batch.targets.begin() + 17, batch.targets.begin() + 1018), one.targets);
}

// The test sets of one address under several covariances share their normals (draw_fresh_contexts), and
// each covariance's tokens from them (tokens_of) are bit for bit its own sample_token_batch: ragged ranges,
// both links, threads 1 and 3.
TEST(NnData, SharedDrawsGiveEachCovarianceItsOwnBatch) {
  const long d = 7, ell = 5;
  for (iclab::Link link : {iclab::Link::linear, iclab::Link::tanh})
    for (const char* spec : {"iso", "power:1.3", "lowrank:0.4"}) {
      iclab::nn::ContextFamily family;
      family.fresh_tasks = true;
      family.fresh_factor = iclab::covariance_factor(iclab::parse_covariance(spec, d, "ctest"));
      family.ell = ell;
      family.rho = 0.01;
      family.link = link;
      family.address = {5, 9, 0, 0};
      const iclab::nn::ContextDraws draws = iclab::nn::draw_fresh_contexts(family, 17, 333, 3);
      ASSERT_EQ(draws.size(), 333);
      const auto expected = iclab::nn::sample_token_batch(family, 17, 333, 1);
      for (int threads : {1, 3}) {
        const auto got = iclab::nn::tokens_of(family, draws, threads);
        EXPECT_EQ(got.values, expected.values) << spec;
        EXPECT_EQ(got.targets, expected.targets) << spec;
      }
    }
}

TEST(NnModels, ZeroPredictorScoresOnePlusRho) {
  // The null baseline of spec C5 through the model: a zero readout predicts 0, scoring E y^2 = 1 + rho.
  auto model = make_model(Architecture::softmax_mlp2, 10);
  torch::NoGradGuard no_grad;
  parameter(*model, "readout.weight").zero_();
  iclab::nn::ContextFamily family;
  family.fresh_tasks = true;
  family.fresh_factor = iclab::covariance_factor(iclab::parse_covariance("iso", 10, "ctrain"));
  family.ell = 10;
  family.rho = 0.01;
  family.address = {1, 2, 0, 0};
  const auto batch = iclab::nn::sample_token_batch(family, 0, 50000);
  const torch::Tensor tokens =
      torch::from_blob(const_cast<float*>(batch.values.data()), {batch.contexts, batch.tokens, batch.width});
  const torch::Tensor targets = torch::from_blob(const_cast<float*>(batch.targets.data()), {batch.contexts});
  const double mse = (model->forward(tokens) - targets).pow(2).mean().item<double>();
  EXPECT_NEAR(mse, 1.01, 0.03);  // sd of the estimate ~ 0.007 at 5e4 contexts
}

iclab::nn::TransformerTrainer small_trainer(Architecture a, double tau, long epochs, double lr, long seed = 1,
                                            long d = 8) {
  iclab::nn::PretrainingData data;
  data.d = d;
  data.alpha = 1.0;
  data.tau = tau;
  data.rho = 0.01;
  ArchitectureOptions architecture;
  architecture.architecture = a;
  iclab::nn::TrainingOptions training;
  training.epochs = epochs;
  training.learning_rate = lr;
  training.seed = static_cast<std::uint64_t>(seed);
  return iclab::nn::TransformerTrainer(data, architecture, training);
}

TEST(NnTraining, AShortRunLowersTheLoss) {
  for (Architecture a : {Architecture::linear_attention, Architecture::softmax_mlp2}) {
    auto trainer = small_trainer(a, 4.0, 100, 1e-3);
    EXPECT_EQ(trainer.batch_size(), 25);       // int(0.1 * int(4 * 64))
    EXPECT_EQ(trainer.steps_per_epoch(), 11);  // 1 + 256 / 25, the authors' epoch
    const double before = trainer.train_loss();
    trainer.train();
    EXPECT_EQ(trainer.steps_done(), 1100);
    EXPECT_LT(trainer.train_loss(), 0.8 * before) << to_string(a);
  }
}

TEST(NnTraining, SameSeedSameBits) {
  auto a = small_trainer(Architecture::softmax, 2.0, 5, 1e-3, 4),
       b = small_trainer(Architecture::softmax, 2.0, 5, 1e-3, 4);
  a.train();
  b.train();
  EXPECT_EQ(a.train_loss(), b.train_loss());
  EXPECT_EQ(a.icl_error("", 1000), b.icl_error("", 1000));
  auto c = small_trainer(Architecture::softmax, 2.0, 5, 1e-3, 5);
  c.train();
  EXPECT_NE(a.train_loss(), c.train_loss());
}

TEST(NnTraining, CheckpointRoundTripContinuesExactly) {
  const std::string path = unique_temp_path("checkpoint.pt");
  auto straight = small_trainer(Architecture::softmax_mlp2, 2.0, 20, 1e-3);
  straight.train();
  auto first = small_trainer(Architecture::softmax_mlp2, 2.0, 8, 1e-3);
  first.train();
  first.save(path);
  auto resumed = iclab::nn::TransformerTrainer::load(path);
  EXPECT_EQ(resumed.steps_done(), first.steps_done());
  EXPECT_EQ(resumed.train_loss(), first.train_loss());
  resumed.set_schedule(20, 0);
  resumed.train();
  // Same data, same minibatches (functions of the step), same optimizer state: the same bits.
  EXPECT_EQ(resumed.train_loss(), straight.train_loss());
  std::filesystem::remove(path);
}

TEST(NnTraining, LinearAttentionApproachesTheReducedModelAtLargeTau) {
  // With many contexts (tau = 20) the trained linear attention's ICL error approaches the reduced
  // model's asymptotic e_ICL (0.539 at alpha = 1, tau = 20, rho = 0.01). At d = 10 finite-size effects
  // are O(1/d) ~ 10% (measured: 1.08x after 300 epochs), so we ask for agreement within 15%: far from
  // the untrained 1.0-1.5 and the peak's > 3.
  auto trainer = small_trainer(Architecture::linear_attention, 20.0, 300, 3e-3, 1, 10);
  trainer.train();
  const double theory = iclab::theory::ridgeless_icl_error({1.0, 20.0, iclab::kInfinity, 0.01, 0.0});
  EXPECT_NEAR(trainer.icl_error("", 20000) / theory, 1.0, 0.15);
}

std::string run_cli(const std::string& args, int& code) {
  const std::string out = unique_temp_path("cli.txt");
  code = std::system((std::string(ICLAB_BINARY) + " " + args + " > " + out + " 2>&1").c_str());
  code = WEXITSTATUS(code);
  std::ifstream in(out);
  std::stringstream text;
  text << in.rdbuf();
  std::filesystem::remove(out);
  return text.str();
}

TEST(NnCli, TrainPrintsOneRowPerTest) {
  int code = 0;
  const std::string out = run_cli(
      "train --model softmax --d 6 --alpha 1 --tau 2 --kappa 1 --epochs 3 --seed 2 --test-contexts 500 "
      "--ctest 'iso;power:1'",
      code);
  ASSERT_EQ(code, 0) << out;
  std::istringstream lines(out);
  std::string header, row1, row2;
  std::getline(lines, header);
  std::getline(lines, row1);
  std::getline(lines, row2);
  EXPECT_EQ(header, "model,d,alpha,tau,kappa,rho,ctrain,seed,epochs,steps,train_loss,ctest,icl_error,idg_error");
  EXPECT_EQ(row1.rfind("softmax,6,1,2,1,0.01,iso,2,3,", 0), 0u) << row1;
  EXPECT_NE(row1.find(",iso,"), std::string::npos);
  EXPECT_NE(row2.find(",power:1,"), std::string::npos);
}

TEST(NnCli, ListsTrainAnEnsembleWhoseRowsEqualSeparateRuns) {
  // The product tau x seed is trained as one ensemble; on the CPU each row is bit-identical to the
  // model trained alone (the ensemble contract, nn/ensemble.hpp).
  int code = 0;
  const std::string common = "train --model softmax --d 6 --kappa inf --steps 60 --lr 1e-3 --test-contexts 300 ";
  const std::string together = run_cli(common + "--tau 1,2 --seed 3,4", code);
  ASSERT_EQ(code, 0) << together;
  const std::string alone = run_cli(common + "--tau 2 --seed 3", code);
  ASSERT_EQ(code, 0) << alone;
  std::istringstream lines(together);
  std::vector<std::string> rows;
  for (std::string line; std::getline(lines, line);) rows.push_back(line);
  ASSERT_EQ(rows.size(), 5u) << together;  // header + 2 taus x 2 seeds, the seed fastest
  EXPECT_EQ(rows[0] + "\n" + rows[3] + "\n", alone);
}

// c10::Error's text ("[enforce fail at ...]", "Expected ... but got ...", a backtrace) never reaches the
// user: describe_torch_error, the one place that words libtorch's errors, gives one line of iclab's.
TEST(NnErrors, LibtorchErrorsBecomeOneLineInIclabsWords) {
  auto described = [](auto&& work) -> std::string {
    try {
      work();
    } catch (const std::exception& e) {
      const auto text = iclab::nn::describe_torch_error(e);
      EXPECT_TRUE(text.has_value()) << e.what();
      return text.value_or("");
    }
    ADD_FAILURE() << "libtorch did not fail";
    return "";
  };
  // 2^50 floats, 4 PiB: more than any machine's address space, so the allocation fails.
  const std::string memory = described([] { (void)torch::empty({1LL << 50}); });
  EXPECT_EQ(memory.rfind("out of memory: libtorch could not allocate 4503599627370496 bytes (4294967296 MiB)", 0), 0u)
      << memory;
  const std::string file = described([] {
    torch::serialize::InputArchive archive;
    archive.load_from("/nonexistent-iclab-dir/x.pt");
  });
  EXPECT_EQ(file.rfind("libtorch could not read or write a file", 0), 0u) << file;
  const std::string shapes = described([] { (void)(torch::ones({2}) + torch::ones({3})); });
  EXPECT_EQ(shapes, "libtorch failed on this input, which iclab should have refused: please report the command");
  for (const std::string& text : {memory, file, shapes}) {
    EXPECT_EQ(text.find('\n'), std::string::npos) << text;
    EXPECT_EQ(text.find("enforce fail"), std::string::npos) << text;
    EXPECT_EQ(text.find("Expected"), std::string::npos) << text;
  }
  EXPECT_FALSE(iclab::nn::describe_torch_error(std::runtime_error("not torch's")).has_value());

  // The checkpoint writer words its failure the same way (the directory vanished after the CLI's check).
  auto trainer = small_trainer(Architecture::linear_attention, 1.0, 1, 1e-3, 1, 4);
  try {
    trainer.save("/nonexistent-iclab-dir/x.pt");
    ADD_FAILURE() << "saved into a missing directory";
  } catch (const std::exception& e) {
    const std::string text = e.what();
    EXPECT_EQ(text.rfind("cannot write the checkpoint '/nonexistent-iclab-dir/x.pt': ", 0), 0u) << text;
    EXPECT_EQ(text.find('\n'), std::string::npos) << text;
    EXPECT_EQ(text.find("enforce fail"), std::string::npos) << text;
  }
}

TEST(NnCli, BadInputExitsTwoWithOneLine) {
  for (const char* args : {"train --model mamba --epochs 1", "train --epochs 1 --batch 1.5",
                           "train --epochs 1 --ctest nope", "train --epochs 1 --device tpu", "train --d 4",
                           "train --epochs 1 --link relu", "train --load /nonexistent.pt",
                           "train --epochs 1 --seed -1", "train --epochs 1 --tau 1,x",
                           "train --epochs 1 --save /nonexistent/x.pt"}) {
    int code = 0;
    const std::string out = run_cli(args, code);
    EXPECT_EQ(code, 2) << args << ": " << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << args << ": " << out;
  }
}

// Issue 14: --load takes d, the models and the data from the checkpoint; an explicit flag that says
// otherwise is refused naming both values (it used to be ignored: `--d 6` printed d = 4), while a default
// (--d is 10 by default) or an explicit flag that agrees passes.
TEST(NnCli, LoadRefusesExplicitFlagsThatContradictTheCheckpoint) {
  const std::string checkpoint = unique_temp_path("conflict.pt");
  int code = 0;
  std::string out =
      run_cli("train --model softmax --d 4 --tau 2 --steps 2 --test-contexts 50 --save " + checkpoint, code);
  ASSERT_EQ(code, 0) << out;
  const std::string load = "train --load " + checkpoint + " --test-contexts 50 ";
  out = run_cli(load + "--d 6", code);
  EXPECT_EQ(code, 2) << out;
  EXPECT_EQ(out, "iclab: error: --d: the checkpoint '" + checkpoint +
                     "' has d = 4, the command line says 6; drop --d or load another checkpoint\n");
  out = run_cli(load + "--model linear-attention", code);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("--model: the checkpoint '" + checkpoint + "' has model = softmax, the command line says " +
                     "linear-attention"),
            std::string::npos)
      << out;
  out = run_cli(load + "--tau 2,3", code);
  EXPECT_EQ(code, 2) << out;
  EXPECT_NE(out.find("has tau = 2, the command line says 2,3"), std::string::npos) << out;
  // Agreeing explicit flags and defaults: the checkpoint's d = 4 model is evaluated.
  for (const std::string& args : {load + "--d 4 --model softmax --tau 2", load}) {
    out = run_cli(args, code);
    EXPECT_EQ(code, 0) << args << ": " << out;
    EXPECT_NE(out.find("\nsoftmax,4,1,2,"), std::string::npos) << args << ": " << out;
  }
  std::filesystem::remove(checkpoint);
}

// Issue 14: the repr Trainer estimates its memory before allocating and refuses what does not fit
// (`--heads 100000000` ended in libtorch's "out of memory", exit 1).
TEST(ReprTrainer, RefusesWhatDoesNotFitBeforeAllocating) {
  iclab::repr::TaskSpec task;  // d = 20, m = 8, K = 40, N = 10
  iclab::repr::TrainOptions options;
  const double small = iclab::repr::estimate_bytes(task, options);
  // The default attention run holds a few MB (Q: 16 x 20 x 20 doubles); the estimate must not refuse it.
  EXPECT_GT(small, 16.0 * 20 * 20 * 8);
  EXPECT_LT(small, 64.0 * 1048576);
  options.heads = 32;
  EXPECT_GT(iclab::repr::estimate_bytes(task, options), small);  // grows with every head
  options.heads = 100000000;
  // 1e8 heads of 20 x 20 float64 Q alone are 320 GB (four times that with gradients and Adam); beyond any machine.
  EXPECT_GT(iclab::repr::estimate_bytes(task, options), 1e12);
  EXPECT_THROW(iclab::repr::Trainer(task, options), iclab::InvalidArgument);
  options.heads = 16;
  options.model = iclab::repr::ModelKind::transformer;
  options.transformer.d_model = 2000000;  // 4 layers of 4 d_model^2 weights: 6.4e13 floats
  try {
    iclab::repr::Trainer trainer(task, options);
    ADD_FAILURE() << "a 2e6-wide transformer was built";
  } catch (const iclab::InvalidArgument& e) {
    const std::string text = e.what();
    EXPECT_EQ(text.rfind("memory: repr train --model transformer with --layers 4 --d-model 2000000", 0), 0u) << text;
    EXPECT_NE(text.find(" MiB are available; use a smaller --d-model"), std::string::npos) << text;
  }
}

}  // namespace

// Deliver 3 of issue 12: a library object changes no process-wide setting beyond its calls. The repr
// Trainer runs torch on TrainOptions::threads inside each call and restores the count it found (it
// used to set it for the rest of the process).
TEST(ReprTrainer, LeavesTorchsThreadCountAsItFound) {
  const int before = at::get_num_threads();
  const int other = before == 1 ? 2 : 1;  // a count the trainer must not leave behind
  iclab::repr::TaskSpec task;
  task.d = 4;
  task.m = 3;
  task.K = 8;
  task.N = 4;
  iclab::repr::TrainOptions options;
  options.heads = 2;
  options.steps = 3;
  options.log_every = 1;
  options.test_prompts = 4;
  options.threads = other;
  iclab::repr::Trainer trainer(task, options);
  EXPECT_EQ(at::get_num_threads(), before);
  const auto rows = trainer.train([&](const iclab::repr::LogRow&) { EXPECT_EQ(at::get_num_threads(), other); });
  EXPECT_FALSE(rows.empty());
  EXPECT_EQ(at::get_num_threads(), before);
  (void)trainer.population_loss();
  EXPECT_EQ(at::get_num_threads(), before);
}
