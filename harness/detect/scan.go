package detect

import (
	"bytes"
	"errors"
	"io"
	"slices"
)

// chunkSize is the read buffer of ReadFrom: the memory a log costs, whatever
// its size. A line longer than this is cut: its first chunkSize bytes are
// examined and the rest skipped up to the next newline.
const chunkSize = 1 << 20

// ReadFrom streams a whole log into n (plain text; decompress before). Only the
// lines holding one of the messages the detectors know are parsed; the rest
// are counted and skipped, which keeps it within a small factor of grep.
func (n *NodeLog) ReadFrom(r io.Reader) (int64, error) {
	buf := make([]byte, chunkSize)
	var total int64
	start, end := 0, 0
	skipping := false // inside a line longer than the buffer
	var cands []span
	for {
		if start > 0 {
			end = copy(buf, buf[start:end])
			start = 0
		}
		m, err := r.Read(buf[end:])
		if m < 0 || m > len(buf)-end {
			return total, errors.New("detect: reader returned a bad count")
		}
		end += m
		total += int64(m)
		n.Bytes += int64(m)
		eof := errors.Is(err, io.EOF)
		if err != nil && !eof {
			return total, err
		}
		data := buf[start:end]
		if skipping {
			i := bytes.IndexByte(data, '\n')
			if i < 0 {
				start, end = 0, 0
				if eof {
					return total, nil
				}
				continue
			}
			start += i + 1
			skipping = false
			data = buf[start:end]
		}
		last := bytes.LastIndexByte(data, '\n')
		if last >= 0 {
			cands = n.chunk(data[:last+1], cands)
			start += last + 1
		} else if end-start == len(buf) {
			// one line fills the buffer: look at what we have, skip the rest
			n.Lines++
			n.feed(data)
			start, end = 0, 0
			skipping = true
		}
		if eof {
			if rest := buf[start:end]; len(rest) > 0 {
				n.Lines++
				n.feed(rest)
			}
			return total, nil
		}
	}
}

type span struct{ lo, hi int }

// chunk handles complete lines (data ends with '\n'): one pass per anchor
// finds the few lines worth parsing.
func (n *NodeLog) chunk(data []byte, cands []span) []span {
	n.Lines += int64(bytes.Count(data, nl))
	if n.wantCause != nil {
		i := bytes.IndexByte(data, '\n')
		n.cause(data[:i])
	}
	cands = cands[:0]
	for b, group := range pivotGroups {
		for off := 0; off < len(data); {
			i := bytes.IndexByte(data[off:], b)
			if i < 0 {
				break
			}
			p := off + i
			off = p + 1
			for _, pv := range group {
				lo := p - pv.at
				if lo < 0 || lo+len(pv.word) > len(data) || !bytes.Equal(data[lo:lo+len(pv.word)], pv.word) {
					continue
				}
				ls := bytes.LastIndexByte(data[:lo], '\n') + 1
				hi := p + bytes.IndexByte(data[p:], '\n')
				cands = append(cands, span{ls, hi})
				off = hi + 1
				break
			}
		}
	}
	if len(cands) == 0 {
		return cands
	}
	slices.SortFunc(cands, func(a, b span) int { return a.lo - b.lo })
	prev := -1
	for _, c := range cands {
		if c.lo == prev {
			continue
		}
		prev = c.lo
		line := data[c.lo:c.hi]
		ev := ParseLine(line)
		if ev.Kind == EventNone {
			continue
		}
		n.Handle(ev)
		if n.wantCause != nil && c.hi+1 < len(data) {
			next := data[c.hi+1:]
			if j := bytes.IndexByte(next, '\n'); j >= 0 {
				n.cause(next[:j])
			}
		}
	}
	return cands
}

var nl = []byte{'\n'}

// ScanLog reads a whole log of node into a new NodeLog.
func ScanLog(node string, r io.Reader) (*NodeLog, error) {
	n := NewNodeLog(node)
	_, err := n.ReadFrom(r)
	return n, err
}
