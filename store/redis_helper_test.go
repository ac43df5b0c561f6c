package store_test

import (
	"bufio"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Copied from resp/redis_helper_test.go (plain TCP only).

// redisServer is a redis-server process started for one test, on a free
// 127.0.0.1 port, without persistence; t.Cleanup stops it.
type redisServer struct {
	Addr string // 127.0.0.1:port
	Port int

	t    *testing.T
	args []string
	dir  string
	log  string // the server's log file
	out  string // its stdout and stderr (config errors land there)
	proc *os.Process
	done chan struct{}
}

// redisBin returns the path of redis-server, or fails the test saying how
// to install it. The helper uses os.StartProcess and its own PATH lookup,
// not os/exec: the interpreter (yaegi test without -unrestricted, as
// scripts/yaegi-test.sh runs it) has no os/exec.
func redisBin(t *testing.T) string {
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

// startRedis starts redis-server and waits until it answers PING.
func startRedis(t *testing.T) *redisServer {
	t.Helper()
	bin := redisBin(t)
	s := &redisServer{t: t, dir: t.TempDir()}
	s.log = filepath.Join(s.dir, "redis.log")
	s.out = filepath.Join(s.dir, "redis.out")
	var lastErr string
	for attempt := 0; attempt < 3; attempt++ {
		s.Port = freePort(t)
		s.Addr = "127.0.0.1:" + strconv.Itoa(s.Port)
		s.args = []string{"--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
			"--daemonize", "no", "--dir", s.dir, "--logfile", s.log, "--port", strconv.Itoa(s.Port)}
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
func (s *redisServer) start(bin string) string {
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

func (s *redisServer) wait(proc *os.Process, done chan struct{}) {
	_, _ = proc.Wait()
	close(done)
}

// ping reports whether the server answers (NOAUTH counts: it is up).
func (s *redisServer) ping() bool {
	nc, err := net.DialTimeout("tcp", s.Addr, time.Second)
	if err != nil {
		return false
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
func (s *redisServer) Stop() {
	if s.proc == nil {
		return
	}
	_ = s.proc.Kill()
	<-s.done
}

// Restart stops the server and starts it again on the same port.
func (s *redisServer) Restart() {
	s.t.Helper()
	s.Stop()
	if msg := s.start(redisBin(s.t)); msg != "" {
		s.t.Fatalf("redis-server did not restart: %s", msg)
	}
}

// Log returns the server's output and log file, for failure messages.
func (s *redisServer) Log() string {
	var sb strings.Builder
	for _, path := range []string{s.out, s.log} {
		if b, err := os.ReadFile(path); err == nil {
			sb.Write(b)
		}
	}
	return sb.String()
}

// freePort returns a port that was free on 127.0.0.1 a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	return port
}
