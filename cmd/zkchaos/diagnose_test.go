package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// zkchaosBin builds the command once per test run: exit codes come from main.
func zkchaosBin(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "zkchaos-diagnose-test")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "zkchaos")
		out, err := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, stdin io.Reader, args ...string) result {
	t.Helper()
	cmd := exec.Command(zkchaosBin(t), append([]string{"diagnose"}, args...)...)
	cmd.Dir = "../../fixtures"
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr, cmd.Stdin = &out, &errb, stdin
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code, out.String(), errb.String()}
}

// decode checks the --json contract: exactly one object, {"findings": [...]},
// each finding with exactly the six keys of issue 4 and issue 15's grade.
func decode(t *testing.T, s string) []map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	var top map[string]json.RawMessage
	if err := dec.Decode(&top); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
	if dec.More() {
		t.Fatalf("more than one JSON value:\n%s", s)
	}
	if len(top) != 1 || top["findings"] == nil {
		t.Fatalf("want exactly {\"findings\": ...}, got keys %v", top)
	}
	var fs []map[string]any
	if err := json.Unmarshal(top["findings"], &fs); err != nil || fs == nil {
		t.Fatalf("findings is not a list: %s", top["findings"])
	}
	for _, f := range fs {
		for _, k := range []string{"failure", "grade", "node", "time", "evidence", "explanation", "remedy"} {
			if _, ok := f[k]; !ok {
				t.Errorf("finding lacks %q: %v", k, f)
			}
		}
		if g := f["grade"]; g != "found" && g != "suspected" {
			t.Errorf("grade %v", g)
		}
		if len(f) != 7 {
			t.Errorf("finding has %d keys: %v", len(f), f)
		}
		if ev, ok := f["evidence"].([]any); !ok || len(ev) == 0 {
			t.Errorf("finding without evidence: %v", f)
		}
	}
	return fs
}

func kinds(fs []map[string]any) string {
	var s []string
	for _, f := range fs {
		s = append(s, fmt.Sprintf("%v@%v", f["failure"], f["node"]))
	}
	return strings.Join(s, ",")
}

func TestDiagnoseSeed(t *testing.T) {
	r := run(t, nil, "--json",
		"--log", "node1=seed/f1-3.3-notifications.log",
		"--log", "seed/f3-too-many-connections.log",
		"--log", "zk1=seed/f4-have-smaller.log",
		"--netstat", "m1=seed/f5-netstat-s.txt")
	if r.code != exitFindings {
		t.Fatalf("exit %d, want 1; stderr: %s", r.code, r.stderr)
	}
	fs := decode(t, r.stdout)
	if got := kinds(fs); got != "F1@node1,F3@f3-too-many-connections,F4@zk1,F5@m1" {
		t.Fatalf("findings %s", got)
	}
	if fs[0]["time"] != "2017-07-18T17:31:12.017" {
		t.Errorf("F1 time %v", fs[0]["time"])
	}
}

func TestDiagnoseHuman(t *testing.T) {
	r := run(t, nil, "--log", "zk1=seed/f1-3.3-notifications.log")
	if r.code != exitFindings {
		t.Fatalf("exit %d", r.code)
	}
	for _, want := range []string{"F1 (found) on zk1 at 2017-07-18T17:31:12.017", "evidence:", "Notification time out: 6400", "remedy: Restart the current leader (myid 3)", "1 finding(s) from 1 log(s), 4 lines (4 recognised ZooKeeper lines the detectors use)"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("human output lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestDiagnoseHealthy(t *testing.T) {
	r := run(t, nil, "--json", "--netstat", "host/proc-net-netstat.txt", "--netstat", "host/ss-ltn.txt", "--log", "captured/3.9.3/healthy-zk1.log")
	if r.code != exitOK {
		t.Fatalf("exit %d; %s", r.code, r.stderr)
	}
	if fs := decode(t, r.stdout); len(fs) != 0 {
		t.Fatalf("findings on healthy input: %s", kinds(fs))
	}
	if !strings.Contains(r.stdout, `"findings": []`) {
		t.Errorf("healthy JSON should hold an empty list: %s", r.stdout)
	}
}

// Real logs of all three versions (fixtures/captured): a healthy life gives
// exit 0, the maxClientCnxns run exit 1 with F3 on zk1.
func TestDiagnoseCaptured(t *testing.T) {
	for _, v := range []string{"3.4.13", "3.8.0", "3.9.3"} {
		var healthy, f3 []string
		for _, n := range []string{"zk1", "zk2", "zk3"} {
			healthy = append(healthy, "--log", n+"=captured/"+v+"/healthy-"+n+".log")
			f3 = append(f3, "--log", n+"=captured/"+v+"/f3-too-many-connections-"+n+".log")
		}
		if r := run(t, nil, append(healthy, "--json")...); r.code != exitOK || len(decode(t, r.stdout)) != 0 {
			t.Errorf("%s healthy: exit %d %s %s", v, r.code, r.stdout, r.stderr)
		}
		r := run(t, nil, append(f3, "--json")...)
		if r.code != exitFindings || kinds(decode(t, r.stdout)) != "F3@zk1" {
			t.Errorf("%s f3: exit %d %s %s", v, r.code, r.stdout, r.stderr)
		}
	}
}

func TestDiagnoseUsageErrors(t *testing.T) {
	for name, args := range map[string][]string{
		"nothing":        {},
		"missing file":   {"--log", "zk1=/nonexistent/zk1.log"},
		"directory":      {"--log", "seed"},
		"bad flag":       {"--lgo", "x"},
		"stray argument": {"seed/f3-too-many-connections.log"},
		"bad server":     {"--servers", "nohostport"},
		"netstat junk":   {"--netstat", "seed/f1-3.3-notifications.log"},
		"config missing": {"--config", "/nonexistent/zoo.cfg", "--log", "seed/f3-too-many-connections.log"},
		"two stdins":     {"--log", "a=-", "--log", "b=-"},
	} {
		r := run(t, strings.NewReader(""), args...)
		if r.code != exitUsage {
			t.Errorf("%s: exit %d, want 2; stdout %q stderr %q", name, r.code, r.stdout, r.stderr)
		}
		if !strings.Contains(r.stderr, "zkchaos:") {
			t.Errorf("%s: no error message: %q", name, r.stderr)
		}
	}
	r := run(t, nil, "--log", "zk1=/nonexistent/zk1.log")
	if !strings.Contains(r.stderr, "/nonexistent/zk1.log") || !strings.Contains(r.stderr, "no such file") {
		t.Errorf("missing file error is not clear: %q", r.stderr)
	}
}

func TestDiagnoseStdinAndGzip(t *testing.T) {
	incident, err := os.ReadFile("../../fixtures/seed/f3-too-many-connections.log")
	if err != nil {
		t.Fatal(err)
	}
	r := run(t, bytes.NewReader(incident), "--json", "--log", "zk2=-")
	if r.code != exitFindings || kinds(decode(t, r.stdout)) != "F3@zk2" {
		t.Fatalf("stdin: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	var gz bytes.Buffer
	w := gzip.NewWriter(&gz)
	w.Write(incident)
	w.Close()
	p := filepath.Join(t.TempDir(), "zk3.log.gz")
	if err := os.WriteFile(p, gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(t, nil, "--json", "--log", p)
	if r.code != exitFindings || kinds(decode(t, r.stdout)) != "F3@zk3" {
		t.Fatalf("gzip: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
	// a gzip cut short (a log being rotated) is used as far as it goes
	gz.Reset()
	w = gzip.NewWriter(&gz)
	w.Write(incident)
	w.Flush()
	w.Write(bytes.Repeat([]byte("more log being written\n"), 1000))
	w.Close()
	if err := os.WriteFile(p, gz.Bytes()[:len(gz.Bytes())-10], 0o644); err != nil {
		t.Fatal(err)
	}
	r = run(t, nil, "--json", "--log", p)
	if r.code != exitFindings || !strings.Contains(r.stderr, "truncated") {
		t.Fatalf("truncated gzip: exit %d %s %s", r.code, r.stdout, r.stderr)
	}
}

func TestDiagnoseHostileFiles(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewSource(7))
	garbage := make([]byte, 2<<20)
	rng.Read(garbage)
	files := map[string][]byte{
		"garbage.log": garbage,
		"long.log":    append(bytes.Repeat([]byte("a"), 10<<20), "\nTooo\n"...),
		"latin1.log":  []byte("2026-11-25 20:00:00,000 - WARN  [x] - caf\xe9 \xff\xfe\n"),
		"nonl.log":    []byte("no newline"),
	}
	var args []string
	for name, b := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		args = append(args, "--log", p)
	}
	r := run(t, nil, append(args, "--json")...)
	if r.code != exitUsage {
		t.Fatalf("exit %d; stderr %s", r.code, r.stderr)
	}
	decode(t, r.stdout)
	for name := range files {
		if !strings.Contains(r.stderr, "no ZooKeeper log lines recognised in "+filepath.Join(dir, name)) {
			t.Errorf("no message for %s: %s", name, r.stderr)
		}
	}
	// an empty file is no ZooKeeper log either
	empty := filepath.Join(dir, "empty.log")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if r := run(t, nil, "--log", empty); r.code != exitUsage || !strings.Contains(r.stderr, "no ZooKeeper log lines recognised in "+empty) {
		t.Errorf("empty: exit %d %s", r.code, r.stderr)
	}
}

// An endless input with no line in it returns promptly and says why it stopped.
func TestDiagnoseDevZero(t *testing.T) {
	if _, err := os.Stat("/dev/zero"); err != nil {
		t.Skip("no /dev/zero")
	}
	start := time.Now()
	r := run(t, nil, "--log", "/dev/zero")
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("took %s", d)
	}
	if r.code != exitUsage || !strings.Contains(r.stderr, "no ZooKeeper log lines recognised in /dev/zero") || !strings.Contains(r.stdout+r.stderr, "no ZooKeeper line in them") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", r.code, r.stdout, r.stderr)
	}
	// a size bound on a real log says it cut the read
	r = run(t, nil, "--max-bytes", "100", "--log", "captured/3.9.3/healthy-zk1.log")
	if !strings.Contains(r.stdout+r.stderr, "size bound") {
		t.Errorf("no word of the size bound: %s %s", r.stdout, r.stderr)
	}
}

// fake4lw answers four-letter words like a 3.8 follower whose client IP
// 172.18.0.9 holds maxClientCnxns connections.
func fake4lw(t *testing.T, answers map[string]string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				buf := make([]byte, 4)
				if _, err := io.ReadFull(c, buf); err != nil {
					return
				}
				io.WriteString(c, answers[string(buf)])
			}()
		}
	}()
	return ln.Addr().String()
}

func TestDiagnoseLive(t *testing.T) {
	var cons strings.Builder
	for i := 0; i < 60; i++ {
		fmt.Fprintf(&cons, " /172.18.0.9:%d[1](queued=0,recved=1,sent=1)\n", 40000+i)
	}
	addr := fake4lw(t, map[string]string{
		"srvr": "Zookeeper version: 3.8.0\nMode: follower\nConnections: 61\n",
		"mntr": "zk_version\t3.8.0\nzk_server_state\tfollower\nzk_connection_rejected\t5\n",
		"cons": cons.String(),
		"conf": "clientPort=2181\nmaxClientCnxns=60\n",
	})
	down := fake4lw(t, map[string]string{"srvr": "This ZooKeeper instance is not currently serving requests\n"})
	r := run(t, nil, "--json", "--servers", addr+","+down)
	if r.code != exitFindings {
		t.Fatalf("exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
	fs := decode(t, r.stdout)
	if kinds(fs) != "F3@"+addr {
		t.Fatalf("findings %s", kinds(fs))
	}
	if !strings.Contains(fmt.Sprint(fs[0]["evidence"]), "172.18.0.9") {
		t.Errorf("F3 does not name the IP: %v", fs[0]["evidence"])
	}
	if !strings.Contains(r.stderr, down+" is not serving") {
		t.Errorf("no note about the node in election: %s", r.stderr)
	}
	// nobody listening: an input error
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	dead := ln.Addr().String()
	ln.Close()
	r = run(t, nil, "--servers", dead, "--timeout", "500ms")
	if r.code != exitUsage || !strings.Contains(r.stderr, "no server answered") {
		t.Fatalf("dead server: exit %d %s", r.code, r.stderr)
	}
}
