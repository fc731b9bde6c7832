#!/bin/sh
# zkchaos node entrypoint: start one ZooKeeper server from /conf/zoo.cfg and /conf/myid,
# logging to stdout.
#
# Why it waits for peer names: Docker's DNS only answers for running containers. A
# server that parses its config before its peers resolve logs "Failed to resolve
# address: zk3" (3.4.13) or "Cannot open channel to 3 at election address
# zk3/<unresolved>:3888", and its notification back-off then doubles up to 6.4 s —
# measured here as a bimodal 0.8 s / 12.9 s ensemble start. The wait is
# bounded (ZKCHAOS_PEER_WAIT_MS): a peer that is down on purpose must not block a
# restart, and ZooKeeper itself then behaves as it would in production.
set -eu
CFG=/conf/zoo.cfg
CDS=/usr/local/share/zkchaos
say() { echo "$(date -u '+%Y-%m-%d %H:%M:%S,%3N') - INFO  [zkchaos-entrypoint] - $*"; }
main=org.apache.zookeeper.server.quorum.QuorumPeerMain
# log4j.properties is named explicitly rather than found through /conf on the
# classpath: the JVM refuses a class-data archive whose classpath has a non-empty dir.
java_flags="$JVM_FLAGS -Dlog4j.configuration=file:/conf/log4j.properties"

if [ "${1:-}" = "--build-cds" ]; then
	# Image build time: record the classes three quorum servers (on 127.0.0.1, one
	# container) load while they elect a leader and serve, and dump them into an
	# application class-data archive. Starting three JVMs at once on two cores is
	# CPU-bound; the archive cuts their class loading.
	mkdir -p "$CDS"
	for id in 1 2 3; do
		d=/tmp/cds/$id
		mkdir -p "$d/data"
		echo "$id" >"$d/data/myid"
		printf '%s\n' tickTime=200 initLimit=10 syncLimit=5 "dataDir=$d/data" "clientPort=218$id" \
			admin.enableServer=false '4lw.commands.whitelist=*' \
			server.1=127.0.0.1:2881:3881 server.2=127.0.0.1:2882:3882 server.3=127.0.0.1:2883:3883 >"$d/zoo.cfg"
		# shellcheck disable=SC2086
		java $java_flags -XX:DumpLoadedClassList="$d/classes.lst" -cp "$ZK_CLASSPATH" $main "$d/zoo.cfg" >"$d/log" 2>&1 &
		echo $! >"$d/pid"
	done
	i=0
	while [ "$(cat /tmp/cds/*/log | grep -c 'LEADER ELECTION TOOK')" -lt 3 ]; do
		i=$((i + 1))
		[ "$i" -lt 1200 ] || { tail -n 40 /tmp/cds/*/log; echo "build-cds: quorum did not form" >&2; exit 1; }
		sleep 0.05
	done
	sleep 1 # let the first requests' classes load too
	for id in 1 2 3; do kill -TERM "$(cat /tmp/cds/$id/pid)"; done
	wait || true
	# One server's list: JDK 21 numbers the entries, so lists cannot be merged; the
	# classes of the other role load as usual.
	cp /tmp/cds/1/classes.lst "$CDS/classes.lst"
	# shellcheck disable=SC2086
	java $JVM_FLAGS -Xshare:dump -XX:SharedClassListFile="$CDS/classes.lst" \
		-XX:SharedArchiveFile="$CDS/zk.jsa" -cp "$ZK_CLASSPATH" >/tmp/cds/dump.log 2>&1 ||
		{ tail -n 20 /tmp/cds/dump.log; echo "build-cds: dump failed" >&2; exit 1; }
	rm -rf /tmp/cds
	echo "build-cds: $(wc -l <"$CDS/classes.lst") classes archived ($(du -h "$CDS/zk.jsa" | cut -f1))"
	exit 0
fi
if [ -f "$CDS/zk.jsa" ]; then
	java_flags="$java_flags -XX:SharedArchiveFile=$CDS/zk.jsa"
fi

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

# shellcheck disable=SC2086 # a list of flags
exec java $java_flags -cp "$ZK_CLASSPATH" $main "$CFG"
