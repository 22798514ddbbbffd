#!/usr/bin/env bash
# End-to-end throughput of an ensemble against separate runs, as a user meets it: the 24 points of a
# lu2024-fig5 CPU preset (8 tau from 0.5 to 8, 3 seeds, d = 10, 500 epochs at lr 1e-3, 20 000 test contexts)
# as ONE `iclab-nn train` with list-valued --tau/--seed, against the 24 single-point `iclab-nn train`
# processes run one after another. 1 torch thread each; user + system CPU seconds of each side (on a shared
# machine the steadier measure; wall time alike on a quiet one). The two sides alternate, ROUNDS times, and
# the script checks that their 24 rows are byte-identical.
#
#   bench/nn_end_to_end.sh [BUILD_DIR] [ROUNDS] [MODEL...]     (defaults: build, 2, the three fig5 models)
#
# Prints one line per (model, round): ensemble and separate CPU seconds and their ratio. Run it with
# OMP_WAIT_POLICY=passive on a machine whose cores are shared (see docs/transformers.md, "Speed").
set -euo pipefail
build=${1:-build}
rounds=${2:-2}
shift $(($# > 2 ? 2 : $#))
models=("$@")
[ ${#models[@]} -eq 0 ] && models=(linear-attention softmax softmax-mlp2)
program="$build/iclab-nn"
[ -x "$program" ] || { echo "nn_end_to_end: $program not found (build with -DICLAB_NN=ON)" >&2; exit 2; }
taus=(0.5 1 1.5 2 3 4 6 8)
seeds=(1 2 3)
common=(--d 10 --lr 1e-3 --epochs 500 --test-contexts 20000 --threads 1)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for model in "${models[@]}"; do
  for round in $(seq "$rounds"); do
    ensemble() {
      "$program" train --model "$model" "${common[@]}" --tau "$(IFS=,; echo "${taus[*]}")" \
        --seed "$(IFS=,; echo "${seeds[*]}")" 2>/dev/null | tail -n +2 | sort >"$work/ensemble.csv"
    }
    separate() {
      for seed in "${seeds[@]}"; do
        for tau in "${taus[@]}"; do
          "$program" train --model "$model" "${common[@]}" --tau "$tau" --seed "$seed" 2>/dev/null | tail -n +2
        done
      done | sort >"$work/separate.csv"
    }
    e=$( { time -p ensemble; } 2>&1 | awk '/^user|^sys/ {s += $2} END {print s}')
    s=$( { time -p separate; } 2>&1 | awk '/^user|^sys/ {s += $2} END {print s}')
    same=$(cmp -s "$work/ensemble.csv" "$work/separate.csv" && echo identical || echo DIFFERENT)
    awk -v m="$model" -v r="$round" -v e="$e" -v s="$s" -v same="$same" \
      'BEGIN {printf "%s round %d: ensemble %.1f s, 24 processes %.1f s of CPU, ratio %.2fx, rows %s\n", m, r, e, s, s / e, same}'
  done
done
