package detect

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// chunkSize is the read buffer of ReadFrom. A line longer than this is cut:
// its first chunkSize bytes are examined and the rest skipped up to the next
// newline. Memory is a few such buffers, whatever the size of the log.
// (A variable so that the fuzz test can make it tiny and hit every boundary.)
var chunkSize = 1 << 20

// blockSize is how much the pivot passes scan at a time, so the data stays in
// a core's L2 cache across the passes.
var blockSize = 128 << 10

type chunkKind uint8

const (
	chunkLines chunkKind = iota // complete lines, data ends with '\n'
	chunkLong                   // the first chunkSize bytes of a longer line
	chunkTail                   // the last line of the input, without '\n'
)

type chunk struct {
	seq   int
	kind  chunkKind
	buf   []byte // the pooled buffer data lives in
	data  []byte
	lines int64
	cands []span
	zk    bool // the chunk has a mark of ZooKeeper's logging (zkMarks)
}

// Limits bound one ReadFromLimited; a zero field is no bound.
type Limits struct {
	MaxBytes int64     // stop after this many bytes
	Deadline time.Time // stop reading at this time
	// GiveUp stops when this many bytes held no ZooKeeper line, nor any
	// anchor: not a ZooKeeper log (binary data, /dev/zero, another program).
	GiveUp int64
}

type span struct{ lo, hi int }

// chunkBuffers keeps read buffers between calls: the harness scans many small
// logs, and a fresh 1 MiB per chunk would dominate them.
var chunkBuffers = sync.Pool{New: func() any { return make([]byte, chunkSize) }}

// bufferPool lends at most limit buffers to one ReadFrom, taken lazily, so a
// short log costs one buffer and a long one limit buffers.
type bufferPool struct {
	free  chan []byte
	limit int
	taken int // only the reader goroutine takes
	mu    sync.Mutex
	all   [][]byte
}

func (p *bufferPool) get() []byte {
	select {
	case b := <-p.free:
		return b
	default:
	}
	if p.taken < p.limit {
		p.taken++
		b := chunkBuffers.Get().([]byte)
		if len(b) != chunkSize {
			b = make([]byte, chunkSize)
		}
		p.mu.Lock()
		p.all = append(p.all, b)
		p.mu.Unlock()
		return b
	}
	return <-p.free
}

func (p *bufferPool) put(b []byte) { p.free <- b }

// release hands the buffers back for the next ReadFrom.
func (p *bufferPool) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, b := range p.all {
		chunkBuffers.Put(b) //nolint:staticcheck // a slice header per buffer is fine
	}
	p.all = nil
}

// ReadFrom streams a whole log into n (plain text; decompress before). One
// goroutine reads, one per core looks for anchors in the chunks, and this one
// parses the few candidate lines in order; the rest are counted and skipped,
// which keeps it within a small factor of grep. A read error ends the input
// after the lines read so far (a gzip cut short still gives its findings).
func (n *NodeLog) ReadFrom(r io.Reader) (int64, error) {
	return n.ReadFromLimited(r, Limits{})
}

// ReadFromLimited is ReadFrom within bounds: when one is reached it stops,
// keeps what was read and says why in n.Cut.
func (n *NodeLog) ReadFromLimited(r io.Reader, lim Limits) (int64, error) {
	r = unfoldReader(r)
	workers := min(max(runtime.GOMAXPROCS(0), 1), 4)
	nbuf := workers + 2
	pool := &bufferPool{free: make(chan []byte, nbuf), limit: nbuf}
	defer pool.release()
	todo := make(chan *chunk, nbuf)
	done := make(chan *chunk, nbuf)

	var total int64
	var rerr error
	var seen atomic.Bool   // a worker saw a ZooKeeper mark or an anchor
	var zkSeen atomic.Bool // a worker saw a ZooKeeper mark
	var cut string
	go func() {
		defer close(todo)
		stop := func(total int64) string {
			switch {
			case lim.MaxBytes > 0 && total >= lim.MaxBytes:
				return fmt.Sprintf("read cut after %d bytes (size bound)", total)
			case !lim.Deadline.IsZero() && time.Now().After(lim.Deadline):
				return fmt.Sprintf("read cut after %d bytes (time bound)", total)
			case lim.GiveUp > 0 && total >= lim.GiveUp && !seen.Load():
				return fmt.Sprintf("read stopped after %d bytes: no ZooKeeper line in them", total)
			}
			return ""
		}
		total, cut, rerr = readChunks(r, pool, todo, stop)
	}()
	var wg sync.WaitGroup
	for i := 0; i < workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range todo {
				if c.kind == chunkLines {
					c.lines, c.cands = scanChunk(c.data, c.cands[:0])
				}
				// Looked for until found once: free on a ZooKeeper log.
				if !zkSeen.Load() {
					c.zk = hasZKMark(c.data)
					if c.zk {
						zkSeen.Store(true)
					}
				}
				if c.zk || len(c.cands) > 0 {
					seen.Store(true)
				}
				done <- c
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()

	pending := map[int]*chunk{}
	next := 0
	for c := range done {
		pending[c.seq] = c
		for c := pending[next]; c != nil; c = pending[next] {
			delete(pending, next)
			next++
			n.consume(c)
			pool.put(c.buf)
		}
	}
	n.Bytes += total
	if cut != "" {
		n.Cut = cut
	}
	return total, rerr
}

// readChunks cuts r into chunks of whole lines; the incomplete last line of a
// chunk is carried over to the start of the next buffer.
func readChunks(r io.Reader, pool *bufferPool, out chan<- *chunk, stop func(int64) string) (int64, string, error) {
	var total int64
	seq := 0
	send := func(kind chunkKind, buf, data []byte) {
		out <- &chunk{seq: seq, kind: kind, buf: buf, data: data}
		seq++
	}
	buf := pool.get()
	end := 0
	skipping := false // inside a line longer than the buffer
	for {
		m, err := r.Read(buf[end:])
		if m < 0 || m > len(buf)-end {
			pool.put(buf)
			return total, "", errors.New("detect: reader returned a bad count")
		}
		end += m
		total += int64(m)
		if why := stop(total); why != "" && err == nil {
			err = errCut{why}
		}
		if skipping {
			if i := bytes.IndexByte(buf[:end], '\n'); i >= 0 {
				end = copy(buf, buf[i+1:end])
				skipping = false
			} else {
				end = 0
			}
		}
		if !skipping {
			if last := bytes.LastIndexByte(buf[:end], '\n'); last >= 0 {
				nb := pool.get()
				tail := copy(nb, buf[last+1:end])
				send(chunkLines, buf, buf[:last+1])
				buf, end = nb, tail
			} else if end == len(buf) {
				// one line fills the buffer: look at what we have, skip the rest
				send(chunkLong, buf, buf)
				buf, end = pool.get(), 0
				skipping = true
			}
		}
		if err != nil {
			if end > 0 && !skipping {
				send(chunkTail, buf, buf[:end])
			} else {
				pool.put(buf)
			}
			var c errCut
			switch {
			case errors.As(err, &c):
				return total, c.why, nil
			case errors.Is(err, io.EOF):
				return total, "", nil
			}
			return total, "", err
		}
	}
}

// errCut ends reading at a bound of Limits.
type errCut struct{ why string }

func (e errCut) Error() string { return e.why }

// scanChunk counts the lines of data (which ends with '\n') and returns the
// spans of the lines holding an anchor, in order, a cache-sized block at a time.
func scanChunk(data []byte, cands []span) (int64, []span) {
	var lines int64
	base := 0
	for base < len(data) {
		end := len(data)
		if end-base > blockSize {
			end = base + bytes.LastIndexByte(data[base:base+blockSize], '\n') + 1
			if end == base {
				end = base + blockSize + bytes.IndexByte(data[base+blockSize:], '\n') + 1
			}
		}
		block := data[base:end]
		lines += int64(bytes.Count(block, nl))
		first := len(cands)
		for b, group := range pivotGroups {
			for off := 0; off < len(block); {
				i := bytes.IndexByte(block[off:], b)
				if i < 0 {
					break
				}
				p := off + i
				off = p + 1
				if p == 0 {
					continue // no anchor starts with its pivot byte
				}
				for _, pv := range group[block[p-1]] {
					lo := p - pv.at
					// the last byte rejects most lookups before the compare
					if lo < 0 || lo+len(pv.word) > len(block) ||
						block[lo+len(pv.word)-1] != pv.word[len(pv.word)-1] || !bytes.Equal(block[lo:lo+len(pv.word)], pv.word) {
						continue
					}
					ls := bytes.LastIndexByte(block[:lo], '\n') + 1
					hi := p + bytes.IndexByte(block[p:], '\n')
					cands = append(cands, span{base + ls, base + hi})
					off = hi + 1
					break
				}
			}
		}
		// the passes found lines out of order and maybe twice
		blk := cands[first:]
		slices.SortFunc(blk, func(a, b span) int { return a.lo - b.lo })
		cands = cands[:first+len(slices.CompactFunc(blk, func(a, b span) bool { return a.lo == b.lo }))]
		base = end
	}
	return lines, cands
}

// consume handles one chunk in input order: the lines that hold an anchor,
// and the lines after them that a pending record or stack trace wants; the
// rest are only counted. The chunk's last lines are kept for the next one's
// first lines to look back at.
func (n *NodeLog) consume(c *chunk) {
	switch c.kind {
	case chunkLong, chunkTail:
		n.Lines++
		n.feed(c.data)
		return
	}
	n.Lines += c.lines
	if c.zk {
		n.Layout = true
	}
	data := c.data
	// above returns the lines above the line at offset at: this chunk's,
	// then those kept from before it.
	above := func(at int) prevLines {
		return func(i int) []byte {
			end := at - 1 // the newline that ends the line above
			for k := 0; k <= i; k++ {
				if end < 0 {
					if i-k < maxWrapBack {
						return n.recent.lines[i-k]
					}
					return nil
				}
				start := bytes.LastIndexByte(data[:end], '\n') + 1
				if k == i {
					return data[start:end]
				}
				end = start - 1
			}
			return nil
		}
	}
	wants := func() bool { return n.wrap != nil || n.wantCause != nil || n.wantReset != nil || n.wantEOF != nil }
	pos := 0 // the first line not read yet
	readUpTo := func(limit int) {
		for wants() && pos < limit {
			end := pos + bytes.IndexByte(data[pos:], '\n')
			n.stepKnown(data[pos:end], above(pos), false) // not a candidate
			pos = end + 1
		}
	}
	for _, s := range c.cands {
		readUpTo(s.lo)
		if s.lo < pos {
			continue
		}
		n.stepKnown(data[s.lo:s.hi], above(s.lo), true)
		pos = s.hi + 1
	}
	readUpTo(len(data))
	// keep the last lines, oldest first
	var last [maxWrapBack][]byte
	end := len(data) - 1
	k := 0
	for ; k < maxWrapBack && end >= 0; k++ {
		start := bytes.LastIndexByte(data[:end], '\n') + 1
		last[k] = data[start:end]
		end = start - 1
	}
	for k--; k >= 0; k-- {
		n.recent.push(last[k])
	}
}

var nl = []byte{'\n'}

// ScanLog reads a whole log of node into a new NodeLog.
func ScanLog(node string, r io.Reader) (*NodeLog, error) {
	n := NewNodeLog(node)
	_, err := n.ReadFrom(r)
	return n, err
}
