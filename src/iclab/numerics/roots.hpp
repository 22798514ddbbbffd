// Bracketed, checked scalar root finding and minimisation (Boost.Math TOMS 748 / Brent).
// Internal: not installed (src/CMakeLists.txt, ICLAB_INTERNAL_HEADERS), which keeps Boost out of the API.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

#include <boost/math/tools/minima.hpp>
#include <boost/math/tools/toms748_solve.hpp>

namespace iclab {

// Root of f in [lo, hi]; f(lo) and f(hi) must have opposite signs (checked). Returns the midpoint
// of the final bracket, which is relatively tight to ~1e-15.
inline double bracketed_root(const std::function<double(double)>& f, double lo, double hi, const char* what) {
  const double f_lo = f(lo);
  const double f_hi = f(hi);
  if (f_lo == 0.0) return lo;
  if (f_hi == 0.0) return hi;
  if (std::signbit(f_lo) == std::signbit(f_hi) || !std::isfinite(f_lo) || !std::isfinite(f_hi))
    throw std::runtime_error(std::string(what) + ": root not bracketed in [" + std::to_string(lo) + ", " +
                             std::to_string(hi) + "]");
  std::uintmax_t max_iter = 500;
  const auto bracket = boost::math::tools::toms748_solve(f, lo, hi, f_lo, f_hi,
                                                         boost::math::tools::eps_tolerance<double>(52), max_iter);
  if (max_iter >= 500) throw std::runtime_error(std::string(what) + ": root finder did not converge");
  return 0.5 * (bracket.first + bracket.second);
}

// Minimiser of f on [lo, hi] (Brent), as (argmin, min).
inline std::pair<double, double> bracketed_minimum(const std::function<double(double)>& f, double lo, double hi) {
  std::uintmax_t max_iter = 500;
  return boost::math::tools::brent_find_minima(f, lo, hi, 52, max_iter);
}

}  // namespace iclab
