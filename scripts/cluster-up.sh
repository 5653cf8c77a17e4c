#!/usr/bin/env bash
# A local 3-master Redis Cluster on loopback for `npm run test:cluster`, from the
# redis-server on PATH (Debian's). Idempotent: when the cluster already answers with
# cluster_state:ok this does nothing. Data lives in memory only (no RDB, no AOF), so
# a cluster that lost a node cannot heal: it is then made anew. Node state files and
# logs go to $CLUSTER_DIR. Stop it with scripts/cluster-down.sh.
# CLUSTER_PORTS (default "7101 7102 7103") and CLUSTER_DIR override where it runs;
# with other ports, set TEST_REDIS_CLUSTER_NODES to match for `npm run test:cluster`.
set -euo pipefail

read -r -a PORTS <<< "${CLUSTER_PORTS:-7101 7102 7103}"
DIR="${CLUSTER_DIR:-${TMPDIR:-/tmp}/async-jobs-cluster}"
HOST=127.0.0.1

cli() { local port=$1; shift; redis-cli -h "$HOST" -p "$port" "$@"; }
# One field of CLUSTER INFO on one node, or nothing when the node does not answer.
info() { cli "$1" cluster info 2>/dev/null | tr -d '\r' | sed -n "s/^$2://p"; }
all_ok() {
  for p in "${PORTS[@]}"; do [ "$(info "$p" cluster_state)" = ok ] || return 1; done
}
# Waits up to $1 tenths of a second for every node to say cluster_state:ok.
wait_ok() {
  for _ in $(seq 1 "$1"); do all_ok && return 0; sleep 0.1; done
  return 1
}

any_up() {
  for p in "${PORTS[@]}"; do cli "$p" ping >/dev/null 2>&1 && return 0; done
  return 1
}

# A cluster that is still converging gets a moment; one that is broken is stopped.
if any_up && wait_ok 30; then
  echo "redis cluster already up on ${PORTS[*]}"
  exit 0
fi
for p in "${PORTS[@]}"; do cli "$p" shutdown nosave >/dev/null 2>&1 || true; done
for p in "${PORTS[@]}"; do
  for _ in $(seq 1 50); do cli "$p" ping >/dev/null 2>&1 || break; sleep 0.1; done
done
rm -rf "$DIR"
mkdir -p "$DIR"

for p in "${PORTS[@]}"; do
  redis-server --port "$p" --bind "$HOST" --daemonize yes \
    --cluster-enabled yes --cluster-config-file "$DIR/nodes-$p.conf" --cluster-node-timeout 5000 \
    --save '' --appendonly no --dir "$DIR" --logfile "$DIR/redis-$p.log" --pidfile "$DIR/redis-$p.pid"
done
for p in "${PORTS[@]}"; do
  for _ in $(seq 1 50); do cli "$p" ping >/dev/null 2>&1 && break; sleep 0.1; done
  cli "$p" ping >/dev/null || { echo "redis-server on port $p did not start; see $DIR/redis-$p.log" >&2; exit 1; }
done

nodes=()
for p in "${PORTS[@]}"; do nodes+=("$HOST:$p"); done
if ! redis-cli --cluster create "${nodes[@]}" --cluster-replicas 0 --cluster-yes >"$DIR/create.log" 2>&1; then
  cat "$DIR/create.log" >&2
  exit 1
fi

if wait_ok 300; then
  echo "redis cluster up on ${PORTS[*]} (state in $DIR)"
  exit 0
fi
echo "redis cluster on ${PORTS[*]} did not reach cluster_state:ok" >&2
for p in "${PORTS[@]}"; do echo "--- $p" >&2; cli "$p" cluster info 2>&1 | head -3 >&2 || true; done
exit 1
