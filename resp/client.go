// Package resp is a small Redis client speaking RESP2 over net.Conn, written
// with the standard library only so that it runs inside Traefik's plugin
// interpreter (Yaegi v0.16.1, Go 1.22 standard library).
//
// It exists because no Redis library loads there: redigo v1.9.3 fails to
// load (a method value assigned to a func-typed field is a type error at
// import) and go-redis v9 imports unsafe, and with -unsafe it panics on the
// first command. It backs tokengate's state shared between Traefik replicas.
//
// It supports: commands (Client.Do), pipelines (Client.Pipeline), Lua scripts
// by EVALSHA with a fallback to EVAL (Script, Client.Eval), AUTH with or
// without a username, SELECT, TLS, several endpoints tried in order, and a
// bounded pool of lazily dialed connections with a deadline on every command.
// New neither dials nor starts goroutines: Traefik builds a middleware per
// router and per configuration reload, and goroutines would leak. A
// connection that saw an I/O or protocol error is closed, along with the idle
// ones (after a server restart they are all dead); the next command dials
// again. A command that fails that way is not retried: it may have run.
//
// Server error replies are *Error values; check them with a type assertion,
// never errors.As (Yaegi: see CONTRIBUTING.md, traps). A reply may not hold
// a bulk string over MaxBulkLen nor more than MaxArrayElems array elements.
//
// Connections are shared: commands that change a connection's state (AUTH,
// SELECT, SUBSCRIBE, MONITOR, CLIENT REPLY, a MULTI left open) must not be
// sent with Do; MULTI ... EXEC inside one Pipeline is fine. No pub/sub, no
// RESP3, no Cluster or Sentinel.
package resp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Defaults for zero Options fields.
const (
	DefaultTimeout  = 500 * time.Millisecond
	DefaultPoolSize = 8
)

// Options configures a Client.
type Options struct {
	// Endpoints are host:port addresses; a new connection goes to the first
	// that accepts it (TCP, and TLS when set), in order. One that then
	// refuses AUTH or SELECT is an error, not a reason to try the next.
	Endpoints []string
	// Username and Password authenticate each new connection: AUTH user pass
	// with a username (Redis 6 ACL), else AUTH pass. No AUTH when both are empty.
	Username string
	Password string
	// Database is SELECTed on each new connection when not 0.
	Database int
	// Timeout bounds, each on its own: the wait for a pooled connection,
	// each endpoint's dial (TLS handshake included), the AUTH and SELECT of
	// a new connection, and a command's write and read (DefaultTimeout when
	// 0). A sooner ctx deadline applies to all of them.
	Timeout time.Duration
	// TLS, when not nil, wraps connections in TLS. When its ServerName is
	// empty the endpoint's host is verified.
	TLS *tls.Config
	// PoolSize is the most connections open at once (DefaultPoolSize when 0).
	PoolSize int
}

// Client is a pool of connections to one Redis server (or to the first
// answering one of several). It is safe for concurrent use.
type Client struct {
	opts  Options
	slots chan struct{} // one token per open connection
	idle  chan *conn    // open connections not in use

	mu     sync.Mutex
	closed bool
}

// conn is one connection and its reply decoder.
type conn struct {
	nc       net.Conn
	r        *reader
	wbuf     []byte
	endpoint string
}

// New validates opts and returns a client. It does not dial: connections
// are made on first use.
func New(opts Options) (*Client, error) {
	if len(opts.Endpoints) == 0 {
		return nil, errors.New("endpoints: at least one host:port is required")
	}
	for i, ep := range opts.Endpoints {
		if err := checkEndpoint(ep); err != nil {
			return nil, fmt.Errorf("endpoints[%d]: %q is not host:port: %w", i, ep, err)
		}
	}
	if opts.Username != "" && opts.Password == "" {
		return nil, errors.New("password: required when username is set")
	}
	if opts.Database < 0 {
		return nil, fmt.Errorf("database: %d is negative", opts.Database)
	}
	if opts.Timeout < 0 {
		return nil, fmt.Errorf("timeout: %s is negative", opts.Timeout)
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.PoolSize < 0 {
		return nil, fmt.Errorf("poolSize: %d is negative", opts.PoolSize)
	}
	if opts.PoolSize == 0 {
		opts.PoolSize = DefaultPoolSize
	}
	opts.Endpoints = append([]string(nil), opts.Endpoints...)
	c := &Client{
		opts:  opts,
		slots: make(chan struct{}, opts.PoolSize),
		idle:  make(chan *conn, opts.PoolSize),
	}
	return c, nil
}

func checkEndpoint(ep string) error {
	host, port, err := net.SplitHostPort(ep)
	if err != nil {
		return err
	}
	if host == "" {
		return errors.New("empty host")
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("port %q is not a number from 1 to 65535", port)
	}
	return nil
}

// Do sends one command and returns its reply. A server error reply comes
// back as the Value (KindError) and an *Error. ctx's deadline, when sooner
// than Timeout, bounds the command; a cancellation is noticed before the
// command is sent and while waiting for a pooled connection, not during I/O.
func (c *Client) Do(ctx context.Context, args ...string) (Value, error) {
	if len(args) == 0 {
		return Value{}, errors.New("resp: empty command")
	}
	vals, err := c.roundTrip(ctx, [][]string{args})
	if err != nil {
		return Value{}, err
	}
	v := vals[0]
	rerr := v.Err()
	return v, rerr
}

// Pipeline sends cmds in one write and reads their replies in order. A
// server error reply to one command is that element (KindError, see
// Value.Err) and does not fail the others; the error is for I/O, protocol
// and pool failures, and then no reply is returned.
func (c *Client) Pipeline(ctx context.Context, cmds [][]string) ([]Value, error) {
	if len(cmds) == 0 {
		return nil, nil
	}
	for i, cmd := range cmds {
		if len(cmd) == 0 {
			return nil, fmt.Errorf("resp: pipeline command %d is empty", i)
		}
	}
	return c.roundTrip(ctx, cmds)
}

// Close closes the idle connections and makes later commands fail;
// connections in use are closed when their command ends.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.dropIdle()
	return nil
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// deadline is now+Timeout, or ctx's deadline when sooner.
func (c *Client) deadline(ctx context.Context) time.Time {
	d := time.Now().Add(c.opts.Timeout)
	if cd, ok := ctx.Deadline(); ok && cd.Before(d) {
		return cd
	}
	return d
}

func (c *Client) roundTrip(ctx context.Context, cmds [][]string) ([]Value, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("resp: %w", err)
	}
	cn, err := c.get(ctx)
	if err != nil {
		return nil, err
	}
	vals, err := cn.exchange(c.deadline(ctx), cmds)
	if err != nil {
		c.discard(cn)
		return nil, fmt.Errorf("resp: %s: %w", cn.endpoint, err)
	}
	c.put(cn)
	return vals, nil
}

// exchange writes cmds and reads one reply each.
func (cn *conn) exchange(deadline time.Time, cmds [][]string) ([]Value, error) {
	if err := cn.nc.SetDeadline(deadline); err != nil {
		return nil, err
	}
	cn.wbuf = cn.wbuf[:0]
	for _, cmd := range cmds {
		cn.wbuf = appendCommand(cn.wbuf, cmd)
	}
	if _, err := cn.nc.Write(cn.wbuf); err != nil {
		return nil, err
	}
	if cap(cn.wbuf) > 64<<10 {
		cn.wbuf = nil // do not keep a large command's buffer
	}
	vals := make([]Value, len(cmds))
	for i := range vals {
		v, err := cn.r.readValue()
		if err != nil {
			return nil, err
		}
		vals[i] = v
	}
	return vals, nil
}

// get returns an idle connection or dials a new one when fewer than
// PoolSize are open, waiting up to Timeout for one to free up.
func (c *Client) get(ctx context.Context) (*conn, error) {
	if c.isClosed() {
		return nil, errors.New("resp: client is closed")
	}
	select {
	case cn := <-c.idle:
		return cn, nil
	default:
	}
	timer := time.NewTimer(time.Until(c.deadline(ctx)))
	defer timer.Stop()
	select {
	case cn := <-c.idle:
		return cn, nil
	case c.slots <- struct{}{}:
		cn, err := c.dial(ctx)
		if err != nil {
			<-c.slots
			return nil, err
		}
		return cn, nil
	case <-timer.C:
		return nil, fmt.Errorf("resp: no pooled connection free in time (pool size %d, timeout %s)", c.opts.PoolSize, c.opts.Timeout)
	case <-ctx.Done():
		return nil, fmt.Errorf("resp: no pooled connection free (pool size %d): %w", c.opts.PoolSize, ctx.Err())
	}
}

// put returns a healthy connection to the pool. The lock orders it with
// Close, so that no connection is left idle after Close.
func (c *Client) put(cn *conn) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		c.discard(cn)
		return
	}
	c.idle <- cn // never blocks: at most PoolSize connections exist
	c.mu.Unlock()
}

// discard closes a connection that is broken or no longer wanted, and the
// idle ones with it: an I/O error usually means the server went away.
func (c *Client) discard(cn *conn) {
	_ = cn.nc.Close()
	<-c.slots
	c.dropIdle()
}

func (c *Client) dropIdle() {
	for {
		select {
		case cn := <-c.idle:
			_ = cn.nc.Close()
			<-c.slots
		default:
			return
		}
	}
}

// dial connects to the first endpoint that answers (each attempt within
// Timeout), then authenticates and selects the database (within Timeout).
func (c *Client) dial(ctx context.Context) (*conn, error) {
	failures := make([]string, 0, len(c.opts.Endpoints))
	for _, ep := range c.opts.Endpoints {
		nc, err := c.dialOne(ctx, ep, c.deadline(ctx))
		if err != nil {
			failures = append(failures, err.Error())
			if ctx.Err() != nil {
				break
			}
			continue
		}
		cn := &conn{nc: nc, r: newReader(nc), endpoint: ep}
		if err := c.setup(cn, c.deadline(ctx)); err != nil {
			_ = nc.Close()
			return nil, err
		}
		return cn, nil
	}
	return nil, fmt.Errorf("resp: no endpoint answered: %s", strings.Join(failures, "; "))
}

func (c *Client) dialOne(ctx context.Context, ep string, deadline time.Time) (net.Conn, error) {
	d := net.Dialer{Deadline: deadline}
	nc, err := d.DialContext(ctx, "tcp", ep)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", ep, err)
	}
	if c.opts.TLS == nil {
		return nc, nil
	}
	cfg := c.opts.TLS.Clone()
	if cfg.ServerName == "" {
		host, _, _ := net.SplitHostPort(ep)
		cfg.ServerName = host
	}
	if err := nc.SetDeadline(deadline); err != nil {
		_ = nc.Close()
		return nil, fmt.Errorf("%s: %w", ep, err)
	}
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		_ = nc.Close()
		return nil, fmt.Errorf("%s: TLS handshake: %w", ep, err)
	}
	return tc, nil
}

// setup sends AUTH and SELECT on a new connection. The password never
// appears in an error.
func (c *Client) setup(cn *conn, deadline time.Time) error {
	var cmds [][]string
	if c.opts.Username != "" {
		cmds = append(cmds, []string{"AUTH", c.opts.Username, c.opts.Password})
	} else if c.opts.Password != "" {
		cmds = append(cmds, []string{"AUTH", c.opts.Password})
	}
	if c.opts.Database != 0 {
		cmds = append(cmds, []string{"SELECT", strconv.Itoa(c.opts.Database)})
	}
	if len(cmds) == 0 {
		return nil
	}
	vals, err := cn.exchange(deadline, cmds)
	if err != nil {
		return fmt.Errorf("resp: %s: setting up the connection: %w", cn.endpoint, err)
	}
	for i, v := range vals {
		if v.Kind != KindError {
			continue
		}
		msg := v.Text
		if c.opts.Password != "" {
			msg = strings.ReplaceAll(msg, c.opts.Password, "***")
		}
		if cmds[i][0] == "AUTH" {
			return fmt.Errorf("resp: %s: authentication failed: %s", cn.endpoint, msg)
		}
		return fmt.Errorf("resp: %s: SELECT %d failed: %s", cn.endpoint, c.opts.Database, msg)
	}
	return nil
}
