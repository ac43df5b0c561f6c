package audit

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDescriptorClosedUnderneath: the file descriptor is closed behind the
// Log's back (a failure no permission bypasses). The write fails, is
// counted and reported once; the lines of the same second are lost and
// counted; at the next check the path is reopened and lines land again.
func TestDescriptorClosedUnderneath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var errs, infos []string
	l.Logf = func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }
	l.Infof = func(format string, args ...any) { infos = append(infos, fmt.Sprintf(format, args...)) }
	const t0 = int64(1796205845123)
	l.WriteAt(Event{Event: EventLogin, JTI: "a"}, t0)
	if err := l.f.Close(); err != nil {
		t.Fatal(err)
	}
	l.WriteAt(Event{Event: EventLogin, JTI: "lost1"}, t0+10)
	l.WriteAt(Event{Event: EventLogin, JTI: "lost2"}, t0+20)
	if n := l.Failures(); n != 2 {
		t.Fatalf("Failures = %d, want 2", n)
	}
	if len(errs) != 1 || !strings.Contains(errs[0], "file already closed") {
		t.Fatalf("errors %q", errs)
	}
	l.WriteAt(Event{Event: EventLogin, JTI: "b"}, t0+1000)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(data), "\n") != 2 || !strings.Contains(string(data), `"jti":"b"`) || strings.Contains(string(data), "lost") {
		t.Fatalf("file: %s", data)
	}
	if len(errs) != 1 || len(infos) != 1 || !strings.Contains(infos[0], "again") {
		t.Fatalf("errors %q infos %q", errs, infos)
	}
}

// TestStdout: "stdout" writes to os.Stdout, is never closed and never
// checked for rotation. (Internal: under Yaegi, assigning os.Stdout from
// interpreted code does not change what the package sees, so the test swaps
// the Log's file instead.)
func TestStdout(t *testing.T) {
	l, err := Open(Stdout)
	if err != nil || l == nil || l.Target() != "stdout" || l.f != os.Stdout || !l.stdout {
		t.Fatalf("Open(stdout) = %+v, %v", l, err)
	}
	f, err := os.CreateTemp(t.TempDir(), "stdout")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l.f = f
	const t0 = int64(1796205845123)
	l.WriteAt(Event{Event: EventUsersReload, Outcome: OutcomeSuccess, Count: 12}, t0)
	l.WriteAt(Event{Event: EventUsersReload, Outcome: OutcomeSuccess, Count: 13}, t0+5000)
	if err := l.Close(); err != nil || l.f != f {
		t.Fatalf("Close on stdout: %v, file %v", err, l.f)
	}
	l.WriteAt(Event{Event: EventUsersReload, Outcome: OutcomeSuccess, Count: 14}, t0+6000)
	data, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"time":"2026-12-02T10:04:05.123Z","event":"users_reload","outcome":"success","count":12}
{"time":"2026-12-02T10:04:10.123Z","event":"users_reload","outcome":"success","count":13}
{"time":"2026-12-02T10:04:11.123Z","event":"users_reload","outcome":"success","count":14}
`
	if string(data) != want {
		t.Fatalf("stdout got\n%s\nwant\n%s", data, want)
	}
	if l.Failures() != 0 {
		t.Fatal(l.Failures())
	}
}
