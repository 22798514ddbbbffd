#!/usr/bin/env bash
# One prepared GPU session for the tensor ridge solver (docs/gpu-solver.md): builds iclab against the
# machine's CUDA PyTorch with the ../shared/cuda recipe, then, each step under its own timeout so that the
# session always ends and reports (about 300 s in all, the build included):
#   1. the fit at d = 100 (Lu Fig 1) and d = 120 (Letey Fig 1): the Eigen solver on all CPU cores, the
#      tensor solver on the CPU and on CUDA, same draw, with their agreement (bench/tensor_solver fit);
#   2. `iclab reproduce lu2024-fig1` and `letey2025-fig1` at full scale with --device cuda (wall time);
#   3. CUDA against Eigen through `iclab simulate` at d = 60, tau = 0.5, 1.15, 2 (auto: dual and CG;
#      --solver direct: the dense solves);
#   4. the largest d that fits at tau = 4 in the GPU's (and host's) memory, and the draw + fit at d = 500;
#   5. if at least 110 s of the budget are left, the draw + fit at d = LARGE_D (default 1000).
# Everything goes under $OUT (session.log, the benches' JSON lines, the figures' CSVs, meta.json, PNGs;
# without gnuplot on the machine a figure's plot fails after its experiments: rerun it elsewhere with
# `iclab reproduce NAME --device cuda --out DIR --plot-only`). BUDGET (default 330 s) caps the whole
# session: each step's timeout is its own cap or what is left, whichever is smaller.
# Run from the project root on the GPU machine, with the recipe's packages in .cuda-deps and the sources
# to build in SRC (default .; e.g. a clean `git archive HEAD` in .gpu-src, so that nobody's uncommitted
# work in a shared tree reaches the build):
#   OUT=out bash bench/gpu_solver_session.sh [SRC]
# e.g. on the Debian machine: rm -rf .gpu-src && mkdir .gpu-src && git archive HEAD | tar -x -C .gpu-src
# then there: ICLAB_GIT_DESCRIBE=<git describe> OUT=out bash .gpu-src/bench/gpu_solver_session.sh .gpu-src
set -uo pipefail
out=$(realpath -m "${OUT:-gpu-out}")
mkdir -p "$out"
deps=$(realpath .cuda-deps)
cd "${1:-.}" || exit 1
budget=${BUDGET:-330}
dev=${DEVICE:-cuda}  # DEVICE=cpu rehearses the session on a machine without a GPU
start=$(date +%s)
elapsed() { echo $(($(date +%s) - start)); }
# cap N: N seconds, or what is left of the budget (less 5 s to report), at least 1
cap() { local left=$((budget - $(elapsed) - 5)); [ "$left" -lt "$1" ] && echo $((left > 1 ? left : 1)) || echo "$1"; }
# timed NAME CAP COMMAND...: runs COMMAND under timeout, then prints its exit status and wall time (on
# stderr, so that the benches' JSON lines teed to files stay JSON lines)
timed() {
  local name=$1 limit; limit=$(cap "$2"); shift 2
  local t0; t0=$(date +%s.%N)
  timeout "$limit" "$@"
  local rc=$?
  echo "-- $name: exit $rc$([ $rc -eq 124 ] && echo " (timed out after $limit s)"), wall $(python3 -c "print(round($(date +%s.%N) - $t0, 1))") s" >&2
  return $rc
}
exec > >(tee -a "$out/session.log") 2>&1
step() { echo; echo "== $1 ($(elapsed) s elapsed of $budget)"; }

step "machine"
nvidia-smi --query-gpu=name,memory.total,memory.free,driver_version --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)"
echo "cores: $(nproc)"

step "build"
# (no Python module: the session needs only the programs and the bench)
# (ICLAB_GIT_DESCRIBE: the revision to record in every meta.json when SRC is an archive without .git)
if ! timed build 170 bash "$deps/build-with-torch.sh" -DICLAB_BUILD_BENCH=ON -DICLAB_PYTHON=OFF \
    ${ICLAB_GIT_DESCRIBE:+-DICLAB_GIT_DESCRIBE=$ICLAB_GIT_DESCRIBE} > "$out/build.txt" 2>&1; then
  tail -40 "$out/build.txt"
  echo "build failed or timed out: nothing else to run"
  exit 1
fi
tail -2 "$out/build.txt"
source build-cuda/env.sh
b=build-cuda
export OMP_NUM_THREADS=$(nproc)

step "1. fit at d = 100 and d = 120: eigen (all cores), then the tensor solver on $dev and on the cpu"
for setting in lu-fig1 letey-fig1; do
  timed "fit $setting" 50 $b/bench/tensor_solver fit $setting eigen,$dev,cpu 3 | tee -a "$out/tensor_solver_fit.jsonl"
done

for fig in lu2024-fig1 letey2025-fig1; do
  # letey2025-fig1: 630 draws of n = 57 600 contexts at d = 120, an estimated 0.07 s each on 16
  # cores (0.6 s on 2 here), bound the run: more time
  fig_cap=100; [ $fig = letey2025-fig1 ] && fig_cap=130
  step "2. iclab reproduce $fig --device cuda (full scale)"
  timed "reproduce $fig" $fig_cap $b/iclab reproduce $fig --device $dev --out "$out/$fig"
  python3 - "$out/$fig" <<'EOF'
import glob, json, sys
for meta in sorted(glob.glob(sys.argv[1] + "/*/results.csv.meta.json")):
    m = json.load(open(meta))
    fits = m["columns"].get("simulation_fits")
    print(meta.split("/")[-2], "%.1f s" % m["seconds_last_session"], json.dumps(fits) if fits else "")
EOF
done

step "3. iclab simulate at d = 60: $dev against the Eigen solvers (auto: dual, cg; direct: the dense solves)"
for solver in auto direct; do
  sim=(simulate --d 60 --alpha 10 --tau 0.5,1.15,2 --kappa 0.5 --rho 0.01 --lambda 1e-8 --repeats 2 --seed 1 --solver $solver)
  timed "simulate $solver eigen" 40 $b/iclab "${sim[@]}" --out "$out/simulate-$solver-eigen.csv"
  timed "simulate $solver $dev" 30 $b/iclab "${sim[@]}" --device $dev --out "$out/simulate-$solver-$dev.csv"
  [ -f "$out/simulate-$solver-$dev.csv" ] && [ -f "$out/simulate-$solver-eigen.csv" ] &&
    python3 - "$out/simulate-$solver-eigen.csv" "$out/simulate-$solver-$dev.csv" <<'EOF'
import csv, json, sys
a, b = (list(csv.DictReader(open(f))) for f in sys.argv[1:3])
worst = {c: max(abs(float(x[c]) - float(y[c])) / abs(float(x[c])) for x, y in zip(a, b)) for c in ("icl_mean", "idg_mean")}
meta = json.load(open(sys.argv[2] + ".meta.json"))
fits = [f for p in meta["points"] for f in p["solver"]]
print(json.dumps({"max_relative_difference": worst, "solvers": sorted({f["solver"] + " " + f["factorization"] for f in fits}),
                  "max_host_residual": max(f.get("host_residual", 0) for f in fits),
                  "fit_seconds": [round(f["seconds"], 4) for f in fits]}))
EOF
done

step "4. largest d at tau = 4 on cuda, and d = 500"
timed "largest" 60 $b/bench/tensor_solver largest 4 $dev ${LARGEST_RUN_D:-500} | tee -a "$out/tensor_solver_largest.jsonl"

# 5. a larger d when the budget allows (d = 1000: n = 4 000 000, 64 GB of features on the host and the GPU)
big=${LARGE_D:-1000}
if [ $((budget - $(elapsed))) -ge 110 ]; then
  step "5. draw + fit at d = $big, tau = 4 on $dev"
  timed "d = $big" 100 $b/bench/tensor_solver largest 4 $dev $big | tee -a "$out/tensor_solver_largest.jsonl"
else
  echo "(5. d = $big skipped: $((budget - $(elapsed))) s of the budget left)"
fi

step "done"
ls -la "$out"
