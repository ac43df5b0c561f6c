package tokengate

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tokengate/tokengate/permissions"
	"github.com/tokengate/tokengate/tokens"
	"github.com/tokengate/tokengate/users"
)

// create mints an access and a refresh token for another user, on behalf of
// a caller whose access token holds ManageToken (DeviceHive's
// POST /token/create). Unlike DeviceHive, what is minted must lie within
// both the caller's token and the target user's own rights, and within the
// configured maximum lifetime.
func (g *gate) create(r *http.Request, body map[string]any) (pair, error) {
	token, ok := requestToken(g, r)
	if !ok {
		return pair{}, badRequest("request carries more than one token")
	}
	caller, err := identify(g, token)
	if err != nil {
		return pair{}, err
	}
	if !permissions.Allows(caller.actions, permissions.ManageToken) {
		return pair{}, &httpError{status: http.StatusForbidden, msg: "Access is denied"}
	}

	userID, err := intField(body, "userId")
	if err != nil {
		return pair{}, err
	}
	u, found := g.users.ByID(userID)
	if !found {
		return pair{}, &httpError{status: http.StatusNotFound, msg: fmt.Sprintf("User with id = %d not found", userID)}
	}
	if u.Status != users.StatusActive {
		return pair{}, &httpError{status: http.StatusForbidden, msg: "user is " + u.Status}
	}

	claims := userClaims(u)
	// Absent (or null) lists get everything both caller and user may have.
	claims.Actions = permissions.IntersectActions(caller.actions, u.Actions)
	claims.NetworkIDs = permissions.IntersectIDs(caller.networkIDs, u.NetworkIDs)
	claims.DeviceTypeIDs = permissions.IntersectIDs(caller.deviceTypeIDs, u.DeviceTypeIDs)
	if v := body["actions"]; v != nil {
		requested, err := actionsField(v)
		if err != nil {
			return pair{}, err
		}
		for _, a := range requested {
			// Allows(list, Any) holds only when the list itself holds Any.
			if !permissions.Allows(claims.Actions, a) {
				return pair{}, exceeds("action " + a.String())
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
			return pair{}, err
		}
		for _, id := range requested {
			// ContainsID(list, "*") holds only when the list itself holds "*".
			if !permissions.ContainsID(*l.dst, id) {
				return pair{}, exceeds(l.field + " " + id)
			}
		}
		*l.dst = requested
	}

	now := time.Now()
	maxExp := now.Add(g.createMaxLifetime).Unix()
	accessExp, err := expiryField(body, "expiration", now, now.Add(g.tokens.Lifetime(tokens.Access)).Unix(), maxExp)
	if err != nil {
		return pair{}, err
	}
	refreshExp, err := expiryField(body, "refreshExpiration", now, now.Add(g.tokens.Lifetime(tokens.Refresh)).Unix(), maxExp)
	if err != nil {
		return pair{}, err
	}

	claims.Type = tokens.Access
	claims.ExpiresAt = accessExp
	access, _, err := g.tokens.Issue(claims)
	if err != nil {
		return pair{}, err
	}
	claims.Type = tokens.Refresh
	claims.ExpiresAt = refreshExp
	refresh, _, err := g.tokens.Issue(claims)
	if err != nil {
		return pair{}, err
	}
	return pair{access: access, refresh: refresh}, nil
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
// yyyy-MM-dd'T'HH:mm:ss.SSS or RFC 3339, as Unix seconds: def when absent,
// an error when past or beyond latest.
func expiryField(body map[string]any, field string, now time.Time, def, latest int64) (int64, error) {
	v := body[field]
	if v == nil {
		if def > latest {
			return latest, nil
		}
		return def, nil
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
