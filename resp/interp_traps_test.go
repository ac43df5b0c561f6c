package resp_test

import (
	"fmt"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/tokengate/tokengate/resp"
)

// TestInterpreterFormatting: values and errors of this package print
// through fmt with their own String and Error methods, natively and under
// Yaegi v0.16.1 (interpreted methods seen by the compiled fmt package).
func TestInterpreterFormatting(t *testing.T) {
	v := resp.Value{Kind: resp.KindArray, Elems: []resp.Value{{Kind: resp.KindInt, Num: 5}, {}}}
	var err error = &resp.Error{Msg: "WRONGTYPE Operation against a key"}
	tests := []struct {
		name string
		got  string
		want string
	}{
		{"Value %v", fmt.Sprintf("got %v", v), "got [5 (nil)]"},
		{"Value %s", fmt.Sprintf("got %s", v), "got [5 (nil)]"},
		{"Kind %v", fmt.Sprintf("a %v", resp.KindBulk), "a bulk string"},
		{"*Error %v", fmt.Sprintf("failed: %v", err), "failed: redis: WRONGTYPE Operation against a key"},
		{"wrapped *Error", fmt.Errorf("store: %w", err).Error(), "store: redis: WRONGTYPE Operation against a key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.got != tt.want {
				t.Fatalf("got %q, want %q", tt.got, tt.want)
			}
		})
	}
	// The documented check: a type assertion, never errors.As.
	if se, ok := err.(*resp.Error); !ok || se.Prefix() != "WRONGTYPE" {
		t.Fatalf("type assertion: %v %v", se, ok)
	}
}

// TestInterpreterNoOsExec: `yaegi test` without -unrestricted (how
// scripts/yaegi-test.sh runs it) cannot import os/exec ("unable to find
// source related to: os/exec"), so the whole package fails to load. The
// redis-server helper (internal/redistest) uses os.StartProcess instead;
// this keeps every file of the package, tests included, and of the helper
// off os/exec.
func TestInterpreterNoOsExec(t *testing.T) {
	fset := token.NewFileSet()
	for _, pattern := range []string{"*.go", "../internal/*/*.go"} {
		files, err := filepath.Glob(pattern)
		if err != nil || len(files) == 0 {
			t.Fatalf("no Go files match %s (%v)", pattern, err)
		}
		for _, name := range files {
			f, err := parser.ParseFile(fset, name, nil, parser.ImportsOnly)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range f.Imports {
				if path, _ := strconv.Unquote(imp.Path.Value); path == "os/exec" {
					t.Errorf("%s imports os/exec: the package would not load under the interpreter", name)
				}
			}
		}
	}
}
