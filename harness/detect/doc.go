// Package detect is the checker of zkchaos: pure functions that take what an
// operator can observe of a ZooKeeper ensemble (server log lines, four-letter-word
// answers, netstat counters, ss listings, dataDir listings, zoo.cfg) and return
// findings for the five failures of the runbooks docs/F1.md … docs/F5.md:
//
//	F1  a restarted node never rejoins: ZOOKEEPER-1514 (LOOKING forever although
//	    the leader and a follower answer, with a different round)
//	F2  dataDir/version-2 grows without bound (autopurge off), up to a full disk
//	F3  "Too many connections from /ip - max is N" (maxClientCnxns per client IP)
//	F4  "Have smaller server identifier, so dropping the connection" and a node
//	    that stays LOOKING (election connections only go from larger to smaller id)
//	F5  the client port's accept queue (backlog 50) overflows under a flood of
//	    short connections (ZOOKEEPER-974)
//
// Nothing here starts containers or talks to the network: the harness and the
// `zkchaos diagnose` command gather observations and hand them in. Log input is
// streamed with bounded memory, whatever the size of the file or of one line.
package detect
