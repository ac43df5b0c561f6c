package tokengate_test

import "testing"

// TestInterpreterTrapTaglessSwitchList: under Yaegi v0.16.1 a tagless switch
// case with a list (case a, b:) tests only its first expression, so locked
// users and bad tokens once fell through to a 500. The code writes such
// conditions with ||; this test shows the trap is still there, so that the
// rule is kept (it passes natively and under the interpreter alike).
func TestInterpreterTrapTaglessSwitchList(t *testing.T) {
	a, b := false, true
	viaOr := a || b
	if !viaOr {
		t.Fatal("|| must hold")
	}
	viaList := false
	switch {
	case a, b:
		viaList = true
	}
	if !viaList {
		t.Log("tagless switch case list is broken in this runtime: write conditions with ||")
	}
}

func lenAmongResults(s []string) ([]string, int, error) {
	n := len(s)
	return s, n, nil
}

// TestInterpreterTrapLenAmongResults: under Yaegi v0.16.1,
// `return s, len(s), nil` panics (reflect: SetInt on slice Value) and
// `a, b = x, f()` assigns one side only. The code computes such values into
// variables first; this checks the safe form keeps working in every runtime.
func TestInterpreterTrapLenAmongResults(t *testing.T) {
	s, n, err := lenAmongResults([]string{"a", "b"})
	if len(s) != 2 || n != 2 || err != nil {
		t.Fatalf("got %v %d %v", s, n, err)
	}
	var a, b int
	a = n
	b = len(s)
	if a != 2 || b != 2 {
		t.Fatalf("a=%d b=%d", a, b)
	}
}

// logger holds a func-typed field, as users.Store and tokens.KeyRing do.
type logger struct {
	logf func(format string, args ...any)
}

func (l *logger) printf(format string, args ...any) { l.logf(format, args...) }

// TestInterpreterTrapVariadicFuncField: under Yaegi v0.16.1, calling a
// func-typed field or variable with two or more variadic arguments written
// out (l.logf("%s %d", a, b)) panics with "index out of range"; passing them
// spread (args...) works. Loggers are called through a method that spreads.
func TestInterpreterTrapVariadicFuncField(t *testing.T) {
	var got []any
	l := &logger{logf: func(format string, args ...any) { got = append(got, args...) }}
	l.printf("%s %d", "a", 1)
	if len(got) != 2 || got[0] != "a" || got[1] != 1 {
		t.Fatalf("got %v", got)
	}
}

// TestInterpreterTrapUntypedShift: under Yaegi v0.16.1, `mask&(1<<uint(a))`
// with a uint32 mask panics (reflect: Value.Uint on int Value): the untyped
// 1 stays an int. The code writes uint32(1)<<uint32(a).
func TestInterpreterTrapUntypedShift(t *testing.T) {
	mask := uint32(1<<3 | 1<<15)
	a := 15
	if mask&(uint32(1)<<uint32(a)) == 0 {
		t.Fatal("bit 15 must be set")
	}
	if mask&(uint32(1)<<uint32(4)) != 0 {
		t.Fatal("bit 4 must be clear")
	}
}

// TestInterpreterTrapUnnamedParameter: under Yaegi v0.16.1 a function
// literal with an unnamed parameter that returns a composite literal, e.g.
// func(string) []string { return []string{"a"} }, panics when called
// (reflect.Set: string is not assignable to []string). Parameters are named.
func TestInterpreterTrapUnnamedParameter(t *testing.T) {
	f := func(a string) []string { return []string{"x", a} }
	if got := f("y"); len(got) != 2 || got[1] != "y" {
		t.Fatalf("got %v", got)
	}
}
