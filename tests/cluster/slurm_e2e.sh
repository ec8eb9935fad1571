#!/usr/bin/env bash
# Opt-in end-to-end check on a real SLURM cluster: installs Debian's SLURM packages, starts a
# single-node cluster (munged, slurmctld, slurmd) on this machine, runs the bundled study through it
# with profiles/slurm, and checks that the results equal a local run byte for byte.
#
#   sudo tests/cluster/slurm_e2e.sh [WORKDIR]        # as root, on a Debian 12 machine you can spare
#
# Needs: root, apt (Debian bookworm: slurm 22.05, munge 0.5), the project's venv with the SLURM
# executor plugin (`.venv/bin/pip install -e ".[cluster]"`; or PYTHON=/path/to/python).
# The cluster's state, spool and logs live in WORKDIR/slurm; its configuration is written to
# /etc/slurm/slurm.conf (the executor plugin's job steps drop SLURM_CONF from their environment, so
# srun inside a job only finds the default path); an existing slurm.conf is moved aside and put
# back at the end. Accounting is off (no slurmdbd/MariaDB needed): the
# executor plugin is told to poll job status with squeue (`--slurm-status-command squeue`, MinJobAge
# is one hour), and every finished job is recorded by SLURM's jobcomp/filetxt plugin in
# WORKDIR/slurm/jobcomp.log, which is the evidence that each job went through SLURM.
# The daemons it started are stopped at the end (by pid), also on failure; a munged that was
# already running is used and left alone.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PY=${PYTHON:-$ROOT/.venv/bin/python}
WORK=$(mkdir -p "${1:-/tmp/glmstack-slurm}" && cd "${1:-/tmp/glmstack-slurm}" && pwd)
SL=$WORK/slurm
CONF=/etc/slurm/slurm.conf
CONF_BACKUP=$CONF.before-glmstack-e2e
STARTED=()   # pids of the daemons this script started
unset SLURM_CONF

say() { printf '\n== %s\n' "$*"; }
die() { printf 'slurm_e2e: %s\n' "$*" >&2; exit 1; }

stop_daemons() {
    local pid
    for ((i = ${#STARTED[@]} - 1; i >= 0; i--)); do
        pid=${STARTED[i]}
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
            kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
            echo "stopped pid $pid"
        fi
    done
}
restore_conf() {
    if [ -e "$CONF_BACKUP" ]; then
        mv -f "$CONF_BACKUP" "$CONF" && echo "restored the previous $CONF"
    elif [ -e "$CONF" ] && head -1 "$CONF" | grep -q 'written by tests/cluster/slurm_e2e.sh'; then
        rm -f "$CONF" && echo "removed $CONF"
    fi
}
cleanup() {
    stop_daemons
    restore_conf
}
trap cleanup EXIT

[ "$(id -u)" = 0 ] || die "run as root (it installs packages and starts daemons)"
command -v apt-get >/dev/null || die "needs a Debian machine (apt-get)"
"$PY" -c "import snakemake_executor_plugin_slurm" 2>/dev/null \
    || die "$PY lacks snakemake-executor-plugin-slurm: $ROOT/.venv/bin/pip install -e '$ROOT[cluster]'"
for name in slurmctld slurmd munged; do
    if pgrep -x "$name" >/dev/null && [ "$name" != munged ]; then
        die "a $name is already running on this machine; stop it first (this script starts its own)"
    fi
done

say "installing munge and SLURM from Debian's packages"
# no service may start during installation: this script starts (and stops) the daemons itself
policy_rc=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e $policy_rc ]; then
    printf '#!/bin/sh\nexit 101\n' > $policy_rc && chmod +x $policy_rc && own_policy=1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends munge slurmctld slurmd slurm-client procps > "$WORK/apt.log" 2>&1 \
    || { tail -20 "$WORK/apt.log"; die "apt-get install failed (log: $WORK/apt.log)"; }
[ $own_policy = 1 ] && rm -f $policy_rc
slurmctld -V

say "starting munged"
install -d -o munge -g munge -m 0755 /run/munge
install -d -o munge -g munge -m 0700 /var/lib/munge /var/log/munge /etc/munge
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    [ -s /etc/munge/munge.key ] || setpriv --reuid munge --regid munge --init-groups mungekey --create
    setpriv --reuid munge --regid munge --init-groups /usr/sbin/munged --foreground > "$WORK/munged.log" 2>&1 &
    STARTED+=($!)
    for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.2; done
    munge -n | unmunge >/dev/null || die "munged did not start (log: $WORK/munged.log)"
    echo "munged pid ${STARTED[-1]}"
else
    echo "using the munged already running"
fi

say "writing $CONF (single node: $(hostname -s))"
rm -rf "$SL" && mkdir -p "$SL/state" "$SL/spool"
mkdir -p /etc/slurm
if [ -e "$CONF" ] && ! head -1 "$CONF" | grep -q 'written by tests/cluster/slurm_e2e.sh'; then
    mv "$CONF" "$CONF_BACKUP"
fi
host=$(hostname -s)
cpus=$(nproc)
mem_mb=$(awk '/MemTotal/ {print int($2 / 1024 * 0.9)}' /proc/meminfo)
cat > "$CONF" <<EOF
# single-node test cluster written by tests/cluster/slurm_e2e.sh
ClusterName=glmstack
SlurmctldHost=$host(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
StateSaveLocation=$SL/state
SlurmdSpoolDir=$SL/spool
SlurmctldPidFile=$SL/slurmctld.pid
SlurmdPidFile=$SL/slurmd.pid
SlurmctldLogFile=$SL/slurmctld.log
SlurmdLogFile=$SL/slurmd.log
SlurmctldPort=16817
SlurmdPort=16818
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$SL/jobcomp.log
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
MinJobAge=3600
ReturnToService=2
MpiDefault=none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=main Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF

say "starting slurmctld and slurmd"
slurmctld -D -i -f "$CONF" > "$SL/slurmctld.out" 2>&1 &
STARTED+=($!)
echo "slurmctld pid ${STARTED[-1]}"
for _ in $(seq 50); do scontrol ping 2>/dev/null | grep -q UP && break; sleep 0.2; done
scontrol ping | grep -q UP || { tail -20 "$SL/slurmctld.log" "$SL/slurmctld.out"; die "slurmctld did not come up"; }
slurmd -D -f "$CONF" -N "$host" > "$SL/slurmd.out" 2>&1 &
STARTED+=($!)
echo "slurmd pid ${STARTED[-1]}"
for _ in $(seq 100); do sinfo -h -N -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)' && break; sleep 0.2; done
sinfo -N -l
sinfo -h -N -o %T | grep -qE '^idle' || { tail -20 "$SL/slurmd.log" "$SL/slurmd.out"; die "the node is not idle"; }

say "local reference run"
rm -rf "$WORK/local" "$WORK/cluster"
for run in local cluster; do
    mkdir -p "$WORK/$run" && cp -r "$ROOT/resources" "$WORK/$run/"
done
SNAKEMAKE=("$PY" -m snakemake --snakefile "$ROOT/Snakefile" --configfile "$ROOT/config/config.yaml")
(cd "$WORK/local" && "${SNAKEMAKE[@]}" --cores 2 --quiet rules)

say "the same study through SLURM (profiles/slurm)"
if ! (cd "$WORK/cluster" && "${SNAKEMAKE[@]}" --profile "$ROOT/profiles/slurm" --jobs 4 \
    --slurm-status-command squeue --slurm-no-account --slurm-init-seconds-before-status-checks 5 \
    2>&1 | tee "$WORK/cluster/snakemake.log"); then
    die "the SLURM run failed: see $WORK/cluster/snakemake.log and $WORK/cluster/.snakemake/slurm_logs/"
fi
grep -q "steps (100%) done" "$WORK/cluster/snakemake.log" || die "the SLURM run did not finish"

say "jobs SLURM ran (jobcomp/filetxt, $SL/jobcomp.log)"
awk '{ line = "  "; for (i = 1; i <= NF; i++) if ($i ~ /^(JobId|Name|JobState|StartTime|EndTime|NodeList)=/) line = line " " $i; print line }' \
    "$SL/jobcomp.log"
n_slurm=$(grep -c 'JobState=COMPLETED' "$SL/jobcomp.log" || true)
n_submitted=$(grep -c "Job .* has been submitted with SLURM jobid" "$WORK/cluster/snakemake.log" || true)
echo "SLURM completed $n_slurm jobs; snakemake submitted $n_submitted"
squeue -h -t all -o '%i %T %M %k' | sed 's/^/  squeue: /' | head -40
echo "SLURM logs: $(find "$WORK/cluster/.snakemake/slurm_logs" -name '*.log' | wc -l) files under $WORK/cluster/.snakemake/slurm_logs"
[ "$n_slurm" -gt 0 ] && [ "$n_slurm" = "$n_submitted" ] || die "job counts differ"
if grep -q 'JobState=FAILED' "$SL/jobcomp.log"; then die "a SLURM job failed"; fi

say "comparing results with the local run"
"$PY" - "$WORK/local/results" "$WORK/cluster/results" <<'EOF'
import sys
from pathlib import Path

import numpy as np

ours, theirs = (Path(p) for p in sys.argv[1:3])


def files(root):
    return sorted(
        p.relative_to(root) for p in root.rglob("*")
        if p.is_file() and p.relative_to(root).parts[0] not in ("logs", "benchmarks", "stamps") and not p.name.startswith(".")
    )


names = files(ours)
assert names == files(theirs), "different sets of files"
same_bytes = 0
for name in names:
    a, b = (ours / name).read_bytes(), (theirs / name).read_bytes()
    if a == b:
        same_bytes += 1
        continue
    # npz intermediates carry zip timestamps: equal arrays are enough for those
    assert name.suffix == ".npz", f"{name} differs"
    with np.load(ours / name) as x, np.load(theirs / name) as y:
        assert sorted(x.files) == sorted(y.files), name
        for key in x.files:
            np.testing.assert_array_equal(x[key], y[key], err_msg=f"{name}:{key}", strict=True)
print(f"{len(names)} files equal ({same_bytes} byte for byte, {len(names) - same_bytes} npz array for array)")
EOF

say "PASS: the bundled study ran through SLURM and gave the local run's results"
