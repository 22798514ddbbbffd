// Ctrl-C for long calls: the work runs on a worker thread with the GIL released while the calling thread
// runs Python's signal handlers every 50 ms. A KeyboardInterrupt (or any exception a handler raises) sets
// a stop flag whose token the library polls inside its long loops (iclab/cancel.hpp: per block of
// contexts, per solver iteration, per repetition and runner unit); the call then waits for the worker to
// stop and raises the handler's exception.
#pragma once

#include <exception>
#include <functional>
#include <stop_token>

#include "iclab/cancel.hpp"

namespace iclab::python {

// Thrown by StopFlag::check (and the library) on the worker; never reaches Python (the handler's
// exception does).
using Interrupted = iclab::Cancelled;

class StopFlag {
 public:
  void check() const { throw_if_stopped(source_.get_token()); }
  // For loops that cannot throw (OpenMP regions): skip the remaining work, then check().
  bool stopped() const { return source_.stop_requested(); }
  void set() { source_.request_stop(); }
  // What the library's calls take: stops when set() is called.
  std::stop_token token() const { return source_.get_token(); }

 private:
  std::stop_source source_;
};

// Runs work(stop) as described above. Call with the GIL held. Exceptions of `work` propagate.
void run_interruptible(const std::function<void(const StopFlag&)>& work);

// For loops that run on the calling thread: with the GIL held, runs Python's signal handlers and throws
// pybind11::error_already_set when one raised.
void check_signals();

}  // namespace iclab::python
