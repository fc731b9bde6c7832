#!/bin/sh
# Installs the node image's Debian packages inside a Debian root: the engine
# recipe's only step (docker/Dockerfile.base runs it on debian:<suite>). The
# debootstrap recipe (build-base.sh) does the same in its chroot: the same
# sources (one suite, main, no -updates or -security, so both recipes resolve
# the same versions), the same packages (TOOLS there is TOOLS here: a unit test
# holds them equal), the same clean-up.
#
# apt verifies the archive as it always does (Release signature against
# debian-archive-keyring, every package's checksum): never add
# --allow-unauthenticated here.
set -eu

: "${SUITE:?SUITE (Debian suite, e.g. bookworm) is required}"
: "${PACKAGES:?PACKAGES (e.g. zookeeper) is required}"
MIRROR="${MIRROR:-http://deb.debian.org/debian}"
TOOLS="iproute2 procps iptables"

echo "deb $MIRROR $SUITE main" >/etc/apt/sources.list
rm -f /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list
# Never start services during the build.
printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
chmod +x /usr/sbin/policy-rc.d

apt-get update -q
# shellcheck disable=SC2086 # lists of packages
DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $TOOLS $PACKAGES

rm -f /usr/sbin/policy-rc.d
rm -rf /usr/share/doc /usr/share/man /usr/share/info \
	/var/cache/apt/* /var/lib/apt/lists/* /var/log/*.log
dpkg-query -W -f='install-packages: zookeeper ${Version}\n' zookeeper
