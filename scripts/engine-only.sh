#!/usr/bin/env bash
# Runs scenario specs from inside a container that has no network at all
# (--network none) and reaches Docker only through the engine's socket, mounted in:
# the position of a test process on Docker Desktop, in a Docker-in-Docker CI job or
# with a remote engine, where the containers' addresses cannot be routed to. The
# harness must choose its tunnel through the engine by itself (ZKCHAOS_EXPECT_REACH
# makes the specs assert that, and that not one connection went to a container
# address). Afterwards nothing of the run may be left on the engine.
#
#   scripts/engine-only.sh '<ginkgo label filter>'
set -euo pipefail
cd "$(dirname "$0")/.."

labels=${1:?ginkgo label filter}
sock=${DOCKER_SOCK:-/var/run/docker.sock}
[ -S "$sock" ] || { echo "engine-only: no engine socket at $sock (set DOCKER_SOCK)" >&2; exit 2; }
go=${GO:-go}
run_id="engine-only-$(date -u +%Y%m%dT%H%M%S)-$$"
out="reports/out"
mkdir -p "$out" reports/artifacts bin

echo "engine-only: building zkchaos and the suite as a static test binary"
CGO_ENABLED=0 $go build -o bin/zkchaos ./cmd/zkchaos
CGO_ENABLED=0 $go test -c -o bin/scenarios.test ./scenarios

cleanup() {
	bin/zkchaos clean --run "$run_id" >/dev/null 2>&1 || true
}
trap cleanup EXIT INT TERM

echo "engine-only: running '$labels' in a container with --network none (run $run_id)"
status=0
docker run --rm --name "zkchaos-$run_id-runner" \
	--network none \
	--label zkchaos=1 --label "zkchaos.run=$run_id" \
	-v "$sock:/var/run/docker.sock" \
	-v "$PWD/bin/scenarios.test:/zkchaos/scenarios/scenarios.test:ro" \
	-v "$PWD/reports:/zkchaos/reports" \
	-w /zkchaos/scenarios \
	-e ZKCHAOS_RUN_ID="$run_id" \
	-e ZKCHAOS_EXPECT_REACH=tunnel \
	-e TESTCONTAINERS_RYUK_DISABLED=true \
	--entrypoint /zkchaos/scenarios/scenarios.test \
	zkchaos/client:api2 \
	-test.v -test.timeout=30m \
	-ginkgo.v -ginkgo.label-filter="$labels" \
	-ginkgo.junit-report=/zkchaos/reports/out/junit-engine-only.xml || status=$?

# Nothing of the run may be left: count before the trap's sweep.
left=$(docker ps -aq --filter "label=zkchaos.run=$run_id" | wc -l)
nets=$(docker network ls -q --filter "label=zkchaos.run=$run_id" | wc -l)
if [ "$left" -ne 0 ] || [ "$nets" -ne 0 ]; then
	echo "engine-only: the run left $left container(s) and $nets network(s)" >&2
	status=1
fi
echo "engine-only: exit $status, leftovers: $left container(s), $nets network(s)"
exit $status
