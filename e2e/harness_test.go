//go:build e2e

// Package e2e tests tokengate end to end through a real Traefik binary
// (v3.6.12, the plugin loaded as a local plugin into its Yaegi interpreter).
//
//	go test -tags e2e -count=1 -v ./e2e
//
// Traefik is taken from $TRAEFIK_BIN, else scripts/build-traefik.sh builds it
// once (about 18 minutes cold) and caches it outside the clone. Every test
// starts its own Traefik with startTraefik, on free 127.0.0.1 ports, in a
// temporary directory holding plugins-local/ and the configuration; the
// service behind the gateway is an echo server inside the test process.
//
// Tests build their dynamic configuration with dynamicConfig and
// pluginOptions (fixtures_test.go), and can change it on a running Traefik
// with reconfigure. Other backends: the demo device API (startDeviceAPI),
// in-process device lookup stubs (startLookupStub) and the jose verifier
// (joseVerify, node and e2e/jose) are in services_test.go.
//
// Traefik keeps running when a plugin fails to load or New fails: the
// router answers 404 and an ERR line is logged. So every test's Traefik log
// is scanned at the end and any ERR line fails the test, unless the test
// declared with expectErrors that it wants one. So does any output on
// Traefik's stdout/stderr: with a log file Traefik prints nothing there, but
// a plugin's writes to os.Stderr land there (Yaegi does not redirect them).
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
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
	"syscall"
	"testing"
	"time"
)

const (
	modulePath   = "github.com/tokengate/tokengate"
	pluginName   = "tokengate"
	readyPath    = "/__e2e_ready"
	startTimeout = 20 * time.Second
	stopTimeout  = 5 * time.Second
)

var (
	repoRoot    string   // the repository root (the plugin's sources)
	traefikBin  string   // the Traefik binary
	echoURL     string   // the in-process echo backend
	workDir     string   // scratch space of the whole run (built helpers)
	running     sync.Map // *exec.Cmd -> struct{}: Traefiks to stop on exit
	errLineTags = []string{" ERR ", " FTL ", " PNC "}
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	var err error
	if repoRoot, err = filepath.Abs(".."); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	if traefikBin, err = findTraefik(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	fmt.Fprintln(os.Stderr, "e2e: traefik:", traefikBin)

	if workDir, err = os.MkdirTemp("", "tokengate-e2e-"); err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(workDir)

	stopEcho, err := startEcho()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: echo backend:", err)
		return 1
	}
	defer stopEcho()
	// Whatever happened to the tests, no Traefik (nor demo device API)
	// outlives the run.
	defer running.Range(func(k, _ any) bool {
		stopProcess(k.(*exec.Cmd))
		return true
	})
	return m.Run()
}

// findTraefik returns $TRAEFIK_BIN, else the path scripts/build-traefik.sh
// prints (building Traefik if it is not cached yet).
func findTraefik() (string, error) {
	if bin := os.Getenv("TRAEFIK_BIN"); bin != "" {
		if _, err := os.Stat(bin); err != nil {
			return "", fmt.Errorf("TRAEFIK_BIN: %w", err)
		}
		return bin, nil
	}
	cmd := exec.Command(filepath.Join(repoRoot, "scripts", "build-traefik.sh"))
	cmd.Dir = repoRoot
	cmd.Stderr = os.Stderr // build progress
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("scripts/build-traefik.sh: %w", err)
	}
	bin := strings.TrimSpace(string(out))
	if i := strings.LastIndexByte(bin, '\n'); i >= 0 {
		bin = bin[i+1:]
	}
	if _, err := os.Stat(bin); err != nil {
		return "", fmt.Errorf("scripts/build-traefik.sh printed %q: %w", bin, err)
	}
	return bin, nil
}

// ---------------------------------------------------------------------------
// The service behind the gateway.

// echoReply is what the echo backend answers: what reached it.
type echoReply struct {
	Method        string            `json:"method"`
	Path          string            `json:"path"`
	Query         string            `json:"query"` // the raw query, as received
	URI           string            `json:"uri"`   // the request target, as received
	Authorization string            `json:"authorization"`
	Auth          map[string]string `json:"auth"`   // X-Auth-* headers
	Header        map[string]string `json:"header"` // every header, values joined with ","
}

func startEcho() (stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	echoURL = "http://" + ln.Addr().String()
	srv := &http.Server{
		ReadHeaderTimeout: 5 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			reply := echoReply{
				Method:        r.Method,
				Path:          r.URL.Path,
				Query:         r.URL.RawQuery,
				URI:           r.RequestURI,
				Authorization: r.Header.Get("Authorization"),
				Auth:          map[string]string{},
				Header:        map[string]string{},
			}
			for k, v := range r.Header {
				if strings.HasPrefix(k, "X-Auth-") {
					reply.Auth[k] = strings.Join(v, ",")
				}
				reply.Header[k] = strings.Join(v, ",")
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-E2e-Echo", "1")
			if err := json.NewEncoder(w).Encode(reply); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
			}
		}),
	}
	go func() { _ = srv.Serve(ln) }()
	return func() { _ = srv.Close() }, nil
}

// ---------------------------------------------------------------------------
// Traefik.

// gateway is one running Traefik.
type gateway struct {
	t       *testing.T
	dir     string // its working directory
	URL     string // the "web" entrypoint, http://127.0.0.1:port
	apiURL  string // the "traefik" entrypoint: API and ping
	logPath string // Traefik's log (log.filePath)
	outPath string // Traefik's stdout and stderr (plugin writes to os.Stderr land here)
	cmd     *exec.Cmd

	mu         sync.Mutex
	expectErrs bool
	generation int // of the dynamic configuration, see reconfigure
}

// startTraefik starts a Traefik whose file provider serves dynamicYAML, and
// returns once that configuration is live. The YAML may use the service
// "echo" (the in-process echo backend) and the plugin as
// "plugin: {tokengate: {...}}". The Traefik is stopped, and its log checked
// for ERR lines, when the test ends.
func startTraefik(t *testing.T, dynamicYAML string) *gateway {
	t.Helper()
	dir := t.TempDir()
	if err := copyPlugin(filepath.Join(dir, "plugins-local", "src", filepath.FromSlash(modulePath))); err != nil {
		t.Fatalf("copying the plugin: %v", err)
	}
	dynDir := filepath.Join(dir, "dynamic")
	if err := os.MkdirAll(dynDir, 0o755); err != nil {
		t.Fatal(err)
	}
	// The harness's own routes live in a second file of the same provider:
	// when readyPath answers, the test's configuration is live too.
	harnessYAML := fmt.Sprintf(`http:
  routers:
    e2e-ready:
      rule: "Path(%s)"
      priority: 100000
      entryPoints: [web]
      service: echo
  services:
    echo:
      loadBalancer:
        servers:
          - url: %q
`, "`"+readyPath+"`", echoURL)
	writeFile(t, filepath.Join(dynDir, "00-harness.yml"), harnessYAML)
	writeFile(t, filepath.Join(dynDir, "10-test.yml"), dynamicYAML)

	webPort, apiPort := freePort(t), freePort(t)
	for apiPort == webPort {
		apiPort = freePort(t)
	}
	g := &gateway{
		t:       t,
		dir:     dir,
		URL:     fmt.Sprintf("http://127.0.0.1:%d", webPort),
		apiURL:  fmt.Sprintf("http://127.0.0.1:%d", apiPort),
		logPath: filepath.Join(dir, "traefik.log"),
		outPath: filepath.Join(dir, "traefik.out"),
	}
	static := fmt.Sprintf(`global:
  checkNewVersion: false
  sendAnonymousUsage: false
entryPoints:
  web:
    address: "127.0.0.1:%d"
  traefik:
    address: "127.0.0.1:%d"
api:
  insecure: true
  dashboard: false
ping:
  entryPoint: traefik
log:
  level: DEBUG
  noColor: true
  filePath: %q
providers:
  providersThrottleDuration: 100ms
  file:
    directory: %q
    watch: true
experimental:
  localPlugins:
    %s:
      moduleName: %s
`, webPort, apiPort, g.logPath, dynDir, pluginName, modulePath)
	staticPath := filepath.Join(dir, "traefik.yml")
	writeFile(t, staticPath, static)

	out, err := os.Create(g.outPath)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	// Traefik finds local plugins in ./plugins-local: the working directory
	// must be dir.
	g.cmd = exec.Command(traefikBin, "--configFile="+staticPath)
	g.cmd.Dir = dir
	g.cmd.Stdout, g.cmd.Stderr = out, out
	g.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := g.cmd.Start(); err != nil {
		t.Fatalf("starting traefik: %v", err)
	}
	running.Store(g.cmd, struct{}{})
	exited := make(chan struct{})
	go func() {
		_ = g.cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() { g.stop(exited) })

	if err := g.waitReady(exited); err != nil {
		t.Fatalf("traefik did not become ready: %v", err)
	}
	return g
}

// waitReady polls readyPath on the web entrypoint until the harness's router
// (and so the whole dynamic configuration) is served.
func (g *gateway) waitReady(exited <-chan struct{}) error {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(startTimeout)
	start := time.Now()
	var last string
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return fmt.Errorf("traefik exited: %v", g.cmd.ProcessState)
		default:
		}
		resp, err := client.Get(g.URL + readyPath)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK && resp.Header.Get("X-E2e-Echo") == "1" {
				g.t.Logf("traefik ready in %v (%s)", time.Since(start).Round(time.Millisecond), g.dir)
				return nil
			}
			last = resp.Status
		} else {
			last = err.Error()
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("%s: not ready after %v (last: %s)", g.URL+readyPath, startTimeout, last)
}

// expectErrors declares that this test wants ERR lines in Traefik's log, so
// the end-of-test scan does not fail it. The test should assert them itself
// with errLines.
func (g *gateway) expectErrors() {
	g.mu.Lock()
	g.expectErrs = true
	g.mu.Unlock()
}

// reconfigure replaces the test's dynamic configuration of a running
// Traefik (its file provider watches the folder) and returns once the new
// configuration is served. Traefik then builds every middleware anew.
//
// Each file is written beside the folder and renamed into it, so Traefik
// never reads half a file. A second file, written after the test's,
// declares a router for a path unique to this generation: once that path
// answers, the configuration Traefik loaded holds the test's new file too.
func (g *gateway) reconfigure(t *testing.T, dynamicYAML string) {
	t.Helper()
	g.mu.Lock()
	g.generation++
	gen := g.generation
	g.mu.Unlock()
	dynDir := filepath.Join(g.dir, "dynamic")
	genPath := fmt.Sprintf("/__e2e_generation/%d", gen)
	genYAML := fmt.Sprintf(`http:
  routers:
    e2e-generation:
      rule: "Path(%s)"
      priority: 100000
      entryPoints: [web]
      service: echo
`, "`"+genPath+"`")
	for _, f := range []struct{ name, content string }{{"10-test.yml", dynamicYAML}, {"20-generation.yml", genYAML}} {
		tmp := filepath.Join(g.dir, f.name+".tmp")
		writeFile(t, tmp, f.content)
		if err := os.Rename(tmp, filepath.Join(dynDir, f.name)); err != nil {
			t.Fatal(err)
		}
	}
	client := &http.Client{Timeout: time.Second}
	start := time.Now()
	for deadline := start.Add(startTimeout); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := client.Get(g.URL + genPath)
		if err != nil {
			continue
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK && resp.Header.Get("X-E2e-Echo") == "1" {
			t.Logf("traefik reconfigured (generation %d) in %v", gen, time.Since(start).Round(time.Millisecond))
			// Connections kept alive from the old configuration are fine,
			// but drop them so that every later request is plainly new.
			http.DefaultClient.CloseIdleConnections()
			return
		}
	}
	t.Fatalf("traefik did not load configuration generation %d within %v", gen, startTimeout)
}

func (g *gateway) stop(exited <-chan struct{}) {
	// Idle keep-alive connections would hold Traefik's graceful shutdown.
	http.DefaultClient.CloseIdleConnections()
	stopAt := time.Now()
	stopProcess(g.cmd)
	select {
	case <-exited:
	case <-time.After(stopTimeout):
		g.t.Errorf("traefik (pid %d) did not exit", g.cmd.Process.Pid)
	}
	running.Delete(g.cmd)
	g.t.Logf("traefik stopped in %v", time.Since(stopAt).Round(time.Millisecond))

	g.mu.Lock()
	expect := g.expectErrs
	g.mu.Unlock()
	if !expect {
		for _, line := range errLines(g.logPath) {
			g.t.Errorf("traefik logged an error: %s", line)
		}
		// With log.filePath set Traefik itself prints nothing, so anything
		// here came from the plugin: under Yaegi, os.Stderr and os.Stdout
		// are Traefik's own streams, not its log.
		if out, err := os.ReadFile(g.outPath); err == nil && len(bytes.TrimSpace(out)) > 0 {
			g.t.Errorf("traefik's stdout/stderr is not empty (a plugin writing to os.Stderr?):\n%s", out)
		}
	}
	if g.t.Failed() {
		g.dumpLogs()
	}
}

// stopProcess ends a Traefik and anything it started: SIGTERM to its process
// group, SIGKILL if it is still there after a while.
func stopProcess(cmd *exec.Cmd) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	pgid := cmd.Process.Pid
	if err := syscall.Kill(-pgid, syscall.SIGTERM); err != nil {
		return // already gone
	}
	for deadline := time.Now().Add(stopTimeout); time.Now().Before(deadline); {
		if syscall.Kill(-pgid, 0) != nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
}

// errLines returns the lines of a Traefik log (common format) that report an
// error: level ERR, or FTL/PNC. Such a line looks like
//
//	2025-11-22T10:40:01Z ERR error="..." middlewareName=auth@file ...
func errLines(logPath string) []string {
	f, err := os.Open(logPath)
	if err != nil {
		return []string{fmt.Sprintf("cannot read traefik log %s: %v", logPath, err)}
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		for _, tag := range errLineTags {
			if strings.Contains(line, tag) {
				lines = append(lines, line)
				break
			}
		}
	}
	return lines
}

// dumpLogs puts the end of Traefik's log and output into the test's output.
func (g *gateway) dumpLogs() {
	for _, p := range []string{g.logPath, g.outPath} {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		const limit = 16 << 10
		if len(data) > limit {
			data = append([]byte("...\n"), data[len(data)-limit:]...)
		}
		g.t.Logf("---- %s ----\n%s", p, data)
	}
}

// routerStatus asks Traefik's API for a router of the file provider: its
// status ("enabled", "disabled", "warning") and errors. Found is false when
// Traefik does not know it.
func (g *gateway) routerStatus(name string) (status string, errs []string, found bool) {
	g.t.Helper()
	resp, err := http.Get(g.apiURL + "/api/http/routers/" + name + "@file")
	if err != nil {
		g.t.Fatalf("traefik API: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return "", nil, false
	}
	var info struct {
		Status string   `json:"status"`
		Err    []string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		g.t.Fatalf("traefik API: %v", err)
	}
	return info.Status, info.Err, true
}

// ---------------------------------------------------------------------------
// Requests.

// reply is one response from the gateway.
type reply struct {
	code   int
	header http.Header
	body   []byte
	json   map[string]any // the body, when it is a JSON object
}

func (r *reply) String() string {
	var extra string
	if v := r.header.Get("WWW-Authenticate"); v != "" {
		extra += fmt.Sprintf(" [WWW-Authenticate: %s]", v)
	}
	if r.header.Get("X-E2e-Echo") == "1" {
		extra += " [from the echo backend]"
	}
	return fmt.Sprintf("%d %s%s", r.code, bytes.TrimSpace(r.body), extra)
}

// str returns a string field of the JSON body, failing the test if it is
// missing or empty.
func (r *reply) str(t *testing.T, field string) string {
	t.Helper()
	s, _ := r.json[field].(string)
	if s == "" {
		t.Fatalf("response has no string %q: %s", field, r)
	}
	return s
}

// echo decodes the echo backend's answer, failing the test if the request
// did not reach the backend.
func (r *reply) echo(t *testing.T) echoReply {
	t.Helper()
	var e echoReply
	if r.header.Get("X-E2e-Echo") != "1" {
		t.Fatalf("the request did not reach the backend: %s", r)
	}
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("echo reply: %v: %s", err, r)
	}
	return e
}

// do sends a request through the gateway. header holds name, value pairs;
// a name given twice is sent twice, and "Host" sets the request's host (for
// routers with Host rules).
func (g *gateway) do(t *testing.T, method, path, body string, header ...string) *reply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, g.URL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		if strings.EqualFold(header[i], "Host") {
			req.Host = header[i+1] // Go sends req.Host, not a Host header
			continue
		}
		req.Header.Add(header[i], header[i+1]) // a name given twice is sent twice
	}
	if body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	r := &reply{code: resp.StatusCode, header: resp.Header, body: data}
	if trimmed := bytes.TrimSpace(data); len(trimmed) > 0 && trimmed[0] == '{' {
		if err := json.Unmarshal(trimmed, &r.json); err != nil {
			t.Errorf("%s %s: body is not JSON: %v: %s", method, path, err, data)
		}
	}
	return r
}

// post sends a JSON body with POST.
func (g *gateway) post(t *testing.T, path, body string, header ...string) *reply {
	t.Helper()
	return g.do(t, http.MethodPost, path, body, header...)
}

// ---------------------------------------------------------------------------
// Files and ports.

// copyPlugin copies the plugin's files to dst: those scripts/plugin-files.sh
// lists (what a plugins-local/ or the plugin catalog would hold), the one
// list scripts/demo.sh and bench/load.sh copy too.
func copyPlugin(dst string) error {
	if _, err := os.Stat(filepath.Join(repoRoot, "vendor", "modules.txt")); err != nil {
		return fmt.Errorf("%s/vendor is missing (Traefik only sees vendored dependencies): run 'make vendor'", repoRoot)
	}
	if _, err := os.Stat(filepath.Join(repoRoot, ".traefik.yml")); err != nil {
		return fmt.Errorf("%s/.traefik.yml (the plugin manifest Traefik reads first) is missing", repoRoot)
	}
	cmd := exec.Command("bash", "scripts/plugin-files.sh")
	cmd.Dir = repoRoot
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("scripts/plugin-files.sh: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	files := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if len(files) == 0 || files[0] == "" {
		return errors.New("scripts/plugin-files.sh listed no file")
	}
	for _, rel := range files {
		target := filepath.Join(dst, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
			return err
		}
		if err := copyFile(filepath.Join(repoRoot, filepath.FromSlash(rel)), target); err != nil {
			return err
		}
	}
	return nil
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	info, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, info.Mode().Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	addr, ok := ln.Addr().(*net.TCPAddr)
	if !ok {
		t.Fatalf("unexpected address %v", ln.Addr())
	}
	return addr.Port
}
