// Uses the installed library: the isotropic theory at one of the spec's checkpoints, and its error type.
#include <cstdio>
#include <string>

#include "iclab/error.hpp"
#include "iclab/theory/isotropic.hpp"
#include "iclab/version.hpp"

int main() {
  const iclab::theory::IsotropicPoint point{.alpha = 10, .tau = 4, .kappa = 2, .rho = 0.25};
  std::printf("iclab %s: e_ICL = %.6f\n", std::string(iclab::version()).c_str(), iclab::theory::icl_error(point));
  try {
    iclab::theory::icl_error({.alpha = 10, .tau = 1, .kappa = 2, .rho = 0.25});  // the interpolation threshold
  } catch (const iclab::InvalidArgument&) {
    std::puts("tau = 1 refused");
  }
  return 0;
}
