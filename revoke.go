package tokengate

import (
	"context"
	"fmt"
	"net/http"

	"github.com/tokengate/tokengate/audit"
	"github.com/tokengate/tokengate/permissions"
	"github.com/tokengate/tokengate/store"
)

// revoke ends sessions (RFC 7009, POST <basePath>/revoke): {"token": ...,
// "token_type_hint": ...} ends the session of any of its tokens, access or
// refresh, expired or not; {"userId": N}, from a caller whose token holds
// ManageToken, ends every session of that user. An unknown or invalid
// token, one that expired longer ago than any session lives, or one of no
// session is not an error (RFC 7009 2.2): there is nothing to end.
func (g *gate) revoke(r *http.Request, body map[string]any) error {
	if body["userId"] != nil {
		return g.revokeUser(r, body)
	}
	token, err := stringField(body, "token")
	if err != nil {
		return err
	}
	if hint, present := body["token_type_hint"]; present && hint != "access_token" && hint != "refresh_token" {
		// RFC 7009 2.2.1: an unknown hint is ignored... but a hint that is
		// not even a string is a malformed request.
		if _, ok := hint.(string); !ok {
			return badRequest("token_type_hint must be a string")
		}
	}
	// An expired token still names its session (tokens.SessionOf): the
	// longest-lived token of any session expires within maxLifetime.
	sid := g.tokens.SessionOf(token, g.maxLifetime)
	if sid == "" {
		return nil
	}
	now := g.now()
	err = g.view.revoke(context.Background(), store.Revocation{Session: sid, Expires: now.Add(g.maxLifetime).Unix()}, now)
	g.recordRevoke(r, audit.EventRevoke, sid, 0, 0, err)
	return err
}

// recordRevoke empties the decision memo when a revocation was recorded,
// and counts and audits it.
func (g *gate) recordRevoke(r *http.Request, event, sid string, actor, target int64, err error) {
	if err == nil {
		g.forgetDecisions()
		g.m.revoked.Add(1)
	}
	if g.audit == nil {
		return
	}
	e := audit.Event{Event: event, SID: sid, ActorID: actor, TargetUserID: target, Client: g.throttle.addresses.Client(r)}
	if err != nil {
		g.recordRefusal(e, "", err)
		return
	}
	e.Outcome = audit.OutcomeSuccess
	g.record(e)
}

// revokeUser ends every session of a user: the caller itself, or a user
// whose rights lie within the caller's token (the subset rule's spirit:
// nobody logs out someone mightier).
func (g *gate) revokeUser(r *http.Request, body map[string]any) error {
	caller, err := g.createCaller(r)
	if err != nil {
		return err
	}
	userID, err := intField(body, "userId")
	if err != nil {
		return err
	}
	u, found := g.users.ByID(userID)
	if userID != caller.claims.UserID {
		// An unknown user gets the mighty user's answer unless the caller
		// may manage users: no enumeration through this endpoint.
		if !found && permissions.Allows(caller.claims.Actions, permissions.ManageUser) {
			return &httpError{status: http.StatusNotFound, msg: fmt.Sprintf("User with id = %d not found", userID)}
		}
		if !found || !withinCaller(caller, u.Actions, u.NetworkIDs, u.DeviceTypeIDs) {
			return &httpError{status: http.StatusForbidden, msg: "the user has rights beyond the caller's token"}
		}
	}
	// Tokens carry whole seconds: those of the current second are refused
	// too (fail closed), a login from the next second on is not.
	now := g.now()
	rec := store.Revocation{UserID: userID, Before: now.Unix() + 1, Expires: now.Add(g.maxLifetime).Unix()}
	err = g.view.revoke(context.Background(), rec, now)
	g.recordRevoke(r, audit.EventRevokeUser, "", caller.claims.UserID, userID, err)
	return err
}

// withinCaller reports whether every action, network and device type
// given lies within the caller's token.
func withinCaller(caller *identity, actions []permissions.Action, networks, deviceTypes []string) bool {
	for _, a := range actions {
		if !permissions.Allows(caller.claims.Actions, a) {
			return false
		}
	}
	for _, id := range networks {
		if !permissions.ContainsID(caller.claims.NetworkIDs, id) {
			return false
		}
	}
	for _, id := range deviceTypes {
		if !permissions.ContainsID(caller.claims.DeviceTypeIDs, id) {
			return false
		}
	}
	return true
}

// forgetDecisions empties this instance's decision memo after a
// revocation, so that the revoked tokens are refused here at once.
func (g *gate) forgetDecisions() {
	g.memo.clear()
}
