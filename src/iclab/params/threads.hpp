// The upper bound of a user's thread count (issue 14): the processors this process may run on.
//
// More torch or OpenMP threads than processors never make a run faster, and far more make it crawl
// (`train --threads 64` on 2 processors: 16 s instead of 2 s), so the front ends refuse a count above
// processor_count() instead of silently oversubscribing. The bound is the process's CPU affinity, which
// taskset and SLURM's cgroups narrow, not the machine's processor total. The library objects themselves
// accept any count >= 1: the tests run 3 threads on 2 processors on purpose, to show that a member's
// numbers do not depend on the thread count.
#pragma once

#include <sched.h>

#include <string>
#include <thread>

#include "iclab/error.hpp"

namespace iclab {

// Processors this process may use (>= 1).
inline int processor_count() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) return CPU_COUNT(&set);
  const unsigned total = std::thread::hardware_concurrency();
  return total > 0 ? static_cast<int>(total) : 1;
}

// Throws InvalidArgument "NAME: must be an integer in [1, P] (...), got T" unless 1 <= threads <= P.
inline void check_thread_count(long threads, const std::string& name) {
  const int processors = processor_count();
  if (threads >= 1 && threads <= processors) return;
  throw InvalidArgument(name + ": must be an integer in [1, " + std::to_string(processors) +
                        "] (the processors this process may use), got " + std::to_string(threads));
}

}  // namespace iclab
