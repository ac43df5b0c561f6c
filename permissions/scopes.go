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
//
// Every refresh runs it twice: its loops are written out, one frame and
// no calls (CONTRIBUTING.md, the cost model).
func IntersectIDs(a, b []string) []string {
	allA, allB := false, false
	for _, id := range a {
		allA = allA || id == AllIDs
	}
	for _, id := range b {
		allB = allB || id == AllIDs
	}
	switch {
	case allA:
		return append([]string{}, b...)
	case allB:
		return append([]string{}, a...)
	}
	out := make([]string, 0, len(a))
next:
	for _, id := range a {
		for _, seen := range out {
			if seen == id {
				continue next
			}
		}
		for _, granted := range b {
			if granted == id {
				out = append(out, id)
				continue next
			}
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
	// Lists of valid actions meet as masks: no sort, no nested scan
	// (Normalize). The masks are Mask's, written out (see IntersectIDs).
	var ma, mb uint32
	ok := true
	for _, x := range a {
		ok = ok && x >= 0 && x <= MaxAction
		ma |= uint32(1) << uint32(x&31)
	}
	for _, x := range b {
		ok = ok && x >= 0 && x <= MaxAction
		mb |= uint32(1) << uint32(x&31)
	}
	if ok {
		if ma&1 != 0 { // Any
			ma = ^uint32(0)
		}
		if mb&1 != 0 {
			mb = ^uint32(0)
		}
		return FromMask(ma & mb)
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
