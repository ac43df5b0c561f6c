package resp

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Limits on what one reply may make the client allocate. A reply beyond them
// is a protocol error and its connection is closed.
const (
	// MaxBulkLen is the largest bulk string accepted (Redis's own
	// proto-max-bulk-len default).
	MaxBulkLen = 512 << 20
	// MaxArrayElems is the most array elements accepted in one reply,
	// nested arrays included.
	MaxArrayElems = 1 << 20
	// maxDepth bounds how deeply arrays may nest.
	maxDepth = 32
	// readBufSize is the bufio buffer size; a status or error line must fit
	// in it, bulk strings and arrays may be any size up to the limits above.
	readBufSize = 16 << 10
)

// Kind is the type of a RESP2 reply.
type Kind int

// The kinds of RESP2 replies.
const (
	KindNil    Kind = iota // a nil bulk string or nil array
	KindSimple             // +OK
	KindError              // -ERR ...
	KindInt                // :1
	KindBulk               // $3 foo
	KindArray              // *2 ...
)

// Value is one reply from the server: a plain struct, never an interface, so
// that it behaves the same natively and under the interpreter.
type Value struct {
	Kind  Kind
	Text  string  // KindSimple, KindError, KindBulk
	Num   int64   // KindInt
	Elems []Value // KindArray
}

// IsNil reports whether the reply is a nil bulk string or nil array (for
// example GET on a missing key).
func (v Value) IsNil() bool { return v.Kind == KindNil }

// Int returns an integer reply, or a simple or bulk string that holds a
// decimal integer (as GET returns what INCR stored).
func (v Value) Int() (int64, error) {
	if v.Kind == KindInt {
		return v.Num, nil
	}
	if v.Kind == KindSimple || v.Kind == KindBulk {
		n, err := strconv.ParseInt(v.Text, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("resp: reply %q is not an integer", v.Text)
		}
		return n, nil
	}
	return 0, fmt.Errorf("resp: %s reply is not an integer", v.Kind)
}

// Str returns a simple or bulk string reply (an integer as decimal); a nil,
// error or array reply is an error.
func (v Value) Str() (string, error) {
	if v.Kind == KindSimple || v.Kind == KindBulk {
		return v.Text, nil
	}
	if v.Kind == KindInt {
		return strconv.FormatInt(v.Num, 10), nil
	}
	if v.Kind == KindError {
		return "", v.Err()
	}
	return "", fmt.Errorf("resp: %s reply is not a string", v.Kind)
}

// Strings returns an array reply whose elements are strings, integers or nil
// (nil elements become ""). A nil reply gives a nil slice.
func (v Value) Strings() ([]string, error) {
	if v.Kind == KindNil {
		return nil, nil
	}
	if v.Kind != KindArray {
		return nil, fmt.Errorf("resp: %s reply is not an array", v.Kind)
	}
	out := make([]string, len(v.Elems))
	for i, e := range v.Elems {
		if e.Kind == KindNil {
			continue
		}
		s, err := e.Str()
		if err != nil {
			return nil, fmt.Errorf("resp: element %d: %w", i, err)
		}
		out[i] = s
	}
	return out, nil
}

// Err returns the server error of a KindError reply as an *Error, else nil.
func (v Value) Err() error {
	if v.Kind != KindError {
		return nil
	}
	return &Error{Msg: v.Text}
}

// String formats the reply for logs and tests: the text of a string or error,
// the decimal of an integer, "(nil)", or the elements in brackets.
func (v Value) String() string {
	switch v.Kind {
	case KindSimple, KindBulk, KindError:
		return v.Text
	case KindInt:
		return strconv.FormatInt(v.Num, 10)
	case KindArray:
		parts := make([]string, len(v.Elems))
		for i, e := range v.Elems {
			parts[i] = e.String()
		}
		return "[" + strings.Join(parts, " ") + "]"
	case KindNil:
		return "(nil)"
	default:
		return "(" + v.Kind.String() + ")"
	}
}

// String names the kind.
func (k Kind) String() string {
	switch k {
	case KindNil:
		return "nil"
	case KindSimple:
		return "simple string"
	case KindError:
		return "error"
	case KindInt:
		return "integer"
	case KindBulk:
		return "bulk string"
	case KindArray:
		return "array"
	default:
		return "kind " + strconv.Itoa(int(k))
	}
}

// Error is an error reply from the server (for example "WRONGTYPE Operation
// against a key holding the wrong kind of value"). Check for it with a type
// assertion, err.(*resp.Error), not errors.As.
// Yaegi: see CONTRIBUTING.md, traps (errors.As).
type Error struct {
	Msg string
}

// Error returns the server's message.
func (e *Error) Error() string { return "redis: " + e.Msg }

// Prefix returns the error code, the message's first word ("ERR",
// "WRONGTYPE", "NOSCRIPT", "WRONGPASS"...).
func (e *Error) Prefix() string {
	i := strings.IndexByte(e.Msg, ' ')
	if i < 0 {
		return e.Msg
	}
	return e.Msg[:i]
}

// errProtocol marks replies the client refuses; the connection is closed.
var errProtocol = errors.New("resp: protocol error")

// appendCommand appends args encoded as a RESP array of bulk strings.
func appendCommand(buf []byte, args []string) []byte {
	buf = append(buf, '*')
	buf = strconv.AppendInt(buf, int64(len(args)), 10)
	buf = append(buf, '\r', '\n')
	for _, a := range args {
		buf = append(buf, '$')
		buf = strconv.AppendInt(buf, int64(len(a)), 10)
		buf = append(buf, '\r', '\n')
		buf = append(buf, a...)
		buf = append(buf, '\r', '\n')
	}
	return buf
}

// reader decodes replies; budget is what array elements the current reply
// may still allocate.
type reader struct {
	br     *bufio.Reader
	budget int
}

func newReader(r io.Reader) *reader {
	return &reader{br: bufio.NewReaderSize(r, readBufSize)}
}

// readValue reads one complete reply.
func (r *reader) readValue() (Value, error) {
	r.budget = MaxArrayElems
	return r.read(0)
}

func (r *reader) read(depth int) (Value, error) {
	line, err := r.line()
	if err != nil {
		return Value{}, err
	}
	rest := string(line[1:])
	switch line[0] {
	case '+':
		return Value{Kind: KindSimple, Text: rest}, nil
	case '-':
		return Value{Kind: KindError, Text: rest}, nil
	case ':':
		n, perr := strconv.ParseInt(rest, 10, 64)
		if perr != nil {
			return Value{}, fmt.Errorf("%w: bad integer %q", errProtocol, rest)
		}
		return Value{Kind: KindInt, Num: n}, nil
	case '$':
		return r.bulk(rest)
	case '*':
		return r.array(rest, depth)
	default:
		return Value{}, fmt.Errorf("%w: unexpected reply type %q", errProtocol, line[0])
	}
}

// line returns the next line without its CRLF; it is valid until the next read.
func (r *reader) line() ([]byte, error) {
	line, err := r.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return nil, fmt.Errorf("%w: reply line longer than %d bytes", errProtocol, readBufSize)
	}
	if err != nil {
		return nil, err
	}
	n := len(line)
	if n < 3 || line[n-2] != '\r' {
		return nil, fmt.Errorf("%w: malformed line %q", errProtocol, line)
	}
	return line[:n-2], nil
}

// parseLength parses a bulk string or array length: -1 (nil) up to limit.
func parseLength(s string, limit int, what string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < -1 {
		return 0, fmt.Errorf("%w: bad %s length %q", errProtocol, what, s)
	}
	if n > limit {
		return 0, fmt.Errorf("%w: %s of %d exceeds the limit of %d", errProtocol, what, n, limit)
	}
	return n, nil
}

func (r *reader) bulk(s string) (Value, error) {
	n, err := parseLength(s, MaxBulkLen, "bulk string")
	if err != nil {
		return Value{}, err
	}
	if n < 0 {
		return Value{}, nil
	}
	buf := make([]byte, n+2)
	if _, err := io.ReadFull(r.br, buf); err != nil {
		return Value{}, err
	}
	if buf[n] != '\r' || buf[n+1] != '\n' {
		return Value{}, fmt.Errorf("%w: bulk string not terminated by CRLF", errProtocol)
	}
	return Value{Kind: KindBulk, Text: string(buf[:n])}, nil
}

func (r *reader) array(s string, depth int) (Value, error) {
	n, err := parseLength(s, r.budget, "array")
	if err != nil {
		return Value{}, err
	}
	if n < 0 {
		return Value{}, nil
	}
	if depth >= maxDepth {
		return Value{}, fmt.Errorf("%w: arrays nested deeper than %d", errProtocol, maxDepth)
	}
	r.budget -= n
	elems := make([]Value, n)
	for i := range elems {
		e, err := r.read(depth + 1)
		if err != nil {
			return Value{}, err
		}
		elems[i] = e
	}
	return Value{Kind: KindArray, Elems: elems}, nil
}
