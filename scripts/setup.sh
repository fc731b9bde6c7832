#!/usr/bin/env bash
# What `make demo`, `make test` and .ci/run need before anything else, installed
# only where it is missing, saying what it installs: a Docker engine that answers,
# and debootstrap where an image has to be built. Runs as root or through sudo;
# uses Debian's packages (apt-get), nothing else.
#
#   scripts/setup.sh            # check, install what is missing
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*"; }
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else SUDO="false"; fi
fi
export DEBIAN_FRONTEND=noninteractive

apt_updated=""
apt_install() {
	if ! command -v apt-get >/dev/null 2>&1; then
		say "cannot install $* here: no apt-get (install it yourself, then run make again)"
		exit 2
	fi
	if [ "$SUDO" = "false" ]; then
		say "installing $* needs root: run as root or install sudo"
		exit 2
	fi
	say "installing from Debian's packages: $*"
	if [ -z "$apt_updated" ]; then
		$SUDO apt-get update -q >/dev/null
		apt_updated=1
	fi
	$SUDO apt-get install -y -q --no-install-recommends "$@" >/dev/null
}

# 1. A Docker engine that answers (DOCKER_HOST is honoured: a remote engine needs nothing here).
if ! docker info >/dev/null 2>&1; then
	if [ -n "${DOCKER_HOST:-}" ]; then
		say "the engine at DOCKER_HOST=$DOCKER_HOST does not answer (docker info fails)"
		exit 2
	fi
	say "no Docker engine answers: starting one"
	if [ "$SUDO" = "false" ]; then
		say "starting an engine needs root: run as root, install sudo, or start Docker yourself"
		exit 2
	fi
	if ! command -v dockerd >/dev/null 2>&1; then
		apt_install docker.io fuse-overlayfs iptables
	fi
	if ! { $SUDO service docker start >/dev/null 2>&1 && sleep 1 && docker info >/dev/null 2>&1; }; then
		args=()
		# Inside a container overlay2 usually fails; fuse-overlayfs works where /dev/fuse exists.
		if [ ! -f /etc/docker/daemon.json ] && [ -e /dev/fuse ] && command -v fuse-overlayfs >/dev/null; then
			args+=(--storage-driver=fuse-overlayfs)
		fi
		say "starting dockerd ${args[*]:-} (log: /tmp/dockerd.log)"
		$SUDO nohup dockerd "${args[@]}" >/tmp/dockerd.log 2>&1 &
	fi
	for _ in $(seq 1 60); do
		docker info >/dev/null 2>&1 && break
		sleep 1
	done
	docker info >/dev/null 2>&1 || {
		tail -n 30 /tmp/dockerd.log 2>/dev/null || true
		say "the Docker engine did not come up"
		exit 2
	}
fi
say "docker engine $(docker version --format '{{.Server.Version}}' 2>/dev/null) answers"

# 2. debootstrap: the node images are built from Debian's signed archive, through
# the engine where it has debian:<suite> (docs/images.md), else with debootstrap on
# this host. Only needed when an image is missing or stale and the engine lacks a
# debian:<suite> it would be built on.
engine_bases_present() {
	local images
	images=$(bin/zkchaos images --check --json 2>/dev/null | sed -n 's/.*"debian_image": "\([^"]*\)".*/\1/p' | sort -u)
	[ -n "$images" ] || return 1
	for i in $images; do docker image inspect "$i" >/dev/null 2>&1 || return 1; done
}
if ! command -v debootstrap >/dev/null 2>&1; then
	if [ -x bin/zkchaos ] && bin/zkchaos images --check >/dev/null 2>&1; then
		say "debootstrap absent, not needed: every image is built"
	elif [ -x bin/zkchaos ] && engine_bases_present; then
		say "debootstrap absent, not needed: the engine has the debian:<suite> images to build on"
	else
		apt_install debootstrap
	fi
fi
