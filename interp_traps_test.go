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
