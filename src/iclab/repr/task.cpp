#include "iclab/repr/task.hpp"

#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

#include "iclab/experiments/schema.hpp"
#include "iclab/io/table.hpp"
#include "iclab/model/ridge_solver.hpp"
#include "iclab/params/model_params.hpp"
#include "iclab/random/streams.hpp"

namespace iclab::repr {
namespace {

// Probabilists' Hermite polynomial He_n(x) / sqrt(n!): orthonormal under N(0, 1).
double normalized_hermite(long n, double x) {
  double previous = 1.0, current = x;  // He_0, He_1
  if (n == 0) return 1.0;
  for (long k = 1; k < n; ++k) {
    const double next = x * current - static_cast<double>(k) * previous;
    previous = current;
    current = next;
  }
  return current / std::sqrt(std::tgamma(static_cast<double>(n) + 1.0));
}

StreamAddress address(const TaskSpec& spec, long draw, long unit) {
  return {spec.seed, point_key(spec.dictionary_key()), static_cast<std::uint64_t>(draw),
          static_cast<std::uint64_t>(unit)};
}

}  // namespace

const std::vector<std::string>& feature_names() {
  const std::vector<std::string>& names = experiment_schema().values("features");  // src/iclab/repr/schema.toml
  if (names.size() != 4) throw std::logic_error("src/iclab/repr/schema.toml: `features` must list 4 families");
  return names;
}

Features parse_features(const std::string& text) {
  if (const auto at = position_of(feature_names(), text)) return static_cast<Features>(*at);
  std::string list;
  for (const std::string& name : feature_names()) list += (list.empty() ? "" : ", ") + name;
  throw InvalidArgument("--features: '" + text + "' is not one of " + list);
}

std::string to_string(Features features) { return feature_names().at(static_cast<std::size_t>(features)); }

void TaskSpec::validate() const {
  if (d < 1) throw InvalidArgument("--d: must be >= 1");
  if (m < 1) throw InvalidArgument("--m: must be >= 1");
  if (N < 1) throw InvalidArgument("--N: must be >= 1");
  if (K <= N) throw InvalidArgument("--K: must be > N (the tokens after the prompt are the queries)");
  if (!(tau >= 0) || !std::isfinite(tau)) throw InvalidArgument("--tau: must be finite and >= 0");
  if (tau == 0 && N > m)
    throw InvalidArgument("--tau: tau = 0 needs N <= m (otherwise Z^T Z is singular and a* is not unique)");
  if (d == 1 && K > 2) throw InvalidArgument("--d: d = 1 has only two distinct unit-norm tokens; use d >= 2");
  // Memory before allocation (repr gap --m 1000000 ended in std::bad_alloc).
  require_memory(memory_bytes(),
                 "--d " + std::to_string(d) + " --m " + std::to_string(m) + " --K " + std::to_string(K) + " --N " +
                     std::to_string(N),
                 "use a smaller --m, --K or --N");
}

double TaskSpec::memory_bytes() const {
  const auto D = [](long v) { return static_cast<double>(v); };
  return 8.0 * (D(d) * D(K) + 3.0 * D(m) * D(K) + 2.0 * D(N) * D(K) + 2.0 * D(N) * D(N) + 2.0 * D(m) * D(m));
}

void require_memory(double needed_bytes, const std::string& what, const std::string& hint) {
  if (needed_bytes < 1073741824.0) return;  // below 1 GiB: not worth reading /proc/meminfo
  const double available = available_memory_bytes();
  if (needed_bytes <= (available > 0 ? available : 1e15)) return;  // unknown: still refuse the absurd
  const auto mib = [](double bytes) { return format_number(std::round(bytes / 1048576.0)); };
  throw InvalidArgument("memory: " + what + " needs about " + mib(needed_bytes) + " MiB, and " + mib(available) +
                        " MiB are available; " + hint);
}

nlohmann::json TaskSpec::to_json() const {
  return {{"d", d}, {"m", m}, {"K", K}, {"N", N}, {"tau", tau}, {"features", to_string(features)}, {"seed", seed}};
}

std::string TaskSpec::dictionary_key() const {
  return "repr;d=" + std::to_string(d) + ";m=" + std::to_string(m) + ";K=" + std::to_string(K) +
         ";features=" + to_string(features);
}

Dictionary make_dictionary(const TaskSpec& spec, long draw) {
  Dictionary dictionary;
  dictionary.tokens.resize(spec.d, spec.K);
  for (long k = 0; k < spec.K; ++k) {
    RandomStream stream(StreamId::context, address(spec, draw, k));
    for (long i = 0; i < spec.d; ++i) dictionary.tokens(i, k) = stream.normal();
    dictionary.tokens.col(k).normalize();  // the theory needs unit-norm tokens (B2)
  }
  Matrix& z = dictionary.representations;
  z.resize(spec.m, spec.K);
  const double root_d = std::sqrt(static_cast<double>(spec.d));
  switch (spec.features) {
    case Features::gaussian:
      for (long k = 0; k < spec.K; ++k) {
        RandomStream stream(StreamId::covariance, address(spec, draw, k));
        for (long j = 0; j < spec.m; ++j) z(j, k) = stream.normal();
      }
      break;
    case Features::hermite:
      // sqrt(d) v_kc is approximately N(0, 1) for a uniformly random unit vector, so the features have
      // about unit second moment and are nearly orthogonal.
      for (long k = 0; k < spec.K; ++k)
        for (long j = 0; j < spec.m; ++j)
          z(j, k) = normalized_hermite(1 + j / spec.d, root_d * dictionary.tokens(j % spec.d, k));
      break;
    case Features::fourier:
    case Features::relu:
      for (long j = 0; j < spec.m; ++j) {
        RandomStream stream(StreamId::covariance, address(spec, draw, j));
        Vector w(spec.d);
        for (long i = 0; i < spec.d; ++i) w(i) = stream.normal();  // sqrt(d) w_j with w_j ~ N(0, I/d)
        const double phase = 2.0 * std::numbers::pi * stream.uniform();
        for (long k = 0; k < spec.K; ++k) {
          const double s = w.dot(dictionary.tokens.col(k));
          z(j, k) = spec.features == Features::fourier ? std::sqrt(2.0) * std::cos(s + phase)
                                                       : std::sqrt(2.0) * std::max(0.0, s);
        }
      }
      break;
  }
  return dictionary;
}

Prompts sample_prompts(const TaskSpec& spec, const Dictionary& dictionary, const TaskLaw& law, long count,
                       PromptPurpose purpose, long draw) {
  Prompts prompts;
  prompts.lambda.resize(spec.m, count);
  prompts.labels.resize(spec.K, count);
  const double sd = std::sqrt(law.variance), noise_sd = std::sqrt(spec.tau);
  // In-domain and out-of-domain test prompts sit on disjoint units of the test stream.
  const long offset = purpose == PromptPurpose::test && law.mean != 0.0 ? (1L << 40) : 0;
  Vector noisy(spec.m);
  for (long p = 0; p < count; ++p) {
    const auto unit = p + offset;
    RandomStream tasks(purpose == PromptPurpose::train ? StreamId::task_pool : StreamId::test,
                       address(spec, draw, unit));
    // Test prompts draw their noise after their task from the same stream.
    RandomStream separate_noise(StreamId::noise, address(spec, draw, unit));
    RandomStream& noise = purpose == PromptPurpose::train ? separate_noise : tasks;
    for (long j = 0; j < spec.m; ++j) prompts.lambda(j, p) = law.mean + sd * tasks.normal();
    for (long k = 0; k < spec.K; ++k) {
      for (long j = 0; j < spec.m; ++j) noisy(j) = dictionary.representations(j, k) + noise_sd * noise.normal();
      prompts.labels(k, p) = prompts.lambda.col(p).dot(noisy);
    }
  }
  return prompts;
}

}  // namespace iclab::repr
