#!/usr/bin/env bash
# Stops the local Redis Cluster that scripts/cluster-up.sh started and removes its state.
# CLUSTER_PORTS (default "7101 7102 7103") and CLUSTER_DIR override where it runs;
# with other ports, set TEST_REDIS_CLUSTER_NODES to match for `npm run test:cluster`.
set -euo pipefail

read -r -a PORTS <<< "${CLUSTER_PORTS:-7101 7102 7103}"
DIR="${CLUSTER_DIR:-${TMPDIR:-/tmp}/async-jobs-cluster}"

for p in "${PORTS[@]}"; do
  redis-cli -h 127.0.0.1 -p "$p" shutdown nosave >/dev/null 2>&1 || true
done
for p in "${PORTS[@]}"; do
  for _ in $(seq 1 50); do redis-cli -h 127.0.0.1 -p "$p" ping >/dev/null 2>&1 || break; sleep 0.1; done
done
rm -rf "$DIR"
echo "redis cluster on ${PORTS[*]} stopped"
