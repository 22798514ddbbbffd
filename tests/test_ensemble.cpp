// Ensembles of Transformers (nn/ensemble.hpp): a member's numbers do not depend on its companions or the
// thread count (bit for bit, on the CPU), ragged batches and step counts, checkpoints and planning.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <functional>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "iclab/nn/chunk_kernels.hpp"
#include "iclab/nn/ensemble.hpp"
#include "iclab/nn/trainer.hpp"

namespace {

using iclab::nn::Architecture;
using iclab::nn::EnsembleMember;
using iclab::nn::EnsembleOptions;
using iclab::nn::EnsembleTrainer;

EnsembleMember member(Architecture a, double tau, std::uint64_t seed, long steps, double lr = 1e-3,
                      double kappa = iclab::kInfinity) {
  EnsembleMember m;
  m.data.d = 6;
  m.data.alpha = 1.0;
  m.data.tau = tau;
  m.data.kappa = kappa;
  m.data.rho = 0.01;
  m.architecture.architecture = a;
  m.training.steps = steps;
  m.training.learning_rate = lr;
  m.training.seed = seed;
  return m;
}

// Everything a member's training produces: its loss trajectory, its final losses and errors, and its
// predictions on fixed contexts.
struct Record {
  std::vector<double> batch_losses;
  double train_loss = 0, icl = 0, idg = 0;
  iclab::Vector predictions;
};

std::vector<Record> train(const std::vector<EnsembleMember>& members, int threads) {
  EnsembleOptions options;
  options.threads = threads;
  EnsembleTrainer trainer(members, options);
  std::vector<Record> records(members.size());
  trainer.train([&](long m, const iclab::nn::EpochLog& log) {
    records[static_cast<std::size_t>(m)].batch_losses.push_back(log.batch_loss);
  });
  const auto train_losses = trainer.train_losses();
  const auto icl = trainer.icl_errors("power:1", 300);
  const auto idg = trainer.idg_errors(300);
  std::vector<iclab::Matrix> contexts;
  for (int c = 0; c < 3; ++c) contexts.push_back(iclab::Matrix::Constant(7, 7, 0.1 * (c + 1)));
  for (std::size_t m = 0; m < members.size(); ++m) {
    records[m].train_loss = train_losses[m];
    records[m].icl = icl[m];
    records[m].idg = idg[m];
    records[m].predictions = trainer.predict(static_cast<long>(m), contexts);
  }
  return records;
}

void expect_same_bits(const Record& a, const Record& b, const std::string& what) {
  ASSERT_EQ(a.batch_losses.size(), b.batch_losses.size()) << what;
  for (std::size_t i = 0; i < a.batch_losses.size(); ++i) EXPECT_EQ(a.batch_losses[i], b.batch_losses[i]) << what;
  EXPECT_EQ(a.train_loss, b.train_loss) << what;
  EXPECT_EQ(a.icl, b.icl) << what;
  EXPECT_EQ(a.idg, b.idg) << what;
  for (long i = 0; i < a.predictions.size(); ++i) EXPECT_EQ(a.predictions(i), b.predictions(i)) << what;
}

class EnsembleBits : public ::testing::TestWithParam<Architecture> {};

TEST_P(EnsembleBits, AMemberIsTheSameAloneInAnEnsembleAndOnAnyThreadCount) {
  // 200 steps of member A alone on one thread, then inside an ensemble whose companions have other
  // tau (so other batch sizes: B = 3, 7 and 14 contexts, ragged chunks), seeds, learning rates, a finite
  // kappa and a shorter schedule, on two and three threads. Its trajectory, losses, errors and
  // predictions must be the same bits: the ensemble changes how work is batched, not what is computed.
  const Architecture a = GetParam();
  const EnsembleMember target = member(a, 2.0, 11, 200);
  const Record alone = train({target}, 1).front();
  ASSERT_EQ(alone.batch_losses.size(), 200u / 11u + 1u);  // one log per epoch of 11 steps, and the end
  const std::vector<EnsembleMember> group = {member(a, 1.0, 5, 200, 3e-3), target, member(a, 4.0, 7, 120, 1e-3, 1.0)};
  for (int threads : {2, 3}) {
    const auto records = train(group, threads);
    expect_same_bits(alone, records[1], "member inside the ensemble, threads " + std::to_string(threads));
    // The shorter member stopped at 120 steps and stayed frozen: it equals its own run alone.
    if (threads == 2) expect_same_bits(train({group[2]}, 1).front(), records[2], "the shorter member");
  }
  // Sanity: training changed the member (the test would pass trivially if nothing was trained).
  EXPECT_LT(alone.batch_losses.back(), alone.batch_losses.front());
}

INSTANTIATE_TEST_SUITE_P(AllArchitectures, EnsembleBits,
                         ::testing::Values(Architecture::linear_attention, Architecture::softmax,
                                           Architecture::softmax_mlp2, Architecture::softmax_mlp3),
                         [](const auto& param_info) {
                           std::string name = iclab::nn::to_string(param_info.param);
                           std::erase(name, '-');
                           return name;
                         });

TEST(Ensemble, TestContextsAreSharedAcrossThePretrainingAxesAndScoredAlike) {
  // A member's fresh-task test contexts are addressed by the test's parameters and the seed, not by tau,
  // kappa or C_train: members differing only in those are tested on the same contexts, which the
  // ensemble draws once. Untrained (0 steps), members with one seed have the same weights, so their ICL
  // errors on one test are equal exactly when their contexts are; the default test (C_train) differs
  // with C_train. Inside the ensemble every member's errors must still be its errors alone, bit for bit.
  EnsembleMember base = member(Architecture::softmax, 2.0, 11, 0);
  base.training.epochs = 0;
  EnsembleMember other_tau = base, finite_kappa = base, other_seed = base, other_ctrain = base;
  other_tau.data.tau = 1.0;
  finite_kappa.data.tau = 4.0;
  finite_kappa.data.kappa = 1.0;
  other_seed.training.seed = 5;
  other_ctrain.data.ctrain = "power:1";
  const std::vector<EnsembleMember> group = {base, other_tau, finite_kappa, other_seed, other_ctrain};
  EnsembleTrainer ensemble(group, EnsembleOptions{});
  ASSERT_EQ(ensemble.max_steps(), 0);
  const auto icl = ensemble.icl_errors("power:1", 200);
  const auto matched = ensemble.icl_errors("", 200);
  const auto idg = ensemble.idg_errors(200);
  EXPECT_EQ(icl[0], icl[1]);  // tau
  EXPECT_EQ(icl[0], icl[2]);  // tau and kappa
  EXPECT_EQ(icl[0], icl[4]);  // C_train (the test's own covariance is fixed)
  EXPECT_NE(icl[0], icl[3]);  // another seed: other weights and contexts
  EXPECT_EQ(matched[0], matched[1]);
  EXPECT_NE(matched[0], matched[4]);  // the default test follows C_train
  EXPECT_EQ(idg[0], matched[0]);      // kappa = inf: IDG is the matched ICL test
  EXPECT_NE(idg[2], matched[2]);      // finite kappa: the member's own pool
  for (std::size_t m = 0; m < group.size(); ++m) {
    EnsembleTrainer alone({group[m]}, EnsembleOptions{});
    EXPECT_EQ(alone.icl_errors("power:1", 200).front(), icl[m]) << "member " << m;
    EXPECT_EQ(alone.idg_errors(200).front(), idg[m]) << "member " << m;
    EXPECT_EQ(alone.icl_errors("", 200).front(), matched[m]) << "member " << m;
  }
}

// Several tests at once (their normals drawn once per pass and shared) give each member the numbers of
// one call per test, bit for bit, with a repeated test and the matched test (C_train's) scored once and
// copied. Trained members (20 steps) with two seeds, 300 contexts (passes of 16-context chunks, ragged).
TEST(Ensemble, ManyTestsAtOnceAreEachTestAlone) {
  EnsembleMember a = member(Architecture::softmax, 2.0, 3, 20), b = a, c = a;
  b.data.tau = 4.0;
  c.training.seed = 8;
  c.data.ctrain = "power:1";
  const std::vector<EnsembleMember> group = {a, b, c};
  const std::vector<std::string> tests = {"power:1", "iso", "lowrank:0.5", "power:1", "", "power:0.5"};
  EnsembleTrainer together(group, EnsembleOptions{});
  together.train();
  const auto all = together.icl_errors(tests, 300);
  ASSERT_EQ(all.size(), tests.size());
  EnsembleTrainer separate(group, EnsembleOptions{});
  separate.train();
  for (std::size_t t = 0; t < tests.size(); ++t) {
    const auto one = separate.icl_errors(tests[t], 300);
    for (std::size_t m = 0; m < group.size(); ++m)
      EXPECT_EQ(all[t][m], one[m]) << "test " << tests[t] << ", member " << m;
  }
  EXPECT_EQ(all[0], all[3]);
  EXPECT_EQ(all[4][2], all[0][2]);  // member 2's matched test is power:1
  EXPECT_NE(all[0][0], all[1][0]);  // and the tests are not all one
}

TEST(Ensemble, VariantsTrainInAnEnsembleToo) {
  EnsembleMember gelu = member(Architecture::softmax_mlp2, 2.0, 3, 40);
  gelu.architecture.gelu_mlp = true;
  gelu.architecture.attention_residual = false;
  EnsembleMember other = gelu;
  other.training.seed = 4;
  const Record alone = train({gelu}, 1).front();
  expect_same_bits(alone, train({other, gelu}, 2)[1], "GELU MLP without attention residual");
}

TEST(Ensemble, CheckpointContinuesExactly) {
  const std::string path =
      (std::filesystem::temp_directory_path() / ("iclab_test_ensemble_" + std::to_string(::getpid()) + ".pt")).string();
  const std::vector<EnsembleMember> group = {member(Architecture::softmax, 2.0, 1, 60),
                                             member(Architecture::softmax, 3.0, 2, 60)};
  EnsembleTrainer straight(group);
  straight.train();
  EnsembleTrainer first(group);
  first.set_schedule(0, 0, 25);
  first.set_schedule(1, 0, 25);
  first.train();
  first.save(path);
  EnsembleTrainer resumed = EnsembleTrainer::load(path);
  std::filesystem::remove(path);
  ASSERT_EQ(resumed.size(), 2);
  EXPECT_EQ(resumed.steps_done(), 25);
  resumed.set_schedule(0, 0, 60);
  resumed.set_schedule(1, 0, 60);
  resumed.train();
  EXPECT_EQ(resumed.train_losses(), straight.train_losses());
}

TEST(Ensemble, MembersMustShareTheTokenShapeAndArchitecture) {
  EnsembleMember other_d = member(Architecture::softmax, 2.0, 1, 10);
  other_d.data.d = 7;
  try {
    EnsembleTrainer({member(Architecture::softmax, 2.0, 1, 10), other_d});
    FAIL() << "members with different d were accepted";
  } catch (const iclab::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("member 1 differs from member 0 in d"), std::string::npos) << e.what();
  }
}

TEST(Ensemble, PlanSplitsByCompatibilityAndMemory) {
  const std::vector<EnsembleMember> members = {
      member(Architecture::softmax, 2.0, 1, 10), member(Architecture::softmax, 3.0, 2, 10),
      member(Architecture::linear_attention, 2.0, 3, 10), member(Architecture::linear_attention, 2.0, 4, 10)};
  const EnsembleOptions options;
  const std::size_t plenty = std::size_t{1} << 40;
  const auto groups = EnsembleTrainer::plan(members, options, plenty);
  ASSERT_EQ(groups.size(), 2u);  // the architectures cannot share an ensemble
  EXPECT_EQ(groups[0], (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(groups[1], (std::vector<std::size_t>{2, 3}));
  // A budget that holds one member but not two splits every pair.
  std::size_t one = 0;
  for (const auto& m : members) one = std::max(one, EnsembleTrainer::estimate_bytes({m}, options));
  EXPECT_GT(EnsembleTrainer::estimate_bytes({members[0], members[1]}, options), one);
  EXPECT_EQ(EnsembleTrainer::plan(members, options, one).size(), 4u);
  // A member over budget is refused with what it needs.
  try {
    EnsembleTrainer::plan(members, options, one / 2);
    FAIL() << "an impossible plan was accepted";
  } catch (const iclab::InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find("memory: one model"), std::string::npos) << e.what();
  }
}

// The CPU kernels of every instruction set this processor has give the baseline's (SSE2) bits, so a
// member's numbers do not depend on the machine's vector width either. Shapes leave partial vectors
// (widths 3-33 against 4, 8 or 16 lanes), partial blocks of rows (7 rows), several column groups (100
// columns: 25, 13 or 7 vectors in groups of 6) and partial blocks of LayerNorm rows; attention is causal,
// query-only or linear.
TEST(EnsembleKernels, EveryInstructionSetGivesTheBaselineBits) {
  namespace k = iclab::nn::kernels;
  std::vector<k::Isa> wider;
  for (k::Isa isa : {k::Isa::avx2, k::Isa::avx512})
    if (k::available(isa)) wider.push_back(isa);
  if (wider.empty()) GTEST_SKIP() << "this processor runs only the baseline kernels";
  std::mt19937 bits(20260101);
  auto random = [&](long n) {  // uniform in [-1, 1), from the generator's bits (no library distribution)
    std::vector<float> v(static_cast<std::size_t>(n));
    for (float& x : v) x = static_cast<float>(bits() >> 8) * 0x1p-23f - 1.0f;
    return v;
  };
  auto expect_same = [&](const std::string& what, const auto& run) {  // run(isa) -> the outputs, concatenated
    const std::vector<float> expected = run(k::Isa::baseline);
    for (k::Isa isa : wider) {
      const std::vector<float> got = run(isa);
      ASSERT_EQ(got.size(), expected.size()) << what;
      EXPECT_EQ(std::memcmp(got.data(), expected.data(), got.size() * sizeof(float)), 0)
          << what << ", instruction set " << static_cast<int>(isa);
    }
  };
  auto join = [](std::vector<float> a, const std::vector<float>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  };
  const long members = 3, chunks = 5;
  const std::vector<std::int64_t> owner = {0, 2, 2, 1, 2};
  for (long rows : {7L, 176L}) {
    const k::Chunks layout{owner.data(), chunks, rows};
    const auto member_chunks = k::chunks_of_members(layout, members);
    // Widths below, at and above a vector, and over one group of vectors (products read some operands in
    // place, with a masked load for a row's last partial vector).
    for (long in : {3L, 10L, 11L, 16L, 33L, 100L})
      for (long out : {1L, 10L, 17L, 100L})
        for (bool with_bias : {true, false}) {
          const std::string what = "dense " + std::to_string(rows) + " rows, " + std::to_string(in) + " -> " +
                                   std::to_string(out) + (with_bias ? " + bias" : "");
          const auto x = random(chunks * rows * in), w = random(members * out * in), b = random(members * out),
                     g = random(chunks * rows * out);
          expect_same(what, [&](k::Isa isa) {
            std::vector<float> y(g.size()), dx(x.size()), dw(w.size()), db(b.size());
            k::dense_forward(layout, x.data(), in, w.data(), with_bias ? b.data() : nullptr, out, y.data(), 0, chunks,
                             isa);
            k::dense_backward_input(layout, g.data(), w.data(), in, out, dx.data(), 0, chunks, isa);
            k::dense_backward_parameters(member_chunks, layout, x.data(), in, g.data(), out, dw.data(),
                                         with_bias ? db.data() : nullptr, 0, members, isa);
            return join(join(join(y, dx), dw), db);
          });
        }
    for (long width : {10L, 11L, 33L}) {
      const auto x = random(chunks * rows * width), w = random(members * width), b = random(members * width),
                 g = random(chunks * rows * width);
      expect_same("LayerNorm " + std::to_string(rows) + " rows x " + std::to_string(width), [&](k::Isa isa) {
        std::vector<float> y(x.size()), xhat(x.size()), rstd(static_cast<std::size_t>(chunks * rows)), dx(x.size()),
            dw(w.size()), db(b.size());
        k::layer_norm_forward(layout, x.data(), width, w.data(), b.data(), 1e-5, y.data(), xhat.data(), rstd.data(), 0,
                              chunks, isa);
        k::layer_norm_backward_input(layout, g.data(), xhat.data(), rstd.data(), width, w.data(), dx.data(), 0, chunks,
                                     isa);
        k::layer_norm_backward_parameters(member_chunks, layout, g.data(), xhat.data(), width, dw.data(), db.data(), 0,
                                          members, isa);
        return join(join(join(join(y, xhat), rstd), join(dx, dw)), db);
      });
    }
  }
  const long contexts = 5;
  for (long h : {4L, 10L, 16L, 33L, 100L})
    for (long tokens : {7L, 11L})
      for (int mode = 0; mode < 3; ++mode) {  // causal softmax, the query row only, linear
        const k::Attention shape{mode == 1 ? 1 : tokens, tokens, h, 0.3f, mode != 2};
        const auto q = random(contexts * shape.queries * h), keys = random(contexts * tokens * h),
                   values = random(contexts * tokens * h), dout = random(contexts * shape.queries * h);
        const std::string what = "attention h " + std::to_string(h) + ", " + std::to_string(tokens) + " tokens, mode " +
                                 std::to_string(mode);
        expect_same(what, [&](k::Isa isa) {
          std::vector<float> out(q.size()), p(static_cast<std::size_t>(contexts * shape.queries * tokens)),
              dq(q.size()), dk(keys.size()), dv(values.size());
          k::attention_forward(shape, q.data(), keys.data(), values.data(), out.data(), p.data(), 0, contexts, isa);
          k::attention_backward(shape, q.data(), keys.data(), values.data(), p.data(), dout.data(), dq.data(),
                                dk.data(), dv.data(), 0, contexts, isa);
          return join(join(join(out, p), join(dq, dk)), dv);
        });
      }
}

// Skipping the padding (Chunks::valid) changes no real row: with the padding's output gradients 0, as in
// training (weight 0), every real output, input gradient and parameter gradient keeps its bits, and the
// padding's outputs and input gradients are 0. Chunks of 4 contexts of 3 rows; 4, 1 and 2 of them real.
// The softmax's exponential (chunk_kernels.inc, exp_lanes): its own polynomial instead of glibc's scalar
// expf, so it must be accurate on its whole range and give the same bits on every instruction set, for
// every position in a row (whole vectors and the partial last one).
TEST(EnsembleKernels, SoftmaxExpIsAccurateAndTheSameOnEveryInstructionSet) {
  namespace k = iclab::nn::kernels;
  std::vector<float> x;
  for (float v = -87.0f; v <= 88.0f; v += 0.0137f) x.push_back(v);  // 12 774 points, every binade of the result
  for (float v : {0.0f, -0.0f, -1e-30f, 1e-30f, -0.34657359f, 0.34657359f, -86.99f, 88.0f}) x.push_back(v);
  const long n = static_cast<long>(x.size());
  std::vector<float> expected = x;
  k::softmax_exp(expected.data(), n, k::Isa::baseline);
  // Error bound: the Taylor remainder is < 0.1 ulp, the eight rounded steps of Horner's rule on |r| <= ln2/2
  // (each term smaller than the last) and the final product by 2^n add up to under 2 ulp (measured: 0.73).
  double worst = 0.0;
  for (long i = 0; i < n; ++i) {
    const double exact = std::exp(static_cast<double>(x[static_cast<std::size_t>(i)]));
    const double ulps = std::abs(expected[static_cast<std::size_t>(i)] - exact) / (exact * 0x1p-23);
    worst = std::max(worst, ulps);
  }
  EXPECT_LT(worst, 2.0);
  EXPECT_GT(worst, 0.0);  // the comparison is live: float results cannot all equal the double exponential
  std::vector<float> special = {-87.5f, -1000.0f, -std::numeric_limits<float>::infinity(),
                                std::numeric_limits<float>::quiet_NaN(), 0.0f};
  k::softmax_exp(special.data(), 5, k::Isa::baseline);
  EXPECT_EQ(special[0], 0.0f);
  EXPECT_EQ(special[1], 0.0f);
  EXPECT_EQ(special[2], 0.0f);
  EXPECT_TRUE(std::isnan(special[3]));
  EXPECT_EQ(special[4], 1.0f);
  for (k::Isa isa : {k::Isa::avx2, k::Isa::avx512}) {
    if (!k::available(isa)) continue;
    for (long offset : {0L, 1L, 5L, 13L}) {  // the vector boundaries fall on other entries
      std::vector<float> got(x.begin() + offset, x.end());
      k::softmax_exp(got.data(), n - offset, isa);
      EXPECT_EQ(std::memcmp(got.data(), expected.data() + offset, got.size() * sizeof(float)), 0)
          << "instruction set " << static_cast<int>(isa) << ", offset " << offset;
    }
  }
}

TEST(EnsembleKernels, SkippingThePaddingChangesNoRealRow) {
  namespace k = iclab::nn::kernels;
  std::mt19937 bits(7);
  auto random = [&](long n) {
    std::vector<float> v(static_cast<std::size_t>(n));
    for (float& x : v) x = static_cast<float>(bits() >> 8) * 0x1p-23f - 1.0f;
    return v;
  };
  const long contexts = 4, per_context = 3, rows = contexts * per_context, chunks = 3, members = 2, width = 10;
  const std::vector<std::int64_t> owner = {0, 1, 1}, valid = {4, 1, 2};
  const k::Chunks all{owner.data(), chunks, rows}, skipping{owner.data(), chunks, rows, valid.data(), contexts};
  auto padding = [&](long row) { return row % rows >= valid[static_cast<std::size_t>(row / rows)] * per_context; };
  auto g = random(chunks * rows * width);  // output gradients: 0 in the padding
  for (long r = 0; r < chunks * rows; ++r)
    if (padding(r)) std::fill_n(g.begin() + r * width, width, 0.0f);
  const auto x = random(chunks * rows * width), w = random(members * width * width), b = random(members * width);
  const auto member_chunks = k::chunks_of_members(all, members);
  // Dense and LayerNorm: outputs, input gradients, then parameter gradients.
  auto dense = [&](const k::Chunks& layout) {
    std::vector<float> y(x.size()), dx(x.size()), dw(w.size()), db(b.size());
    k::dense_forward(layout, x.data(), width, w.data(), b.data(), width, y.data(), 0, chunks);
    k::dense_backward_input(layout, g.data(), w.data(), width, width, dx.data(), 0, chunks);
    k::dense_backward_parameters(member_chunks, layout, x.data(), width, g.data(), width, dw.data(), db.data(), 0,
                                 members);
    return std::vector<std::vector<float>>{y, dx, dw, db};
  };
  auto norm = [&](const k::Chunks& layout) {
    std::vector<float> y(x.size()), xhat(x.size()), rstd(static_cast<std::size_t>(chunks * rows)), dx(x.size()),
        dw(b.size()), db(b.size());
    k::layer_norm_forward(layout, x.data(), width, b.data(), b.data(), 1e-5, y.data(), xhat.data(), rstd.data(), 0,
                          chunks);
    k::layer_norm_backward_input(layout, g.data(), xhat.data(), rstd.data(), width, b.data(), dx.data(), 0, chunks);
    k::layer_norm_backward_parameters(member_chunks, layout, g.data(), xhat.data(), width, dw.data(), db.data(), 0,
                                      members);
    return std::vector<std::vector<float>>{y, dx, dw, db};
  };
  for (const auto& run : {std::function<std::vector<std::vector<float>>(const k::Chunks&)>(dense),
                          std::function<std::vector<std::vector<float>>(const k::Chunks&)>(norm)}) {
    const auto expected = run(all), got = run(skipping);
    for (int part = 0; part < 2; ++part)  // per row
      for (long r = 0; r < chunks * rows; ++r)
        for (long j = 0; j < width; ++j) {
          const float e = expected[part][static_cast<std::size_t>(r * width + j)];
          const float v = got[part][static_cast<std::size_t>(r * width + j)];
          if (padding(r))
            EXPECT_EQ(v, 0.0f) << "part " << part << " row " << r;
          else
            EXPECT_EQ(std::memcmp(&v, &e, sizeof(float)), 0) << "part " << part << " row " << r;
        }
    for (int part = 2; part < 4; ++part)
      EXPECT_EQ(std::memcmp(got[part].data(), expected[part].data(), got[part].size() * sizeof(float)), 0)
          << "part " << part;
  }
  // Attention over the same chunks (12 contexts of 3 tokens, h = 5): the same rule per context.
  const long h = 5, n = chunks * contexts, tokens = per_context;
  const auto q = random(n * tokens * h), keys = random(n * tokens * h), values = random(n * tokens * h),
             dout = random(n * tokens * h);
  auto attention = [&](const std::int64_t* real) {
    const k::Attention shape{tokens, tokens, h, 0.5f, true, real, contexts};
    std::vector<float> out(q.size()), p(static_cast<std::size_t>(n * tokens * tokens)), dq(q.size()), dk(q.size()),
        dv(q.size());
    k::attention_forward(shape, q.data(), keys.data(), values.data(), out.data(), p.data(), 0, n);
    k::attention_backward(shape, q.data(), keys.data(), values.data(), p.data(), dout.data(), dq.data(), dk.data(),
                          dv.data(), 0, n);
    return std::vector<std::vector<float>>{out, dq, dk, dv};
  };
  const auto expected = attention(nullptr), got = attention(valid.data());
  for (int part = 0; part < 4; ++part)
    for (long c = 0; c < n; ++c) {
      const bool pad = c % contexts >= valid[static_cast<std::size_t>(c / contexts)];
      for (long i = c * tokens * h; i < (c + 1) * tokens * h; ++i) {
        const float e = expected[part][static_cast<std::size_t>(i)], v = got[part][static_cast<std::size_t>(i)];
        if (pad)
          EXPECT_EQ(v, 0.0f) << "attention part " << part << " context " << c;
        else
          EXPECT_EQ(std::memcmp(&v, &e, sizeof(float)), 0) << "attention part " << part << " context " << c;
      }
    }
}

}  // namespace
