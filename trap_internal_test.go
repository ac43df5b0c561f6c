package tokengate

// GateName gives the gate, in tests only, an exported method besides
// ServeHTTP, for TestInterpreterTrapHandlerInterface (clock_test.go).
func (g *gate) GateName() string { return g.name }
