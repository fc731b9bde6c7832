package detect

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// maxSmallLine caps a line of the small inputs (4lw answers, netstat, ss,
// listings, zoo.cfg); longer lines are cut there, never buffered whole.
const maxSmallLine = 64 << 10

// eachLine calls fn for every line of r, cut to maxSmallLine bytes, with the
// newline and a trailing CR removed. Memory is bounded by the cut.
func eachLine(r io.Reader, fn func(line []byte) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var acc []byte
	cut := false
	for {
		frag, err := br.ReadSlice('\n')
		if len(frag) > 0 {
			if !cut {
				room := maxSmallLine - len(acc)
				if len(frag) > room {
					acc = append(acc, frag[:room]...)
					cut = true
				} else {
					acc = append(acc, frag...)
				}
			}
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if len(acc) > 0 || err == nil {
			line := bytes.TrimRight(acc, "\r\n")
			if ferr := fn(line); ferr != nil {
				return ferr
			}
		}
		acc, cut = acc[:0], false
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}
