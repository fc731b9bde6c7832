package main

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/zkchaos/zkchaos/harness"
	"github.com/zkchaos/zkchaos/harness/detect"
)

var diagnoseOpts struct {
	logs     []string
	netstats []string
	datadirs []string
	config   string
	servers  []string
	json     bool
	timeout  time.Duration
	maxBytes int64
	maxTime  time.Duration
}

// giveUp: an input whose first 64 MiB hold no ZooKeeper line is not a
// ZooKeeper log (binary data, /dev/zero, another program's log).
const giveUp = 64 << 20

var diagnoseCmd = &cobra.Command{
	Use:   "diagnose",
	Short: "Find the five documented failures (F1-F5) in logs, netstat/ss output, a dataDir, or a live ensemble",
	Long: `diagnose reads what an operator has and reports the five
documented failures (docs/F1.md … docs/F5.md):

  F1  restarted node never rejoins (ZOOKEEPER-1514)      from server logs
  F2  dataDir growth / full disk                         from --datadir + --config, or logs
  F3  "Too many connections from /ip - max is N"         from logs or live mntr/cons
  F4  "Have smaller server identifier" + stuck LOOKING   from server logs (all nodes help)
  F5  client-port listen queue overflows (backlog 50)    from --netstat (netstat -s, /proc/net/netstat, ss -ltn)

Logs may be plain, gzip or "-" (stdin), in any layout (log4j, Kafka's, docker
compose and kubectl prefixes, docker/CRI timestamps, shipper JSON, grep output,
lines pasted from a UI or hard-wrapped by a page or mailer). Name each node with
NAME=FILE; otherwise the file name is used. Give --netstat twice (or one file with
two snapshots) to see counters grow.

Each finding is graded: found (the failure's signature with its preconditions)
or suspected (partial evidence; the explanation says what would confirm it:
the peers' logs, the leader's log, a second netstat snapshot, srvr).

Every --log must hold ZooKeeper lines: an input with none ("no ZooKeeper log
lines recognised in X") is an input error. Reading one input stops at
--max-bytes or --max-time, and after 64 MiB without a ZooKeeper line; the
output says when a bound cut it.

Exit status: 0 nothing found, 1 findings, 2 usage or input error (including an
input with no ZooKeeper line recognised).`,
	Example: `  zkchaos diagnose --log zk1=zk1.log --log zk2=zk2.log.gz --log zk3=zk3.log
  docker compose logs zk1 | zkchaos diagnose --log zk1=-
  zkchaos diagnose --netstat zk1=before.txt --netstat zk1=after.txt
  zkchaos diagnose --datadir /var/lib/zookeeper --config /etc/zookeeper/zoo.cfg
  zkchaos diagnose --servers 10.0.0.1:2181,10.0.0.2:2181 --json`,
	Args: cobra.NoArgs,
	RunE: runDiagnose,
}

func init() {
	f := diagnoseCmd.Flags()
	f.StringArrayVar(&diagnoseOpts.logs, "log", nil, "server (or client) log of one node: FILE, NAME=FILE, .gz, or - for stdin (repeatable)")
	f.StringArrayVar(&diagnoseOpts.netstats, "netstat", nil, "netstat -s, /proc/net/netstat, nstat or ss -ltn output: FILE or NAME=FILE (repeatable; in time order)")
	f.StringArrayVar(&diagnoseOpts.datadirs, "datadir", nil, "dataDir (or its version-2, or a listing of it): DIR or NAME=DIR (repeatable)")
	f.StringVar(&diagnoseOpts.config, "config", "", "the ensemble's zoo.cfg")
	f.StringSliceVar(&diagnoseOpts.servers, "servers", nil, "live servers, host:port,... (asked srvr, mntr, cons, conf)")
	f.BoolVar(&diagnoseOpts.json, "json", false, `print one JSON object: {"findings": [...]}`)
	f.DurationVar(&diagnoseOpts.timeout, "timeout", 3*time.Second, "per four-letter word, connect and read")
	f.Int64Var(&diagnoseOpts.maxBytes, "max-bytes", 64<<30, "read at most this many bytes of one --log (after decompression)")
	f.DurationVar(&diagnoseOpts.maxTime, "max-time", 10*time.Minute, "read one --log for at most this long")
	rootCmd.AddCommand(diagnoseCmd)
}

// named splits "NAME=PATH"; without a name the node is named after the file.
// A path that itself contains '=' is kept whole when it exists.
func named(arg, fallback string) (name, path string) {
	if i := strings.IndexByte(arg, '='); i > 0 {
		if _, err := os.Stat(arg); err != nil {
			return arg[:i], arg[i+1:]
		}
	}
	if arg == "-" {
		return fallback, arg
	}
	base := filepath.Base(arg)
	for _, ext := range []string{".gz", ".log", ".txt", ".out"} {
		base = strings.TrimSuffix(base, ext)
	}
	if base == "" || base == "." || base == string(filepath.Separator) {
		base = arg
	}
	return base, arg
}

// openInput opens a file or stdin, transparently gunzipping (by magic, not name).
func openInput(path string, stdin io.Reader) (io.Reader, func() error, error) {
	var r io.Reader
	closeFn := func() error { return nil }
	if path == "-" {
		r = stdin
	} else {
		st, err := os.Stat(path)
		if err != nil {
			return nil, nil, err
		}
		if st.IsDir() {
			return nil, nil, fmt.Errorf("%s is a directory", path)
		}
		f, err := os.Open(path)
		if err != nil {
			return nil, nil, err
		}
		r, closeFn = f, f.Close
	}
	br := bufio.NewReaderSize(r, 64<<10)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			closeFn()
			return nil, nil, fmt.Errorf("gzip: %w", err)
		}
		return zr, closeFn, nil
	}
	return br, closeFn, nil
}

func runDiagnose(cmd *cobra.Command, _ []string) error {
	o := diagnoseOpts
	if len(o.logs)+len(o.netstats)+len(o.datadirs)+len(o.servers) == 0 {
		return usageErr("diagnose: nothing to look at: give --log, --netstat, --datadir or --servers")
	}
	stderr := cmd.ErrOrStderr()
	stdin := cmd.InOrStdin()
	var obs detect.Observations
	var notes []string
	warn := func(format string, a ...any) { notes = append(notes, fmt.Sprintf(format, a...)) }

	if o.config != "" {
		r, closeFn, err := openInput(o.config, stdin)
		if err != nil {
			return usageErr("diagnose: --config %s: %v", o.config, err)
		}
		obs.Config, err = detect.ParseConfig(r)
		closeFn()
		if err != nil {
			return usageErr("diagnose: --config %s: %v", o.config, err)
		}
	}

	usedStdin := false
	names := map[string]int{}
	var unrecognised []string
	for _, arg := range o.logs {
		name, path := named(arg, "stdin")
		if path == "-" {
			if usedStdin {
				return usageErr("diagnose: --log %s: stdin can only be read once", arg)
			}
			usedStdin = true
		}
		if names[name]++; names[name] > 1 {
			name = fmt.Sprintf("%s#%d", name, names[name])
		}
		r, closeFn, err := openInput(path, stdin)
		if err != nil {
			return usageErr("diagnose: --log %s: %v", arg, err)
		}
		n := detect.NewNodeLog(name)
		_, err = n.ReadFromLimited(r, detect.Limits{MaxBytes: o.maxBytes, Deadline: time.Now().Add(o.maxTime), GiveUp: giveUp})
		closeFn()
		if err != nil {
			if !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, gzip.ErrChecksum) {
				return usageErr("diagnose: --log %s: %v", arg, err)
			}
			// a log still being written, or cut by rotation: use what was read
			warn("%s: %v (truncated?); used the %d lines read", path, err, n.Lines)
		}
		if n.Cut != "" {
			warn("%s: %s; used the %d lines read", path, n.Cut, n.Lines)
		}
		if n.Events == 0 && !n.Layout {
			unrecognised = append(unrecognised, path)
			continue
		}
		obs.Logs = append(obs.Logs, n)
	}

	netByNode := map[string]int{}
	for _, arg := range o.netstats {
		name, path := named(arg, "stdin")
		r, closeFn, err := openInput(path, stdin)
		if err != nil {
			return usageErr("diagnose: --netstat %s: %v", arg, err)
		}
		nobs, err := detect.ParseNet(name, r)
		closeFn()
		if err != nil {
			return usageErr("diagnose: --netstat %s: %v", arg, err)
		}
		if len(nobs.Snapshots) == 0 && len(nobs.Listeners) == 0 {
			return usageErr("diagnose: --netstat %s: no netstat counters or ss listeners found in it", arg)
		}
		// a second file for the same node is a later reading of it
		if i, ok := netByNode[name]; ok {
			obs.Net[i].Snapshots = append(obs.Net[i].Snapshots, nobs.Snapshots...)
			obs.Net[i].Listeners = append(obs.Net[i].Listeners, nobs.Listeners...)
			continue
		}
		netByNode[name] = len(obs.Net)
		obs.Net = append(obs.Net, nobs)
	}

	for _, arg := range o.datadirs {
		name, path := named(arg, "stdin")
		var d detect.DataDir
		st, err := os.Stat(path)
		switch {
		case path != "-" && err != nil:
			return usageErr("diagnose: --datadir %s: %v", arg, err)
		case path != "-" && st.IsDir():
			d, err = detect.ReadDataDir(name, path)
		default:
			r, closeFn, oerr := openInput(path, stdin)
			if oerr != nil {
				return usageErr("diagnose: --datadir %s: %v", arg, oerr)
			}
			d, err = detect.ParseDataDirListing(name, r)
			d.Path = path
			closeFn()
		}
		if err != nil {
			return usageErr("diagnose: --datadir %s: %v", arg, err)
		}
		if len(d.Files) == 0 {
			warn("%s: no snapshot.* or log.* files in it", path)
		}
		obs.DataDirs = append(obs.DataDirs, d)
	}

	answered := 0
	// Addresses of a zkchaos ensemble go through the harness's reach (a gateway
	// where this process cannot route to them); others are dialled as given.
	srv, err := harness.OpenServers(cmd.Context(), o.servers...)
	defer func() {
		if srv != nil {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(cmd.Context()), 30*time.Second)
			_ = srv.Close(cctx)
			cancel()
		}
	}()
	if err != nil {
		return usageErr("diagnose: --servers: %v", err)
	}
	for _, s := range o.servers {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if _, _, err := net.SplitHostPort(s); err != nil {
			return usageErr("diagnose: --servers %q: want host:port", s)
		}
		live, liveNotes := askServer(srv, s, o.timeout)
		notes = append(notes, liveNotes...)
		if live.Srvr != nil || live.Mntr != nil || live.Cons != nil || live.Conf != nil {
			answered++
		}
		obs.Live = append(obs.Live, live)
	}
	if len(o.servers) > 0 && answered == 0 && len(obs.Logs)+len(obs.Net)+len(obs.DataDirs) == 0 {
		for _, n := range notes {
			fmt.Fprintln(stderr, "zkchaos: diagnose:", n)
		}
		return usageErr("diagnose: no server answered")
	}

	findings := detect.Detect(obs)
	notes = append(notes, detect.Notes(obs)...)
	for _, p := range unrecognised {
		notes = append(notes, "no ZooKeeper log lines recognised in "+p)
	}
	out := cmd.OutOrStdout()
	if o.json {
		for _, n := range notes {
			fmt.Fprintln(stderr, "zkchaos: diagnose:", n)
		}
		if findings == nil {
			findings = []detect.Finding{}
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if err := enc.Encode(struct {
			Findings []detect.Finding `json:"findings"`
		}{findings}); err != nil {
			return usageErr("diagnose: %v", err)
		}
	} else {
		printHuman(out, obs, findings, notes)
	}
	if len(unrecognised) > 0 {
		return usageErr("diagnose: no ZooKeeper log lines recognised in %s", strings.Join(unrecognised, ", "))
	}
	if len(findings) > 0 {
		return failed(fmt.Errorf("diagnose: %d finding(s)", len(findings)))
	}
	return nil
}

func printHuman(w io.Writer, obs detect.Observations, findings []detect.Finding, notes []string) {
	for i, f := range findings {
		if i > 0 {
			fmt.Fprintln(w)
		}
		head := fmt.Sprintf("%s (%s) on %s", f.Failure, f.GradeOrFound(), f.Node)
		if t := detect.FormatTime(f.Time); t != "" {
			head += " at " + t
		}
		fmt.Fprintln(w, head)
		fmt.Fprintln(w, "  evidence:")
		for _, e := range f.Evidence {
			fmt.Fprintln(w, "    "+e)
		}
		fmt.Fprintln(w, "  why:    "+f.Explanation)
		fmt.Fprintln(w, "  remedy: "+f.Remedy)
	}
	if len(findings) > 0 {
		fmt.Fprintln(w)
	}
	for _, n := range notes {
		fmt.Fprintln(w, "note: "+n)
	}
	var lines, bytes, events int64
	for _, n := range obs.Logs {
		lines += n.Lines
		bytes += n.Bytes
		events += n.Events
	}
	scope := []string{}
	if len(obs.Logs) > 0 {
		scope = append(scope, fmt.Sprintf("%d log(s), %d lines (%d recognised ZooKeeper lines the detectors use), %d bytes", len(obs.Logs), lines, events, bytes))
	}
	if len(obs.Net) > 0 {
		scope = append(scope, fmt.Sprintf("%d netstat input(s)", len(obs.Net)))
	}
	if len(obs.DataDirs) > 0 {
		scope = append(scope, fmt.Sprintf("%d dataDir(s)", len(obs.DataDirs)))
	}
	if len(obs.Live) > 0 {
		scope = append(scope, fmt.Sprintf("%d live server(s)", len(obs.Live)))
	}
	if len(scope) == 0 {
		scope = append(scope, "no recognised input")
	}
	fmt.Fprintf(w, "%d finding(s) from %s\n", len(findings), strings.Join(scope, ", "))
}

// fourLetterWord sends one four-letter word and reads the answer (within timeout).
func fourLetterWord(srv *harness.Servers, addr, word string, timeout time.Duration) ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	answer, err := srv.FourLetter(ctx, addr, word)
	return []byte(answer), err
}

// askServer asks srvr, mntr, cons and conf; what a server refuses (not
// serving, not whitelisted on 3.5.3+) becomes a note, not an error.
func askServer(srv *harness.Servers, addr string, timeout time.Duration) (detect.FourLetterWords, []string) {
	live := detect.FourLetterWords{Node: addr}
	var notes []string
	note := func(word string, err error) {
		switch {
		case errors.Is(err, detect.ErrNotServing):
			notes = append(notes, fmt.Sprintf("%s is not serving requests (%s): it is in an election or starting; give its log with --log to tell F1 from F4", addr, word))
		case errors.Is(err, detect.ErrNotWhitelisted):
			notes = append(notes, fmt.Sprintf("%s: %s is not in 4lw.commands.whitelist", addr, word))
		default:
			notes = append(notes, fmt.Sprintf("%s: %s: %v", addr, word, err))
		}
	}
	b, err := fourLetterWord(srv, addr, "srvr", timeout)
	if err != nil {
		note("srvr", err)
		return live, notes // unreachable: do not wait for three more time outs
	}
	if live.Srvr, err = detect.ParseSrvr(strings.NewReader(string(b))); err != nil {
		note("srvr", err)
	}
	for _, word := range []string{"mntr", "cons", "conf"} {
		b, err := fourLetterWord(srv, addr, word, timeout)
		if err != nil {
			note(word, err)
			continue
		}
		r := strings.NewReader(string(b))
		switch word {
		case "mntr":
			live.Mntr, err = detect.ParseMntr(r)
		case "cons":
			live.Cons, err = detect.ParseCons(r)
		case "conf":
			live.Conf, err = detect.ParseConf(r)
		}
		if err != nil {
			note(word, err)
		}
	}
	return live, notes
}
