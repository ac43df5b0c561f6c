package users_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/tokengate/tokengate/users"
)

// BenchmarkFind is the request path's users lookup: Find checks the users
// file when due, so what it costs when not due is paid on every request
// (Version too; NextCheck never checks). Run natively with `go test -run
// '^$' -bench Find -benchmem ./users` and under the interpreter with
// `scripts/yaegi-test.sh -run '^$' -bench Find -benchmem --
// github.com/tokengate/tokengate/users`.
func BenchmarkFind(b *testing.B) {
	h := hashOf(b, "pw")
	path := filepath.Join(b.TempDir(), "users.json")
	writeFile(b, path, `[`+userJSON(2, "bob", h)+`]`, time.Now().Add(-time.Hour))
	files := []struct {
		name string
		path string
	}{
		{name: "no file"},
		{name: "file not due", path: path},
	}
	ops := []struct {
		name string
		op   func(s *users.Store) bool
	}{
		{name: "Find", op: func(s *users.Store) bool { return users.Find(s, 1) != nil }},
		{name: "Version", op: func(s *users.Store) bool { return s.Version() >= 0 }},
		{name: "NextCheck", op: func(s *users.Store) bool { return s.NextCheck() != 0 }},
	}
	for _, o := range ops {
		for _, f := range files {
			b.Run(o.name+"/"+f.name, func(b *testing.B) {
				s := newStore(b, []users.Spec{{ID: 1, Login: "alice", PasswordHash: h}}, f.path, time.Hour)
				op := o.op
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					if !op(s) {
						b.Fatal(o.name, " failed")
					}
				}
			})
		}
	}
}
