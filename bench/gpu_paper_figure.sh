#!/usr/bin/env bash
# Runs one Transformer figure at the paper's scale on a GPU machine (the ../shared/cuda recipe; see
# bench/gpu_session.sh) and packs its output directory into $OUT/NAME-paper.tgz.
#   OUT=out [BUDGET=SECONDS] [STATE=ARCHIVE] bash bench/gpu_paper_figure.sh NAME [SRC]
# BUDGET: the figure's run is killed after that many seconds (a GPU lease is minutes; a paper-scale
# ensemble trains for hours). Its directory is packed either way, with the journal of finished groups and
# the unfinished ensembles' snapshots (--snapshot-every ${SNAPSHOT_EVERY:-60}); STATE, such an archive
# from an earlier session, is unpacked first, so the run continues where that one stopped (the same
# command, as after any kill: docs/experiments.md, "Crash-safe runs").
set -uo pipefail
name=${1:?usage: gpu_paper_figure.sh NAME [SRC]}
out=$(realpath -m "${OUT:-gpu-out}")
state=${STATE:+$(realpath "$STATE")}
mkdir -p "$out"
deps=$(realpath .cuda-deps)
cd "${2:-.}" || exit 1
exec > >(tee -a "$out/$name-paper.log") 2>&1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader
time bash "$deps/build-with-torch.sh" > "$out/build.txt" 2>&1 || { tail -40 "$out/build.txt"; exit 1; }
source build-cuda/env.sh
[ -n "$state" ] && tar xzf "$state" -C "$out" && echo "resuming from $state"
time timeout -s KILL "${BUDGET:-0}" build-cuda/iclab reproduce "$name" --scale paper --out "$out/$name-paper" \
  --snapshot-every "${SNAPSHOT_EVERY:-60}"
echo "reproduce exit status $? (137: stopped by BUDGET; rerun with STATE=$name-paper.tgz to continue)"
cat "$out/$name-paper"/*/results*.csv 2>/dev/null | head -50
tar czf "$out/$name-paper.tgz" -C "$out" "$name-paper" && rm -rf "${out:?}/$name-paper"
