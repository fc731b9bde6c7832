package detect

import (
	"time"
)

// tsWindow bounds where a timestamp is looked for: prefixes added by docker
// compose, log shippers or UIs are short, and the search must stay cheap on a
// 10 MB line.
const tsWindow = 512

// FindTimestamp returns the first timestamp found near the start of a log line,
// whatever the layout: log4j ISO8601 ("2017-07-18 17:31:12,015"), RFC 3339 from
// `docker logs --timestamps` or a shipper ("2017-07-18T17:31:12.015Z"), Kafka's
// bracketed "[2017-07-18 17:31:12,015]", log4j DATE ("18 Jul 2017 17:31:12,015")
// and Kibana's "Jul 18, 2017 @ 17:31:12.015". Times without a zone are in NoZone.
func FindTimestamp(line []byte) (time.Time, bool) {
	if len(line) > tsWindow {
		line = line[:tsWindow]
	}
	for i := 0; i+8 <= len(line); i++ {
		c := line[i]
		if isDigit(c) {
			if i > 0 && isDigit(line[i-1]) {
				continue
			}
			if t, ok := parseISO(line[i:]); ok {
				return t, true
			}
			if t, ok := parseDayMonYear(line[i:]); ok {
				return t, true
			}
		} else if c >= 'A' && c <= 'S' {
			if t, ok := parseMonDayYear(line[i:]); ok {
				return t, true
			}
		}
	}
	return time.Time{}, false
}

// parseTimestamp parses a whole string that is exactly one timestamp.
func parseTimestamp(b []byte) (time.Time, bool) { return FindTimestamp(b) }

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// num reads exactly n digits at b[i:].
func num(b []byte, i, n int) (int, bool) {
	if i+n > len(b) {
		return 0, false
	}
	v := 0
	for _, c := range b[i : i+n] {
		if !isDigit(c) {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// parseISO: YYYY-MM-DD or YYYY/MM/DD, then 'T' or ' ', then the clock.
func parseISO(b []byte) (time.Time, bool) {
	if len(b) < 19 {
		return time.Time{}, false
	}
	y, ok1 := num(b, 0, 4)
	sep := b[4]
	if !ok1 || (sep != '-' && sep != '/') || b[7] != sep {
		return time.Time{}, false
	}
	mo, ok2 := num(b, 5, 2)
	d, ok3 := num(b, 8, 2)
	if !ok2 || !ok3 || (b[10] != 'T' && b[10] != ' ') {
		return time.Time{}, false
	}
	return parseClock(b, 11, y, mo, d, true)
}

// parseClock reads HH:MM:SS[.,frac][zone] at b[i:] and builds the time.
func parseClock(b []byte, i, y, mo, d int, zoneOK bool) (time.Time, bool) {
	hh, ok1 := num(b, i, 2)
	mm, ok2 := num(b, i+3, 2)
	ss, ok3 := num(b, i+6, 2)
	if !ok1 || !ok2 || !ok3 || b[i+2] != ':' || b[i+5] != ':' {
		return time.Time{}, false
	}
	if mo < 1 || mo > 12 || d < 1 || d > 31 || hh > 23 || mm > 59 || ss > 60 || y < 1970 || y > 2999 {
		return time.Time{}, false
	}
	j := i + 8
	ns := 0
	if j+1 < len(b) && (b[j] == ',' || b[j] == '.') && isDigit(b[j+1]) {
		j++
		scale := 100000000
		for j < len(b) && isDigit(b[j]) {
			if scale > 0 {
				ns += int(b[j]-'0') * scale
				scale /= 10
			}
			j++
		}
	}
	loc := NoZone
	if zoneOK && j < len(b) {
		switch c := b[j]; {
		case c == 'Z':
			loc = time.UTC
		case c == '+' || c == '-':
			oh, okh := num(b, j+1, 2)
			k := j + 3
			if k < len(b) && b[k] == ':' {
				k++
			}
			om, okm := num(b, k, 2)
			if okh && okm && oh < 24 && om < 60 {
				off := (oh*60 + om) * 60
				if c == '-' {
					off = -off
				}
				if off == 0 {
					loc = time.UTC
				} else {
					loc = time.FixedZone("", off)
				}
			}
		}
	}
	return time.Date(y, time.Month(mo), d, hh, mm, ss, ns, loc), true
}

var months = [...]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

func month(b []byte, i int) int {
	if i+3 > len(b) {
		return 0
	}
	for k, m := range months {
		if b[i] == m[0] && b[i+1] == m[1] && b[i+2] == m[2] {
			return k + 1
		}
	}
	return 0
}

// parseDayMonYear: log4j's DATE layout "18 Jul 2017 17:31:12,015".
func parseDayMonYear(b []byte) (time.Time, bool) {
	if len(b) < 20 || b[2] != ' ' || b[6] != ' ' || b[11] != ' ' {
		return time.Time{}, false
	}
	d, ok1 := num(b, 0, 2)
	mo := month(b, 3)
	y, ok2 := num(b, 7, 4)
	if !ok1 || !ok2 || mo == 0 {
		return time.Time{}, false
	}
	return parseClock(b, 12, y, mo, d, false)
}

// parseMonDayYear: Kibana's "Jul 18, 2017 @ 17:31:12.015" (day may be one digit).
func parseMonDayYear(b []byte) (time.Time, bool) {
	mo := month(b, 0)
	if mo == 0 || len(b) < 22 || b[3] != ' ' {
		return time.Time{}, false
	}
	i := 4
	d, ok := num(b, i, 2)
	if ok {
		i += 2
	} else if d, ok = num(b, i, 1); ok {
		i++
	} else {
		return time.Time{}, false
	}
	if i+8 > len(b) || b[i] != ',' || b[i+1] != ' ' {
		return time.Time{}, false
	}
	y, ok := num(b, i+2, 4)
	if !ok {
		return time.Time{}, false
	}
	i += 6
	if i+3 < len(b) && b[i] == ' ' && b[i+1] == '@' && b[i+2] == ' ' {
		i += 3
	} else if i < len(b) && b[i] == ' ' {
		i++
	} else {
		return time.Time{}, false
	}
	if i+8 > len(b) {
		return time.Time{}, false
	}
	return parseClock(b, i, y, mo, d, false)
}
