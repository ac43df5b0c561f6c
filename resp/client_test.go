package resp_test

import (
	"context"
	"fmt"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/redistest"
	"github.com/tokengate/tokengate/resp"
)

// serverErr returns err as a server error reply, or nil.
func serverErr(err error) *resp.Error {
	if se, ok := err.(*resp.Error); ok {
		return se
	}
	return nil
}

func TestNewValidates(t *testing.T) {
	tests := []struct {
		name string
		opts resp.Options
		want string // "" for no error
	}{
		{"ok", resp.Options{Endpoints: []string{"127.0.0.1:6379", "redis.example:6380"}}, ""},
		{"no endpoints", resp.Options{}, "endpoints: at least one"},
		{"not host:port", resp.Options{Endpoints: []string{"127.0.0.1:6379", "x"}}, `endpoints[1]: "x" is not host:port`},
		{"empty host", resp.Options{Endpoints: []string{":6379"}}, `endpoints[0]: ":6379" is not host:port`},
		{"bad port", resp.Options{Endpoints: []string{"h:99999"}}, `endpoints[0]: "h:99999" is not host:port`},
		{"username without password", resp.Options{Endpoints: []string{"h:1"}, Username: "u"}, "password: required"},
		{"negative database", resp.Options{Endpoints: []string{"h:1"}, Database: -1}, "database:"},
		{"negative timeout", resp.Options{Endpoints: []string{"h:1"}, Timeout: -time.Second}, "timeout:"},
		{"negative pool size", resp.Options{Endpoints: []string{"h:1"}, PoolSize: -1}, "poolSize:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := resp.New(tt.opts)
			if tt.want == "" {
				if err != nil {
					t.Fatalf("New: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: got %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

// TestNewDoesNotDial: Traefik calls constructors per router and per reload;
// New must neither connect nor start goroutines.
func TestNewDoesNotDial(t *testing.T) {
	f := startFake(t, nil)
	before := runtime.NumGoroutine()
	c, err := resp.New(resp.Options{Endpoints: []string{f.Addr}, PoolSize: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	time.Sleep(50 * time.Millisecond)
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("goroutines: %d before New, %d after", before, after)
	}
	_, total := f.Counts()
	if total != 0 {
		t.Errorf("New dialed: %d connections accepted", total)
	}
}

func TestCommands(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	c := redistest.Client(t, resp.Options{Endpoints: []string{srv.Addr}})
	ctx := context.Background()

	t.Run("basic", func(t *testing.T) {
		tests := []struct {
			args []string
			kind resp.Kind
			want string // Value.String()
		}{
			{[]string{"PING"}, resp.KindSimple, "PONG"},
			{[]string{"SET", "k", "v\r\nwith crlf"}, resp.KindSimple, "OK"},
			{[]string{"GET", "k"}, resp.KindBulk, "v\r\nwith crlf"},
			{[]string{"GET", "missing"}, resp.KindNil, "(nil)"},
			{[]string{"INCRBY", "n", "41"}, resp.KindInt, "41"},
			{[]string{"INCR", "n"}, resp.KindInt, "42"},
			{[]string{"RPUSH", "l", "a", "", "c"}, resp.KindInt, "3"},
			{[]string{"LRANGE", "l", "0", "-1"}, resp.KindArray, "[a  c]"},
			{[]string{"DEL", "k", "n", "l"}, resp.KindInt, "3"},
			{[]string{"SET", "empty", ""}, resp.KindSimple, "OK"},
			{[]string{"GET", "empty"}, resp.KindBulk, ""},
		}
		for _, tt := range tests {
			t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
				v := redistest.Do(t, c, tt.args...)
				if v.Kind != tt.kind || v.String() != tt.want {
					t.Fatalf("got %s %q, want %s %q", v.Kind, v.String(), tt.kind, tt.want)
				}
			})
		}
	})

	t.Run("helpers", func(t *testing.T) {
		redistest.Do(t, c, "SET", "h:n", "7")
		n, err := redistest.Do(t, c, "GET", "h:n").Int()
		if err != nil || n != 7 {
			t.Fatalf("Int: %d %v", n, err)
		}
		redistest.Do(t, c, "RPUSH", "h:l", "x", "y")
		got, err := redistest.Do(t, c, "LRANGE", "h:l", "0", "-1").Strings()
		if err != nil || strings.Join(got, ",") != "x,y" {
			t.Fatalf("Strings: %v %v", got, err)
		}
		if _, err := redistest.Do(t, c, "GET", "h:l:missing").Int(); err == nil {
			t.Fatal("Int of a nil reply must fail")
		}
	})

	t.Run("server error", func(t *testing.T) {
		redistest.Do(t, c, "SET", "e:str", "x")
		v, err := c.Do(ctx, "LPUSH", "e:str", "y")
		se := serverErr(err)
		if se == nil || se.Prefix() != "WRONGTYPE" || v.Kind != resp.KindError {
			t.Fatalf("got %v (%T), kind %s; want a WRONGTYPE *resp.Error", err, err, v.Kind)
		}
		// The connection is still good.
		if got := redistest.Do(t, c, "GET", "e:str").String(); got != "x" {
			t.Fatalf("after the error: %q", got)
		}
	})

	t.Run("pipeline with an error in the middle", func(t *testing.T) {
		vals, err := c.Pipeline(ctx, [][]string{
			{"SET", "p:k", "v"},
			{"INCR", "p:k"},
			{"GET", "p:k"},
			{"GET", "p:missing"},
			{"NOSUCHCOMMAND"},
			{"ECHO", "last"},
		})
		if err != nil {
			t.Fatalf("Pipeline: %v", err)
		}
		want := []struct {
			kind resp.Kind
			text string
		}{
			{resp.KindSimple, "OK"},
			{resp.KindError, "ERR value is not an integer or out of range"},
			{resp.KindBulk, "v"},
			{resp.KindNil, "(nil)"},
			{resp.KindError, "ERR unknown command"},
			{resp.KindBulk, "last"},
		}
		if len(vals) != len(want) {
			t.Fatalf("%d replies, want %d", len(vals), len(want))
		}
		for i, w := range want {
			if vals[i].Kind != w.kind || !strings.HasPrefix(vals[i].String(), w.text) {
				t.Errorf("reply %d: %s %q, want %s %q", i, vals[i].Kind, vals[i].String(), w.kind, w.text)
			}
		}
		if se := serverErr(vals[1].Err()); se == nil || se.Prefix() != "ERR" {
			t.Errorf("reply 1 Err(): %v", vals[1].Err())
		}
		if vals[0].Err() != nil {
			t.Errorf("reply 0 Err(): %v", vals[0].Err())
		}
	})

	t.Run("select isolates databases", func(t *testing.T) {
		db3 := redistest.Client(t, resp.Options{Endpoints: []string{srv.Addr}, Database: 3})
		redistest.Do(t, db3, "SET", "s:k", "in-3")
		redistest.Do(t, c, "SET", "s:k", "in-0")
		if got := redistest.Do(t, db3, "GET", "s:k").String(); got != "in-3" {
			t.Errorf("db 3: %q", got)
		}
		if got := redistest.Do(t, c, "GET", "s:k").String(); got != "in-0" {
			t.Errorf("db 0: %q", got)
		}
		redistest.Do(t, db3, "DEL", "s:k")
		if v := redistest.Do(t, db3, "GET", "s:k"); !v.IsNil() {
			t.Errorf("db 3 after DEL: %s", v)
		}
		if got := redistest.Do(t, c, "GET", "s:k").String(); got != "in-0" {
			t.Errorf("db 0 after DEL in 3: %q", got)
		}
	})

	t.Run("reply larger than the read buffer", func(t *testing.T) {
		for _, size := range []int{1 << 20, 3<<20 + 7} {
			b := make([]byte, size)
			for i := range b {
				b[i] = byte('a' + i%26)
			}
			big := string(b)
			redistest.Do(t, c, "SET", "big", big)
			vals, err := c.Pipeline(ctx, [][]string{{"GET", "big"}, {"STRLEN", "big"}, {"MGET", "big", "big"}})
			if err != nil {
				t.Fatal(err)
			}
			if vals[0].Text != big {
				t.Fatalf("size %d: GET returned %d bytes, different", size, len(vals[0].Text))
			}
			if n, _ := vals[1].Int(); n != int64(size) {
				t.Fatalf("STRLEN %d", n)
			}
			if len(vals[2].Elems) != 2 || vals[2].Elems[1].Text != big {
				t.Fatalf("MGET: %d elements", len(vals[2].Elems))
			}
		}
	})

	t.Run("eval falls back to EVAL after SCRIPT FLUSH", func(t *testing.T) {
		s := resp.NewScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
		if len(s.Hash()) != 40 {
			t.Fatalf("hash %q", s.Hash())
		}
		for i, flush := range []bool{true, false, true} {
			if flush {
				redistest.Do(t, c, "SCRIPT", "FLUSH")
			}
			v, err := c.Eval(ctx, s, []string{"ev:n"}, []string{"5"})
			if err != nil {
				t.Fatalf("run %d: %v", i, err)
			}
			if n, _ := v.Int(); n != int64(5*(i+1)) {
				t.Fatalf("run %d: %s", i, v)
			}
			exists, _ := redistest.Do(t, c, "SCRIPT", "EXISTS", s.Hash()).Strings()
			if len(exists) != 1 || exists[0] != "1" {
				t.Fatalf("run %d: script not loaded after Eval: %v", i, exists)
			}
		}
		_, err := c.Eval(ctx, resp.NewScript("return redis.error_reply('MYERR boom')"), nil, nil)
		if se := serverErr(err); se == nil || se.Prefix() != "MYERR" {
			t.Fatalf("script error: %v", err)
		}
	})

	t.Run("select of a missing database fails the connection", func(t *testing.T) {
		bad := redistest.Client(t, resp.Options{Endpoints: []string{srv.Addr}, Database: 99})
		_, err := bad.Do(ctx, "PING")
		if err == nil || !strings.Contains(err.Error(), "SELECT 99 failed") {
			t.Fatalf("got %v", err)
		}
	})

	t.Run("closed client", func(t *testing.T) {
		closed := redistest.Client(t, resp.Options{Endpoints: []string{srv.Addr}})
		redistest.Do(t, closed, "PING")
		if err := closed.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := closed.Do(ctx, "PING"); err == nil || !strings.Contains(err.Error(), "closed") {
			t.Fatalf("after Close: %v", err)
		}
	})

	t.Run("bad calls", func(t *testing.T) {
		if _, err := c.Do(ctx); err == nil {
			t.Error("Do without arguments must fail")
		}
		if _, err := c.Pipeline(ctx, [][]string{{"PING"}, {}}); err == nil {
			t.Error("a pipeline with an empty command must fail")
		}
		if vals, err := c.Pipeline(ctx, nil); err != nil || len(vals) != 0 {
			t.Errorf("empty pipeline: %v %v", vals, err)
		}
		done, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := c.Do(done, "PING"); err == nil || !strings.Contains(err.Error(), "canceled") {
			t.Errorf("cancelled context: %v", err)
		}
	})
}

func TestTimeout(t *testing.T) {
	const timeout = 300 * time.Millisecond
	f := startFake(t, nil)
	tests := []struct {
		name string
		opts resp.Options
	}{
		{"command", resp.Options{Endpoints: []string{f.Addr}, Timeout: timeout}},
		{"auth on a new connection", resp.Options{Endpoints: []string{f.Addr}, Timeout: timeout, Password: "pw"}},
		{"pipeline", resp.Options{Endpoints: []string{f.Addr}, Timeout: timeout}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := redistest.Client(t, tt.opts)
			start := time.Now()
			var err error
			if tt.name == "pipeline" {
				_, err = c.Pipeline(context.Background(), [][]string{{"PING"}, {"PING"}})
			} else {
				_, err = c.Do(context.Background(), "PING")
			}
			took := time.Since(start)
			if err == nil || !strings.Contains(err.Error(), "timeout") {
				t.Fatalf("got %v, want a timeout", err)
			}
			if strings.Contains(err.Error(), "pw") {
				t.Fatalf("the password leaked: %v", err)
			}
			if took < timeout*8/10 || took > timeout*4 {
				t.Fatalf("took %s with a %s timeout", took, timeout)
			}
		})
	}
	t.Run("context deadline sooner than Timeout", func(t *testing.T) {
		c := redistest.Client(t, resp.Options{Endpoints: []string{f.Addr}, Timeout: 5 * time.Second})
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.Do(ctx, "PING")
		if err == nil || time.Since(start) > 2*time.Second {
			t.Fatalf("got %v after %s", err, time.Since(start))
		}
	})
}

func TestReconnect(t *testing.T) {
	tests := []struct {
		name    string
		breakIt func(t *testing.T, srv *redistest.Server)
	}{
		{"server restarted", func(t *testing.T, srv *redistest.Server) { srv.Restart() }},
		{"CLIENT KILL TYPE normal", func(t *testing.T, srv *redistest.Server) {
			admin := redistest.Client(t, resp.Options{Endpoints: []string{srv.Addr}})
			if n, err := redistest.Do(t, admin, "CLIENT", "KILL", "TYPE", "normal").Int(); err != nil || n < 1 {
				t.Fatalf("CLIENT KILL killed %d (%v)", n, err)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := redistest.Start(t, redistest.Options{})
			c := redistest.Client(t, resp.Options{Endpoints: []string{srv.Addr}, PoolSize: 4})
			// Several idle connections, all about to die.
			var wg sync.WaitGroup
			for i := 0; i < 8; i++ {
				wg.Add(1)
				go func(n int) {
					defer wg.Done()
					_, _ = c.Do(context.Background(), "SET", "r:"+strconv.Itoa(n), "x")
				}(i)
			}
			wg.Wait()
			tt.breakIt(t, srv)
			// The first command may fail (it ran on a dead connection and is
			// not retried); it drops the idle ones, so the next succeeds.
			if _, err := c.Do(context.Background(), "PING"); err != nil {
				t.Logf("first command after the break: %v", err)
			}
			for i := 0; i < 5; i++ {
				if got := redistest.Do(t, c, "PING").String(); got != "PONG" {
					t.Fatalf("PING %d: %q", i, got)
				}
			}
		})
	}
}

func TestAuth(t *testing.T) {
	const password = "s3cret-Pa55"
	srv := redistest.Start(t, redistest.Options{Args: []string{"--requirepass", password}})
	admin := redistest.Client(t, resp.Options{Endpoints: []string{srv.Addr}, Password: password})
	redistest.Do(t, admin, "ACL", "SETUSER", "alice", "reset", "on", ">alice-Pa55", "~*", "&*", "+@all")

	tests := []struct {
		name     string
		user     string
		password string
		whoami   string // "" when the connection must fail
		wantErr  string
	}{
		{"password", "", password, "default", ""},
		{"username and password", "alice", "alice-Pa55", "alice", ""},
		{"wrong password", "", "wrong-Pa55-xyzzy", "", "authentication failed"},
		{"wrong password for user", "alice", "wrong-Pa55-xyzzy", "", "authentication failed"},
		{"unknown user", "mallory", "mallory-Pa55", "", "authentication failed"},
		{"no password", "", "", "", "NOAUTH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := redistest.Client(t, resp.Options{Endpoints: []string{srv.Addr}, Username: tt.user, Password: tt.password})
			v, err := c.Do(context.Background(), "ACL", "WHOAMI")
			if tt.whoami != "" {
				if err != nil || v.String() != tt.whoami {
					t.Fatalf("WHOAMI: %q %v", v.String(), err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want an error containing %q", err, tt.wantErr)
			}
			if tt.password != "" && strings.Contains(err.Error(), tt.password) {
				t.Fatalf("the password leaked: %v", err)
			}
		})
	}
}

func TestPool(t *testing.T) {
	t.Run("more callers than connections all succeed", func(t *testing.T) {
		srv := redistest.Start(t, redistest.Options{})
		const poolSize, callers, each = 3, 24, 5
		c := redistest.Client(t, resp.Options{Endpoints: []string{srv.Addr}, PoolSize: poolSize})
		errs := make(chan error, callers*each)
		var wg sync.WaitGroup
		for i := 0; i < callers; i++ {
			wg.Add(1)
			go func(n int) {
				defer wg.Done()
				for j := 0; j < each; j++ {
					if _, err := c.Do(context.Background(), "INCR", "pool:n"); err != nil {
						errs <- fmt.Errorf("caller %d: %w", n, err)
					}
				}
			}(i)
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if n, _ := redistest.Do(t, c, "GET", "pool:n").Int(); n != callers*each {
			t.Errorf("counter %d, want %d", n, callers*each)
		}
		admin := redistest.Client(t, resp.Options{Endpoints: []string{srv.Addr}})
		list := redistest.Do(t, admin, "CLIENT", "LIST", "TYPE", "normal").String()
		if n := strings.Count(strings.TrimSpace(list), "\n") + 1; n > poolSize+1 {
			t.Errorf("%d connections open (pool size %d, plus this one):\n%s", n, poolSize, list)
		}
	})

	t.Run("stalled server: callers time out, pool stays bounded", func(t *testing.T) {
		const timeout = 300 * time.Millisecond
		f := startFake(t, nil)
		c := redistest.Client(t, resp.Options{Endpoints: []string{f.Addr}, PoolSize: 2, Timeout: timeout})
		const callers = 6
		errs := make(chan error, callers)
		start := time.Now()
		for i := 0; i < callers; i++ {
			go func() {
				_, err := c.Do(context.Background(), "PING")
				errs <- err
			}()
		}
		// Halfway to the timeout the first two hold the two connections and
		// the others wait. (Later counts lag: the fake server sees a close
		// after the client has already dialed the next connection.)
		time.Sleep(timeout / 2)
		if _, total := f.Counts(); total != 2 {
			t.Errorf("%d connections made while %d callers were waiting, pool size 2", total, callers)
		}
		poolErrs := 0
		for i := 0; i < callers; i++ {
			err := <-errs
			if err == nil {
				t.Fatal("a stalled server answered")
			}
			if strings.Contains(err.Error(), "no pooled connection free") {
				poolErrs++
			}
		}
		took := time.Since(start)
		if took > 6*timeout {
			t.Errorf("callers took %s with a %s timeout", took, timeout)
		}
		t.Logf("%d of %d callers gave up waiting for the pool, in %s", poolErrs, callers, took)
	})

	t.Run("waiter gives up at its context deadline", func(t *testing.T) {
		f := startFake(t, nil)
		c := redistest.Client(t, resp.Options{Endpoints: []string{f.Addr}, PoolSize: 1, Timeout: time.Second})
		held := make(chan error, 1)
		go func(ch chan error) {
			_, err := c.Do(context.Background(), "PING")
			ch <- err
		}(held)
		for i := 0; ; i++ {
			if open, _ := f.Counts(); open == 1 {
				break
			}
			if i > 200 {
				t.Fatal("the holder never connected")
			}
			time.Sleep(10 * time.Millisecond)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.Do(ctx, "PING")
		if err == nil || !strings.Contains(err.Error(), "no pooled connection free") {
			t.Fatalf("waiter: %v", err)
		}
		if took := time.Since(start); took > time.Second {
			t.Fatalf("waiter took %s", took)
		}
		if err := <-held; err == nil {
			t.Fatal("holder: a stalled server answered")
		}
	})
}

func TestFailover(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	dead := "127.0.0.1:" + strconv.Itoa(redistest.FreePort(t))
	deadToo := "127.0.0.1:" + strconv.Itoa(redistest.FreePort(t))

	t.Run("first dead, second alive", func(t *testing.T) {
		c := redistest.Client(t, resp.Options{Endpoints: []string{dead, srv.Addr}})
		if got := redistest.Do(t, c, "PING").String(); got != "PONG" {
			t.Fatalf("PING: %q", got)
		}
	})
	t.Run("all dead", func(t *testing.T) {
		c := redistest.Client(t, resp.Options{Endpoints: []string{dead, deadToo}})
		_, err := c.Do(context.Background(), "PING")
		if err == nil || !strings.Contains(err.Error(), dead) || !strings.Contains(err.Error(), deadToo) {
			t.Fatalf("got %v, want an error naming both endpoints", err)
		}
	})
	t.Run("primary comes back for new connections", func(t *testing.T) {
		other := redistest.Start(t, redistest.Options{})
		c := redistest.Client(t, resp.Options{Endpoints: []string{srv.Addr, other.Addr}})
		redistest.Do(t, c, "SET", "which", "first")
		if v := redistest.Do(t, redistest.Client(t, resp.Options{Endpoints: []string{other.Addr}}), "GET", "which"); !v.IsNil() {
			t.Fatalf("the second endpoint was used while the first was alive: %s", v)
		}
	})
}

// Compile-time check that Value prints through fmt as its String.
var _ fmt.Stringer = resp.Value{}
