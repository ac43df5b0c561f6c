package audit_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/audit"
)

// t0 is 2026-12-02T10:04:05.123Z in Unix milliseconds.
const t0 = int64(1796205845123)

// messages collects what a Log reports through Logf or Infof.
type messages struct {
	mu   sync.Mutex
	list []string
}

func (m *messages) logf(format string, args ...any) {
	m.mu.Lock()
	m.list = append(m.list, fmt.Sprintf(format, args...))
	m.mu.Unlock()
}

func (m *messages) all() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, len(m.list))
	copy(out, m.list)
	return out
}

// readLines reads an audit file: every line must be a whole JSON object
// ending with a newline; it returns them decoded.
func readLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	return parseLines(t, path, data)
}

func parseLines(t *testing.T, what string, data []byte) []map[string]any {
	t.Helper()
	if bytes.IndexByte(data, 0) >= 0 {
		t.Fatalf("%s holds NUL bytes (a write landed past the end of a truncated file)", what)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Fatalf("%s does not end with a newline: %q", what, tail(data))
	}
	var out []map[string]any
	for i, line := range strings.Split(string(data), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("%s line %d is not one JSON object (%v): %q", what, i+1, err, line)
		}
		out = append(out, m)
	}
	return out
}

func tail(b []byte) []byte {
	if len(b) > 80 {
		return b[len(b)-80:]
	}
	return b
}

func openTemp(t *testing.T) (*audit.Log, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "audit.log")
	l, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	return l, path
}

func TestOffIsNil(t *testing.T) {
	l, err := audit.Open("")
	if l != nil || err != nil {
		t.Fatalf("Open(\"\") = %v, %v; want nil, nil", l, err)
	}
	l, err = audit.Shared("")
	if l != nil || err != nil {
		t.Fatalf("Shared(\"\") = %v, %v; want nil, nil", l, err)
	}
	// Every method of a nil *Log does nothing.
	l.Write(audit.Event{Event: audit.EventLogin})
	l.WriteAt(audit.Event{Event: audit.EventLogin}, t0)
	l.SetLogf(nil)
	l.SetInfof(nil)
	if n := l.Failures(); n != 0 {
		t.Fatalf("Failures = %d", n)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l.Target() != "" {
		t.Fatal("Target of nil")
	}
}

func TestOpenErrorsNameTheOption(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, target := range []string{
		filepath.Join(file, "audit.log"), // parent is a regular file: fails even as root
		dir,                              // a directory
	} {
		l, err := audit.Open(target)
		if err == nil || l != nil {
			t.Fatalf("Open(%q) = %v, %v; want an error", target, l, err)
		}
		if !strings.HasPrefix(err.Error(), "auditLog "+strconv.Quote(target)+": ") {
			t.Errorf("error does not name the option and the target: %v", err)
		}
		if _, err := audit.Shared(target); err == nil {
			t.Errorf("Shared(%q) did not fail", target)
		}
	}
}

func TestFileModeAndAppend(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	if err := os.WriteFile(path, []byte(`{"event":"before"}`+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	l.WriteAt(audit.Event{Event: audit.EventKeyReload, Outcome: audit.OutcomeSuccess}, t0)
	lines := readLines(t, path)
	if len(lines) != 2 || lines[0]["event"] != "before" || lines[1]["event"] != audit.EventKeyReload {
		t.Fatalf("the file was not appended to: %v", lines)
	}
	fresh := filepath.Join(t.TempDir(), "new.log")
	l2, err := audit.Open(fresh)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	fi, err := os.Stat(fresh)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Fatalf("new audit file mode %o, want 600", perm)
	}
}

// TestLineFields checks a line field by field, and that empty fields are
// left out.
func TestLineFields(t *testing.T) {
	l, path := openTemp(t)
	l.WriteAt(audit.Event{
		Time:         "caller's time is replaced",
		Event:        audit.EventCreate,
		Outcome:      audit.OutcomeSuccess,
		Reason:       "granted",
		UserID:       42,
		Login:        "jane.q.public",
		ActorID:      1,
		TargetUserID: 42,
		Client:       "[2001:db8::7]:51234",
		JTI:          "3f2a9c0d4b5e6f708192a3b4c5d6e7f8",
		SID:          "0123456789abcdef0123456789abcdef",
		Router:       "api-tokengate@file",
		Actions:      []string{"GetDevice", "CreateDeviceNotification"},
		Networks:     []string{"1", "7"},
		DeviceTypes:  []string{"*"},
		File:         "/etc/tokengate/keys.json",
		Count:        3,
	}, t0)
	l.WriteAt(audit.Event{Event: audit.EventLoginThrottled}, t0+1)

	lines := readLines(t, path)
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2", len(lines))
	}
	want := map[string]any{
		"time":           "2026-12-02T10:04:05.123Z",
		"event":          "create",
		"outcome":        "success",
		"reason":         "granted",
		"user_id":        float64(42),
		"login":          "jane.q.public",
		"actor_id":       float64(1),
		"target_user_id": float64(42),
		"client":         "[2001:db8::7]:51234",
		"jti":            "3f2a9c0d4b5e6f708192a3b4c5d6e7f8",
		"sid":            "0123456789abcdef0123456789abcdef",
		"router":         "api-tokengate@file",
		"actions":        []any{"GetDevice", "CreateDeviceNotification"},
		"networks":       []any{"1", "7"},
		"device_types":   []any{"*"},
		"file":           "/etc/tokengate/keys.json",
		"count":          float64(3),
	}
	got := lines[0]
	for k, w := range want {
		g, ok := got[k]
		if !ok {
			t.Errorf("field %q missing", k)
			continue
		}
		if fmt.Sprint(g) != fmt.Sprint(w) {
			t.Errorf("field %q = %#v, want %#v", k, g, w)
		}
	}
	for k := range got {
		if _, ok := want[k]; !ok {
			t.Errorf("unexpected field %q", k)
		}
	}
	keys := make([]string, 0, len(lines[1]))
	for k := range lines[1] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if strings.Join(keys, ",") != "event,time" || lines[1]["time"] != "2026-12-02T10:04:05.124Z" {
		t.Fatalf("empty fields are not left out: %v", lines[1])
	}
	// The time is RFC 3339 with milliseconds, in UTC.
	ts, err := time.Parse(time.RFC3339Nano, got["time"].(string))
	if err != nil || ts.UnixMilli() != t0 {
		t.Fatalf("time %v does not parse back to %d: %v", got["time"], t0, err)
	}
	// Write stamps the current time.
	before := time.Now().UnixMilli()
	l.Write(audit.Event{Event: audit.EventRefresh})
	after := time.Now().UnixMilli()
	lines = readLines(t, path)
	ts, err = time.Parse(time.RFC3339Nano, lines[2]["time"].(string))
	if err != nil || ts.UnixMilli() < before || ts.UnixMilli() > after {
		t.Fatalf("Write's time %v not within [%d, %d]: %v", lines[2]["time"], before, after, err)
	}
}

func TestSharedStdout(t *testing.T) {
	s1, err := audit.Shared(audit.Stdout)
	if err != nil || s1 == nil || s1.Target() != "stdout" {
		t.Fatalf("Shared(stdout) = %v, %v", s1, err)
	}
	s2, err := audit.Shared("stdout")
	if err != nil || s1 != s2 {
		t.Fatalf("Shared(stdout) twice gave %p and %p (%v)", s1, s2, err)
	}
}

func TestSharedOnePerTarget(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "audit.log")
	a, err := audit.Shared(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := audit.Shared(path)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Fatal("Shared returned two logs for one path")
	}
	// The same file written another way is the same log.
	cwd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(cwd, path)
	if err != nil {
		t.Fatal(err)
	}
	c, err := audit.Shared(rel)
	if err != nil {
		t.Fatal(err)
	}
	if c != a {
		t.Fatalf("Shared(%q) and Shared(%q) differ", rel, path)
	}
	d, err := audit.Shared(filepath.Join(dir, "other.log"))
	if err != nil {
		t.Fatal(err)
	}
	if d == a {
		t.Fatal("two paths share a log")
	}
	// A failed open is not remembered.
	bad := filepath.Join(dir, "later", "audit.log")
	if _, err := audit.Shared(bad); err == nil {
		t.Fatal("Shared in a missing directory did not fail")
	}
	if err := os.Mkdir(filepath.Join(dir, "later"), 0o700); err != nil {
		t.Fatal(err)
	}
	if l, err := audit.Shared(bad); err != nil || l == nil {
		t.Fatalf("Shared after the directory appeared: %v, %v", l, err)
	}
}

// whole reports lines per jti prefix, for the concurrency tests.
func countBy(lines []map[string]any, field string) map[string]int {
	out := map[string]int{}
	for _, m := range lines {
		s, _ := m[field].(string)
		out[s]++
	}
	return out
}

// longEvent makes lines of about 1.5 KB, so that torn writes would show.
func longEvent(writer string, n int) audit.Event {
	actions := make([]string, 0, 40)
	for i := 0; i < 40; i++ {
		actions = append(actions, "Action"+strconv.Itoa(i)+"-"+writer)
	}
	return audit.Event{
		Event:   audit.EventRefresh,
		Outcome: audit.OutcomeSuccess,
		Login:   writer,
		JTI:     writer + "-" + strconv.Itoa(n),
		Reason:  strings.Repeat(writer, 20),
		Actions: actions,
		Router:  "router-" + writer,
	}
}

// TestConcurrentWritersWholeLines: many goroutines on one Log, and two Logs
// on the same file (two descriptors, as two Traefik processes would have),
// produce only whole lines, none lost.
func TestConcurrentWritersWholeLines(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.log")
	logs := make([]*audit.Log, 2)
	for i := range logs {
		l, err := audit.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		logs[i] = l
	}
	const writers, each = 4, 150
	var wg sync.WaitGroup
	for li, l := range logs {
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func(l *audit.Log, name string) {
				defer wg.Done()
				for n := 0; n < each; n++ {
					l.Write(longEvent(name, n))
				}
			}(l, "p"+strconv.Itoa(li)+"w"+strconv.Itoa(w))
		}
	}
	wg.Wait()
	lines := readLines(t, path)
	if len(lines) != 2*writers*each {
		t.Fatalf("%d lines, want %d", len(lines), 2*writers*each)
	}
	for who, n := range countBy(lines, "login") {
		if n != each {
			t.Errorf("writer %s: %d lines, want %d", who, n, each)
		}
	}
	for _, l := range logs {
		if l.Failures() != 0 {
			t.Fatalf("Failures = %d", l.Failures())
		}
	}
}

func jtis(lines []map[string]any) []string {
	out := make([]string, 0, len(lines))
	for _, m := range lines {
		s, _ := m["jti"].(string)
		out = append(out, s)
	}
	return out
}

func writeSeq(l *audit.Log, from, to int, now int64) {
	for i := from; i < to; i++ {
		l.WriteAt(audit.Event{Event: audit.EventLogin, JTI: "n" + strconv.Itoa(i)}, now)
	}
}

func seq(from, to int) string {
	var b []string
	for i := from; i < to; i++ {
		b = append(b, "n"+strconv.Itoa(i))
	}
	return strings.Join(b, ",")
}

// TestRotationCreate: logrotate's "create" renames the file (and may create
// a new one); within a second the lines go to a file at the path again.
func TestRotationCreate(t *testing.T) {
	for _, newFileByLogrotate := range []bool{false, true} {
		t.Run(fmt.Sprintf("logrotate creates the new file %v", newFileByLogrotate), func(t *testing.T) {
			l, path := openTemp(t)
			msgs := &messages{}
			l.SetLogf(msgs.logf)
			writeSeq(l, 0, 10, t0) // the first write checks; the next check is at t0+1000
			if err := os.Rename(path, path+".1"); err != nil {
				t.Fatal(err)
			}
			if newFileByLogrotate {
				if err := os.WriteFile(path, nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			writeSeq(l, 10, 20, t0+999)  // not checked yet: the renamed file
			writeSeq(l, 20, 30, t0+1000) // checked: reopened
			if got := strings.Join(jtis(readLines(t, path+".1")), ","); got != seq(0, 20) {
				t.Fatalf("rotated file holds %s", got)
			}
			if got := strings.Join(jtis(readLines(t, path)), ","); got != seq(20, 30) {
				t.Fatalf("new file holds %s", got)
			}
			if l.Failures() != 0 || len(msgs.all()) != 0 {
				t.Fatalf("rotation is not a failure: %d %v", l.Failures(), msgs.all())
			}
		})
	}
}

// TestRotationCopyTruncate: logrotate's "copytruncate" keeps the file and
// truncates it; with O_APPEND the next lines start at offset 0 (no hole of
// NUL bytes) and nothing is reopened.
func TestRotationCopyTruncate(t *testing.T) {
	l, path := openTemp(t)
	writeSeq(l, 0, 10, t0)
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".1", data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	writeSeq(l, 10, 15, t0+500)
	writeSeq(l, 15, 20, t0+5000)
	if got := strings.Join(jtis(readLines(t, path)), ","); got != seq(10, 20) {
		t.Fatalf("truncated file holds %s", got)
	}
	after, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !os.SameFile(before, after) {
		t.Fatal("the file was replaced")
	}
}

// TestRotationWhileWriting rotates (create, then copytruncate) while
// goroutines write with the real clock: every line is whole, none is lost
// by the rename, and lines written after rotation land in the new file.
func TestRotationWhileWriting(t *testing.T) {
	l, path := openTemp(t)
	msgs := &messages{}
	l.SetLogf(msgs.logf)
	var stop sync.WaitGroup
	done := make(chan struct{})
	var mu sync.Mutex
	written := 0
	for w := 0; w < 3; w++ {
		stop.Add(1)
		go func(name string) {
			defer stop.Done()
			for n := 0; ; n++ {
				select {
				case <-done:
					return
				default:
				}
				l.Write(longEvent(name, n))
				mu.Lock()
				written++
				mu.Unlock()
				time.Sleep(3 * time.Millisecond)
			}
		}("w" + strconv.Itoa(w))
	}
	time.Sleep(200 * time.Millisecond)
	if err := os.Rename(path, path+".1"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1300 * time.Millisecond) // more than the check interval
	close(done)
	stop.Wait()

	rotated := readLines(t, path+".1")
	current := readLines(t, path)
	if len(rotated)+len(current) != written {
		t.Fatalf("%d + %d lines, %d written", len(rotated), len(current), written)
	}
	if len(current) == 0 {
		t.Fatal("no line landed in the new file")
	}
	l.Write(audit.Event{Event: audit.EventRevoke, JTI: "after-create"})
	current = readLines(t, path)
	if current[len(current)-1]["jti"] != "after-create" {
		t.Fatal("the last line is not in the new file")
	}

	// copytruncate while writing: whole lines, no NUL bytes.
	done = make(chan struct{})
	for w := 0; w < 3; w++ {
		stop.Add(1)
		go func(name string) {
			defer stop.Done()
			for n := 0; ; n++ {
				select {
				case <-done:
					return
				default:
				}
				l.Write(longEvent(name, n))
				time.Sleep(3 * time.Millisecond)
			}
		}("t" + strconv.Itoa(w))
	}
	time.Sleep(150 * time.Millisecond)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path+".2", data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond)
	close(done)
	stop.Wait()
	l.Write(audit.Event{Event: audit.EventRevoke, JTI: "after-truncate"})
	current = readLines(t, path)
	if len(current) == 0 || current[len(current)-1]["jti"] != "after-truncate" {
		t.Fatal("the last line is not in the truncated file")
	}
	// The copy was read while lines were being written: like logrotate's
	// own copy, it may end inside a line (a reader can see part of a
	// write in progress; seen once in CI), which no writer can prevent.
	// Every whole line before that must parse.
	parseLines(t, "the copy", data[:bytes.LastIndexByte(data, '\n')+1])
	if l.Failures() != 0 || len(msgs.all()) != 0 {
		t.Fatalf("rotation is not a failure: %d %v", l.Failures(), msgs.all())
	}
}

// TestWriteFailureReportedOnce: every write to /dev/full fails (ENOSPC,
// whoever runs the test, root included). The caller goes on, each lost
// line is counted, and the problem is reported once.
func TestWriteFailureReportedOnce(t *testing.T) {
	if _, err := os.Stat("/dev/full"); err != nil {
		t.Skip("no /dev/full here")
	}
	l, err := audit.Open("/dev/full")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	msgs := &messages{}
	l.SetLogf(msgs.logf)
	infos := &messages{}
	l.SetInfof(infos.logf)
	for i := 0; i < 5; i++ {
		l.WriteAt(audit.Event{Event: audit.EventLogin}, t0+int64(i)*700) // reopens in between
	}
	if n := l.Failures(); n != 5 {
		t.Fatalf("Failures = %d, want 5", n)
	}
	got := msgs.all()
	if len(got) != 1 {
		t.Fatalf("%d messages, want 1: %q", len(got), got)
	}
	if !strings.Contains(got[0], `auditLog "/dev/full"`) || !strings.Contains(got[0], "no space left on device") ||
		!strings.Contains(got[0], "token service goes on") {
		t.Fatalf("message: %s", got[0])
	}
	if len(infos.all()) != 0 {
		t.Fatalf("infos: %q", infos.all())
	}
}

// TestReopenFailure: the file is rotated away and its directory replaced by
// a regular file, so the reopen fails (ENOTDIR, even as root). Lines go on
// to the rotated file, the failure is reported once and counted per
// attempt; when the directory is back, lines land in a new file and the
// recovery is reported.
func TestReopenFailure(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "logs")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "audit.log")
	l, err := audit.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	msgs := &messages{}
	l.SetLogf(msgs.logf)
	infos := &messages{}
	l.SetInfof(infos.logf)
	writeSeq(l, 0, 1, t0)
	if err := os.Rename(dir, dir+".old"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	writeSeq(l, 1, 3, t0+1000) // check: reopen fails, written to the old file
	writeSeq(l, 3, 4, t0+2000) // check: fails again, not reported again
	if n := l.Failures(); n != 2 {
		t.Fatalf("Failures = %d, want 2 (one per failed reopen)", n)
	}
	got := msgs.all()
	if len(got) != 1 || !strings.Contains(got[0], "not a directory") {
		t.Fatalf("messages %q", got)
	}
	if got := strings.Join(jtis(readLines(t, filepath.Join(dir+".old", "audit.log"))), ","); got != seq(0, 4) {
		t.Fatalf("rotated file holds %s", got)
	}
	if len(infos.all()) != 0 {
		t.Fatalf("recovery reported too early: %q", infos.all())
	}
	if err := os.Remove(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	writeSeq(l, 4, 6, t0+3000)
	if got := strings.Join(jtis(readLines(t, path)), ","); got != seq(4, 6) {
		t.Fatalf("new file holds %s", got)
	}
	if n := l.Failures(); n != 2 {
		t.Fatalf("Failures = %d after recovery", n)
	}
	if got := infos.all(); len(got) != 1 || !strings.Contains(got[0], "writing audit lines again") {
		t.Fatalf("infos %q", got)
	}
}

func TestCloseThenWriteReopens(t *testing.T) {
	l, path := openTemp(t)
	writeSeq(l, 0, 1, t0)
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	writeSeq(l, 1, 2, t0+1) // within the check interval, and yet reopened
	if got := strings.Join(jtis(readLines(t, path)), ","); got != seq(0, 2) {
		t.Fatalf("file holds %s", got)
	}
	if l.Failures() != 0 {
		t.Fatal(l.Failures())
	}
}

// BenchmarkWriteAt: one realistic login line appended to a file.
func BenchmarkWriteAt(b *testing.B) {
	path := filepath.Join(b.TempDir(), "audit.log")
	l, err := audit.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	e := realisticEvents()[0]
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l.WriteAt(e, t0+int64(i))
	}
}
