#include "stop_signals.hpp"

#include <csignal>

#include "iclab/cancel.hpp"

namespace iclab::cli {
namespace {

volatile std::sig_atomic_t requested = 0;

extern "C" void on_stop_signal(int signal) { requested = signal; }

}  // namespace

void catch_stop_signals() {
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  // A second signal takes the default action (the process ends); system calls the first interrupts go on.
  action.sa_flags = SA_RESETHAND | SA_RESTART;
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGINT, &action, nullptr);
}

int stop_signal() { return requested; }

void throw_if_stop_requested() {
  if (requested != 0) throw Cancelled();
}

}  // namespace iclab::cli
