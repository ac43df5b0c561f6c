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
