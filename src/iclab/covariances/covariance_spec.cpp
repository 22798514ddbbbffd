#include "iclab/covariances/covariance_spec.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <string_view>

#include "iclab/covariances/matrix_file.hpp"
#include "iclab/covariances/random_matrices.hpp"
#include "iclab/error.hpp"
#include "iclab/model/ridge_solver.hpp"
#include "iclab/params/number.hpp"

namespace iclab {
namespace {

// Tolerances of the validation: a matrix read from text or built by a BLAS product is symmetric only
// up to rounding, and a singular PSD matrix has eigenvalues of either sign at rounding level.
constexpr double kSymmetryTolerance = 1e-8;
constexpr double kPsdTolerance = 1e-10;
// raw:/rot: prefixes recurse; a bound keeps a hostile specification from exhausting the stack.
constexpr int kMaxNesting = 32;

std::string format_number(double x) {
  std::ostringstream out;
  out.precision(3);
  out << x;
  return out.str();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// Splits "name:rest" at the first ':' (rest empty and has_argument false when there is none).
struct Head {
  std::string_view name;
  std::string_view argument;
  bool has_argument = false;
};
Head split_head(std::string_view text) {
  const std::size_t colon = text.find(':');
  if (colon == std::string_view::npos) return {text, {}, false};
  return {text.substr(0, colon), text.substr(colon + 1), true};
}

// Parses one specification; all messages name the option and the complete text.
class SpecParser {
 public:
  SpecParser(long d, const std::string& option, const std::string& text) : d_(d), option_(option), text_(text) {}

  TaskCovariance parse(std::string_view spec, bool normalise, int depth = 0) const {
    const Head head = split_head(spec);
    if ((head.name == "raw" || head.name == "rot") && depth >= kMaxNesting)
      throw InvalidArgument(option_ + ": covariance specification nested too deeply (at most " +
                            std::to_string(kMaxNesting) + " raw:/rot: prefixes are allowed)");
    if (head.name == "raw") {
      if (!head.has_argument) fail("'raw:' must be followed by a covariance specification");
      return parse(head.argument, false, depth + 1);
    }
    if (head.name == "rot") return rotated(head.argument, normalise, depth + 1);
    if (head.name == "wishart") {
      require_argument(head, "wishart:SEED");
      Matrix m = wishart_matrix(d_, seed(head.argument, "SEED"));
      if (normalise) m *= static_cast<double>(d_) / m.trace();
      return TaskCovariance::from_matrix(std::move(m), text_, option_);
    }
    if (head.name == "file") {
      require_argument(head, "file:PATH");
      return from_file(std::string(head.argument), normalise);
    }
    return TaskCovariance::from_diagonal(diagonal_family(head, normalise), text_, option_);
  }

 private:
  [[noreturn]] void fail(const std::string& problem) const {
    throw InvalidArgument(option_ + ": '" + text_ + "': " + problem);
  }

  void require_argument(const Head& head, const char* usage) const {
    if (!head.has_argument || head.argument.empty()) fail(std::string("expected ") + usage);
  }
  void require_no_argument(const Head& head) const {
    if (head.has_argument) fail("'" + std::string(head.name) + "' takes no parameter");
  }

  double number(std::string_view s, const char* what) const {
    const auto value = to_finite_number(s);
    if (!value) fail(std::string(what) + " must be a finite number, got '" + std::string(s) + "'");
    return *value;
  }

  std::uint64_t seed(std::string_view s, const char* what) const {
    const auto value = to_integer<std::uint64_t>(s);
    if (!value) fail(std::string(what) + " must be a non-negative integer, got '" + std::string(s) + "'");
    return *value;
  }

  long index(std::string_view s) const {
    const auto value = to_integer<long>(s);
    if (!value || *value < 0 || *value >= d_)
      fail("index I must be an integer in [0, " + std::to_string(d_ - 1) + "] (0-based, d=" + std::to_string(d_) +
           "), got '" + std::string(s) + "'");
    return *value;
  }

  // r of lowrank:R: an integer count, or a fraction f in (0, 1) meaning int(f d) as in the authors' code.
  long rank(std::string_view s) const {
    const double value = number(s, "R");
    long r = 0;
    if (value > 0.0 && value < 1.0) {
      r = static_cast<long>(value * static_cast<double>(d_));
    } else if (value == std::floor(value) && value >= 1.0 && value <= static_cast<double>(d_)) {
      r = static_cast<long>(value);
    } else {
      fail("R must be an integer in [1, d] or a fraction in (0, 1) (d=" + std::to_string(d_) + "), got '" +
           std::string(s) + "'");
    }
    if (r < 1) fail("R = " + std::string(s) + " gives int(R*d) = 0 for d=" + std::to_string(d_));
    return r;
  }

  // lambda_j proportional to exp(-slope * g(j)), j = 1..d. Normalised families are computed relative to
  // their largest entry, so steep laws (power:50, exp:20) neither underflow to a zero trace nor overflow.
  Vector log_family(const Vector& log_values, bool normalise) const {
    if (!normalise) return log_values.array().exp();
    return (log_values.array() - log_values.maxCoeff()).exp();
  }

  Vector diagonal_family(const Head& head, bool normalise) const {
    const auto d = static_cast<double>(d_);
    const Vector j = Vector::LinSpaced(d_, 1.0, d);  // 1..d
    Vector v;
    if (head.name == "iso") {
      require_no_argument(head);
      v = Vector::Ones(d_);
    } else if (head.name == "power" || head.name == "revpower") {
      require_argument(head, head.name == "power" ? "power:P" : "revpower:P");
      const double p = number(head.argument, "P");
      v = log_family(-p * j.array().log(), normalise);
      if (head.name == "revpower") v.reverseInPlace();
    } else if (head.name == "linear") {
      require_no_argument(head);
      v = j.reverse();
    } else if (head.name == "exp") {
      require_argument(head, "exp:B");
      const double b = number(head.argument, "B");
      v = log_family(-b * j.array(), normalise);
    } else if (head.name == "lowrank") {
      require_argument(head, "lowrank:R");
      const long r = rank(head.argument);
      v = Vector::Zero(d_);
      v.head(r).setConstant(d / static_cast<double>(r));
    } else if (head.name == "spike") {
      require_argument(head, "spike:I or spike:I:FLOOR");
      const Head parts = split_head(head.argument);
      const long i = index(parts.name);
      double floor = 0.0;
      if (parts.has_argument) {
        floor = number(parts.argument, "FLOOR");
        if (floor < 0.0 || floor > d / (d - 1.0))
          fail("FLOOR must be in [0, d/(d-1)] so that every diagonal entry is >= 0 (d=" + std::to_string(d_) +
               "), got '" + std::string(parts.argument) + "'");
      }
      v = Vector::Constant(d_, floor);
      v(i) = d - floor * (d - 1.0);
    } else {
      fail("unknown covariance family '" + std::string(head.name) +
           "' (expected iso, power:P, revpower:P, linear, lowrank:R, spike:I[:FLOOR], exp:B, wishart:SEED, "
           "file:PATH, rot:SEED:SPEC, raw:SPEC)");
    }
    if (normalise) v *= d / v.sum();
    return v;
  }

  TaskCovariance from_file(const std::string& path, bool normalise) const {
    Matrix m = read_matrix_file(path, option_);
    const bool is_vector = m.cols() == 1 || m.rows() == 1;
    if (is_vector && m.size() == d_) {
      Vector v = Eigen::Map<const Vector>(m.data(), d_);
      if (!v.allFinite()) fail("the file has a non-finite entry");
      if (normalise) normalise_trace(v.sum(), v);
      return TaskCovariance::from_diagonal(v, text_, option_);
    }
    if (m.rows() != d_ || m.cols() != d_)
      fail("the file holds a " + std::to_string(m.rows()) + "x" + std::to_string(m.cols()) + " array; expected " +
           std::to_string(d_) + "x" + std::to_string(d_) + " or a vector of length " + std::to_string(d_));
    if (!m.allFinite()) fail("the file has a non-finite entry");
    if (normalise) normalise_trace(m.trace(), m);
    return TaskCovariance::from_matrix(std::move(m), text_, option_);
  }

  template <class Dense>
  void normalise_trace(double trace, Dense& m) const {
    // Entries near the ends of the double range (1e308 I, 1e-310 I) overflow or underflow the trace: divide
    // by the largest entry first (only then, so that ordinary files scale bit-identically as before).
    if (!(std::isfinite(trace) && std::fabs(trace) >= 1e-300)) {
      const double largest = m.cwiseAbs().maxCoeff();
      if (largest > 0.0 && std::isfinite(largest)) {
        m /= largest;
        trace = m.rows() == m.cols() ? m.trace() : m.sum();
      }
    }
    if (!(trace > 0.0))
      fail("the trace is " + format_number(trace) + ", so it cannot be scaled to trace d (use raw:file:...)");
    m *= static_cast<double>(d_) / trace;
  }

  // Q C Q^T keeps the spectrum of C and rotates its eigenvectors, so no new decomposition is needed.
  TaskCovariance rotated(std::string_view argument, bool normalise, int depth) const {
    const Head parts = split_head(argument);
    if (!parts.has_argument || parts.argument.empty()) fail("expected rot:SEED:SPEC");
    const std::uint64_t rotation_seed = seed(parts.name, "SEED");
    const TaskCovariance inner = parse(parts.argument, normalise, depth);  // checked before any rotation is drawn
    const Matrix q = haar_orthogonal(d_, rotation_seed);
    Matrix u = inner.is_diagonal() ? q : Matrix(q * inner.eigenvectors());
    Vector eigenvalues = inner.eigenvalues();
    return TaskCovariance::from_eigendecomposition(std::move(eigenvalues), std::move(u), text_);
  }

  long d_;
  const std::string& option_;
  const std::string& text_;
};

}  // namespace

TaskCovariance::TaskCovariance(std::string spec, Matrix matrix, Vector eigenvalues, Matrix eigenvectors,
                               bool diagonal)
    : spec_(std::move(spec)),
      matrix_(std::move(matrix)),
      eigenvalues_(std::move(eigenvalues)),
      eigenvectors_(std::move(eigenvectors)),
      diagonal_(diagonal) {}

double TaskCovariance::normalised_trace() const { return matrix_.trace() / static_cast<double>(dim()); }

TaskCovariance TaskCovariance::from_diagonal(const Vector& diagonal, std::string spec, const std::string& option) {
  const auto fail = [&](const std::string& problem) { throw InvalidArgument(option + ": '" + spec + "': " + problem); };
  if (diagonal.size() < 1) fail("empty covariance");
  if (!diagonal.allFinite()) fail("the covariance has a non-finite entry");
  const double scale = diagonal.cwiseAbs().maxCoeff();
  if (diagonal.minCoeff() < -kPsdTolerance * scale)
    fail("not positive semi-definite (smallest eigenvalue " + format_number(diagonal.minCoeff()) + ")");
  Vector eigenvalues = diagonal.cwiseMax(0.0);
  Matrix matrix = eigenvalues.asDiagonal();
  return TaskCovariance(std::move(spec), std::move(matrix), std::move(eigenvalues), Matrix(), true);
}

TaskCovariance TaskCovariance::from_matrix(Matrix matrix, std::string spec, const std::string& option) {
  const auto fail = [&](const std::string& problem) { throw InvalidArgument(option + ": '" + spec + "': " + problem); };
  if (matrix.rows() != matrix.cols())
    fail("the covariance must be square, got " + std::to_string(matrix.rows()) + "x" + std::to_string(matrix.cols()));
  if (matrix.size() == 0) fail("empty covariance");
  if (!matrix.allFinite()) fail("the covariance has a non-finite entry");
  const double scale = matrix.cwiseAbs().maxCoeff();
  const double asymmetry = (matrix - matrix.transpose()).cwiseAbs().maxCoeff();
  if (asymmetry > kSymmetryTolerance * scale)
    fail("not symmetric (max |C_ij - C_ji| = " + format_number(asymmetry) + ", max |C_ij| = " +
         format_number(scale) + ")");
  Matrix off_diagonal = matrix;
  off_diagonal.diagonal().setZero();
  if (off_diagonal.isZero(0.0)) return from_diagonal(matrix.diagonal(), std::move(spec), option);

  matrix = 0.5 * (matrix + matrix.transpose()).eval();
  Eigen::SelfAdjointEigenSolver<Matrix> solver(matrix);
  if (solver.info() != Eigen::Success) fail("the eigendecomposition failed");
  const Vector& eigenvalues = solver.eigenvalues();  // ascending
  const double largest = eigenvalues.cwiseAbs().maxCoeff();
  if (eigenvalues(0) < -kPsdTolerance * largest)
    fail("not positive semi-definite (smallest eigenvalue " + format_number(eigenvalues(0)) + ", largest " +
         format_number(eigenvalues(eigenvalues.size() - 1)) + ")");
  return TaskCovariance(std::move(spec), std::move(matrix), eigenvalues.cwiseMax(0.0), solver.eigenvectors(), false);
}

TaskCovariance TaskCovariance::from_eigendecomposition(Vector eigenvalues, Matrix eigenvectors, std::string spec) {
  Matrix matrix = eigenvectors * eigenvalues.asDiagonal() * eigenvectors.transpose();
  matrix = 0.5 * (matrix + matrix.transpose()).eval();  // exactly symmetric despite rounding in the product
  return TaskCovariance(std::move(spec), std::move(matrix), std::move(eigenvalues), std::move(eigenvectors), false);
}

Vector power_law_spectrum(long d, double p) {
  // Relative to the largest entry (j = 1 for p >= 0, j = d otherwise) so steep laws do not underflow.
  const Eigen::ArrayXd log_j = Vector::LinSpaced(d, 1.0, static_cast<double>(d)).array().log();
  const Eigen::ArrayXd log_v = -p * log_j;
  Vector v = (log_v - log_v.maxCoeff()).exp().matrix();
  return v * (static_cast<double>(d) / v.sum());
}

namespace {

// A TaskCovariance holds a dense d x d matrix, and building one (a decomposition, a rotation) takes about
// two more: refuse up front, naming what is needed and what is available, instead of std::bad_alloc.
void require_covariance_memory(long d, long count, const std::string& option, const std::string& spec) {
  const double needed = 3.0 * static_cast<double>(count) * 8.0 * static_cast<double>(d) * static_cast<double>(d);
  if (needed < 1073741824.0) return;  // below 1 GiB: not worth reading /proc/meminfo
  const double available = available_memory_bytes();
  const double limit = available > 0 ? available : 1e15;  // unknown: still refuse the absurd
  if (needed <= limit) return;
  std::ostringstream message;
  message << "memory: " << option << " '" << spec << "' at d = " << d << " needs about "
          << format_number(std::round(needed / 1048576.0)) << " MiB (" << format_number(needed) << " bytes for "
          << count << " dense d x d matrices), and " << format_number(std::floor(available))
          << " bytes are available; use a smaller --d";
  throw InvalidArgument(message.str());
}

}  // namespace

TaskCovariance parse_covariance(const std::string& text, long d, const std::string& option) {
  if (d < 1) throw InvalidArgument("--d: must be >= 1 to build a covariance, got " + std::to_string(d));
  const std::string spec(trim(text));
  if (spec.empty()) throw InvalidArgument(option + ": empty covariance specification");
  require_covariance_memory(d, 1, option, spec);
  return SpecParser(d, option, spec).parse(spec, true);
}

std::vector<TaskCovariance> parse_covariance_list(const std::string& text, long d, const std::string& option) {
  require_covariance_memory(d, static_cast<long>(std::count(text.begin(), text.end(), ';')) + 1, option, text);
  std::vector<TaskCovariance> result;
  std::string_view rest(text);
  while (true) {
    const std::size_t semicolon = rest.find(';');
    const std::string item(trim(rest.substr(0, semicolon)));
    if (item.empty()) throw InvalidArgument(option + ": empty covariance specification in the list '" + text + "'");
    result.push_back(parse_covariance(item, d, option));
    if (semicolon == std::string_view::npos) break;
    rest.remove_prefix(semicolon + 1);
  }
  return result;
}

}  // namespace iclab
