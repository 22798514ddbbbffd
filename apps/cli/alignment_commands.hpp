// Task-alignment subcommands and the general-covariance branch of `iclab theory`.
#pragma once

#include <string>

#include "commands.hpp"
#include "output.hpp"

namespace iclab::cli {

struct GeneralTheoryOptions {
  std::string d, ctrain, ctest, alpha_test;
  std::string alpha, tau, kappa, rho, lambda;  // shared with the isotropic theory options
  OutputOptions output;
  bool requested() const { return !ctrain.empty() || !ctest.empty(); }
};

void add_general_theory_options(CLI::App& cmd, GeneralTheoryOptions& options);
void run_general_theory(const GeneralTheoryOptions& options, const std::string& command_line);

}  // namespace iclab::cli
