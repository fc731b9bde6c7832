package harness

import (
	"fmt"
	"slices"
	"strings"

	"github.com/zkchaos/zkchaos/harness/fle"
)

// Version is one row of the table of supported ZooKeeper versions. Everything that
// differs between versions lives here, so scenarios never compare version strings.
// Adding a version means adding a row (and, if its Debian suite is new, nothing else).
type Version struct {
	// Version is ZooKeeper's own version, e.g. "3.9.3".
	Version string
	// Suite is the Debian suite whose zookeeper package provides it.
	Suite string
	// Classpath of the server inside the image (jars under /usr/share/java).
	Classpath string

	// FourLetterWhitelist: 3.5.3+ only answer `srvr` unless
	// 4lw.commands.whitelist lists the others.
	FourLetterWhitelist bool
	// AdminServer: 3.5+ start a Jetty AdminServer unless admin.enableServer=false.
	AdminServer bool
	// ClientPortListenBacklog: clientPortListenBacklog exists (ZOOKEEPER-974, 3.6.0+).
	// Older versions turn the unknown key into an ignored system property.
	ClientPortListenBacklog bool
	// ConnectionRejectedMetric: mntr has zk_connection_rejected (3.8+ images here).
	ConnectionRejectedMetric bool
	// LogFormat names the shape of election and connection-limit log lines.
	LogFormat LogFormat
	// ElectionHandshake is the initial message on the election port: fle.HandshakeSID
	// (3.4: the sid alone) or fle.HandshakeV1 (3.5+: version, sid, election address).
	ElectionHandshake string
}

// LogFormat names a family of server log formats (see fixtures/ for real lines).
type LogFormat string

const (
	// LogFormat34: "Notification: 1 (message format version), 1 (n.leader), 0x0 (n.zxid), ..."
	// and "Too many connections from /ip - max is N".
	LogFormat34 LogFormat = "3.4"
	// LogFormat38: "Notification: my state:LOOKING; n.sid:1, n.state:LOOKING, ..."
	// and the rate-limited "Message:Error accepting new connection: Too many connections ...".
	LogFormat38 LogFormat = "3.8"
)

const classpath34 = "/usr/share/java/jline.jar:/usr/share/java/log4j-1.2.jar:/usr/share/java/xercesImpl.jar:" +
	"/usr/share/java/xmlParserAPIs.jar:/usr/share/java/netty.jar:/usr/share/java/slf4j-api.jar:" +
	"/usr/share/java/slf4j-log4j12.jar:/usr/share/java/zookeeper.jar"

const classpath38 = "/usr/share/java/zookeeper.jar:/usr/share/java/slf4j-log4j12.jar:/usr/share/java/log4j-1.2.jar"

// Versions is the single source of the supported versions, oldest first.
var Versions = []Version{
	{
		Version:   "3.4.13",
		Suite:     "bullseye",
		Classpath: classpath34,
		LogFormat: LogFormat34,

		ElectionHandshake: fle.HandshakeSID,
	},
	{
		Version:                  "3.8.0",
		Suite:                    "bookworm",
		Classpath:                classpath38,
		FourLetterWhitelist:      true,
		AdminServer:              true,
		ClientPortListenBacklog:  true,
		ConnectionRejectedMetric: true,
		LogFormat:                LogFormat38,
		ElectionHandshake:        fle.HandshakeV1,
	},
	{
		Version:                  "3.9.3",
		Suite:                    "trixie",
		Classpath:                classpath38,
		FourLetterWhitelist:      true,
		AdminServer:              true,
		ClientPortListenBacklog:  true,
		ConnectionRejectedMetric: true,
		LogFormat:                LogFormat38,
		ElectionHandshake:        fle.HandshakeV1,
	},
}

// DefaultVersion is used when no WithVersion option is given: the newest.
var DefaultVersion = Versions[len(Versions)-1].Version

// Image is the tag of the node image of this version `zkchaos images` builds
// (WithImage or $ZKCHAOS_IMAGE_<version> run another).
func (v Version) Image() string { return v.imageIn(DefaultRepository) }

// BaseImage is the tag of the base (Debian and its zookeeper package) the node
// image is made from.
func (v Version) BaseImage() string { return v.imageIn(DefaultRepository + "-base") }

func (v Version) imageIn(repo string) string { return repo + ":" + v.Version }

// Label is the Ginkgo label of specs that run on this version, e.g. "v3.9.3".
func (v Version) Label() string { return "v" + v.Version }

// LookupVersion returns the row of a version, or an error listing the known ones.
func LookupVersion(version string) (Version, error) {
	for _, v := range Versions {
		if v.Version == version {
			return v, nil
		}
	}
	return Version{}, fmt.Errorf("unknown ZooKeeper version %q (known: %s)", version, strings.Join(VersionNames(), ", "))
}

// VersionNames lists the supported versions, oldest first.
func VersionNames() []string {
	names := make([]string, 0, len(Versions))
	for _, v := range Versions {
		names = append(names, v.Version)
	}
	return slices.Clip(names)
}
