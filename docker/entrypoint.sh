#!/bin/sh
# zkchaos node entrypoint: start one ZooKeeper server from /conf/zoo.cfg and /conf/myid,
# logging to stdout.
#
# Why it waits for peer names: Docker's DNS only answers for running containers. A
# server that parses its config before its peers resolve logs "Failed to resolve
# address: zk3" (3.4.13) or "Cannot open channel to 3 at election address
# zk3/<unresolved>:3888", and its notification back-off then doubles up to 6.4 s —
# measured here as a bimodal 0.8 s / 12.9 s ensemble start (FACTS.md §1). The wait is
# bounded (ZKCHAOS_PEER_WAIT_MS): a peer that is down on purpose must not block a
# restart, and ZooKeeper itself then behaves as it would in production.
set -eu
CFG=/conf/zoo.cfg
say() { echo "$(date -u '+%Y-%m-%d %H:%M:%S,%3N') - INFO  [zkchaos-entrypoint] - $*"; }

dataDir=$(sed -n 's/^dataDir=//p' "$CFG" | tail -n 1)
dataLogDir=$(sed -n 's/^dataLogDir=//p' "$CFG" | tail -n 1)
mkdir -p "$dataDir" ${dataLogDir:+"$dataLogDir"}
cp /conf/myid "$dataDir/myid"

wait_ms=${ZKCHAOS_PEER_WAIT_MS:-10000}
start=$(date +%s%3N)
for host in $(sed -n 's/^server\.[0-9]*=\([^:]*\):.*/\1/p' "$CFG"); do
	until getent hosts "$host" >/dev/null 2>&1; do
		if [ $(( $(date +%s%3N) - start )) -ge "$wait_ms" ]; then
			say "peer $host does not resolve after ${wait_ms} ms; starting anyway"
			break
		fi
		sleep 0.02
	done
done
say "peers resolved after $(( $(date +%s%3N) - start )) ms; starting ZooKeeper $ZK_VERSION"

# shellcheck disable=SC2086 # JVM_FLAGS is a list of flags
exec java $JVM_FLAGS -cp "$ZK_CLASSPATH" org.apache.zookeeper.server.quorum.QuorumPeerMain "$CFG"
