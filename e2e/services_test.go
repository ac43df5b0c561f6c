//go:build e2e

package e2e

// Other processes and servers the tests put behind or beside the gateway:
// the demo device API (a real backend and device directory), small
// in-process lookup stubs, and the jose verifier (node).

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// ---------------------------------------------------------------------------
// The demo device API (demo/deviceapi), built once per run.

var deviceAPIBuild struct {
	once sync.Once
	bin  string
	err  error
}

// startDeviceAPI builds demo/deviceapi (once per run) and starts it on a
// free 127.0.0.1 port. It returns its base URL; the process is stopped when
// the test ends. It serves GET /device/{id} for d1 (network 1, type 10),
// d2 (2, 20) and d3 (3, 10), 404 for any other id.
func startDeviceAPI(t *testing.T) string {
	t.Helper()
	deviceAPIBuild.once.Do(func() {
		bin := filepath.Join(workDir, "deviceapi")
		cmd := exec.Command("go", "build", "-o", bin, "./demo/deviceapi")
		cmd.Dir = repoRoot
		if out, err := cmd.CombinedOutput(); err != nil {
			deviceAPIBuild.err = fmt.Errorf("go build ./demo/deviceapi: %v\n%s", err, out)
			return
		}
		deviceAPIBuild.bin = bin
	})
	if deviceAPIBuild.err != nil {
		t.Fatal(deviceAPIBuild.err)
	}

	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	logPath := filepath.Join(t.TempDir(), "deviceapi.log")
	out, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	cmd := exec.Command(deviceAPIBuild.bin, "-addr", addr)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting the device API: %v", err)
	}
	running.Store(cmd, struct{}{})
	exited := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		stopProcess(cmd)
		<-exited
		running.Delete(cmd)
		if t.Failed() {
			if data, err := os.ReadFile(logPath); err == nil {
				t.Logf("---- %s ----\n%s", logPath, data)
			}
		}
	})

	url := "http://" + addr
	client := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		select {
		case <-exited:
			data, _ := os.ReadFile(logPath)
			t.Fatalf("the device API exited: %v\n%s", cmd.ProcessState, data)
		default:
		}
		resp, err := client.Get(url + "/healthz")
		if err != nil {
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return url
		}
	}
	t.Fatalf("the device API did not answer %s/healthz", url)
	return ""
}

// ---------------------------------------------------------------------------
// In-process device lookup stubs.

// lookupStub is a device directory backend inside the test process: it
// answers GET /device/{id} from its table (404 for other ids) after delay,
// and counts the lookups per device.
type lookupStub struct {
	URL     string            // base URL; the lookup URL is URL + "/device/{deviceId}"
	devices map[string]string // id -> JSON answer, or "status:NNN" to answer NNN
	delay   time.Duration
	slowIDs map[string]bool // when set, only these ids wait for delay
	// requireHeader, when set, names a header every lookup must carry with
	// the value requireValue: lookups without it are answered 401. The
	// values received are recorded (headerValues).
	requireHeader, requireValue string
	mu                          sync.Mutex
	counts                      map[string]int
	seen                        []string // values of requireHeader received, in order
	total                       int64    // atomic
}

// startLookupStub serves devices (id -> JSON body) on a free 127.0.0.1 port
// until the test ends. With a delay, each answer waits that long (or until
// the client gives up).
func startLookupStub(t *testing.T, devices map[string]string, delay time.Duration) *lookupStub {
	t.Helper()
	s := &lookupStub{devices: devices, delay: delay, counts: map[string]int{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.URL = "http://" + ln.Addr().String()
	srv := &http.Server{ReadHeaderTimeout: 5 * time.Second, Handler: s}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = srv.Close()
	})
	return s
}

func (s *lookupStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := strings.TrimPrefix(r.URL.Path, "/device/")
	atomic.AddInt64(&s.total, 1)
	s.mu.Lock()
	s.counts[id]++
	if s.requireHeader != "" {
		s.seen = append(s.seen, r.Header.Get(s.requireHeader))
	}
	s.mu.Unlock()
	if s.requireHeader != "" && r.Header.Get(s.requireHeader) != s.requireValue {
		http.Error(w, `{"error":401}`, http.StatusUnauthorized)
		return
	}
	if s.delay > 0 && (s.slowIDs == nil || s.slowIDs[id]) {
		select {
		case <-time.After(s.delay):
		case <-r.Context().Done():
			return
		}
	}
	body, ok := s.devices[id]
	if !ok || r.Method != http.MethodGet {
		http.Error(w, `{"error":404}`, http.StatusNotFound)
		return
	}
	var status int
	if _, err := fmt.Sscanf(body, "status:%d", &status); err == nil {
		if status/100 == 3 {
			w.Header().Set("Location", "/device/elsewhere")
		}
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, body)
}

// headerValues returns the values of requireHeader the lookups carried so
// far, in order ("" where it was absent).
func (s *lookupStub) headerValues() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

// count returns how many lookups asked for the device id.
func (s *lookupStub) count(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[id]
}

// ---------------------------------------------------------------------------
// jose: a JOSE client nobody here wrote (e2e/jose/verify.mjs).

var joseInstall struct {
	once   sync.Once
	script string
	err    error
}

// joseVerify runs `node e2e/jose/verify.mjs jwksURL token issuer [audience]`,
// which verifies the token with the npm package jose against the JWK Set
// at jwksURL. It returns the verifier's stdout (the header and payload as
// JSON) and whether jose accepted the token; the test fails if node or the
// package cannot be had.
func joseVerify(t *testing.T, jwksURL, token, issuer, audience string) (out, errOut string, ok bool) {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("node is not installed: this test verifies the gateway's tokens with the npm package jose " +
			"(e2e/jose). Install Node.js 20 or later and npm (Debian: apt-get install nodejs npm); CI machines have them.")
	}
	joseInstall.once.Do(func() {
		cmd := exec.Command(filepath.Join(repoRoot, "scripts", "install-tools.sh"), "jose")
		cmd.Dir = repoRoot
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.Output()
		if err != nil {
			joseInstall.err = fmt.Errorf("scripts/install-tools.sh jose: %v\n%s", err, stderr.Bytes())
			return
		}
		joseInstall.script = strings.TrimSpace(string(stdout))
	})
	if joseInstall.err != nil {
		t.Fatal(joseInstall.err)
	}
	args := []string{joseInstall.script, jwksURL, token, issuer}
	if audience != "" {
		args = append(args, audience)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", args...)
	cmd.Dir = filepath.Dir(joseInstall.script)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 1 {
			t.Fatalf("node verify.mjs: %v (a usage or environment error, not a verdict)\nstdout: %s\nstderr: %s", err, stdout.Bytes(), stderr.Bytes())
		}
	}
	return strings.TrimSpace(stdout.String()), strings.TrimSpace(stderr.String()), err == nil
}
