package resp_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/tokengate/tokengate/internal/redistest"
	"github.com/tokengate/tokengate/resp"
)

// replyWith returns a fake-server handler that answers the first command
// with reply (raw RESP) and then stalls, or hangs up when hangUp is set.
func replyWith(reply string, hangUp bool) func(c net.Conn) {
	return func(c net.Conn) {
		buf := make([]byte, 4096)
		if _, err := c.Read(buf); err != nil {
			return
		}
		if _, err := c.Write([]byte(reply)); err != nil {
			return
		}
		if !hangUp {
			neverAnswer(c)
		}
	}
}

func TestReplies(t *testing.T) {
	tests := []struct {
		name   string
		reply  string
		want   string // Value.String() of the reply, or the error's text
		bad    bool   // a protocol error: the connection must not be reused
		hangUp bool   // the server hangs up after the reply
	}{
		{"nested arrays and nils", "*3\r\n*1\r\n:1\r\n$-1\r\n*0\r\n", "[[1] (nil) []]", false, false},
		{"nil array", "*-1\r\n", "(nil)", false, false},
		{"negative integer", ":-42\r\n", "-42", false, false},
		{"bulk over 512 MiB", "$536870913\r\n", "exceeds the limit", true, false},
		{"array over 1M elements", "*1048577\r\n", "exceeds the limit", true, false},
		{"nested arrays over 1M elements in all", "*2\r\n*1048575\r\n", "exceeds the limit", true, false},
		{"arrays nested too deep", strings.Repeat("*1\r\n", 40), "nested deeper", true, false},
		{"unknown type", "?x\r\n", "unexpected reply type", true, false},
		{"bad bulk length", "$abc\r\n", "bad bulk string length", true, false},
		{"bad integer", ":12a\r\n", "bad integer", true, false},
		{"bulk without CRLF", "$3\r\nabcXY", "not terminated by CRLF", true, false},
		{"line without CR", "+OK\n", "malformed line", true, false},
		{"line longer than the buffer", "+" + strings.Repeat("a", 20000) + "\r\n", "longer than", true, false},
		{"reply cut short, connection open", "$10\r\nabc", "timeout", true, false},
		{"reply cut short, connection closed", "$10\r\nabc", "unexpected EOF", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFake(t, replyWith(tt.reply, tt.hangUp))
			c := redistest.Client(t, resp.Options{Endpoints: []string{f.Addr}, Timeout: 500 * time.Millisecond})
			v, err := c.Do(context.Background(), "PING")
			if !tt.bad {
				if err != nil || v.String() != tt.want {
					t.Fatalf("got %q %v, want %q", v.String(), err, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error containing %q", err, tt.want)
			}
			_, _ = c.Do(context.Background(), "PING")
			if _, total := f.Counts(); total != 2 {
				t.Fatalf("%d connections made for two commands; the broken one was reused", total)
			}
		})
	}
}

func TestValueHelpers(t *testing.T) {
	arr := resp.Value{Kind: resp.KindArray, Elems: []resp.Value{
		{Kind: resp.KindBulk, Text: "a"}, {Kind: resp.KindInt, Num: 2}, {},
	}}
	tests := []struct {
		name    string
		got     func(v resp.Value) (string, error)
		v       resp.Value
		want    string
		wantErr bool
	}{
		{"Str bulk", strOf, resp.Value{Kind: resp.KindBulk, Text: "x"}, "x", false},
		{"Str int", strOf, resp.Value{Kind: resp.KindInt, Num: 3}, "3", false},
		{"Str nil", strOf, resp.Value{}, "", true},
		{"Str array", strOf, arr, "", true},
		{"Str error", strOf, resp.Value{Kind: resp.KindError, Text: "ERR x"}, "", true},
		{"Int bulk", intOf, resp.Value{Kind: resp.KindBulk, Text: "-12"}, "-12", false},
		{"Int bulk not a number", intOf, resp.Value{Kind: resp.KindBulk, Text: "1x"}, "", true},
		{"Int array", intOf, arr, "", true},
		{"Strings", stringsOf, arr, "a,2,", false},
		{"Strings nil", stringsOf, resp.Value{}, "", false},
		{"Strings of a string", stringsOf, resp.Value{Kind: resp.KindSimple, Text: "OK"}, "", true},
		{"String array", stringOf, arr, "[a 2 (nil)]", false},
		{"Kind", kindOf, arr, "array", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.got(tt.v)
			if (err != nil) != tt.wantErr || got != tt.want {
				t.Fatalf("got %q %v, want %q (error: %v)", got, err, tt.want, tt.wantErr)
			}
		})
	}
	e := &resp.Error{Msg: "NOSCRIPT No matching script"}
	if e.Prefix() != "NOSCRIPT" || !strings.Contains(e.Error(), "No matching script") {
		t.Errorf("Error: %q %q", e.Prefix(), e.Error())
	}
}

func strOf(v resp.Value) (string, error) { return v.Str() }

func intOf(v resp.Value) (string, error) {
	n, err := v.Int()
	if err != nil {
		return "", err
	}
	return resp.Value{Kind: resp.KindInt, Num: n}.String(), nil
}

func stringsOf(v resp.Value) (string, error) {
	s, err := v.Strings()
	return strings.Join(s, ","), err
}

func stringOf(v resp.Value) (string, error) { return v.String(), nil }

func kindOf(v resp.Value) (string, error) { return v.Kind.String(), nil }
