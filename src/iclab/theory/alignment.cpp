#include "iclab/theory/alignment.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <tuple>

#include "iclab/error.hpp"
#include "iclab/theory/rank_correlation.hpp"

namespace iclab::theory {
namespace {

constexpr double kSingularRatio = 1e-12;

// tr(H A H B) = <A, B>_F - 2 r.s + g S with r = row means of A, s = row sums of B, g = mean of A's
// entries, S = sum of B's entries (A, B symmetric): O(d^2) instead of two d x d products.
double centred_trace(const Matrix& a, const Matrix& b) {
  const auto d = static_cast<double>(a.rows());
  const Vector r = a.rowwise().sum() / d;
  const Vector s = b.rowwise().sum();
  return a.cwiseProduct(b).sum() - 2.0 * r.dot(s) + (r.sum() / d) * s.sum();
}

// The same for diagonal A = diag(a), B = diag(b): a.b (1 - 2/d) + sum(a) sum(b)/d^2.
double centred_trace(const Vector& a, const Vector& b) {
  const auto d = static_cast<double>(a.size());
  return a.dot(b) * (1.0 - 2.0 / d) + a.sum() * b.sum() / (d * d);
}

}  // namespace

double resolvent_alignment(const PretrainingTheory& theory, const Vector& test_diagonal) {
  return test_diagonal.dot(theory.resolvent.F) / static_cast<double>(test_diagonal.size());
}

TraceAlignment trace_alignment(const Vector& train_eigenvalues, const Vector& test_diagonal) {
  TraceAlignment t;
  if (train_eigenvalues.minCoeff() <= kSingularRatio * train_eigenvalues.maxCoeff()) {
    t.value = std::numeric_limits<double>::infinity();
    t.singular = true;
    return t;
  }
  t.value = (test_diagonal.array() / train_eigenvalues.array()).mean();
  return t;
}

double hsic(const TaskCovariance& a, const TaskCovariance& b) {
  if (a.dim() != b.dim()) throw InvalidArgument("--ctest: the covariances to compare have different sizes");
  const auto d = static_cast<double>(a.dim());
  const double trace = a.is_diagonal() && b.is_diagonal() ? centred_trace(a.eigenvalues(), b.eigenvalues())
                                                          : centred_trace(a.matrix(), b.matrix());
  return trace / ((d - 1.0) * (d - 1.0));
}

double inverse_cka(const TaskCovariance& a, const TaskCovariance& b) {
  // CKA is 0/0 when either centred covariance H C H vanishes (C = 0, or c 11^T): refuse rather than NaN.
  const double haa = hsic(a, a);
  const double hbb = hsic(b, b);
  for (const auto& [h, c, option] : {std::tuple{haa, &a, "--ctrain"}, std::tuple{hbb, &b, "--ctest"}})
    if (!(h > 0.0) || !std::isfinite(h))
      throw InvalidArgument(std::string(option) + ": '" + c->spec() +
                            "': 1/CKA is undefined for a covariance whose centred form H C H is zero or not finite "
                            "(C = 0 or a multiple of the all-ones matrix)");
  const double norm = std::sqrt(haa) * std::sqrt(hbb);
  const double cka = hsic(a, b) / norm;
  return cka > 0.0 ? 1.0 / cka : std::numeric_limits<double>::infinity();
}

AlignmentMeasures alignment_measures(const AlignmentTheory& alignment, const PretrainingTheory& theory,
                                     const TaskCovariance& train, const TaskCovariance& test) {
  const Vector c = alignment.project(test);
  AlignmentMeasures m;
  m.misalignment = icl_error(theory, c).e_misalign;
  m.resolvent = resolvent_alignment(theory, c);
  const TraceAlignment trace = trace_alignment(alignment.train_eigenvalues(), c);
  m.trace = trace.value;
  m.trace_singular = trace.singular;
  m.inverse_cka = inverse_cka(train, test);
  return m;
}

AlignmentSpearman alignment_spearman(const std::vector<AlignmentMeasures>& measures,
                                     const std::vector<double>& errors) {
  if (measures.size() != errors.size())
    throw InvalidArgument("alignment_spearman: one error per set of measures is needed");
  auto column = [&](const std::function<double(const AlignmentMeasures&)>& pick) {
    std::vector<double> x;
    x.reserve(measures.size());
    for (const auto& m : measures) x.push_back(pick(m));
    return spearman(x, errors);
  };
  AlignmentSpearman s;
  s.misalignment = column([](const AlignmentMeasures& m) { return m.misalignment; });
  s.resolvent = column([](const AlignmentMeasures& m) { return m.resolvent; });
  s.trace = column([](const AlignmentMeasures& m) { return m.trace; });
  s.inverse_cka = column([](const AlignmentMeasures& m) { return m.inverse_cka; });
  return s;
}

MisalignmentBounds ruhe_bounds(const Vector& k, const Vector& test_eigenvalues) {
  if (k.size() != test_eigenvalues.size()) throw InvalidArgument("ruhe_bounds: spectra of different sizes");
  std::vector<double> ks(k.data(), k.data() + k.size());
  std::vector<double> cs(test_eigenvalues.data(), test_eigenvalues.data() + test_eigenvalues.size());
  std::sort(ks.begin(), ks.end());                          // ascending
  std::sort(cs.begin(), cs.end(), std::greater<double>());  // descending
  const auto n = static_cast<double>(ks.size());
  MisalignmentBounds b;
  for (std::size_t i = 0; i < ks.size(); ++i) {
    b.lower += cs[i] * ks[i];
    b.upper += cs[i] * ks[ks.size() - 1 - i];
  }
  b.lower /= n;
  b.upper /= n;
  return b;
}

}  // namespace iclab::theory
