// Package redistest starts a real redis-server for tests: on a free
// 127.0.0.1 port, without persistence, stopped when the test ends.
//
// Only tests import it (resp and store); the plugin never does, so Traefik
// never loads it. It runs natively and under the interpreter
// (scripts/yaegi-test.sh): it starts the process with os.StartProcess and
// its own PATH lookup, not os/exec, which `yaegi test` without
// -unrestricted does not have (resp/interp_traps_test.go
// TestInterpreterNoOsExec checks this package too).
//
// The linters .golangci.yml turns off for _test.go files (gosec: paths from
// PATH and the test's own temp dir; noctx: dials and listens on loopback
// with their own timeouts) are off for this file, which is test code too.
//
//nolint:gosec,noctx // test code: see above
package redistest

import (
	"bufio"
	"crypto/tls"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Server is a redis-server process started for one test, on a free
// 127.0.0.1 port, without persistence; t.Cleanup stops it.
type Server struct {
	Addr string // 127.0.0.1:port, plain TCP (or TLS when started with Options.TLS)
	Port int

	t    *testing.T
	args []string
	tls  *tls.Config // for the readiness check, when the port speaks TLS
	dir  string
	log  string // the server's log file
	out  string // its stdout and stderr (config errors land there)
	proc *os.Process
	done chan struct{}
}

// Options adjusts a Server before it starts; the zero value is a plain TCP
// server with no password.
type Options struct {
	// Args are extra redis-server arguments, e.g. "--requirepass", "pw".
	Args []string
	// TLS makes the free port a TLS port (--port 0 --tls-port N): Args must
	// carry the certificate flags, and this config is used to check readiness.
	TLS *tls.Config
}

// Bin returns the path of redis-server, or fails the test saying how to
// install it.
func Bin(t *testing.T) string {
	t.Helper()
	for _, dir := range filepath.SplitList(os.Getenv("PATH")) {
		if dir == "" {
			continue
		}
		path := filepath.Join(dir, "redis-server")
		if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
			return path
		}
	}
	t.Fatal("redis-server is not on PATH: run scripts/install-tools.sh redis")
	return ""
}

// Start starts redis-server and waits until it answers PING. A port taken
// between choosing it and binding it is retried, up to three attempts.
func Start(t *testing.T, o Options) *Server {
	t.Helper()
	bin := Bin(t)
	s := &Server{t: t, tls: o.TLS, dir: t.TempDir()}
	s.log = filepath.Join(s.dir, "redis.log")
	s.out = filepath.Join(s.dir, "redis.out")
	var lastErr string
	for attempt := 0; attempt < 3; attempt++ {
		s.Port = FreePort(t)
		s.Addr = "127.0.0.1:" + strconv.Itoa(s.Port)
		s.args = []string{"--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--daemonize", "no", "--dir", s.dir, "--logfile", s.log}
		if o.TLS != nil {
			s.args = append(s.args, "--port", "0", "--tls-port", strconv.Itoa(s.Port))
		} else {
			s.args = append(s.args, "--port", strconv.Itoa(s.Port))
		}
		s.args = append(s.args, o.Args...)
		lastErr = s.start(bin)
		if lastErr == "" {
			t.Cleanup(s.Stop)
			return s
		}
	}
	t.Fatalf("redis-server did not start: %s", lastErr)
	return nil
}

// start runs the process and waits for PING; it returns "" or why it failed.
func (s *Server) start(bin string) string {
	_ = os.Remove(s.log)
	out, err := os.Create(s.out)
	if err != nil {
		return err.Error()
	}
	defer out.Close() // the child has its own copy
	argv := append([]string{bin}, s.args...)
	proc, err := os.StartProcess(bin, argv, &os.ProcAttr{Dir: s.dir, Files: []*os.File{nil, out, out}})
	if err != nil {
		return err.Error()
	}
	s.proc = proc
	s.done = make(chan struct{})
	go s.wait(proc, s.done)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			return "exited early: " + s.Log()
		default:
		}
		if s.ping() {
			return ""
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.Stop()
	return "no answer to PING within 10s: " + s.Log()
}

func (s *Server) wait(proc *os.Process, done chan struct{}) {
	_, _ = proc.Wait()
	close(done)
}

// ping reports whether the server answers (NOAUTH counts: it is up).
func (s *Server) ping() bool {
	nc, err := net.DialTimeout("tcp", s.Addr, time.Second)
	if err != nil {
		return false
	}
	if s.tls != nil {
		cfg := s.tls.Clone()
		if cfg.ServerName == "" {
			cfg.ServerName = "127.0.0.1"
		}
		nc = tls.Client(nc, cfg)
	}
	defer nc.Close()
	_ = nc.SetDeadline(time.Now().Add(time.Second))
	if _, err := nc.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(nc).ReadString('\n')
	if err != nil {
		return false
	}
	return strings.HasPrefix(line, "+PONG") || strings.HasPrefix(line, "-NOAUTH")
}

// Stop kills the server and waits for it to exit. It may be called twice.
func (s *Server) Stop() {
	if s.proc == nil {
		return
	}
	_ = s.proc.Kill()
	<-s.done
}

// Restart stops the server and starts it again on the same port.
func (s *Server) Restart() {
	s.t.Helper()
	s.Stop()
	if msg := s.start(Bin(s.t)); msg != "" {
		s.t.Fatalf("redis-server did not restart: %s", msg)
	}
}

// Log returns the server's output and log file, for failure messages.
func (s *Server) Log() string {
	var sb strings.Builder
	for _, path := range []string{s.out, s.log} {
		if b, err := os.ReadFile(path); err == nil {
			sb.Write(b)
		}
	}
	return sb.String()
}

// FreePort returns a port that was free on 127.0.0.1 a moment ago.
func FreePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	return port
}
