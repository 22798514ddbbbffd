#!/usr/bin/env bash
# CI job: AddressSanitizer + UndefinedBehaviorSanitizer build (no libtorch) running the fast tests.
# UBSan is fatal (-fno-sanitize-recover=all): the first report fails the test that triggered it.
# -O1 keeps Debug's assertions (Eigen's and ours) and ASan's usefulness while making the fast tests
# take minutes instead of tens of minutes; -fno-omit-frame-pointer gives readable stacks.
# The tests run the `iclab` program too; it is built with the same flags and inherits the options below.
# Usage: .ci/sanitizers.sh [BUILD_DIR]   (default build-sanitizers; JOBS=N for the parallelism, default 2)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build-sanitizers}"
jobs="${JOBS:-2}"
sanitize="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
# Warnings are the main job's business (-DICLAB_WERROR=ON there). Instrumented code makes GCC 12's
# -Wmaybe-uninitialized report false positives inside libstdc++ (<regex>'s std::function moves), so that
# one warning is off here and warnings do not fail this job.
start=$(date +%s)
# No Python module: an ASan-instrumented extension loads into an uninstrumented python3 only with
# LD_PRELOAD of libasan, and its tests would mostly exercise the interpreter; the main job runs them.
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Debug -DICLAB_NN=OFF -DICLAB_PYTHON=OFF -DICLAB_BUILD_BENCH=OFF -DICLAB_WERROR=OFF \
  -DCMAKE_CXX_FLAGS="$sanitize -O1 -Wno-maybe-uninitialized" -DCMAKE_EXE_LINKER_FLAGS="$sanitize" \
  -DCMAKE_SHARED_LINKER_FLAGS="$sanitize"
cmake --build "$build" -j"$jobs"
built=$(date +%s)
supp="$PWD/.ci/sanitizers"
export ASAN_OPTIONS="detect_leaks=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1:abort_on_error=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:suppressions=$supp/ubsan.supp"
export LSAN_OPTIONS="suppressions=$supp/lsan.supp:print_suppressions=0"
# Spinning OpenMP workers slow a 2-core machine that runs two tests at once; results do not depend on it.
export OMP_WAIT_POLICY=passive
ctest --test-dir "$build" -L fast -j"$jobs" --output-on-failure --timeout 1500
end=$(date +%s)
echo "sanitizers: build $((built - start)) s, fast tests $((end - built)) s"
