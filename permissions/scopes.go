package permissions

// AllIDs is the scope entry that grants every network or device type.
const AllIDs = "*"

// ContainsID reports whether a scope list grants id: the list holds id or
// "*". A nil or empty list grants nothing.
func ContainsID(scope []string, id string) bool {
	for _, s := range scope {
		if s == AllIDs || s == id {
			return true
		}
	}
	return false
}

// IntersectIDs returns the ids both scope lists grant, "*" standing for
// every id. The result never grants more than either list.
func IntersectIDs(a, b []string) []string {
	switch {
	case ContainsAll(a):
		return append([]string{}, b...)
	case ContainsAll(b):
		return append([]string{}, a...)
	}
	out := []string{}
	for _, id := range a {
		if ContainsID(b, id) && !ContainsID(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// ContainsAll reports whether a scope list holds "*".
func ContainsAll(scope []string) bool {
	for _, s := range scope {
		if s == AllIDs {
			return true
		}
	}
	return false
}

// IntersectActions returns the actions both lists grant, Any standing for
// every action.
func IntersectActions(a, b []Action) []Action {
	if valid(a) && valid(b) {
		return FromMask(Mask(a) & Mask(b)) // no sort, no nested scan (Normalize)
	}
	switch {
	case Allows(a, Any):
		return Normalize(b)
	case Allows(b, Any):
		return Normalize(a)
	}
	out := []Action{}
	for _, x := range a {
		if Allows(b, x) {
			out = append(out, x)
		}
	}
	return Normalize(out)
}

// valid reports whether every action is in the table (Mask knows it).
func valid(actions []Action) bool {
	for _, a := range actions {
		if a < 0 || a > MaxAction {
			return false
		}
	}
	return true
}
