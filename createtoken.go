package tokengate

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tokengate/tokengate/audit"
	"github.com/tokengate/tokengate/permissions"
	"github.com/tokengate/tokengate/tokens"
	"github.com/tokengate/tokengate/users"
)

// create mints an access and a refresh token on behalf of a caller whose
// access token holds ManageToken (DeviceHive's POST /token/create). Unlike
// DeviceHive, a caller mints for another user only when its token also
// holds ManageUser; what is minted lies within both the caller's token and
// the target user's own rights, and within the configured maximum
// lifetimes; and the tokens record who minted them (RFC 8693 "act").
func (g *gate) create(r *http.Request, body map[string]any) (pair, error) {
	p, err := g.mint(r, body)
	if err != nil {
		// A failed call counts against the client's address, as a failed
		// login does.
		g.throttle.addressFailure(r.Context(), r)
	}
	if g.telemetry {
		g.recordIssue(audit.Event{Event: audit.EventCreate, Client: g.throttle.addresses.Client(r),
			ActorID: p.issued.ActorID, TargetUserID: p.issued.UserID}, p, err)
	}
	return p, err
}

// mint is create without the counting of failures.
func (g *gate) mint(r *http.Request, body map[string]any) (pair, error) {
	caller, err := g.createCaller(r)
	if err != nil {
		return pair{}, err
	}
	userID, err := intField(body, "userId")
	if err != nil {
		return pair{}, err
	}
	u, err := g.createTarget(caller, userID)
	if err != nil {
		return pair{}, err
	}
	claims, err := narrow(caller, u, body)
	if err != nil {
		return pair{}, err
	}
	// The minter is the caller, or the minter of the caller's own token
	// when that was minted: a minted token minting for its user must not
	// record the user as minter, which would hide who minted it and
	// outlive that minter being disabled or removed.
	claims.ActorID = caller.claims.UserID
	if caller.claims.ActorID != 0 {
		claims.ActorID = caller.claims.ActorID
	}
	now := g.now()
	accessExp, err := expiryField(body, "expiration", now, g.createMaxAccess, g.createMaxAccess)
	if err != nil {
		return pair{}, err
	}
	refreshExp, err := expiryField(body, "refreshExpiration", now, g.tokens.Lifetime(tokens.Refresh), g.createMaxLifetime)
	if err != nil {
		return pair{}, err
	}
	return issuePair(g, claims, accessExp, refreshExp)
}

// createCaller returns the verified identity of the caller, which must hold
// ManageToken.
func (g *gate) createCaller(r *http.Request) (*identity, error) {
	token, refusal := requestToken(g, r)
	if refusal != nil {
		return nil, refusal
	}
	caller, _, err := identify(g, token)
	if err != nil {
		return nil, err
	}
	if !permissions.Allows(caller.claims.Actions, permissions.ManageToken) {
		return nil, &httpError{status: http.StatusForbidden, msg: "Access is denied"}
	}
	return caller, nil
}

// createTarget returns the user to mint for: the caller itself, or another
// user when the caller's token holds ManageUser (checked before the user is
// looked up, so that other callers learn nothing of which users exist).
func (g *gate) createTarget(caller *identity, userID int64) (users.User, error) {
	if userID != caller.claims.UserID && !permissions.Allows(caller.claims.Actions, permissions.ManageUser) {
		return users.User{}, &httpError{status: http.StatusForbidden,
			msg: "a token for another user needs ManageUser: without it, mint only for yourself"}
	}
	u, found := g.users.ByID(userID)
	if !found {
		return users.User{}, &httpError{status: http.StatusNotFound, msg: fmt.Sprintf("User with id = %d not found", userID)}
	}
	if u.Status != users.StatusActive {
		return users.User{}, &httpError{status: http.StatusForbidden, msg: "user is " + u.Status}
	}
	return u, nil
}

// narrow returns the claims of a token for u, within the caller's token and
// u's own rights, narrowed further to the actions, networkIds and
// deviceTypeIds the body asks for. Absent (or null) lists get everything
// both caller and user may have; asking for more is refused, never cut.
func narrow(caller *identity, u users.User, body map[string]any) (tokens.Claims, error) {
	claims := userClaims(u)
	claims.Actions = caller.claims.Actions
	claims.NetworkIDs = caller.claims.NetworkIDs
	claims.DeviceTypeIDs = caller.claims.DeviceTypeIDs
	within(&claims, &u)
	if v := body["actions"]; v != nil {
		requested, err := actionsField(v)
		if err != nil {
			return tokens.Claims{}, err
		}
		for _, a := range requested {
			// Allows(list, Any) holds only when the list itself holds Any.
			if !permissions.Allows(claims.Actions, a) {
				return tokens.Claims{}, exceeds("action " + a.String())
			}
		}
		claims.Actions = requested
	}
	lists := []struct {
		field string
		dst   *[]string
	}{
		{"networkIds", &claims.NetworkIDs},
		{"deviceTypeIds", &claims.DeviceTypeIDs},
	}
	for _, l := range lists {
		v := body[l.field]
		if v == nil {
			continue
		}
		requested, err := idsField(v, l.field)
		if err != nil {
			return tokens.Claims{}, err
		}
		for _, id := range requested {
			// ContainsID(list, "*") holds only when the list itself holds "*".
			if !permissions.ContainsID(*l.dst, id) {
				return tokens.Claims{}, exceeds(l.field + " " + id)
			}
		}
		*l.dst = requested
	}
	return claims, nil
}

func exceeds(what string) error {
	return &httpError{status: http.StatusForbidden, msg: what + " exceeds what the caller and the user may grant"}
}

// intField reads a required whole number, sent as a JSON number or string.
func intField(body map[string]any, field string) (int64, error) {
	var s string
	switch v := body[field].(type) {
	case nil:
		return 0, badRequest("%s is required", field)
	case json.Number:
		s = v.String()
	case string:
		s = v
	default:
		return 0, badRequest("%s must be an integer", field)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, badRequest("%s must be a positive integer", field)
	}
	return n, nil
}

// actionsField reads a list of DeviceHive actions by name or id. Unknown
// actions are an error, never dropped.
func actionsField(v any) ([]permissions.Action, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, badRequest("actions must be a list")
	}
	out := make([]permissions.Action, 0, len(list))
	for i, item := range list {
		var s string
		switch x := item.(type) {
		case string:
			s = x
		case json.Number:
			s = x.String()
		default:
			return nil, badRequest("actions[%d] must be an action name or id", i)
		}
		a, err := permissions.ParseAction(s)
		if err != nil {
			return nil, badRequest("actions[%d]: unknown action", i)
		}
		out = append(out, a)
	}
	return permissions.Normalize(out), nil
}

// idsField reads a list of network or device type ids, numbers or strings.
func idsField(v any, field string) ([]string, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, badRequest("%s must be a list", field)
	}
	out := make([]string, 0, len(list))
	for i, item := range list {
		switch x := item.(type) {
		case string:
			if strings.TrimSpace(x) == "" {
				return nil, badRequest("%s[%d] must not be blank", field, i)
			}
			out = append(out, x)
		case json.Number:
			if _, err := strconv.ParseInt(x.String(), 10, 64); err != nil {
				return nil, badRequest("%s[%d] must be an integer or a string", field, i)
			}
			out = append(out, x.String())
		default:
			return nil, badRequest("%s[%d] must be an integer or a string", field, i)
		}
	}
	return out, nil
}

// expiryField reads an optional UTC date, DeviceHive's
// yyyy-MM-dd'T'HH:mm:ss.SSS or RFC 3339, as Unix seconds: now+def (at most
// now+limit) when absent, an error when past or beyond now+limit.
func expiryField(body map[string]any, field string, now time.Time, def, limit time.Duration) (int64, error) {
	latest := now.Add(limit).Unix()
	v := body[field]
	if v == nil {
		if def > limit {
			return latest, nil
		}
		return now.Add(def).Unix(), nil
	}
	s, ok := v.(string)
	if !ok {
		return 0, badRequest("%s must be a date such as 2030-01-31T12:00:00.000", field)
	}
	var t time.Time
	var err error
	for _, layout := range []string{"2006-01-02T15:04:05.000", "2006-01-02T15:04:05", time.RFC3339Nano} {
		if t, err = time.ParseInLocation(layout, s, time.UTC); err == nil {
			break
		}
	}
	if err != nil {
		return 0, badRequest("%s must be a date such as 2030-01-31T12:00:00.000", field)
	}
	if !t.After(now) {
		return 0, badRequest("%s must be in the future", field)
	}
	if t.Unix() > latest {
		return 0, exceeds(field)
	}
	return t.Unix(), nil
}
