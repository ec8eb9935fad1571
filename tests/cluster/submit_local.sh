#!/usr/bin/env bash
# A "cluster" on this machine, for Snakemake's generic cluster executor: each job script is started
# as its own detached process (new session, no terminal, nothing inherited but the environment),
# exactly as a scheduler would start it on a node, and a job id is printed for status_local.sh.
#
#   snakemake --executor cluster-generic --jobs 4 \
#     --cluster-generic-submit-cmd "tests/cluster/submit_local.sh --name {rule}" \
#     --cluster-generic-status-cmd tests/cluster/status_local.sh
#
# Job stdout/stderr and exit codes go to $GLMSTACK_LOCAL_SPOOL (default .snakemake/local-cluster
# under the directory snakemake runs in): <id>.out, <id>.exit, <id>.pid.
set -euo pipefail

name=job
if [ "${1:-}" = "--name" ]; then
    name=$2
    shift 2
fi
if [ $# -ne 1 ] || [ ! -f "$1" ]; then
    echo "usage: submit_local.sh [--name NAME] JOBSCRIPT" >&2
    exit 2
fi
jobscript=$1
spool=${GLMSTACK_LOCAL_SPOOL:-.snakemake/local-cluster}
mkdir -p "$spool"
spool=$(cd "$spool" && pwd)
id="$name-$(date +%s%N)-$$"
# Keep a copy: Snakemake removes the job script once the job has finished.
cp "$jobscript" "$spool/$id.sh"
setsid bash -c 'bash "$1.sh" > "$1.out" 2>&1; echo $? > "$1.exit.tmp"; mv "$1.exit.tmp" "$1.exit"' \
    _ "$spool/$id" < /dev/null > /dev/null 2>&1 &
echo $! > "$spool/$id.pid"
echo "$id"
