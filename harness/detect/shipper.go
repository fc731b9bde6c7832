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
