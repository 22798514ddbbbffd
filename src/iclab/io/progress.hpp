// A progress bar with ETA on stderr once the work has taken about a second (quick commands stay
// silent). On a terminal it redraws in place; otherwise (a batch log, e.g. SLURM) it writes one
// plain line every 30 s.
#pragma once

#include <chrono>
#include <string>

namespace iclab {

class ProgressBar {
 public:
  ProgressBar(std::string label, long total);
  ~ProgressBar();
  ProgressBar(const ProgressBar&) = delete;
  ProgressBar& operator=(const ProgressBar&) = delete;

  void advance(long steps = 1);
  void finish();

 private:
  void draw();
  std::string label_;
  long total_;
  long done_ = 0;
  bool enabled_;
  bool terminal_;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace iclab
