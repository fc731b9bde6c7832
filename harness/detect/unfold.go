package detect

import (
	"bufio"
	"bytes"
	"io"
)

// A console copy (a Windows console, `fold -w 80`, a terminal's fixed-width
// buffer) cuts every long line at the same column W, mid-word, and puts the
// rest on the next lines: no line is longer than W, and the lines that were
// cut are exactly W long. Anchors cut in two are not found by the scanner,
// so such an input is unfolded before it is read: a line of W bytes and the
// pieces after it (no timestamp of their own) are joined again as they were.
// A mailer's or a page's wrap breaks at spaces instead and leaves lines of
// many lengths up to its width; record.go reads those.

const (
	foldPeek     = 64 << 10 // what is looked at to decide
	minFoldWidth = 60
	maxFoldWidth = 512
)

// unfoldReader returns r, or r unfolded when its start looks cut at a fixed
// width.
func unfoldReader(r io.Reader) io.Reader {
	br := bufio.NewReaderSize(r, foldPeek)
	head, _ := br.Peek(foldPeek)
	w := foldWidth(head)
	if w == 0 {
		return br
	}
	return &unfolder{br: br, width: w}
}

// foldWidth returns W when the lines of head look cut at W: none longer, at
// least three of exactly W followed by a piece (no timestamp of its own, not
// a stack trace's line), and most of the long lines exactly W (a wrap at
// spaces leaves them ragged). Otherwise 0.
func foldWidth(head []byte) int {
	if i := bytes.LastIndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	} else {
		return 0
	}
	lines := bytes.Split(head, nl)
	maxLen := 0
	for _, l := range lines {
		maxLen = max(maxLen, len(bytes.TrimRight(l, "\r")))
	}
	if maxLen < minFoldWidth || maxLen > maxFoldWidth {
		return 0
	}
	exact, near, cut := 0, 0, 0
	for i, l := range lines {
		n := len(bytes.TrimRight(l, "\r"))
		if n >= maxLen-8 {
			near++
		}
		if n == maxLen {
			exact++
			if i+1 < len(lines) && len(lines[i+1]) > 0 && !ownTimestamp(lines[i+1]) && !stackLine(ownText(lines[i+1])) {
				cut++
			}
		}
	}
	if cut < 3 || exact*10 < near*8 {
		return 0
	}
	return maxLen
}

// unfolder joins each line of exactly width bytes with the pieces that follow
// it.
type unfolder struct {
	br    *bufio.Reader
	width int
	out   []byte // unfolded text not yet returned
	rec   []byte // the record being joined
	err   error
}

func (u *unfolder) Read(p []byte) (int, error) {
	for len(u.out) == 0 && u.err == nil {
		u.fill()
	}
	if len(u.out) > 0 {
		n := copy(p, u.out)
		u.out = u.out[n:]
		return n, nil
	}
	return 0, u.err
}

// fill reads one more line and moves what is complete to out.
func (u *unfolder) fill() {
	line, err := u.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		// longer than any fold: not a piece; pass it through as it is
		u.flush()
		u.out = append(u.out, line...)
		for err == bufio.ErrBufferFull {
			line, err = u.br.ReadSlice('\n')
			u.out = append(u.out, line...)
		}
		if err != nil {
			u.err = err
		}
		return
	}
	body := bytes.TrimRight(line, "\r\n")
	switch {
	case u.rec != nil && len(body) > 0 && !ownTimestamp(body) && !stackLine(ownText(body)):
		u.rec = append(u.rec, body...) // a piece of the record
	default:
		u.flush()
		u.rec = append(u.rec[:0], body...)
	}
	if len(body) != u.width {
		u.flush() // the record's last piece: it was not cut
	}
	if err != nil {
		u.flush()
		u.err = err
	}
}

func (u *unfolder) flush() {
	if u.rec == nil {
		return
	}
	u.out = append(append(u.out, u.rec...), '\n')
	u.rec = nil
}
