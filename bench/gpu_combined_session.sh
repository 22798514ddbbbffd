#!/usr/bin/env bash
# One GPU session of 2026-11-30 (docs/gpu-session/session-2.log): builds with the ../shared/cuda recipe,
# runs Letey et al. Fig 3 at the paper's scale, then bench/gpu_solver_session.sh with a short budget.
# From the project root, with the recipe's packages in .cuda-deps and a `git archive HEAD` in .gpu-src:
#   REV=$(git describe --always) OUT=out bash .gpu-src/bench/gpu_combined_session.sh
# Keep $OUT shallow and small: the device tool returns a limited number of files, so tar what matters.
set -uo pipefail
out=$(realpath -m "${OUT:?}"); mkdir -p "$out"
root=$(pwd)
cd .gpu-src
exec > >(tee -a "$out/combined.log") 2>&1
t0=$(date +%s)
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader; echo "cores $(nproc)"
time timeout 170 bash "$root/.cuda-deps/build-with-torch.sh" -DICLAB_BUILD_BENCH=ON -DICLAB_PYTHON=OFF -DICLAB_GIT_DESCRIBE=$REV > "$out/build.txt" 2>&1 || { tail -60 "$out/build.txt"; }
source build-cuda/env.sh
echo "== letey2025-fig3 paper ($(( $(date +%s) - t0 )) s)"
time timeout 215 build-cuda/iclab reproduce letey2025-fig3 --scale paper --out "$out/letey2025-fig3-paper"
tar czf "$out/letey2025-fig3-paper.tgz" -C "$out" letey2025-fig3-paper
echo "== solver session ($(( $(date +%s) - t0 )) s)"
cd "$root"
ICLAB_GIT_DESCRIBE=$REV OUT="$out/solver" BUDGET=${SOLVER_BUDGET:-190} bash .gpu-src/bench/gpu_solver_session.sh .gpu-src
echo "== end ($(( $(date +%s) - t0 )) s)"
