// The task model of Yang, Huang, Liang & Chi (NeurIPS 2024, arXiv 2408.10147), "In-context learning with
// representations" (spec: transformers-and-representations.md, B2-B3). Torch-free.
//
// A dictionary of K unit-norm tokens v_k in R^d has fixed representations z_k = f(v_k) in R^m. A task is a
// coefficient vector lambda in R^m; token k's label is y_k = lambda^T (z_k + eps_k) with eps_k ~ N(0, tau I_m)
// (the noise sits on the representation). A prompt shows the first N tokens with their labels; the model
// predicts the labels of all K tokens.
//
// Randomness (counter-based streams, docs/representations.md): tokens from StreamId::context, the
// representation (Gaussian z_k, or the random weights of Fourier / ReLU features) from
// StreamId::covariance, training tasks from task_pool with their noise from noise, test prompts from test.
// Every stream is keyed by (seed, the dictionary's canonical text "d;m;K;features", draw): the dictionary
// does not depend on N or tau, and a prompt's noise is sqrt(tau) times the same normals for every tau.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "iclab/linalg/dense.hpp"

namespace iclab::repr {

// The representation family f, in the order of the `features` values of src/iclab/repr/schema.toml.
enum class Features {
  gaussian,  // z_k i.i.d. N(0, I_m), independent of v_k (the paper's experiments)
  hermite,   // z_kj = He_n(sqrt(d) v_kc) / sqrt(n!): coordinate c = j mod d, degree n = 1 + j / d
  fourier,   // z_kj = sqrt(2) cos(sqrt(d) w_j^T v_k + b_j), w_j ~ N(0, I_d / d), b_j ~ U[0, 2 pi)
  relu,      // z_kj = sqrt(2) max(0, sqrt(d) w_j^T v_k), w_j ~ N(0, I_d / d)
};
Features parse_features(const std::string& text);  // throws InvalidArgument naming --features
std::string to_string(Features features);
const std::vector<std::string>& feature_names();  // the schema's `features` values, in enum order

struct TaskSpec {
  long d = 20;        // token dimension
  long m = 8;         // number of basis functions (representation dimension)
  long K = 40;        // dictionary size
  long N = 10;        // prompt length: the first N tokens are shown with labels
  double tau = 0.01;  // variance of the representation noise eps_k ~ N(0, tau I_m)
  Features features = Features::gaussian;
  std::uint64_t seed = 1;

  void validate() const;  // throws InvalidArgument naming --d, --m, --K, --N, --tau, or memory
  // Bytes that one dictionary and its ridge theory hold: the tokens (d x K) and representations (m x K),
  // the ridge solution (N x K), and the N x N and m x m Gram matrices with their factorisations.
  double memory_bytes() const;
  nlohmann::json to_json() const;
  std::string dictionary_key() const;  // canonical text of what the dictionary depends on
};

struct Dictionary {
  Matrix tokens;           // d x K, unit-norm columns v_k
  Matrix representations;  // m x K, columns z_k = f(v_k)
};
// Draw `draw` (0, 1, ...) of the dictionary of `spec` (independent draws for averages over dictionaries).
Dictionary make_dictionary(const TaskSpec& spec, long draw = 0);

// The law of the task coefficients: lambda ~ N(mean 1_m, variance I_m).
struct TaskLaw {
  double mean = 0.0;
  double variance = 1.0;
  static TaskLaw in_domain() { return {0.0, 1.0}; }
  static TaskLaw out_of_domain() { return {1.0, 4.0}; }  // the paper's OOD test tasks N(1, 4 I_m)
};

enum class PromptPurpose { train, test };

struct Prompts {
  Matrix lambda;  // m x P
  Matrix labels;  // K x P: y_k = lambda^T (z_k + eps_k) for every token (rows 0..N-1 are shown)
};
// Refuses (InvalidArgument "memory: WHAT needs about ... MiB, and ... MiB are available; HINT") work that
// needs more than the available memory (available_memory_bytes()), before anything is allocated. Below
// 1 GiB it reads nothing and passes.
void require_memory(double needed_bytes, const std::string& what, const std::string& hint);

// `count` prompts of dictionary draw `draw`. Train prompts i use task_pool/noise units i; test prompts use
// the test stream, in-domain and out-of-domain laws on disjoint units.
Prompts sample_prompts(const TaskSpec& spec, const Dictionary& dictionary, const TaskLaw& law, long count,
                       PromptPurpose purpose, long draw = 0);

}  // namespace iclab::repr
