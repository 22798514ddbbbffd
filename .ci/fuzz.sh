#!/usr/bin/env bash
# CI job: the parser fuzz targets (fuzz/) under libFuzzer with AddressSanitizer and UBSan, each for a
# bounded time (FUZZ_SECONDS, default 60), starting from a small seed corpus. The library is built
# instrumented by clang (Debian's clang provides libFuzzer). Any crash, sanitizer report, uncaught
# exception other than iclab::InvalidArgument, or input running past the time limit fails the job; the
# offending input is left in the build directory (crash-*, timeout-*) to be added to the test corpus.
# Usage: .ci/fuzz.sh [BUILD_DIR]   (default build-fuzz; JOBS=N for the build, default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build-fuzz}"
jobs="${JOBS:-2}"
seconds="${FUZZ_SECONDS:-60}"
flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -O1 -g"
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DICLAB_NN=OFF -DICLAB_PYTHON=OFF -DICLAB_BUILD_BENCH=OFF -DICLAB_BUILD_TESTS=OFF -DICLAB_WERROR=OFF \
  -DICLAB_FUZZ=ON -DCMAKE_CXX_FLAGS="$flags" -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined"
cmake --build "$build" -j"$jobs" --target fuzz_value_list fuzz_covariance_spec fuzz_experiment fuzz_files
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
for target in fuzz_value_list fuzz_covariance_spec fuzz_experiment fuzz_files; do
  corpus="$build/corpus-$target"
  mkdir -p "$corpus"
  cp fuzz/seeds/"$target"/* "$corpus"/ 2>/dev/null || true
  echo "== $target: $seconds s"
  (cd "$build" && "./fuzz/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=4096 \
     -print_final_stats=1 "corpus-$target")
done
