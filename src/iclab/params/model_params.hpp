// Parameters of the solvable linear-attention model and the conventions that turn the
// proportional-asymptotics ratios (alpha, tau, kappa) into finite sizes (l, k, n).
#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "iclab/error.hpp"

namespace iclab {

// How pretraining (and ICL test) tasks are normalised.
enum class TaskNorm {
  gaussian,  // w ~ N(0, I_d)                       (the papers' model)
  sphere,    // w uniform on the sphere ||w|| = sqrt(d) (the authors' Lu et al. simulation code)
};
// How the n pretraining contexts pick one of the k tasks.
enum class Assignment {
  random,    // i.i.d. uniform over the k tasks, n = int(tau d^2)
  balanced,  // each task exactly round(tau d^2 / k) times, n = k * round(tau d^2 / k) (authors' code)
};

TaskNorm parse_task_norm(const std::string& text);
Assignment parse_assignment(const std::string& text);
std::string to_string(TaskNorm norm);
std::string to_string(Assignment assignment);

inline constexpr double kInfinity = std::numeric_limits<double>::infinity();

// One point of the model: ratios plus d. kappa = +inf means a fresh task for every context.
struct ModelParams {
  long d = 0;
  double alpha = 0.0;   // context length ratio, l = int(alpha d)
  double tau = 0.0;     // pretraining contexts ratio, n ~ tau d^2
  double kappa = 0.0;   // task diversity ratio, k = int(kappa d)
  double rho = 0.0;     // label-noise variance
  TaskNorm task_norm = TaskNorm::gaussian;
  Assignment assignment = Assignment::random;

  // Finite sizes, truncating the double products exactly as the authors' Python int() does.
  long context_length() const;   // l = int(alpha d)
  long num_tasks() const;        // k = int(kappa d); = n when kappa is infinite
  long num_contexts() const;     // n (see Assignment)
  long num_parameters() const { return d * (d + 1); }  // p = d(d+1)

  // Throws InvalidArgument naming the parameter when a value or a derived size is not allowed.
  void validate() const;
  nlohmann::json to_json() const;
};

// The conventions iclab states in every output, independent of any one point.
nlohmann::json conventions_json();

}  // namespace iclab
