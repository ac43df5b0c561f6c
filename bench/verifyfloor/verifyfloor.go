// Package verifyfloor is a Traefik plugin that does the least a gate that
// verifies every token must do per request: take the bearer token, check
// its HS256 signature and its expiry, read six claims in one
// standard-library call, set them as headers and call the next handler.
// It checks no header, no type, no issuer, no rule and no revocation.
// bench/load.sh runs it beside tokengate's verify route: it is the floor
// of any interpreted plugin that verifies an HS256 token per request.
package verifyfloor

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"
)

// Config holds the HS256 secret.
type Config struct {
	Secret string `json:"secret,omitempty"`
}

// CreateConfig returns an empty configuration.
func CreateConfig() *Config { return &Config{} }

type floor struct {
	next   http.Handler
	secret []byte
}

// claims are the six claims forwarded, and exp.
type claims struct {
	Sub       string `json:"sub"`
	Login     string `json:"login"`
	Role      string `json:"role"`
	Jti       string `json:"jti"`
	Iss       string `json:"iss"`
	TokenType string `json:"token_type"`
	Exp       int64  `json:"exp"`
}

// New returns the handler; the secret is required.
func New(_ context.Context, next http.Handler, config *Config, _ string) (http.Handler, error) {
	if config.Secret == "" {
		return nil, errors.New("secret is required")
	}
	return &floor{next: next, secret: []byte(config.Secret)}, nil
}

func (f *floor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	first := strings.IndexByte(token, '.')
	last := strings.LastIndexByte(token, '.')
	if !ok || first < 0 || last <= first {
		http.Error(w, "invalid token", http.StatusUnauthorized)
		return
	}
	sig, err := base64.RawURLEncoding.DecodeString(token[last+1:])
	mac := hmac.New(sha256.New, f.secret)
	mac.Write([]byte(token[:last]))
	if err != nil || !hmac.Equal(mac.Sum(nil), sig) {
		http.Error(w, "invalid token", http.StatusUnauthorized)
		return
	}
	payload, err := base64.RawURLEncoding.DecodeString(token[first+1 : last])
	var c claims
	if err != nil || json.Unmarshal(payload, &c) != nil || c.Exp < time.Now().Unix() {
		http.Error(w, "invalid token", http.StatusUnauthorized)
		return
	}
	h := r.Header
	h["X-Auth-User-Id"] = []string{c.Sub}
	h["X-Auth-Login"] = []string{c.Login}
	h["X-Auth-Role"] = []string{c.Role}
	h["X-Auth-Token-Id"] = []string{c.Jti}
	h["X-Auth-Issuer"] = []string{c.Iss}
	h["X-Auth-Token-Type"] = []string{c.TokenType}
	f.next.ServeHTTP(w, r)
}
