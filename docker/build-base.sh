#!/usr/bin/env bash
# Builds a base image holding Debian's own zookeeper package, from Debian's signed
# archive only (no container registry is reachable where zkchaos runs).
#
# Called by `zkchaos images` (harness/images.go), which passes everything from the
# one versions table; running it by hand works too:
#   SUITE=trixie TAG=zkchaos/zookeeper-base:3.9.3 RECIPE=manual docker/build-base.sh
#
# debootstrap verifies the Release signature and every package checksum: never add
# --no-check-gpg here.
set -euo pipefail

: "${SUITE:?SUITE (Debian suite, e.g. bookworm) is required}"
: "${TAG:?TAG (image tag to create) is required}"
: "${RECIPE:?RECIPE (recipe hash for the label) is required}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
PACKAGES="${PACKAGES:-zookeeper}"
TOOLS="iproute2,procps,iptables"

for cmd in debootstrap docker tar chroot mount; do
	command -v "$cmd" >/dev/null || { echo "build-base: $cmd not found (install it: apt-get install -y debootstrap)" >&2; exit 2; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/zkchaos-rootfs-${SUITE}.XXXXXX")
root="$work/root"
cleanup() {
	# Unmount first, whatever failed: a mounted proc inside $work would make rm fail.
	umount "$root/proc" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

step() { printf 'build-base[%s] %s %s\n' "$SUITE" "$(date +%H:%M:%S)" "$*"; }

step "debootstrap --variant=minbase $SUITE from $MIRROR (signed archive)"
# zookeeper is installed in a second step inside the chroot on every suite: on trixie
# --include=zookeeper fails (dconf-service wants dbus-session-bus), and the JRE's
# postinst runs java, which needs /proc.
debootstrap --variant=minbase --include="$TOOLS" "$SUITE" "$root" "$MIRROR" >"$work/debootstrap.log" 2>&1 || {
	tail -n 30 "$work/debootstrap.log" >&2
	echo "build-base: debootstrap $SUITE failed (log above)" >&2
	exit 1
}

echo "deb $MIRROR $SUITE main" >"$root/etc/apt/sources.list"
rm -f "$root/etc/apt/sources.list.d/"*.sources 2>/dev/null || true
# Never start services inside the build chroot.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod +x "$root/usr/sbin/policy-rc.d"

mount -t proc proc "$root/proc"
step "apt-get install $PACKAGES"
chroot "$root" apt-get update -q >"$work/apt.log" 2>&1 &&
	chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $PACKAGES >>"$work/apt.log" 2>&1 || {
	tail -n 30 "$work/apt.log" >&2
	echo "build-base: apt-get install $PACKAGES on $SUITE failed (log above)" >&2
	exit 1
}
umount "$root/proc"

rm -f "$root/usr/sbin/policy-rc.d"
rm -rf "$root/usr/share/doc" "$root/usr/share/man" "$root/usr/share/info" \
	"$root/var/cache/apt/"* "$root/var/lib/apt/lists/"* "$root/var/log/"*.log

zkver=$(chroot "$root" dpkg-query -W -f='${Version}' zookeeper)
step "docker import $TAG (zookeeper package $zkver)"
tar -C "$root" -c . | docker import \
	--change "LABEL zkchaos.base-recipe=$RECIPE" \
	--change "LABEL zkchaos.debian-suite=$SUITE" \
	--change "LABEL zkchaos.zookeeper-package=$zkver" \
	- "$TAG" >/dev/null
step "done"
