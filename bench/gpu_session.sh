#!/usr/bin/env bash
# One prepared GPU session for the Transformer ensembles (docs/transformers.md, "GPU"): builds iclab
# against the machine's CUDA PyTorch with the ../shared/cuda recipe, then measures, within BUDGET
# seconds of wall time:
#   1. float32 deviation of CUDA (graph and eager) from the CPU on the same models;
#   2. ensemble throughput (bench/nn_ensemble) for linear attention and 2 x (softmax + MLP), M = 8, 125;
#   3. Lu et al. Fig 5 panel A at the paper's scale (d = 20, 25 taus x 5 seeds, 20 000 epochs) when
#      the measured step time says it fits in what is left; otherwise the largest number of epochs
#      that fits (the log says which);
#   4. the torch.func anchor (../shared/cuda/torch_func_anchor.py), if time is left.
# Run from the project root on the GPU machine, with the recipe's packages in .cuda-deps and the
# sources to build in SRC (default .):
#   OUT=out BUDGET=480 bash bench/gpu_session.sh [SRC]
set -uo pipefail
out=$(realpath -m "${OUT:-gpu-out}")
mkdir -p "$out"
budget=${BUDGET:-480}
deps=$(realpath .cuda-deps)
src=${1:-.}
start=$(date +%s)
left() { echo $((budget - ($(date +%s) - start))); }
log="$out/session.log"
exec > >(tee -a "$log") 2>&1

echo "== machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda)"
nproc
cd "$src" || exit 1
echo "== build ($(left) s left)"
time bash "$deps/build-with-torch.sh" -DICLAB_BUILD_BENCH=ON > "$out/build.txt" 2>&1 || { tail -40 "$out/build.txt"; exit 1; }
tail -3 "$out/build.txt"
source build-cuda/env.sh
b=build-cuda

echo "== 1. CUDA against CPU, same models (d = 20, 500 steps at lr 1e-3) ($(left) s left)"
common="--model linear-attention,softmax-mlp2 --d 20 --alpha 1 --kappa inf --tau 2,10 --seed 1 --steps 500 --lr 1e-3 --test-contexts 20000"
for run in "cuda" "cuda --no-cuda-graph" "cpu --threads 8"; do
  echo "-- device $run"
  time $b/iclab train $common --device $run
done

echo "== 2. throughput: ensemble against one model at a time ($(left) s left)"
# B = 400 per model (tau = 10, d = 20) as in the torch.func anchor; then the panel A taus (ragged B).
$b/bench/nn_ensemble linear-attention 20 8 2000 1 cuda 10 10 1
$b/bench/nn_ensemble linear-attention 20 8 2000 1 cuda 10 10 1 eager
$b/bench/nn_ensemble linear-attention 20 125 2000 1 cuda 10 10 1
$b/bench/nn_ensemble softmax-mlp2 20 8 500 1 cuda 10 10 1
$b/bench/nn_ensemble softmax-mlp2 20 8 500 1 cuda 10 10 1 eager
$b/bench/nn_ensemble softmax-mlp2 20 125 300 1 cuda 10 10 1
panel=$($b/bench/nn_ensemble linear-attention 20 125 2000 1 cuda 0.5 5 1)
echo "$panel"
$b/bench/nn_ensemble softmax 20 125 300 1 cuda 0.1 6.1 1

echo "== 3. Lu et al. Fig 5 panel A, paper scale ($(left) s left)"
ms=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['ms_per_ensemble_step'])" "$panel")
epochs=$(python3 -c "
ms, left = float('$ms'), $(left) - 60   # 60 s for data, testing and the anchor's minimum
fit = int(left / (ms * 1e-3 * 11 * 1.15))  # 11 steps per epoch, 15% margin
print(min(20000, max(0, fit)))")
echo "measured ${ms} ms per ensemble step -> ${epochs} epochs fit (paper: 20000)"
taus="0.5,0.55,0.6,0.65,0.7,0.75,0.8,0.85,0.9,0.95,1,1.05,1.1,1.15,1.2,1.25,1.3,1.35,1.4,1.45,1.5,2,2.5,3,5"
if [ "$epochs" -ge 1000 ]; then
  time $b/iclab train --model linear-attention --d 20 --alpha 1 --kappa inf --rho 0.01 \
    --tau "$taus" --seed 1,2,3,4,5 --epochs "$epochs" --batch 0.1 --lr 1e-4 --test-contexts 10000 --device cuda \
    --out "$out/lu2024-fig5-panelA-gpu.csv"
fi

echo "== 4. torch.func anchor ($(left) s left)"
if [ "$(left)" -gt 45 ]; then
  timeout $(($(left) - 10)) python3 "$deps/torch_func_anchor.py"
fi
echo "== done ($(left) s left of $budget)"
