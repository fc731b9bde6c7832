#!/usr/bin/env bash
# Puts debian:<suite> into the engine without a registry: debootstraps a minimal
# root of the suite from Debian's signed archive (as root) and imports it under
# the name a registry would have served it. This stands in for `docker pull
# debian:<suite>` where no registry is reachable: zkchaos uses it to test its
# engine path (`zkchaos images --path engine`) honestly on such a machine. It is
# not Docker Hub's image (debuerreotype adds a few apt and dpkg settings, the
# same packages): the image carries the label zkchaos.registry-stand-in so it is
# never taken for one.
#
#   scripts/import-debian-base.sh bookworm [trixie ...]
#   ZKCHAOS_DEBIAN_MIRROR=http://mirror.example/debian scripts/import-debian-base.sh trixie
#
# debootstrap verifies the Release signature and every package checksum.
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: $0 SUITE..." >&2; exit 2; }
MIRROR="${ZKCHAOS_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
for cmd in debootstrap docker tar; do
	command -v "$cmd" >/dev/null || { echo "import-debian-base: $cmd not found" >&2; exit 2; }
done
[ "$(id -u)" -eq 0 ] || { echo "import-debian-base: debootstrap needs root" >&2; exit 2; }

for suite in "$@"; do
	work=$(mktemp -d "${TMPDIR:-/tmp}/zkchaos-debian-${suite}.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	echo "import-debian-base[$suite] $(date +%H:%M:%S) debootstrap --variant=minbase $suite from $MIRROR"
	debootstrap --variant=minbase "$suite" "$work/root" "$MIRROR" >"$work/log" 2>&1 || {
		tail -n 30 "$work/log" >&2
		echo "import-debian-base: debootstrap $suite failed" >&2
		exit 1
	}
	# What a registry's image leaves out: package caches and lists.
	rm -rf "$work/root/var/cache/apt/"* "$work/root/var/lib/apt/lists/"*
	tar -C "$work/root" -c . | docker import \
		--change 'CMD ["bash"]' \
		--change "LABEL zkchaos.registry-stand-in=debootstrap-$suite" \
		- "debian:$suite" >/dev/null
	echo "import-debian-base[$suite] $(date +%H:%M:%S) imported debian:$suite ($(docker image inspect -f '{{.Size}}' "debian:$suite" | numfmt --to=iec))"
	rm -rf "$work"
	trap - EXIT
done
