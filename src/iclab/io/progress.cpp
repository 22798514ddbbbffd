#include "iclab/io/progress.hpp"

#include <cstdio>

#include <unistd.h>

namespace iclab {

ProgressBar::ProgressBar(std::string label, long total)
    : label_(std::move(label)),
      total_(total),
      enabled_(true),
      terminal_(isatty(STDERR_FILENO) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

ProgressBar::~ProgressBar() { finish(); }

void ProgressBar::advance(long steps) {
  done_ += steps;
  if (!enabled_) return;
  const auto now = std::chrono::steady_clock::now();
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double since_draw = std::chrono::duration<double>(now - last_draw_).count();
  if (elapsed < 1.0 || (since_draw < 0.1 && done_ < total_)) return;
  if (!terminal_ && (since_draw < 30.0 || done_ >= total_)) return;
  last_draw_ = now;
  draw();
}

void ProgressBar::draw() {
  const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  const double fraction = total_ > 0 ? static_cast<double>(done_) / static_cast<double>(total_) : 1.0;
  const double eta = fraction > 0 ? elapsed * (1.0 - fraction) / fraction : 0.0;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(kWidth, '.');
  std::fprintf(stderr, "%s%s [%s] %ld/%ld  %.0fs elapsed, ETA %.0fs%s", terminal_ ? "\r" : "", label_.c_str(),
               bar.c_str(), done_, total_, elapsed, eta, terminal_ ? " " : "\n");
  std::fflush(stderr);
  drawn_ = true;
}

void ProgressBar::finish() {
  if (drawn_ && terminal_) {
    draw();
    std::fputc('\n', stderr);
    drawn_ = false;
  }
  enabled_ = false;
}

}  // namespace iclab
