// Ctrl-C for long calls: the work runs on a worker thread with the GIL released while the calling thread
// runs Python's signal handlers every 50 ms. A KeyboardInterrupt (or any exception a handler raises) sets
// a stop flag that the work polls at its checkpoints (after each simulation repetition, each runner unit);
// the call then waits for the worker to stop and raises the handler's exception.
#pragma once

#include <atomic>
#include <exception>
#include <functional>

namespace iclab::python {

// Thrown by StopFlag::check on the worker; never reaches Python (the handler's exception does).
struct Interrupted : std::exception {
  const char* what() const noexcept override { return "interrupted"; }
};

class StopFlag {
 public:
  void check() const {
    if (stopped()) throw Interrupted();
  }
  // For loops that cannot throw (OpenMP regions): skip the remaining work, then check().
  bool stopped() const { return stop_.load(std::memory_order_relaxed); }
  void set() { stop_.store(true, std::memory_order_relaxed); }

 private:
  std::atomic<bool> stop_{false};
};

// Runs work(stop) as described above. Call with the GIL held. Exceptions of `work` propagate.
void run_interruptible(const std::function<void(const StopFlag&)>& work);

// For loops that run on the calling thread: with the GIL held, runs Python's signal handlers and throws
// pybind11::error_already_set when one raised.
void check_signals();

}  // namespace iclab::python
