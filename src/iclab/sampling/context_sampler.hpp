// Samplers of pretraining/test contexts.
//  * sample_features: the exact O(d)-per-context sampler of (x_query, z, y_query). It works in a
//    frame where the task is e_1 (rotation invariance of x ~ N(0, I/d)), draws the chi-square norms
//    of the l-dimensional Gaussian vectors instead of the vectors, and reflects back (Householder).
//    Its cost does not grow with l.
//  * sample_tokens / features_from_tokens: the direct token-level construction (x_1..x_{l+1},
//    y_1..y_{l+1}); O(l d) per context; reused by the transformer module.
#pragma once

#include <stop_token>
#include <vector>

#include "iclab/linalg/dense.hpp"
#include "iclab/random/streams.hpp"
#include "iclab/sampling/link.hpp"

namespace iclab {

// The n samples (vec H = x_query (x) z, y_query) the ridge fit needs, stored by factors.
struct FeatureBatch {
  Matrix x_query;  // n x d
  Matrix z;        // n x (d+1): [h ; s] with h = (d/l) sum y_i x_i, s = (1/l) sum y_i^2
  Vector y_query;  // n
  long size() const { return static_cast<long>(y_query.size()); }
  long dim() const { return static_cast<long>(x_query.cols()); }
};

// One context at token level: rows x_1..x_{l+1} and labels y_1..y_{l+1} (y_{l+1} is the target).
struct TokenContext {
  Matrix x;  // (l+1) x d
  Vector y;  // l+1
};

// Context mu uses task tasks.row(task_of[mu]) and the context/noise streams with unit = mu
// (plus unit_offset, so that test contexts can live beside pretraining ones). `stop` is polled once per
// block of contexts; a requested stop throws Cancelled (iclab/cancel.hpp) after the sampling threads end.
FeatureBatch sample_features(const Matrix& tasks, const std::vector<long>& task_of, long ell, double rho,
                             StreamAddress address, std::uint64_t unit_offset = 0, const std::stop_token& stop = {});

// Direct construction, same law as sample_features (not the same numbers).
// y_i = link(x_i . task) + N(0, rho) (the link is linear in the papers' model).
// It is draw_context, then label_context: the two halves let several tasks share one context's draws.
TokenContext sample_tokens(const Eigen::Ref<const Vector>& task, long ell, double rho, RandomStream& covariates,
                           RandomStream& noise, Link link = Link::linear);
// The task-free draws of sample_tokens: x (d columns) and, held in y, the noise's standard normals.
TokenContext draw_context(long d, long ell, RandomStream& covariates, RandomStream& noise);
// sample_tokens's labels of those draws for `task`: y(i) = link(x_i . task) + sqrt(rho) draws.y(i).
// `y` may be draws.y itself.
void label_context(const TokenContext& draws, const Eigen::Ref<const Vector>& task, double rho, Link link, Vector& y);
void features_from_tokens(const TokenContext& context, Eigen::Ref<Vector> x_query, Eigen::Ref<Vector> z,
                          double& y_query);
FeatureBatch sample_features_direct(const Matrix& tasks, const std::vector<long>& task_of, long ell, double rho,
                                    StreamAddress address, std::uint64_t unit_offset = 0);

}  // namespace iclab
