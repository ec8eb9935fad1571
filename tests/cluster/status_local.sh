#!/usr/bin/env bash
# Job status for submit_local.sh, in the form Snakemake's generic cluster executor expects:
# prints running, success or failed for the job id given.
set -euo pipefail

id=$1
spool=${GLMSTACK_LOCAL_SPOOL:-.snakemake/local-cluster}

finished() {
    if [ -f "$spool/$id.exit" ]; then
        if [ "$(cat "$spool/$id.exit")" = 0 ]; then echo success; else echo failed; fi
        return 0
    fi
    return 1
}

finished && exit 0
pid=$(cat "$spool/$id.pid" 2>/dev/null || true)
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    echo running
    exit 0
fi
# The process is gone: its exit file is written just before it ends.
sleep 1
finished || echo failed
