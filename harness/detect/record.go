package detect

import (
	"bytes"
	"time"
)

// Pages, mailers and terminals hard-wrap long log lines, anywhere a space
// falls: inside the thread name, between a message's words, inside a vote.
// A record is read again whole from its pieces, within these bounds, so that
// the work stays near the few lines that matter. Pieces are joined both ways:
// with the space a wrap at spaces took away, and as they are, for a console
// that cut mid-word (a whole input cut at one width is unfolded before it is
// read: unfold.go).
const (
	maxWrapBack  = 3   // pieces above a piece that needs them
	maxWrapAhead = 3   // pieces below a piece that meant nothing alone
	maxPiece     = 512 // a longer line is a record of its own, never a piece
	maxFrames    = 16  // lines of a stack trace read below a record that wants them
)

// recent keeps the last lines read (newest first), for the pieces above a
// line: both readers keep it the same, ReadFrom at its chunks' ends.
type recent struct{ lines [maxWrapBack][]byte }

func (r *recent) push(line []byte) {
	r.lines[2] = append(r.lines[2][:0], line...)
	r.lines[0], r.lines[1], r.lines[2] = r.lines[2], r.lines[0], r.lines[1]
}

// prevLines gives the i-th line above the one being read (0: the line just
// above), nil above the input's first.
type prevLines func(i int) []byte

// step reads one line with the lines above it at hand (prev); ReadFrom calls
// it for the lines that hold an anchor and the lines after them that a
// pending record or stack trace wants, Feed for every line.
func (n *NodeLog) step(line []byte, prev prevLines) {
	n.stepKnown(line, prev, scannedLine(line))
}

// stepKnown is step for a line whose anchors are known: ReadFrom's scanner
// found them (or their absence) already.
func (n *NodeLog) stepKnown(line []byte, prev prevLines, anchored bool) {
	took := n.unwrap(line)
	if n.wantCause != nil || n.wantReset != nil || n.wantEOF != nil {
		n.after(line)
	}
	if !n.Layout && hasZKMark(line) {
		n.Layout = true
	}
	if took != notAPiece || !anchored {
		return // read as a piece of a record, or nothing to read
	}
	if bytes.Contains(line, kEOFException) {
		// a busy server logs many of a socket's: decided before parsing
		switch {
		case loadFailedAbove(prev):
			ev := ParseLine(line)
			ev.Kind = EventTruncatedData
			n.Handle(ev)
		case bytes.Contains(line, kCausedBy):
			ev := ParseLine(line)
			n.wantEOF, n.eofN = &ev, 0 // the frames below tell
		}
		return
	}
	ev := ParseLine(line)
	if ev.Kind == EventNoSpace && continues(line) {
		ev.AfterZK = zkAbove(prev)
	}
	ev, joined, tight, head := withPieces(line, ev, prev)
	n.wrapDone = ev.Kind
	if ev.Kind != EventNone {
		n.Handle(ev)
		if !(ev.Kind == EventHaveSmallerID && ev.SID < 0) {
			return
		}
		// read, but the ids a wrap moved to the next piece are still to come
	}
	n.wrap = append(n.wrap[:0], joined...)
	n.wrapTight = append(n.wrapTight[:0], tight...)
	n.wrapN = 0
	n.wrapTime = head
}

// withPieces reads a line that has no timestamp of its own (and is not part
// of a stack trace) together with the pieces above it that were wrapped off
// the same record: up to the record's head, the piece with its timestamp.
// A line that means something alone is read whole only when the head is
// among those pieces (its timestamp and myid are then the record's). It
// returns the event, the text it was read from (the record so far, without
// envelopes) and the head's time.
func withPieces(line []byte, ev Event, prev prevLines) (Event, []byte, []byte, time.Time) {
	own := ownText(line)
	if ownTimestamp(line) || stackLine(own) {
		return ev, own, own, ev.Time
	}
	var parts [][]byte
	head := false
	for i := 0; i < maxWrapBack; i++ {
		p := prev(i)
		if !isPiece(p) || scannedLine(p) || stackLine(ownText(p)) {
			break
		}
		parts = append(parts, p)
		if ownTimestamp(p) {
			head = true
			break
		}
	}
	switch {
	case head:
	case ev.Kind != EventNone || len(parts) == 0:
		return ev, own, own, ev.Time
	default:
		// no head above: only the line just above, and only where the
		// break cut an anchor in two
		parts = parts[:1]
		if !anchorAcross(ownText(parts[0]), own) {
			return ev, own, own, ev.Time
		}
	}
	first := bytes.TrimRight(ownText(parts[len(parts)-1]), "\r\n")
	joined := bytes.TrimRight(append([]byte(nil), first...), " ")
	tight := append([]byte(nil), first...)
	for i := len(parts) - 2; i >= 0; i-- {
		joined = joinPiece(joined, ownText(parts[i]))
		tight = joinTight(tight, ownText(parts[i]))
	}
	joined, tight = joinPiece(joined, own), joinTight(tight, own)
	t, _ := FindTimestamp(parts[len(parts)-1])
	j := parseRecord(joined, tight)
	if j.Kind != EventNone && j.Time.IsZero() {
		j.Time = t
	}
	if ev.Kind == EventNone || j.Kind == ev.Kind {
		return j, joined, tight, t
	}
	return ev, own, own, ev.Time
}

// What unwrap did with a line.
const (
	notAPiece  = iota // no record pending, or line is not a piece of it
	pieceAdded        // line joined the record, which still means nothing
	pieceEnded        // line completed the record, which was read
)

// unwrap reads the pending record (an anchor line that meant nothing alone,
// with the pieces above it) joined with line, when line is a piece of it.
func (n *NodeLog) unwrap(line []byte) int {
	if n.wrap == nil {
		return notAPiece
	}
	if !messagePiece(line) {
		n.wrap = nil
		return notAPiece
	}
	joined := joinPiece(n.wrap, ownText(line))
	tight := joinTight(n.wrapTight, ownText(line))
	ev := parseRecord(joined, tight)
	if ev.Kind != EventNone {
		if ev.Time.IsZero() {
			ev.Time = n.wrapTime
		}
		n.wrap = nil
		switch {
		case n.wrapDone == EventNone:
			n.Handle(ev)
		case ev.Kind == EventHaveSmallerID && n.wrapDone == ev.Kind && ev.SID >= 0 && n.cur != nil && len(n.cur.smallerSIDs) < maxPeers:
			n.cur.smallerSIDs[ev.SID] = true // the ids of a line already read
		}
		return pieceEnded
	}
	n.wrapN++
	if n.wrapN >= maxWrapAhead {
		n.wrap = nil
		return notAPiece
	}
	n.wrap, n.wrapTight = joined, tight
	return pieceAdded
}

// joinPiece appends a wrapped piece to the record read so far, with the one
// space a wrap took (a mailer's quote marks and indentation dropped).
func joinPiece(rec, piece []byte) []byte {
	rec = bytes.TrimRight(rec, " \r\n")
	out := make([]byte, 0, len(rec)+1+len(piece))
	out = append(append(out, rec...), ' ')
	return append(out, bytes.TrimRight(bytes.TrimLeft(piece, " \t>"), "\r\n")...)
}

// joinTight appends a piece as a console's fixed-width wrap left it: cut
// mid-word, nothing taken away.
func joinTight(rec, piece []byte) []byte {
	out := make([]byte, 0, len(rec)+len(piece))
	return append(append(out, bytes.TrimRight(rec, "\r\n")...), bytes.TrimRight(piece, "\r\n")...)
}

// parseRecord reads a record joined from its pieces: as a wrap at spaces
// left it (joined), else as a console's cut mid-word did (tight).
func parseRecord(joined, tight []byte) Event {
	if ev := ParseLine(joined); ev.Kind != EventNone {
		return ev
	}
	return ParseLine(tight)
}

// eitherJoin: ok holds for a and b joined either way (joinPiece, joinTight).
func eitherJoin(a, b []byte, ok func([]byte) bool) bool {
	return ok(joinPiece(a, b)) || ok(joinTight(a, b))
}

// messagePiece: a line that continues the message of the record above: a
// piece, with no timestamp of its own, not a stack trace's line.
func messagePiece(line []byte) bool {
	return isPiece(line) && !ownTimestamp(line) && !stackLine(ownText(line))
}

// isPiece: a line that can be a piece of a wrapped record: not blank, not
// long.
func isPiece(line []byte) bool {
	return len(line) > 0 && len(line) <= maxPiece && len(bytes.TrimSpace(ownText(line))) > 0
}

// stackLine: a line of a Java stack trace (its exception, a frame, a cause,
// "... N more"), after whatever prefix a grep, syslog or a quote put before
// it: it belongs to the record above without being a piece of its message.
func stackLine(own []byte) bool {
	t := bytes.TrimLeft(own, " \t>")
	if bytes.HasPrefix(t, []byte("at ")) || bytes.HasPrefix(t, []byte("Caused by")) || bytes.HasPrefix(t, []byte("... ")) {
		return true
	}
	t = t[:min(len(t), 160)]
	for i := 0; i < len(t); i++ {
		if i > 0 && !tokenEdge(t[i-1]) {
			continue
		}
		// a frame: at org.apache.zookeeper.ClientCnxn$SendThread.run(ClientCnxn.java:1144)
		if bytes.HasPrefix(t[i:], []byte("at ")) {
			f := t[i+3:]
			if sp := bytes.IndexAny(f, " \t"); sp >= 0 {
				f = f[:sp]
			}
			if p := bytes.IndexByte(f, '('); p > 0 && bytes.IndexByte(f[:p], '.') > 0 {
				return true
			}
		}
		// an exception's qualified name: java.net.ConnectException: …
		end := i
		for end < len(t) && !tokenEdge(t[end]) && t[end] != ':' {
			end++
		}
		name := t[i:end]
		if bytes.IndexByte(name, '.') > 0 && (bytes.HasSuffix(name, []byte("Exception")) || bytes.HasSuffix(name, []byte("Error")) || bytes.HasSuffix(name, []byte("Throwable"))) {
			return true
		}
		i = end
	}
	return false
}

// tokenEdge: a byte that separates a stack line's tokens from a prefix.
func tokenEdge(c byte) bool {
	return c == ' ' || c == '\t' || c == '|' || c == '>' || c == ':' || c == ']'
}

// anchorAcross: an anchor spans the break between a piece and the next, in
// neither alone.
func anchorAcross(a, b []byte) bool {
	const w = 48
	a = bytes.TrimRight(a, " \r\n")
	a = a[max(0, len(a)-w):]
	b = bytes.TrimLeft(b, " \t>")
	b = b[:min(len(b), w)]
	return !hasAnchor(b) && eitherJoin(a, b, hasAnchor)
}

// loadFailed: the record says the server could not load its data at start
// (3.4-3.9: QuorumPeer's "Unable to load database on disk",
// ZooKeeperServerMain's and QuorumPeerMain's "Unexpected exception, exiting
// abnormally").
func loadFailed(line []byte) bool {
	return bytes.Contains(line, kUnableToLoad) || bytes.Contains(line, kExitingAbnorm)
}

// zkAbove: the record above (its pieces, up to its head) is ZooKeeper's own.
func zkAbove(prev prevLines) bool {
	for i := 0; i < maxWrapBack; i++ {
		p := prev(i)
		if p == nil {
			return false
		}
		if hasZKMark(p) {
			return true
		}
		if !messagePiece(p) || scannedLine(p) {
			return false // the head, a frame, a record of its own: it ends here
		}
	}
	return false
}

// loadFailedAbove: the record above says so, in one line or in two that a
// wrap made of it.
func loadFailedAbove(prev prevLines) bool {
	p0, p1 := prev(0), prev(1)
	if loadFailed(p0) || loadFailed(p1) {
		return true
	}
	return p0 != nil && p1 != nil && !ownTimestamp(p0) && eitherJoin(ownText(p1), ownText(p0), loadFailed)
}

// eofFrame looks at the frames below a "Caused by: java.io.EOFException"
// (the cause of "Unable to run quorum server", whose own record is frames
// above): its first frame of ZooKeeper's says what was being read. One in
// the persistence classes (FileHeader, FileTxnLog, FileSnap, Util) is a data
// file that ended early; another (QuorumPacket: a socket) is not.
func (n *NodeLog) eofFrame(line []byte) {
	e := n.wantEOF
	switch {
	case bytes.Contains(line, kPersistence):
		n.wantEOF = nil
		e.Kind = EventTruncatedData
		n.Handle(*e)
	case bytes.Contains(line, []byte("org.apache.zookeeper.")) || !stackLine(ownText(line)) || n.eofN >= 6:
		n.wantEOF = nil
	default:
		n.eofN++
	}
}
