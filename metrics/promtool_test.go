package metrics_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// promtoolBin returns the path of promtool, or fails the test saying how to
// install it. It uses its own PATH lookup and the check uses
// os.StartProcess, not os/exec: `yaegi test` (without -unrestricted, as
// scripts/yaegi-test.sh runs it) has no os/exec, and this way the
// exposition written by the interpreted package is checked too.
func promtoolBin(t *testing.T) string {
	t.Helper()
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir == "" {
			continue
		}
		path := filepath.Join(dir, "promtool")
		if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return path
		}
	}
	t.Fatal("promtool is not on PATH: run scripts/install-tools.sh promtool (Debian's prometheus package)")
	return ""
}

// promtoolCheck runs `promtool check metrics` on exposition and returns its
// exit code and output.
func promtoolCheck(t *testing.T, exposition string) (int, string) {
	t.Helper()
	bin := promtoolBin(t)
	dir := t.TempDir()
	in := filepath.Join(dir, "metrics.txt")
	if err := os.WriteFile(in, []byte(exposition), 0o600); err != nil {
		t.Fatal(err)
	}
	stdin, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	outPath := filepath.Join(dir, "promtool.out")
	out, err := os.Create(outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	proc, err := os.StartProcess(bin, []string{bin, "check", "metrics"},
		&os.ProcAttr{Dir: dir, Files: []*os.File{stdin, out, out}})
	if err != nil {
		t.Fatalf("starting promtool: %v", err)
	}
	done := make(chan struct{})
	timer := time.AfterFunc(30*time.Second, func() { _ = proc.Kill() })
	var state *os.ProcessState
	var waitErr error
	go func(p *os.Process) {
		state, waitErr = p.Wait()
		close(done)
	}(proc)
	<-done
	timer.Stop()
	if waitErr != nil {
		t.Fatalf("waiting for promtool: %v", waitErr)
	}
	output, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	return state.ExitCode(), string(output)
}

// TestPromtoolAcceptsExposition: promtool (the Prometheus project's own
// checker) parses and lints a scrape holding every kind of series, escaped
// values and the build info.
func TestPromtoolAcceptsExposition(t *testing.T) {
	r := exampleRegistry()
	r.BuildInfo("v0.0.0-test")
	r.Counter("tokengate_store_errors", "State store errors.", "op", "get").Inc()
	var b bytes.Buffer
	if _, err := r.WriteTo(&b); err != nil {
		t.Fatal(err)
	}
	code, out := promtoolCheck(t, b.String())
	if code != 0 || strings.TrimSpace(out) != "" {
		t.Fatalf("promtool check metrics: exit %d\n%s\non\n%s", code, out, b.String())
	}
}

// TestPromtoolRejectsBrokenExposition shows the check has teeth: a counter
// without _total and an unescaped quote are refused.
func TestPromtoolRejectsBrokenExposition(t *testing.T) {
	for _, bad := range []string{
		"# HELP c x\n# TYPE c counter\nc 1\n",
		"# HELP g x\n# TYPE g gauge\ng{a=\"x\"y\"} 1\n",
	} {
		if code, out := promtoolCheck(t, bad); code == 0 {
			t.Errorf("promtool accepted %q: %s", bad, out)
		}
	}
	// Scrapes of a registry that is off are empty, and empty is fine.
	if code, out := promtoolCheck(t, ""); code != 0 {
		t.Errorf("promtool refused an empty scrape: %s", out)
	}
}
