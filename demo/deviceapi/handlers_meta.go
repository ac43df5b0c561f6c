package main

// Server information, the current user, the health check and unknown
// routes.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// apiVersion is the DeviceHive version whose REST API this one follows
// (devicehive-java-server 4.1.0).
const apiVersion = "4.1.0"

func (s *server) healthz(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, "ok")
}

// apiInfo is GET /info (devicehive-common-service vo/ApiInfoVO).
type apiInfo struct {
	APIVersion      string `json:"apiVersion"`
	ServerTimestamp stamp  `json:"serverTimestamp"`
	RestServerURL   string `json:"restServerUrl"`
	// WebSocketServerURL is null: this API has no WebSocket endpoint.
	WebSocketServerURL *string `json:"webSocketServerUrl"`
}

// info answers DeviceHive's server information. DeviceHive clients take
// serverTimestamp as where their first poll starts, so it is handed out
// like a message timestamp: every message stored afterwards is later.
func (s *server) info(w http.ResponseWriter, r *http.Request) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	if p := r.Header.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		scheme = p // behind the gateway
	}
	writeJSON(w, r, http.StatusOK, apiInfo{
		APIVersion:      apiVersion,
		ServerTimestamp: stamp(s.store.stamp()),
		RestServerURL:   scheme + "://" + r.Host,
	})
}

// clusterInfo answers GET /info/config/cluster with DeviceHive's field
// names (devicehive-frontend vo/ClusterConfigVO) and static values: this
// API has no Kafka cluster behind it.
func (s *server) clusterInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, r, http.StatusOK, map[string]any{
		"bootstrap.servers": "127.0.0.1:9092",
		"zookeeper.connect": "127.0.0.1:2181",
	})
}

// userInfo is GET /user/current (devicehive-common vo/UserVO, policy
// USER_PUBLISHED, with the user's networks as UserWithNetworkVO has them).
type userInfo struct {
	ID                      any             `json:"id"`
	Login                   *string         `json:"login"`
	Role                    *int            `json:"role"`
	Status                  int             `json:"status"`
	LastLogin               stamp           `json:"lastLogin"`
	Data                    json.RawMessage `json:"data"`
	IntroReviewed           bool            `json:"introReviewed"`
	AllDeviceTypesAvailable bool            `json:"allDeviceTypesAvailable"`
	Networks                []Network       `json:"networks"`
}

// userStatusActive is DeviceHive's UserStatus.ACTIVE.
const userStatusActive = 0

// currentUser describes the user the gateway authenticated, from the
// identity headers alone: this API has no user table of its own. role is
// DeviceHive's number (0 admin, 1 client); the gateway's role name stays
// visible in identity.X-Auth-Role.
func (s *server) currentUser(w http.ResponseWriter, r *http.Request) {
	uid := r.Header.Get(headerUserID)
	if uid == "" {
		writeError(w, r, http.StatusUnauthorized, "no authenticated user: "+headerUserID+" was not forwarded")
		return
	}
	sc := scopeOf(r)
	u := userInfo{
		ID:                      uid,
		Role:                    roleNumber(sc.role),
		Status:                  userStatusActive,
		AllDeviceTypesAvailable: sc.deviceTypes.all,
		Networks:                []Network{},
	}
	if n, err := strconv.ParseInt(uid, 10, 64); err == nil {
		u.ID = n
	}
	if v := r.Header.Get(headerLogin); v != "" {
		u.Login = &v
	}
	for _, n := range s.store.networkList() {
		if sc.networks.has(n.ID) {
			u.Networks = append(u.Networks, n)
		}
	}
	writeJSON(w, r, http.StatusOK, u)
}

func (s *server) notFound(w http.ResponseWriter, r *http.Request) {
	writeError(w, r, http.StatusNotFound, fmt.Sprintf("no route for %s %s", r.Method, r.URL.Path))
}
