package resp_test

import (
	"net"
	"sync"
	"testing"
)

// fakeServer is a TCP listener whose connections are handed to handle, one
// goroutine each; it counts them.
type fakeServer struct {
	Addr string

	ln     net.Listener
	handle func(c net.Conn)
	mu     sync.Mutex
	open   int
	total  int
	conns  []net.Conn
}

// startFake listens on a free port; handle runs per connection and the
// connection is closed when it returns. nil handle: read and never answer.
func startFake(t *testing.T, handle func(c net.Conn)) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if handle == nil {
		handle = neverAnswer
	}
	f := &fakeServer{Addr: ln.Addr().String(), ln: ln, handle: handle}
	go f.serve()
	t.Cleanup(f.Close)
	return f
}

func (f *fakeServer) serve() {
	for {
		c, err := f.ln.Accept()
		if err != nil {
			return
		}
		f.mu.Lock()
		f.open++
		f.total++
		f.conns = append(f.conns, c)
		f.mu.Unlock()
		go f.run(c)
	}
}

func (f *fakeServer) run(c net.Conn) {
	f.handle(c)
	_ = c.Close()
	f.mu.Lock()
	f.open--
	f.mu.Unlock()
}

// Close stops listening and closes every connection.
func (f *fakeServer) Close() {
	_ = f.ln.Close()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, c := range f.conns {
		_ = c.Close()
	}
}

// Counts returns the connections open now (as far as the server has
// noticed) and the total accepted.
func (f *fakeServer) Counts() (int, int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.open, f.total
}

// neverAnswer reads until the client closes, answering nothing: a stalled server.
func neverAnswer(c net.Conn) {
	buf := make([]byte, 4096)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}
