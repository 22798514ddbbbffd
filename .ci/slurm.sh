#!/usr/bin/env bash
# CI job: a real single-node SLURM cluster runs the array script of docs/experiments.md ("Sharding on a
# cluster"), and the merged shards must equal a single unsharded run byte for byte, after one array task
# was cancelled mid-run and resubmitted with the same script.
#
# It uses Debian's slurmctld, slurmd, slurm-client and munge (installed here when missing) and the
# programs the main job built (BUILD_DIR/iclab), so it adds minutes, never a rebuild. Everything it creates
# is private to one temporary directory: the munge key and socket, slurm.conf (free ports, this host with
# the CPUs and memory `slurmd -C` reports, proctrack/linuxproc, task/none, SlurmUser=root), state, spool,
# pid and log files. The daemons run in the foreground under setsid; a trap cancels the jobs, stops the
# daemons (by their pids) and removes the directory on every exit. Every wait has a deadline.
# Needs root (slurmd starts the jobs); run as another user it re-executes itself through sudo.
# Usage: .ci/slurm.sh [BUILD_DIR]   (default build)
set -euo pipefail
cd "$(dirname "$0")/.."
repo="$PWD"
build="${1:-build}"
case "$build" in /*) ;; *) build="$repo/$build" ;; esac
start_time=$(date +%s)

if [ "$(id -u)" -ne 0 ]; then exec sudo -E "$repo/.ci/slurm.sh" "$@"; fi
if [ ! -x "$build/iclab" ]; then
  echo "slurm.sh: $build/iclab is missing: run the main CI job (the README's build) first" >&2
  exit 1
fi

packages=(slurmctld slurmd slurm-client munge)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Debian's policy-rc.d (or the absence of systemd) keeps the packaged services from starting; this job
  # never uses them, only the binaries.
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

tmp=$(mktemp -d /tmp/iclab-slurm.XXXXXX)
chmod 711 "$tmp"  # munged wants its socket's directories searchable by all
daemon_pids=()
export SLURM_CONF="$tmp/slurm.conf"

show_logs() {
  for f in "$tmp"/log/*.log "$tmp"/work/slurm-*.out; do
    [ -f "$f" ] || continue
    echo "---- $f (last 25 lines)"
    tail -n 25 "$f"
  done
}

cleanup() {
  local rc=$?
  trap - EXIT
  set +e
  if [ "$rc" -ne 0 ]; then
    echo "slurm.sh: FAILED (exit $rc); the daemons' logs and the jobs' output follow" >&2
    show_logs >&2
  fi
  if [ -f "$SLURM_CONF" ] && [ -f "$tmp/pid/slurmctld.pid" ]; then
    timeout 10 scancel --full --quiet --user=root >/dev/null 2>&1
  fi
  # Stop the daemons: slurmd first (it ends its job steps), then slurmctld, then munged.
  local pid
  for ((i = ${#daemon_pids[@]} - 1; i >= 0; i--)); do
    pid=${daemon_pids[i]}
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
  done
  # Anything still running inside the temporary directory was started by this job (array tasks, whose
  # slurmstepd detached from slurmd): end it by its pid before removing the directory.
  cd "$repo"
  for proc in /proc/[0-9]*; do
    case "$(readlink "$proc/cwd" 2>/dev/null)" in
      "$tmp" | "$tmp"/*) [ "${proc#/proc/}" = "$$" ] || kill -KILL "${proc#/proc/}" 2>/dev/null ;;
    esac
  done
  rm -rf "$tmp"
  echo "slurm.sh: $([ "$rc" -eq 0 ] && echo passed || echo failed) in $(($(date +%s) - start_time)) s"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# wait_for SECONDS WHAT COMMAND...: polls COMMAND every 0.2 s until it succeeds, or fails naming WHAT.
wait_for() {
  local seconds=$1 what=$2
  shift 2
  local deadline=$(($(date +%s) + seconds))
  until "$@" >/dev/null 2>&1; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      echo "slurm.sh: timed out after $seconds s waiting for $what" >&2
      return 1
    fi
    sleep 0.2
  done
}

mkdir -p "$tmp"/munge "$tmp"/socket "$tmp"/state "$tmp"/spool "$tmp"/pid "$tmp"/log "$tmp"/work
chmod 700 "$tmp"/munge
chmod 755 "$tmp"/socket

# munge: a fresh key, its own socket.
head -c 1024 /dev/urandom >"$tmp/munge/munge.key"
chmod 400 "$tmp/munge/munge.key"
socket="$tmp/socket/munge.socket"
setsid munged --foreground --key-file="$tmp/munge/munge.key" --socket="$socket" \
  --pid-file="$tmp/pid/munged.pid" --log-file="$tmp/log/munged.log" --seed-file="$tmp/munge/munged.seed" \
  </dev/null >>"$tmp/log/munged.log" 2>&1 &
daemon_pids+=($!)
wait_for 30 "munged" bash -c "munge --socket='$socket' -n | unmunge --socket='$socket'"

# slurm.conf: two free ports, and this host as it is.
read -r ctld_port slurmd_port < <(/usr/bin/python3 -c '
import socket
ss = [socket.socket() for _ in range(2)]
for s in ss: s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in ss))')
host=$(hostname -s)
node=$(slurmd -C | head -n 1)  # NodeName=HOST CPUs=... RealMemory=...
cpus=$(sed -n 's/.*CPUs=\([0-9]*\).*/\1/p' <<<"$node")
cat >"$SLURM_CONF" <<EOF
ClusterName=iclabci
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$slurmd_port
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$socket
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SwitchType=switch/none
MpiDefault=none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerType=sched/backfill
ReturnToService=2
KillWait=5
MailProg=/bin/true
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/pid/slurmctld.pid
SlurmdPidFile=$tmp/pid/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
$node NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=ci Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF

setsid slurmctld -D -c -f "$SLURM_CONF" </dev/null >>"$tmp/log/slurmctld.stdout" 2>&1 &
daemon_pids+=($!)
wait_for 60 "slurmctld to answer" scontrol ping
setsid slurmd -D -f "$SLURM_CONF" </dev/null >>"$tmp/log/slurmd.stdout" 2>&1 &
daemon_pids+=($!)
wait_for 90 "the node to be idle in sinfo" bash -c '[ "$(sinfo -h -n '"$host"' -o %t)" = idle ]'
sinfo

# The array script, exactly as docs/experiments.md shows it (its first #!/bin/bash block after
# "## Sharding on a cluster"), and a quick experiment under the name it expects.
cd "$tmp/work"
awk '/^## Sharding on a cluster/ {s = 1} s && f && /^```/ {exit} s && /^#!\/bin\/bash$/ {f = 1} f {print}' \
  "$repo/docs/experiments.md" >fig4.sh
grep -q '^#SBATCH --array=0-15$' fig4.sh && grep -q '^iclab run fig4.toml' fig4.sh || {
  echo "slurm.sh: docs/experiments.md no longer has the array script this job runs:" >&2
  cat fig4.sh >&2
  exit 1
}
# 3 x 16 points; shard I holds the three points at the I-th tau, and the last tau is large, so that
# array task 15 runs for seconds and can be cancelled between two of its points.
cat >fig4.toml <<'EOF'
name = "slurm-ci"
compute = ["simulation", "theory"]
seed = 7
repeats = 4
[parameters]
d = 30
alpha = 2
rho = 0.01
lambda = 1e-6
[grid]
kappa = [0.5, 2, inf]
tau = [0.2, 0.4, 0.6, 0.8, 1.2, 1.4, 1.6, 1.8, 2, 2.5, 3, 3.5, 4, 5, 6, 60]
EOF
export PATH="$build:$PATH"
# The script asks for 2 CPUs per task; a 1-CPU machine gets 1 (a command-line option overrides #SBATCH).
sbatch_opts=()
if [ "$cpus" -lt 2 ]; then sbatch_opts=(--cpus-per-task=1); fi

job=$(sbatch --parsable "${sbatch_opts[@]}" fig4.sh)
echo "submitted array job $job"
target=15
journal="results/fig4/results.shard-$target-of-16.journal"
# Cancel task 15 once it has journaled its first point (a header line plus one point line).
wait_for 300 "array task $target to journal a point" bash -c "[ \$(wc -l <'$journal') -ge 2 ]"
scancel "${job}_$target"
echo "cancelled ${job}_$target after $(($(wc -l <"$journal") - 1)) journaled point(s)"
wait_for 600 "the array job to finish" bash -c "[ -z \"\$(squeue -h -j $job)\" ]"
grep -h "CANCELLED" "slurm-${job}_$target.out" || true
if [ -f "results/fig4/results.shard-$target-of-16.csv" ]; then
  echo "slurm.sh: array task $target finished before it was cancelled: nothing was resumed" >&2
  exit 1
fi
completed=$(ls results/fig4/results.shard-*-of-16.csv | wc -l)
[ "$completed" -eq 15 ] || { echo "slurm.sh: $completed of the other 15 shards completed" >&2; exit 1; }

# The same script again, for the cancelled task only: it resumes after its journaled points.
rejob=$(sbatch --parsable "${sbatch_opts[@]}" --array=$target fig4.sh)
echo "resubmitted task $target as job $rejob"
wait_for 300 "the resubmitted task to finish" bash -c "[ -z \"\$(squeue -h -j $rejob)\" ]"
grep -E "points \([1-9][0-9]* found finished\)" "slurm-${rejob}_$target.out" || {
  echo "slurm.sh: the resubmitted task did not resume from its journal" >&2
  exit 1
}

iclab merge results/fig4 --out fig4.csv
timeout 600 iclab run fig4.toml --out single
cmp fig4.csv single/results.csv
echo "slurm.sh: the merged shards equal the single run ($(($(wc -l <fig4.csv) - 1)) rows)"
