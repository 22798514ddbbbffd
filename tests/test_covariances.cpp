// Task covariance specifications (spec: task-alignment §1.1): families, normalisation, files, random
// covariances and rotations, validation messages, and task draws t ~ N(0, C).
#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "iclab/covariances/covariance_spec.hpp"
#include "iclab/covariances/matrix_file.hpp"
#include "iclab/covariances/random_matrices.hpp"
#include "iclab/covariances/task_draws.hpp"
#include "iclab/params/model_params.hpp"
#include "iclab/sampling/task_pool.hpp"

namespace iclab {
namespace {

Vector diag_of(const std::string& spec, long d) { return parse_covariance(spec, d, "--ctest").matrix().diagonal(); }

void expect_vector_near(const Vector& actual, const Vector& expected, double tol) {
  ASSERT_EQ(actual.size(), expected.size());
  for (long i = 0; i < actual.size(); ++i) EXPECT_NEAR(actual(i), expected(i), tol) << "entry " << i;
}

// Throws InvalidArgument whose message starts with the option and contains `fragment`.
void expect_invalid(const std::string& spec, long d, const std::string& fragment) {
  try {
    (void)parse_covariance_list(spec, d, "--ctrain");
    ADD_FAILURE() << "'" << spec << "' was accepted";
  } catch (const InvalidArgument& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.rfind("--ctrain: ", 0), 0u) << message;
    EXPECT_NE(message.find(fragment), std::string::npos) << "'" << message << "' lacks '" << fragment << "'";
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  }
}

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("iclab_test_covariances_" + std::to_string(reinterpret_cast<std::uintptr_t>(this)) + "_" +
             std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

void write_text(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// A minimal NPY writer (the format NumPy's np.save produces), for the reader tests.
void write_npy(const std::string& path, const std::vector<double>& data, const std::string& shape, bool fortran,
               int version = 1, const std::string& dtype = "<f8") {
  std::string header = "{'descr': '" + dtype + "', 'fortran_order': " + (fortran ? "True" : "False") +
                       ", 'shape': " + shape + ", }";
  const std::size_t prefix = version == 1 ? 10 : 12;
  while ((prefix + header.size() + 1) % 64 != 0) header += ' ';
  header += '\n';
  std::ofstream out(path, std::ios::binary);
  out.write("\x93NUMPY", 6);
  out.put(static_cast<char>(version));
  out.put(0);
  const auto length = static_cast<std::uint32_t>(header.size());
  const int length_bytes = version == 1 ? 2 : 4;
  for (int i = 0; i < length_bytes; ++i) out.put(static_cast<char>((length >> (8 * i)) & 0xff));
  out.write(header.data(), static_cast<std::streamsize>(header.size()));
  for (double v : data) {
    std::uint64_t bits = 0;
    std::memcpy(&bits, &v, 8);
    for (int i = 0; i < 8; ++i) out.put(static_cast<char>((bits >> (8 * i)) & 0xff));
  }
}

// ------------------------------------------------------------------------------------------- families
TEST(CovarianceFamilies, DiagonalFamiliesMatchTheirDefinitionsWithTraceD) {
  const long d = 5;
  Vector power(d), expo(d);
  for (long j = 1; j <= d; ++j) {
    power(j - 1) = std::pow(static_cast<double>(j), -0.9);
    expo(j - 1) = std::exp(-0.3 * static_cast<double>(j));
  }
  power *= 5.0 / power.sum();
  expo *= 5.0 / expo.sum();
  expect_vector_near(diag_of("iso", d), Vector::Ones(d), 1e-15);
  expect_vector_near(diag_of("power:0.9", d), power, 1e-14);
  expect_vector_near(diag_of("revpower:0.9", d), power.reverse(), 1e-14);
  expect_vector_near(diag_of("exp:0.3", d), expo, 1e-14);
  // Fig 1's piano: lambda_j = 2(d - j + 1)/(d + 1).
  expect_vector_near(diag_of("linear", d), (Vector(5) << 10, 8, 6, 4, 2).finished() / 6.0, 1e-14);
  expect_vector_near(diag_of("lowrank:2", 4), (Vector(4) << 2, 2, 0, 0).finished(), 1e-15);
  expect_vector_near(diag_of("spike:3", d), (Vector(5) << 0, 0, 0, 5, 0).finished(), 1e-15);
  expect_vector_near(diag_of("spike:1:0.5", d), (Vector(5) << 0.5, 3, 0.5, 0.5, 0.5).finished(), 1e-15);
  for (const char* spec : {"iso", "power:0.9", "revpower:2", "linear", "lowrank:3", "spike:0", "exp:1.4"}) {
    const TaskCovariance c = parse_covariance(spec, d, "--ctest");
    EXPECT_TRUE(c.is_diagonal()) << spec;
    EXPECT_EQ(c.eigenvectors().size(), 0) << spec;
    EXPECT_EQ(c.spec(), spec);
    EXPECT_NEAR(c.normalised_trace(), 1.0, 1e-14) << spec;
    expect_vector_near(c.eigenvalues(), c.matrix().diagonal(), 0.0);
  }
}

TEST(CovarianceFamilies, LowRankFractionIsTruncatedLikeTheAuthors) {
  // Fig 6's "half manifold": r = int(0.5 d) = 40 at d = 80, eigenvalue d/r = 2.
  const Vector half = diag_of("lowrank:0.5", 80);
  EXPECT_EQ((half.array() > 0.0).count(), 40);
  EXPECT_DOUBLE_EQ(half(0), 2.0);
  EXPECT_EQ((diag_of("lowrank:0.6", 120).array() > 0.0).count(), 72);
  EXPECT_EQ((diag_of("lowrank:1", 10).array() > 0.0).count(), 1);
  EXPECT_EQ((diag_of("lowrank:10", 10).array() > 0.0).count(), 10);
}

TEST(CovarianceFamilies, RawKeepsTheUnnormalisedDefinition) {
  expect_vector_near(diag_of("raw:power:1", 4), (Vector(4) << 1, 0.5, 1.0 / 3, 0.25).finished(), 1e-15);
  expect_vector_near(diag_of("raw:linear", 3), (Vector(3) << 3, 2, 1).finished(), 0.0);
  expect_vector_near(diag_of("raw:exp:1", 2), (Vector(2) << std::exp(-1.0), std::exp(-2.0)).finished(), 1e-16);
}

TEST(CovarianceFamilies, SteepLawsStayFiniteWithTraceD) {
  for (const char* spec : {"power:500", "revpower:500", "power:-300", "exp:900", "exp:-900"}) {
    const TaskCovariance c = parse_covariance(spec, 1000, "--ctest");
    EXPECT_TRUE(c.matrix().allFinite()) << spec;
    EXPECT_NEAR(c.normalised_trace(), 1.0, 1e-12) << spec;
  }
  EXPECT_NEAR(diag_of("power:500", 1000)(0), 1000.0, 1e-9);
}

TEST(CovarianceFamilies, PowerLawSpectrumMatchesTheParsedFamily) {
  expect_vector_near(power_law_spectrum(50, 1.3), diag_of("power:1.3", 50), 1e-13);
  expect_vector_near(power_law_spectrum(50, -0.4), diag_of("power:-0.4", 50), 1e-13);
}

TEST(CovarianceFamilies, ListsSplitOnSemicolons) {
  const auto list = parse_covariance_list(" iso ; power:1;spike:2:0.1 ", 6, "--ctest");
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].spec(), "iso");
  EXPECT_EQ(list[1].spec(), "power:1");
  EXPECT_EQ(list[2].spec(), "spike:2:0.1");
}

// ------------------------------------------------------------------------------ random and rotated
TEST(RandomCovariances, WishartIsReproducibleSymmetricAndDecomposed) {
  const long d = 30;
  const TaskCovariance a = parse_covariance("wishart:7", d, "--ctest");
  const TaskCovariance b = parse_covariance("wishart:7", d, "--ctest");
  const TaskCovariance c = parse_covariance("wishart:8", d, "--ctest");
  EXPECT_FALSE(a.is_diagonal());
  EXPECT_EQ(a.matrix(), b.matrix());
  EXPECT_GT((a.matrix() - c.matrix()).norm(), 1.0);
  EXPECT_EQ(a.matrix(), a.matrix().transpose());
  EXPECT_NEAR(a.normalised_trace(), 1.0, 1e-13);
  EXPECT_GT(a.eigenvalues().minCoeff(), 0.0);  // full rank almost surely
  const Matrix rebuilt = a.eigenvectors() * a.eigenvalues().asDiagonal() * a.eigenvectors().transpose();
  EXPECT_LT((rebuilt - a.matrix()).cwiseAbs().maxCoeff(), 1e-12);
  // raw: G G^T with E[G G^T] = d I.
  const TaskCovariance raw = parse_covariance("raw:wishart:7", d, "--ctest");
  EXPECT_NEAR(raw.normalised_trace(), static_cast<double>(d), 0.15 * d);
  EXPECT_LT((raw.matrix() / raw.normalised_trace() - a.matrix()).norm(), 1e-12);
}

TEST(RandomCovariances, HaarRotationIsOrthogonalWithPositiveRDiagonal) {
  const long d = 25;
  const Matrix q = haar_orthogonal(d, 3);
  EXPECT_LT((q.transpose() * q - Matrix::Identity(d, d)).cwiseAbs().maxCoeff(), 1e-13);
  // Sign correction: Q^T G = R must have a positive diagonal.
  const Matrix r = q.transpose() * gaussian_matrix(d, 3, "rot");
  EXPECT_GT(r.diagonal().minCoeff(), 0.0);
  EXPECT_LT(r.triangularView<Eigen::StrictlyLower>().toDenseMatrix().cwiseAbs().maxCoeff(), 1e-12);
}

TEST(RandomCovariances, HaarRotationHasUniformDiagonalOnAverage) {
  // For Haar Q, E[Q_ij^2] = 1/d for every entry; over 400 draws at d = 4 the mean of Q_00^2 is 0.25 +- 0.01.
  double sum = 0.0;
  for (std::uint64_t seed = 0; seed < 400; ++seed) sum += std::pow(haar_orthogonal(4, seed)(0, 0), 2);
  EXPECT_NEAR(sum / 400.0, 0.25, 0.04);
}

TEST(RandomCovariances, RotationKeepsTheSpectrumAndKnowsItsEigenvectors) {
  const long d = 20;
  const TaskCovariance base = parse_covariance("power:1.2", d, "--ctest");
  const TaskCovariance rotated = parse_covariance("rot:11:power:1.2", d, "--ctest");
  EXPECT_FALSE(rotated.is_diagonal());
  EXPECT_NEAR(rotated.normalised_trace(), 1.0, 1e-13);
  expect_vector_near(rotated.eigenvalues(), base.eigenvalues(), 1e-15);
  const Matrix& u = rotated.eigenvectors();
  EXPECT_LT((u.transpose() * u - Matrix::Identity(d, d)).cwiseAbs().maxCoeff(), 1e-13);
  EXPECT_LT((u * base.eigenvalues().asDiagonal() * u.transpose() - rotated.matrix()).cwiseAbs().maxCoeff(), 1e-13);
  EXPECT_EQ(rotated.matrix(), rotated.matrix().transpose());
  // Rotating a non-diagonal covariance composes the eigenvectors.
  const TaskCovariance twice = parse_covariance("rot:2:wishart:5", d, "--ctest");
  const Matrix& v = twice.eigenvectors();
  EXPECT_LT((v * twice.eigenvalues().asDiagonal() * v.transpose() - twice.matrix()).cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_NEAR(twice.eigenvalues().sum(), static_cast<double>(d), 1e-11);
}

// ------------------------------------------------------------------------------------------- files
TEST(CovarianceFiles, NpyMatrixInCAndFortranOrderAndVectors) {
  const TempDir dir;
  // The symmetric [[2, 1], [1, 3]] written in both orders, and an asymmetric one to see the order.
  write_npy(dir.file("c.npy"), {2, 1, 1, 3}, "(2, 2)", false);
  write_npy(dir.file("f.npy"), {2, 1, 1, 3}, "(2, 2)", true, 2);
  for (const char* name : {"c.npy", "f.npy"}) {
    const TaskCovariance c = parse_covariance(std::string("raw:file:") + dir.file(name), 2, "--ctrain");
    EXPECT_EQ(c.matrix(), (Matrix(2, 2) << 2, 1, 1, 3).finished()) << name;
    EXPECT_FALSE(c.is_diagonal());
    const TaskCovariance n = parse_covariance(std::string("file:") + dir.file(name), 2, "--ctrain");
    EXPECT_NEAR(n.matrix()(1, 1), 1.2, 1e-15);  // scaled by d/tr = 2/5
  }
  write_npy(dir.file("asym_c.npy"), {1, 2, 3, 4}, "(2, 2)", false);
  write_npy(dir.file("asym_f.npy"), {1, 2, 3, 4}, "(2, 2)", true);
  const Matrix c_order = read_matrix_file(dir.file("asym_c.npy"), "--ctrain");
  const Matrix f_order = read_matrix_file(dir.file("asym_f.npy"), "--ctrain");
  EXPECT_EQ(c_order, (Matrix(2, 2) << 1, 2, 3, 4).finished());
  EXPECT_EQ(f_order, (Matrix(2, 2) << 1, 3, 2, 4).finished());
  write_npy(dir.file("v.npy"), {4, 0, 2}, "(3,)", false);
  const TaskCovariance v = parse_covariance("raw:file:" + dir.file("v.npy"), 3, "--ctrain");
  EXPECT_TRUE(v.is_diagonal());
  expect_vector_near(v.eigenvalues(), (Vector(3) << 4, 0, 2).finished(), 0.0);
}

TEST(CovarianceFiles, CsvMatrixRowAndColumn) {
  const TempDir dir;
  write_text(dir.file("m.csv"), "# a comment\n2, 0.5\n\n0.5,+1e0\n");
  write_text(dir.file("row.csv"), "1,2,3\n");
  write_text(dir.file("col.csv"), "1\n2\n3\n");
  const TaskCovariance m = parse_covariance("raw:file:" + dir.file("m.csv"), 2, "--ctrain");
  EXPECT_EQ(m.matrix(), (Matrix(2, 2) << 2, 0.5, 0.5, 1).finished());
  for (const char* name : {"row.csv", "col.csv"}) {
    const TaskCovariance v = parse_covariance(std::string("file:") + dir.file(name), 3, "--ctrain");
    EXPECT_TRUE(v.is_diagonal());
    expect_vector_near(v.eigenvalues(), (Vector(3) << 0.5, 1, 1.5).finished(), 1e-15);
  }
  // A diagonal matrix in a file is recognised as diagonal (no decomposition).
  write_text(dir.file("diag.csv"), "1,0\n0,3\n");
  EXPECT_TRUE(parse_covariance("file:" + dir.file("diag.csv"), 2, "--ctrain").is_diagonal());
}

// Issue 14: a file of 1e308 I overflowed its trace to inf and became the zero matrix; 1e-310 I
// underflowed it to 0 and was refused. Both scale to trace d (the identity here), exactly.
TEST(CovarianceFiles, EntriesAtTheEndsOfTheDoubleRangeScaleToTraceD) {
  const TempDir dir;
  write_text(dir.file("big.csv"), "1e308,0,0\n0,1e308,0\n0,0,1e308\n");
  write_text(dir.file("tiny.csv"), "1e-310,1e-310,1e-310\n");
  write_text(dir.file("dense.csv"), "1e308,5e307\n5e307,1e308\n");
  EXPECT_EQ(parse_covariance("file:" + dir.file("big.csv"), 3, "--ctrain").matrix(), Matrix::Identity(3, 3));
  EXPECT_EQ(parse_covariance("file:" + dir.file("tiny.csv"), 3, "--ctrain").matrix(), Matrix::Identity(3, 3));
  EXPECT_EQ(parse_covariance("file:" + dir.file("dense.csv"), 2, "--ctrain").matrix(),
            (Matrix(2, 2) << 1, 0.5, 0.5, 1).finished());
}

TEST(CovarianceFiles, BadFilesAreRejectedWithTheirProblem) {
  const TempDir dir;
  write_text(dir.file("asym.csv"), "1,0.5\n0.2,1\n");
  write_text(dir.file("notpsd.csv"), "1,2\n2,1\n");
  write_text(dir.file("ragged.csv"), "1,2\n3\n");
  write_text(dir.file("word.csv"), "1,x\n1,2\n");
  write_text(dir.file("zero.csv"), "0,0\n0,0\n");
  write_text(dir.file("nan.csv"), "1,nan\nnan,1\n");
  write_text(dir.file("m.txt"), "1\n");
  write_npy(dir.file("f4.npy"), {1, 2}, "(2,)", false, 1, "<f4");
  write_npy(dir.file("3d.npy"), {1, 2}, "(1, 1, 2)", false);
  write_npy(dir.file("short.npy"), {1, 2, 3}, "(2, 2)", false);
  // Issue 14: rows * cols * 8 wrapped around 2^64 to 8 bytes, passed the size check and ended in bad_alloc.
  write_npy(dir.file("wrap.npy"), {1, 2}, "(2147483648, 1073741824)", false);  // 8 * 2^61 = 2^64 -> 0
  write_npy(dir.file("huge.npy"), {1, 2}, "(2305843009213693952,)", false);
  write_text(dir.file("bad.npy"), "not numpy at all");
  expect_invalid("file:" + dir.file("asym.csv"), 2, "not symmetric");
  expect_invalid("file:" + dir.file("notpsd.csv"), 2, "not positive semi-definite");
  expect_invalid("file:" + dir.file("ragged.csv"), 2, "line 2 has 1 values");
  expect_invalid("file:" + dir.file("word.csv"), 2, "'x' is not a number");
  expect_invalid("file:" + dir.file("zero.csv"), 2, "cannot be scaled to trace d");
  expect_invalid("file:" + dir.file("nan.csv"), 2, "non-finite");
  expect_invalid("file:" + dir.file("m.txt"), 1, "expected a .npy or .csv file");
  expect_invalid("file:" + dir.file("missing.csv"), 2, "cannot open the file");
  expect_invalid("file:" + dir.file("f4.npy"), 2, "dtype '<f4' is not supported");
  expect_invalid("file:" + dir.file("3d.npy"), 2, "1-D or 2-D");
  expect_invalid("file:" + dir.file("short.npy"), 2, "shorter than its shape");
  expect_invalid("file:" + dir.file("wrap.npy"), 2, "shorter than its shape");
  expect_invalid("file:" + dir.file("huge.npy"), 2, "shorter than its shape");
  expect_invalid("file:" + dir.file("bad.npy"), 2, "not an NPY file");
  // Wrong size for the requested d.
  expect_invalid("file:" + dir.file("notpsd.csv"), 3, "holds a 2x2 array; expected 3x3 or a vector of length 3");
}

// -------------------------------------------------------------------------------------- validation
TEST(CovarianceValidation, BadSpecificationsNameTheOptionAndTheProblem) {
  expect_invalid("gaussian", 4, "unknown covariance family 'gaussian'");
  expect_invalid("power:abc", 4, "P must be a finite number, got 'abc'");
  expect_invalid("power:", 4, "expected power:P");
  expect_invalid("power", 4, "expected power:P");
  expect_invalid("power:nan", 4, "P must be a finite number");
  expect_invalid("power:inf", 4, "P must be a finite number");
  expect_invalid("exp:1.5x", 4, "B must be a finite number");
  expect_invalid("iso:2", 4, "'iso' takes no parameter");
  expect_invalid("linear:1", 4, "'linear' takes no parameter");
  expect_invalid("spike:4", 4, "index I must be an integer in [0, 3]");
  expect_invalid("spike:-1", 4, "index I must be an integer");
  expect_invalid("spike:1.5", 4, "index I must be an integer");
  expect_invalid("spike:1:2", 4, "FLOOR must be in [0, d/(d-1)]");
  expect_invalid("spike:1:-0.1", 4, "FLOOR must be in [0, d/(d-1)]");
  expect_invalid("lowrank:0", 4, "R must be an integer in [1, d]");
  expect_invalid("lowrank:5", 4, "R must be an integer in [1, d]");
  expect_invalid("lowrank:1.5", 4, "R must be an integer in [1, d]");
  expect_invalid("lowrank:0.1", 4, "gives int(R*d) = 0");
  expect_invalid("wishart:-1", 4, "SEED must be a non-negative integer");
  expect_invalid("wishart:", 4, "expected wishart:SEED");
  expect_invalid("rot:1", 4, "expected rot:SEED:SPEC");
  expect_invalid("rot:x:iso", 4, "SEED must be a non-negative integer");
  expect_invalid("rot:1:power:q", 4, "P must be a finite number");
  expect_invalid("raw:", 4, "unknown covariance family ''");
  expect_invalid("file:", 4, "expected file:PATH");
  expect_invalid("iso;;power:1", 4, "empty covariance specification");
  expect_invalid("", 4, "empty covariance specification");
}

TEST(CovarianceValidation, DeepNestingIsRefusedInsteadOfExhaustingTheStack) {
  std::string raw_chain;
  std::string rot_chain;
  for (int i = 0; i < 32; ++i) raw_chain += "raw:";
  for (int i = 0; i < 32; ++i) rot_chain += "rot:1:";
  EXPECT_NO_THROW((void)parse_covariance(raw_chain + "iso", 3, "--ctrain"));
  EXPECT_NO_THROW((void)parse_covariance(rot_chain + "iso", 3, "--ctrain"));
  expect_invalid("raw:" + raw_chain + "iso", 3, "at most 32 raw:/rot: prefixes");
  expect_invalid("rot:1:" + rot_chain + "iso", 3, "at most 32 raw:/rot: prefixes");
  // The inputs: these crashed with SIGSEGV.
  raw_chain.clear();
  rot_chain.clear();
  for (int i = 0; i < 10000; ++i) raw_chain += "raw:";
  for (int i = 0; i < 20000; ++i) rot_chain += "rot:1:";
  expect_invalid(raw_chain + "iso", 3, "nested too deeply");
  expect_invalid(rot_chain + "iso", 3, "nested too deeply");
}

TEST(CovarianceValidation, MatricesAreCheckedForShapeSymmetryAndDefiniteness) {
  EXPECT_THROW((void)TaskCovariance::from_matrix(Matrix::Ones(2, 3), "m", "--ctest"), InvalidArgument);
  EXPECT_THROW((void)TaskCovariance::from_matrix((Matrix(2, 2) << 1, 0.5, 0.4, 1).finished(), "m", "--ctest"),
               InvalidArgument);
  EXPECT_THROW((void)TaskCovariance::from_matrix((Matrix(2, 2) << 1, 0, 0, -1).finished(), "m", "--ctest"),
               InvalidArgument);
  EXPECT_THROW((void)TaskCovariance::from_matrix((Matrix(2, 2) << 1, 3, 3, 1).finished(), "m", "--ctest"),
               InvalidArgument);
  // Rounding-level asymmetry and negative eigenvalues of a singular matrix are accepted (and cleaned).
  Matrix almost = (Matrix(2, 2) << 1, 1, 1 + 1e-14, 1).finished();
  const TaskCovariance c = TaskCovariance::from_matrix(almost, "m", "--ctest");
  EXPECT_EQ(c.matrix(), c.matrix().transpose());
  EXPECT_GE(c.eigenvalues().minCoeff(), 0.0);
  EXPECT_NEAR(c.eigenvalues().maxCoeff(), 2.0, 1e-13);
}

// --------------------------------------------------------------------------------------- task draws
TEST(TaskDraws, FactorReproducesTheCovariance) {
  for (const char* spec : {"power:0.8", "lowrank:0.3", "wishart:1", "rot:4:lowrank:3", "spike:2"}) {
    const TaskCovariance c = parse_covariance(spec, 12, "--ctest");
    const Matrix l = covariance_factor(c);
    EXPECT_LT((l * l.transpose() - c.matrix()).cwiseAbs().maxCoeff(), 1e-12) << spec;
  }
}

TEST(TaskDraws, IsotropicDrawsAreTheGaussianTaskPool) {
  const StreamAddress address{5, 17, 2, 0};
  const Matrix tasks = draw_tasks(parse_covariance("iso", 9, "--ctest"), 13, address);
  EXPECT_EQ(tasks, TaskPool::draw(13, 9, TaskNorm::gaussian, address).tasks());
}

TEST(TaskDraws, SampleCovarianceApproachesC) {
  const long d = 6;
  const long k = 40000;
  for (const char* spec : {"wishart:2", "power:1"}) {
    const TaskCovariance c = parse_covariance(spec, d, "--ctest");
    const Matrix t = draw_tasks(c, k, StreamAddress{1, 2, 3, 0});
    const Matrix sample = t.transpose() * t / static_cast<double>(k);
    // Entrywise standard error <= sqrt(2/k) max(C) ~ 0.007 * 3; allow 5 of them.
    EXPECT_LT((sample - c.matrix()).cwiseAbs().maxCoeff(), 5.0 * std::sqrt(2.0 / k) * c.matrix().maxCoeff()) << spec;
  }
}

TEST(TaskDraws, GaussianMomentsOfTheTestLaw) {
  const long d = 8;
  const TaskCovariance c = parse_covariance("power:1", d, "--ctest");
  const TaskMoments m = gaussian_task_moments(c, 0.1);
  EXPECT_DOUBLE_EQ(m.mean_q, 1.1);
  EXPECT_NEAR(m.mean_q2, 1.21 + 2.0 * c.eigenvalues().squaredNorm() / 64.0, 1e-14);
  EXPECT_EQ(m.second_moment, c.matrix());
  EXPECT_EQ(m.mean, Vector::Zero(d));
}

}  // namespace
}  // namespace iclab
