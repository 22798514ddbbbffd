#!/usr/bin/env bash
# Runs one Transformer figure at the paper's scale on a GPU machine (the ../shared/cuda recipe; see
# bench/gpu_session.sh) and packs its output directory into $OUT/NAME-paper.tgz.
#   OUT=out bash bench/gpu_paper_figure.sh NAME [SRC]
set -uo pipefail
name=${1:?usage: gpu_paper_figure.sh NAME [SRC]}
out=$(realpath -m "${OUT:-gpu-out}")
mkdir -p "$out"
deps=$(realpath .cuda-deps)
cd "${2:-.}" || exit 1
exec > >(tee -a "$out/$name-paper.log") 2>&1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
time bash "$deps/build-with-torch.sh" > "$out/build.txt" 2>&1 || { tail -40 "$out/build.txt"; exit 1; }
source build-cuda/env.sh
time build-cuda/iclab reproduce "$name" --scale paper --out "$out/$name-paper"
cat "$out/$name-paper"/*.csv 2>/dev/null | head -50
tar czf "$out/$name-paper.tgz" -C "$out" "$name-paper" && rm -rf "${out:?}/$name-paper"
