// Package docker holds the recipes of zkchaos's ZooKeeper images, embedded so that
// `zkchaos images` builds them from any directory. The versions they are built for
// come from the one versions table, harness.Versions.
package docker

import _ "embed"

// BuildBase debootstraps a Debian suite with its zookeeper package and imports it.
//
//go:embed build-base.sh
var BuildBase []byte

// Entrypoint starts a node from /conf/zoo.cfg and /conf/myid.
//
//go:embed entrypoint.sh
var Entrypoint []byte

// Log4j sends the server log to stdout.
//
//go:embed log4j.properties
var Log4j []byte

// DockerfileBase is the engine recipe of the base: install-packages.sh on the
// engine's debian:<suite> image.
//
//go:embed Dockerfile.base
var DockerfileBase []byte

// InstallPackages installs the base's packages inside a Debian root (the engine
// recipe; build-base.sh does the same in its chroot).
//
//go:embed install-packages.sh
var InstallPackages []byte
