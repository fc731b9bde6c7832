package detect

import (
	"bytes"
	"errors"
	"strconv"
)

// NotificationFormat tells which generation of ZooKeeper printed a
// "Notification:" line; it matters because ZOOKEEPER-1514 (F1) was fixed in 3.4.4.
type NotificationFormat uint8

const (
	// FormatUnknown: not a notification line.
	FormatUnknown NotificationFormat = iota
	// Format33: "1 (n.leader), 77309411648 (n.zxid), 1 (n.round), ..." without a
	// peer epoch: 3.3.x, the version of the lines quoted in docs/F1.md, which has
	// the ZOOKEEPER-1514 bug.
	Format33
	// Format340: "... 0x0 (n.peerEPoch), LOOKING (my state)" without a message
	// format version: 3.4.0-3.4.5 (the 1514 fix arrived inside this range, in 3.4.4).
	Format340
	// Format346: "1 (message format version), 1 (n.leader), 0x0 (n.zxid), ...":
	// 3.4.6-3.5.x (ZOOKEEPER-1808 added the version field), 1514 fixed.
	Format346
	// Format36: "my state:LOOKING; n.sid:1, n.state:LOOKING, ...": 3.6 and later.
	Format36
)

// Fixed1514 reports whether a server printing this format has the
// ZOOKEEPER-1514 fix: known true for 3.4.6+, false for 3.3, unknown in between.
func (f NotificationFormat) Fixed1514() (fixed, known bool) {
	switch f {
	case Format33:
		return false, true
	case Format346, Format36:
		return true, true
	}
	return false, false
}

// Notification is one election vote a server logged on receipt
// (FastLeaderElection's "Notification:" INFO line).
type Notification struct {
	Leader    int64  // n.leader: the proposed leader
	Zxid      int64  // n.zxid: the proposed leader's last zxid
	Round     int64  // n.round: the sender's election epoch (logical clock)
	State     string // n.state: LOOKING, FOLLOWING, LEADING or OBSERVING
	SID       int64  // n.sid: the sender
	PeerEpoch int64  // n.peerEpoch; -1 when the version does not print it (3.3)
	MyState   string // the receiver's own state
	Version   int64  // message format version; -1 when not printed (before 3.4.6)
	Format    NotificationFormat
	// Receiver is the id of the server that logged the vote when the line
	// says it (the positional 3.3 form: HasReceiver).
	Receiver    int64
	HasReceiver bool
}

var errNotNotification = errors.New("not a Notification: line")

var (
	keyNotification = []byte("Notification:")
	keyMyStateColon = []byte("my state:")
)

// ParseNotification parses the text of a FastLeaderElection "Notification:"
// line, in any of the formats ZooKeeper 3.3 to 3.9 print, from anywhere in line
// (a log prefix or a trailing logger name are ignored). Numbers may be decimal
// (3.3, 3.4.0) or 0x-prefixed hex (3.4.5+).
func ParseNotification(line []byte) (Notification, error) {
	i := bytes.Index(line, keyNotification)
	if i < 0 {
		return Notification{}, errNotNotification
	}
	s := line[i+len(keyNotification):]
	if j := bytes.Index(s, keyMyStateColon); j >= 0 && j < 8 {
		return parseNotificationKV(s[j:])
	}
	if n, ok := parseNotificationPositional(s); ok {
		return n, nil
	}
	return parseNotificationParen(s)
}

// parseNotificationPositional reads the unlabelled form of early 3.3
// releases, "Notification: 3, 30064826826, 3, 2, LOOKING, LEADING, 3":
// n.leader, n.zxid, n.epoch (the round), my id, my state, n.state, n.sid
// (FastLeaderElection.lookForLeader before the "(n.leader)" labels). Seven
// comma-separated fields, states in the fifth and sixth, or it is not this form.
func parseNotificationPositional(s []byte) (Notification, bool) {
	if bytes.IndexByte(s, '(') >= 0 && bytes.IndexByte(s, '(') < 48 {
		return Notification{}, false
	}
	var f [7][]byte
	for k := 0; k < 7; k++ {
		end := bytes.IndexByte(s, ',')
		if k == 6 {
			end = -1
		}
		item := s
		if end >= 0 {
			item, s = s[:end], s[end+1:]
		} else if k < 6 {
			return Notification{}, false
		}
		f[k] = bytes.TrimSpace(item)
	}
	f[6] = firstField(f[6])
	n := Notification{PeerEpoch: -1, Version: -1, Format: Format33}
	var errs [5]error
	n.Leader, errs[0] = parseNum(f[0])
	n.Zxid, errs[1] = parseNum(f[1])
	n.Round, errs[2] = parseNum(f[2])
	n.Receiver, errs[3] = parseNum(f[3])
	n.HasReceiver = true
	n.MyState, n.State = stateWord(f[4]), stateWord(f[5])
	n.SID, errs[4] = parseNum(f[6])
	for _, err := range errs {
		if err != nil {
			return Notification{}, false
		}
	}
	if n.MyState == "" || n.State == "" {
		return Notification{}, false
	}
	return n, true
}

// parseNotificationKV reads the 3.6+ form:
// "my state:LOOKING; n.sid:1, n.state:LOOKING, n.leader:1, n.round:0x1, n.peerEpoch:0x0,
// n.zxid:0x0, message format version:0x2, n.config version:0x0".
func parseNotificationKV(s []byte) (Notification, error) {
	n := Notification{PeerEpoch: -1, Version: -1, Format: Format36}
	var have uint8
	for len(s) > 0 {
		// one "key:value" item, ended by ',' or ';'
		end := bytes.IndexAny(s, ",;")
		item := s
		if end >= 0 {
			item, s = s[:end], s[end+1:]
		} else {
			s = nil
		}
		colon := bytes.IndexByte(item, ':')
		if colon < 0 {
			continue
		}
		key := bytes.TrimSpace(item[:colon])
		val := firstField(item[colon+1:])
		var err error
		switch string(key) {
		case "my state":
			n.MyState, have = stateWord(val), have|1
		case "n.sid":
			n.SID, err = parseNum(val)
			have |= 2
		case "n.state":
			n.State, have = stateWord(val), have|4
		case "n.leader":
			n.Leader, err = parseNum(val)
			have |= 8
		case "n.round":
			n.Round, err = parseNum(val)
			have |= 16
		case "n.zxid":
			n.Zxid, err = parseNum(val)
			have |= 32
		case "n.peerEpoch":
			n.PeerEpoch, err = parseNum(val)
		case "message format version":
			n.Version, err = parseNum(val)
		}
		if err != nil {
			return Notification{}, err
		}
	}
	if have != 63 || n.State == "" || n.MyState == "" {
		return Notification{}, errors.New("notification: missing fields")
	}
	return n, nil
}

// parseNotificationParen reads the "value (label), ..." forms of 3.3 to 3.5.
func parseNotificationParen(s []byte) (Notification, error) {
	n := Notification{PeerEpoch: -1, Version: -1}
	var have uint8
	peerEpoch := false
	for {
		open := bytes.IndexByte(s, '(')
		if open < 0 {
			break
		}
		close := bytes.IndexByte(s[open:], ')')
		if close < 0 {
			break
		}
		label := s[open+1 : open+close]
		val := lastField(s[:open])
		s = s[open+close+1:]
		var err error
		switch string(label) {
		case "n.leader":
			n.Leader, err = parseNum(val)
			have |= 1
		case "n.zxid":
			n.Zxid, err = parseNum(val)
			have |= 2
		case "n.round":
			n.Round, err = parseNum(val)
			have |= 4
		case "n.state":
			n.State, have = stateWord(val), have|8
		case "n.sid":
			n.SID, err = parseNum(val)
			have |= 16
		case "my state":
			n.MyState, have = stateWord(val), have|32
		case "n.peerEpoch", "n.peerEPoch":
			n.PeerEpoch, err = parseNum(val)
			peerEpoch = true
		case "message format version":
			n.Version, err = parseNum(val)
		}
		if err != nil {
			return Notification{}, err
		}
		if have == 63 {
			break // ignore a trailing "(n.config version)" or logger name
		}
	}
	if have != 63 || n.State == "" || n.MyState == "" {
		return Notification{}, errors.New("notification: missing fields")
	}
	switch {
	case n.Version >= 0:
		n.Format = Format346
	case peerEpoch:
		n.Format = Format340
	default:
		n.Format = Format33
	}
	return n, nil
}

// lastField is the last space-separated word before a "(label)", without the
// comma that ends the previous item; 3.5 glues "(my state)0 (n.config version)",
// so anything up to a ')' is dropped too.
func lastField(b []byte) []byte {
	b = bytes.TrimRight(b, " \t")
	if i := bytes.LastIndexAny(b, " \t,)"); i >= 0 {
		b = b[i+1:]
	}
	return b
}

func firstField(b []byte) []byte {
	b = bytes.TrimLeft(b, " \t")
	if i := bytes.IndexAny(b, " \t\r\n"); i >= 0 {
		b = b[:i]
	}
	return b
}

// parseNum reads a decimal or 0x-hex number. Hex is unsigned in ZooKeeper's
// output (Long.toHexString(-1) is "ffffffffffffffff") and wraps to int64.
func parseNum(b []byte) (int64, error) {
	if len(b) > 2 && b[0] == '0' && (b[1] == 'x' || b[1] == 'X') {
		u, err := strconv.ParseUint(string(b[2:]), 16, 64)
		return int64(u), err
	}
	return strconv.ParseInt(string(b), 10, 64)
}

// stateWord maps a server state to ZooKeeper's upper-case name; "" if it is not one.
func stateWord(b []byte) string {
	switch string(bytes.ToUpper(bytes.TrimSpace(b))) {
	case "LOOKING":
		return "LOOKING"
	case "FOLLOWING":
		return "FOLLOWING"
	case "LEADING":
		return "LEADING"
	case "OBSERVING":
		return "OBSERVING"
	}
	return ""
}
