package detect

import (
	"bytes"
	"unicode/utf16"
	"unicode/utf8"
)

// shipperKeys are the fields log shippers put the original line in:
// Logstash/Kibana and Filebeat "message", Fluent Bit / docker's json-file
// "log", structlog-style "msg".
var shipperKeys = [][]byte{[]byte(`"message"`), []byte(`"log"`), []byte(`"msg"`), []byte(`"@message"`)}

// ShipperMessage returns the original log line of a log shipper's JSON line
// (one object per line, as Kibana/Elasticsearch exports and `docker logs` of
// the json-file driver give), unescaped: in the JSON text a tab is "\t" and
// a quote "\"", so the ZooKeeper message is only recognisable decoded. ok is
// false for anything that is not such a line; it never fails.
func ShipperMessage(line []byte) ([]byte, bool) {
	t := bytes.TrimLeft(line, " \t")
	if len(t) == 0 || t[0] != '{' {
		return nil, false
	}
	for _, k := range shipperKeys {
		i := bytes.Index(t, k)
		if i < 0 {
			continue
		}
		rest := bytes.TrimLeft(t[i+len(k):], " \t")
		if len(rest) == 0 || rest[0] != ':' {
			continue
		}
		rest = bytes.TrimLeft(rest[1:], " \t")
		if len(rest) == 0 || rest[0] != '"' {
			continue
		}
		if s, ok := jsonString(rest[1:]); ok {
			return s, true
		}
	}
	return nil, false
}

// jsonString decodes a JSON string body up to its closing quote. A string cut
// short (a truncated line) is returned as far as it goes.
func jsonString(b []byte) ([]byte, bool) {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		switch {
		case c == '"':
			return out, true
		case c != '\\':
			out = append(out, c)
			continue
		}
		if i+1 >= len(b) {
			break
		}
		i++
		switch b[i] {
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case 'r':
			out = append(out, '\r')
		case 'b', 'f':
			out = append(out, ' ')
		case 'u':
			r, n := hexRune(b[i+1:])
			if n == 0 {
				out = append(out, '\\', 'u')
				continue
			}
			i += n
			if utf16.IsSurrogate(r) && i+2 < len(b) && b[i+1] == '\\' && b[i+2] == 'u' {
				if r2, m := hexRune(b[i+3:]); m == 4 {
					if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
						r = d
						i += 2 + m
					}
				}
			}
			out = utf8.AppendRune(out, r)
		default: // \" \\ \/ and anything else: the character itself
			out = append(out, b[i])
		}
	}
	return out, len(out) > 0
}

func hexRune(b []byte) (rune, int) {
	if len(b) < 4 {
		return 0, 0
	}
	var r rune
	for _, c := range b[:4] {
		var v byte
		switch {
		case c >= '0' && c <= '9':
			v = c - '0'
		case c >= 'a' && c <= 'f':
			v = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			v = c - 'A' + 10
		default:
			return 0, 0
		}
		r = r<<4 | rune(v)
	}
	return r, 4
}

// ownText returns what a line says without the envelope a container runtime
// or a shipper put around it: the message of a shipper's JSON line, or the
// text after the container's name that docker compose and `kubectl logs
// --prefix` put first ("zk1_1  | ", "[pod/zk-0/zookeeper] "), the runtime's
// timestamp that `docker logs -t`, `kubectl logs --timestamps` and CRI log
// files put first (RFC 3339 with micro- or nanoseconds) and CRI's stream and
// tag ("stdout F "). A Java exception or stack frame under such an
// envelope still has no timestamp of its own; ZooKeeper's layouts print
// milliseconds, so its own timestamp is never taken for the envelope's.
func ownText(line []byte) []byte {
	if m, ok := ShipperMessage(line); ok {
		return m
	}
	line = line[namePrefix(line):]
	end := runtimeStamp(line)
	if end < 0 {
		return line
	}
	rest := line[end:]
	for _, s := range [][]byte{[]byte("stdout "), []byte("stderr ")} {
		if bytes.HasPrefix(rest, s) {
			rest = rest[len(s):]
			if len(rest) >= 2 && (rest[0] == 'F' || rest[0] == 'P') && rest[1] == ' ' {
				rest = rest[2:]
			}
			break
		}
	}
	return rest
}

// ownTimestamp says whether the line has a timestamp of its own, not only its
// envelope's: a record, not the continuation of one.
func ownTimestamp(line []byte) bool {
	_, ok := FindTimestamp(ownText(line))
	return ok
}

// runtimeStamp returns the index just after a container runtime's timestamp
// and its space ("2021-04-02T01:33:59.492345678Z "), found in the first 64
// bytes, or -1.
func runtimeStamp(line []byte) int {
	lim := min(len(line), 64)
	for i := 0; i+27 <= len(line) && i < lim; i++ {
		b := line[i:]
		if (i > 0 && isDigit(line[i-1])) || !isDigit(b[0]) || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' || b[19] != '.' {
			continue
		}
		j := 20
		for j < len(b) && isDigit(b[j]) {
			j++
		}
		if j-20 < 6 || j >= len(b) {
			continue
		}
		switch b[j] {
		case 'Z':
			j++
		case '+', '-':
			j += 6
		default:
			continue
		}
		if j < len(b) && b[j] == ' ' {
			return i + j + 1
		}
	}
	return -1
}

// namePrefix returns the length of a container's name that docker compose
// ("zk1_1  | ", "zookeeper-1  | ") or `kubectl logs --prefix`
// ("[pod/zk-0/zookeeper] ") put before each line, or 0.
func namePrefix(line []byte) int {
	if bytes.HasPrefix(line, []byte("[pod/")) {
		if i := bytes.Index(line[:min(len(line), 256)], []byte("] ")); i > 0 {
			return i + 2
		}
		return 0
	}
	i := 0
	for i < len(line) && i < 64 && (isDigit(line[i]) || line[i]|0x20 >= 'a' && line[i]|0x20 <= 'z' || line[i] == '-' || line[i] == '_' || line[i] == '.') {
		i++
	}
	j := i
	for j < len(line) && line[j] == ' ' {
		j++
	}
	if i == 0 || j == i || j >= len(line) || line[j] != '|' {
		return 0
	}
	if j+1 < len(line) && line[j+1] == ' ' {
		return j + 2
	}
	return j + 1
}
