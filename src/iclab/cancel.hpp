// Cancellation of long library calls: a std::stop_token passed in by the caller (no global state).
// The long loops poll it at cheap points (per block of contexts, per solver iteration or lambda, per
// simulation repetition) and unwind with Cancelled once a stop is requested. Polling only reads the
// token: it never changes an order of arithmetic, so results are bit-identical with or without one.
// A default-constructed token never stops (what the CLI passes).
#pragma once

#include <exception>
#include <stop_token>

namespace iclab {

// Thrown where a requested stop is noticed. Not a std::runtime_error: callers that wrap runtime errors
// with context (the runner) let it pass unchanged, as after a kill.
struct Cancelled : std::exception {
  const char* what() const noexcept override { return "cancelled"; }
};

inline void throw_if_stopped(const std::stop_token& stop) {
  if (stop.stop_requested()) throw Cancelled();
}

}  // namespace iclab
