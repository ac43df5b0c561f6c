#!/usr/bin/env bash
# Load test through a real Traefik v3.6.12: the same route with no
# middleware; with Traefik's own (native) headers middleware setting the six
# identity headers tokengate sets, which is what forwarding an identity
# costs Traefik and the backend whoever sets it; with a plugin that does
# nothing (bench/noop: the floor of any interpreted plugin); with a plugin
# that only looks the request up in a read-locked map and sets the six
# headers (bench/lookup: the ceiling for any cached decision under Yaegi);
# with a plugin that checks an HS256 token's signature and expiry with the
# least work and sets six headers from its claims (bench/verifyfloor: the
# ceiling for any plugin verifying every token under Yaegi);
# with tokengate answering from its caches; and with tokengate verifying
# every token. It reports requests per second and the ratios to the plain
# route measured in the same run.
#
# Throughput on a shared machine drifts by several percent within a
# minute, so the routes are measured in interleaved rounds (plain, headers,
# noop, lookup, floor, cached, verify...; one more plain run closes the last round); each
# ratio is taken against the mean of the plain runs of its round and the
# next, and the table shows the median and the range over the rounds.
#
# It then measures the token service: refreshes per second without
# rotation, with rotation on the memory store and, when redis-server is
# installed, with rotation on a Redis the script starts (bench/refresh: each
# client logs in once and refreshes in a loop, following rotated tokens),
# and logins per second; the same interleaved rounds.
#
# The verify route is measured with HS256 tokens, and beside it with RS256
# (2048-bit), ES256 and EdDSA tokens (each on a gate signing with that key).
#
# BEFORE=<git revision> also runs that revision of tokengate as a second
# plugin in the same Traefik (cached, verify and refresh routes), so that a
# change is measured against its parent in one run.
#
# PEERS=<dir> also measures the peer plugins on the verify route's token,
# each verifying every request (HS256, the same secret) and setting six
# identity headers from its claims, as tokengate sets six: <dir> is a local
# plugins' source tree holding github.com/agilezebra/jwt-middleware
# (v1.4.1) and github.com/traefik-plugins/traefik-jwt-plugin (v0.10.0)
# checked out (bench/README.md, peer plugins). Neither is part of this
# repository.
#
# Last, it sends MEMORY_TOKENS (default 200000) distinct valid tokens, each
# once, to the cached route (bench/mint signs them) and reports Traefik's
# resident memory before and after: more tokens than the claims cache and
# the decision memo hold (10,000 each by default). MEMORY_TOKENS=0 skips it.
#
#   bench/load.sh                 # 5 rounds of wrk -t2 -c32 -d5s per route
#   ROUNDS=9 DURATION=10s CONNECTIONS=64 BEFORE=main~3 bench/load.sh
#
# Needs wrk (scripts/install-tools.sh wrk). Traffic stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
duration=${DURATION:-5s}
rounds=${ROUNDS:-5}
connections=${CONNECTIONS:-32}
threads=${THREADS:-2}
memory_tokens=${MEMORY_TOKENS:-200000}

command -v wrk >/dev/null || { echo "load.sh: wrk is missing: scripts/install-tools.sh wrk" >&2; exit 1; }
TRAEFIK_BIN=${TRAEFIK_BIN:-$(scripts/build-traefik.sh)}
module=$(sed -n 's/^module[[:space:]]*//p' go.mod)

work=$(mktemp -d /tmp/tokengate-bench.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
web=$(free_port)
api=$(free_port)

go build -o "$work/backend" ./bench/backend
"$work/backend" -addr "127.0.0.1:$api" & pids+=($!)

plugin="$work/plugins-local/src/$module"
mkdir -p "$plugin"
scripts/plugin-files.sh | xargs -0 cp --parents -t "$plugin"
go build -o "$work/refresh" ./bench/refresh
go build -o "$work/mint" ./bench/mint
before=${BEFORE:-}
before_module=github.com/tokengate/before
if [ -n "$before" ]; then
  # The revision's sources under another module path, so both load.
  dir="$work/plugins-local/src/$before_module"
  mkdir -p "$dir"
  scripts/plugin-files.sh "$before" >"$work/before-files"
  git archive "$before" | tar -x -C "$dir" --null --verbatim-files-from -T "$work/before-files"
  grep -rl --include='*.go' --include=go.mod --include=.traefik.yml "$module" "$dir" |
    xargs sed -i "s#$module#$before_module#g"
  # Traefik calls <last element of the module path>.New.
  sed -i 's/^package tokengate$/package before/' "$dir"/*.go
fi
secret=bench-only-secret-0123456789abcdef-0123456789
peers=${PEERS:-}
agilezebra=github.com/agilezebra/jwt-middleware
jwtplugin=github.com/traefik-plugins/traefik-jwt-plugin
if [ -n "$peers" ]; then
  for peer in $agilezebra $jwtplugin; do
    [ -f "$peers/$peer/.traefik.yml" ] || { echo "load.sh: PEERS: no $peers/$peer (bench/README.md, peer plugins)" >&2; exit 1; }
    mkdir -p "$work/plugins-local/src/$(dirname "$peer")"
    cp -r "$peers/$peer" "$work/plugins-local/src/$peer"
    rm -rf "$work/plugins-local/src/$peer/.git"
  done
  # traefik-jwt-plugin takes an HMAC key only from a JWKS URL: the same
  # secret as an "oct" key, served from a file on loopback.
  jwks_port=$(free_port)
  mkdir -p "$work/jwks"
  k=$(printf %s "$secret" | base64 -w0 | tr '+/' '-_' | tr -d =)
  echo "{\"keys\":[{\"kty\":\"oct\",\"kid\":\"bench\",\"alg\":\"HS256\",\"k\":\"$k\"}]}" >"$work/jwks/jwks.json"
  python3 -m http.server "$jwks_port" --bind 127.0.0.1 --directory "$work/jwks" >/dev/null 2>&1 & pids+=($!)
fi
redis_port=
if command -v redis-server >/dev/null; then
  redis_port=$(free_port)
  redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" --logfile "$work/redis.log" & pids+=($!)
fi
for baseline in noop lookup verifyfloor; do
  mkdir -p "$work/plugins-local/src/github.com/tokengate/$baseline"
  cp "bench/$baseline/go.mod" "bench/$baseline/$baseline.go" "bench/$baseline/.traefik.yml" "$work/plugins-local/src/github.com/tokengate/$baseline/"
done

cat >"$work/traefik.yml" <<YAML
global: {checkNewVersion: false, sendAnonymousUsage: false}
entryPoints: {web: {address: "127.0.0.1:$web"}}
providers: {file: {filename: "$work/dynamic.yml"}}
log: {level: ERROR, filePath: "$work/traefik.log", noColor: true}
experimental:
  localPlugins:
    tokengate: {moduleName: "$module"}
$([ -n "$before" ] && echo "    before: {moduleName: \"$before_module\"}")
$([ -n "$peers" ] && echo "    agilezebra: {moduleName: \"$agilezebra\"}")
$([ -n "$peers" ] && echo "    jwtplugin: {moduleName: \"$jwtplugin\"}")
    noop: {moduleName: github.com/tokengate/noop}
    lookup: {moduleName: github.com/tokengate/lookup}
    verifyfloor: {moduleName: github.com/tokengate/verifyfloor}
YAML

gate_config() { # $1: cacheTTL, $2: plugin name (default tokengate), $3: extra option lines, $4: keys
  cat <<YAML
        ${2:-tokengate}:
${3:-}
          cacheTTL: "$1"
          keys: ${4:-[{id: bench, algorithm: HS256, secret: "$secret"\}]}
          users:
            - {id: 2, login: alice, role: client, networkIds: ["1", "2"], deviceTypeIds: ["*"],
               passwordHash: "\$6\$tg-test-alice\$U6.AT1FUHj5Da9ZpZ5QUuqoxdeyzkXnbITerO6JjcwRY972npsCl..YKzFM6e8cIwkds6dnvUrq/8P7gUjOgM."}
          preset: devicehive
          deviceDirectory: {devices: [{id: d1, networkId: "1", deviceTypeId: "10"}]}
YAML
}
cat >"$work/dynamic.yml" <<YAML
http:
  routers:
    plain: {rule: "Host(\`plain.bench\`)", service: backend}
    headers: {rule: "Host(\`headers.bench\`)", service: backend, middlewares: [identity]}
    noop: {rule: "Host(\`noop.bench\`)", service: backend, middlewares: [noop]}
    lookup: {rule: "Host(\`lookup.bench\`)", service: backend, middlewares: [lookup]}
    floor: {rule: "Host(\`floor.bench\`)", service: backend, middlewares: [floor]}
    cached: {rule: "Host(\`cached.bench\`)", service: backend, middlewares: [cached]}
    verify: {rule: "Host(\`verify.bench\`)", service: backend, middlewares: [verify]}
    verify-rs256: {rule: "Host(\`verify-rs256.bench\`)", service: backend, middlewares: [verify-rs256]}
    verify-es256: {rule: "Host(\`verify-es256.bench\`)", service: backend, middlewares: [verify-es256]}
    verify-eddsa: {rule: "Host(\`verify-eddsa.bench\`)", service: backend, middlewares: [verify-eddsa]}
    refresh: {rule: "Host(\`refresh.bench\`)", service: backend, middlewares: [refresh]}
    rotate: {rule: "Host(\`rotate.bench\`)", service: backend, middlewares: [rotate]}
$([ -n "$redis_port" ] && cat <<ROUTES
    rotate-redis: {rule: "Host(\`rotate-redis.bench\`)", service: backend, middlewares: [rotate-redis]}
ROUTES
)
$([ -n "$before" ] && cat <<ROUTES
    cached-before: {rule: "Host(\`cached-before.bench\`)", service: backend, middlewares: [cached-before]}
    verify-before: {rule: "Host(\`verify-before.bench\`)", service: backend, middlewares: [verify-before]}
    refresh-before: {rule: "Host(\`refresh-before.bench\`)", service: backend, middlewares: [refresh-before]}
ROUTES
)
$([ -n "$peers" ] && cat <<ROUTES
    peer-agilezebra: {rule: "Host(\`peer-agilezebra.bench\`)", service: backend, middlewares: [peer-agilezebra]}
    peer-jwtplugin: {rule: "Host(\`peer-jwtplugin.bench\`)", service: backend, middlewares: [peer-jwtplugin]}
ROUTES
)
  middlewares:
    identity:
      headers:
        customRequestHeaders:
          X-Auth-User-Id: "2"
          X-Auth-Login: alice
          X-Auth-Role: client
          X-Auth-Actions: GetDevice
          X-Auth-Networks: "1,2"
          X-Auth-Device-Types: "*"
    noop:
      plugin:
        noop: {}
    lookup:
      plugin:
        lookup: {}
    floor:
      plugin:
        verifyfloor: {secret: "$secret"}
    cached:
      plugin:
$(gate_config 5m)
    verify:
      plugin:
$(gate_config 0s)
    verify-rs256:
      plugin:
$(gate_config 0s tokengate "" "[{id: bench-rs, algorithm: RS256, privateKeyFile: \"$root/testdata/keys/rsa2048.pem\"}]")
    verify-es256:
      plugin:
$(gate_config 0s tokengate "" "[{id: bench-es, algorithm: ES256, privateKeyFile: \"$root/testdata/keys/ec256.pem\"}]")
    verify-eddsa:
      plugin:
$(gate_config 0s tokengate "" "[{id: bench-ed, algorithm: EdDSA, privateKeyFile: \"$root/testdata/keys/ed25519.pem\"}]")
    refresh:
      plugin:
$(gate_config 5m)
    rotate:
      plugin:
$(gate_config 5m tokengate "          refreshRotation: true")
$([ -n "$redis_port" ] && cat <<MW
    rotate-redis:
      plugin:
$(gate_config 5m tokengate "          refreshRotation: true
          store: {redis: {endpoints: [\"127.0.0.1:$redis_port\"]}}")
MW
)
$([ -n "$before" ] && cat <<MW
    cached-before:
      plugin:
$(gate_config 5m before)
    verify-before:
      plugin:
$(gate_config 0s before)
    refresh-before:
      plugin:
$(gate_config 5m before)
MW
)
$([ -n "$peers" ] && cat <<MW
    peer-agilezebra:
      plugin:
        agilezebra:
          secret: "$secret"
          validMethods: [HS256]
          require: {iss: tokengate}
          headerMap: {X-Auth-User-Id: sub, X-Auth-Login: login, X-Auth-Role: role, X-Auth-Token-Id: jti, X-Auth-Issuer: iss, X-Auth-Token-Type: token_type}
          removeMissingHeaders: true
          cookieName: ""
    peer-jwtplugin:
      plugin:
        jwtplugin:
          Keys: ["http://127.0.0.1:$jwks_port/jwks.json"]
          Alg: HS256
          PayloadFields: [exp]
          JwtHeaders: {X-Auth-User-Id: sub, X-Auth-Login: login, X-Auth-Role: role, X-Auth-Token-Id: jti, X-Auth-Issuer: iss, X-Auth-Token-Type: token_type}
MW
)
  services:
    backend: {loadBalancer: {servers: [{url: "http://127.0.0.1:$api"}]}}
YAML

(cd "$work" && exec "$TRAEFIK_BIN" --configFile="$work/traefik.yml") & pids+=($!)
base="http://127.0.0.1:$web"
for _ in $(seq 100); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Host: plain.bench' "$base/device/d1" || true)
  [ "$code" = 200 ] && break
  sleep 0.1
done
token=$(curl -s -XPOST -H 'Host: cached.bench' "$base/token" -d '{"login":"alice","password":"alice-pass"}' |
  sed -n 's/.*"accessToken":"\([^"]*\)".*/\1/p')
[ -n "$token" ] || { echo "load.sh: no token; Traefik log:" >&2; cat "$work/traefik.log" >&2; exit 1; }
# Each verify route of another algorithm needs a token its gate signed.
declare -A route_token
for alg in rs256 es256 eddsa; do
  route_token[verify-$alg]=$(curl -s -XPOST -H "Host: verify-$alg.bench" "$base/token" -d '{"login":"alice","password":"alice-pass"}' |
    sed -n 's/.*"accessToken":"\([^"]*\)".*/\1/p')
  [ -n "${route_token[verify-$alg]}" ] || { echo "load.sh: no $alg token; Traefik log:" >&2; cat "$work/traefik.log" >&2; exit 1; }
done
routes="plain headers noop lookup floor cached verify verify-rs256 verify-es256 verify-eddsa forged garbage"
[ -n "$before" ] && routes="$routes cached-before verify-before"
[ -n "$peers" ] && routes="$routes peer-agilezebra peer-jwtplugin"
token_routes="refresh rotate"
[ -n "$redis_port" ] && token_routes="$token_routes rotate-redis"
[ -n "$before" ] && token_routes="$token_routes refresh-before"
token_routes="$token_routes login"
for host in ${routes#plain}; do
  case "$host" in forged | garbage) continue ;; esac
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $host.bench" -H "Authorization: Bearer ${route_token[$host]:-$token}" "$base/device/d1")
  [ "$code" = 200 ] || { echo "load.sh: $host route answered $code" >&2; exit 1; }
done
if grep -q ' ERR \|level=error' "$work/traefik.log"; then
  echo "load.sh: Traefik logged errors:" >&2; cat "$work/traefik.log" >&2; exit 1
fi

# forged.lua sends the token with a fresh random signature on every
# request (valid structure, wrong signature, all distinct); garbage.lua a
# token that is not even a JWT (two segments), also always different.
head_payload=${token%.*}
sig=${token##*.}
cat >"$work/forged.lua" <<LUA
local alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
math.randomseed(os.time())
function random_segment(n)
  local t = {}
  for i = 1, n do local k = math.random(1, 64); t[i] = alphabet:sub(k, k) end
  return table.concat(t)
end
request = function()
  local sig = random_segment(${#sig} - 1) .. "A"
  wrk.headers["Authorization"] = "Bearer ${head_payload}." .. sig
  return wrk.format("GET", "/device/d1")
end
LUA
cat >"$work/garbage.lua" <<LUA
local n = 0
request = function()
  n = n + 1
  wrk.headers["Authorization"] = "Bearer not-a-jwt." .. n
  return wrk.format("GET", "/device/d1")
end
LUA
run() { # $1 host -> requests/s
  case "$1" in
    forged | garbage)
      wrk -t"$threads" -c"$connections" -d"$duration" -s "$work/$1.lua" -H "Host: verify.bench" "$base/device/d1" ;;
    *) wrk -t"$threads" -c"$connections" -d"$duration" -H "Host: $1.bench" -H "Authorization: Bearer ${route_token[$1]:-$token}" "$base/device/d1" ;;
  esac | awk '/^Requests\/sec:/ {print $2}'
}
run_tokens() { # $1 route -> successes/s (bench/refresh prints "<rate> <failures>")
  case "$1" in
    login) "$work/refresh" -url "$base" -host refresh.bench -c 4 -d "$duration" -login | awk '{print $1}' ;;
    rotate | rotate-redis) "$work/refresh" -url "$base" -host "$1.bench" -c "$connections" -d "$duration" -rotate | awk '{print $1}' ;;
    *) "$work/refresh" -url "$base" -host "$1.bench" -c "$connections" -d "$duration" | awk '{print $1}' ;;
  esac
}
echo "$rounds rounds of wrk -t$threads -c$connections -d$duration GET /device/d1 through Traefik $("$TRAEFIK_BIN" version | sed -n 's/^Version:[[:space:]]*//p'), $(nproc) cores${before:+; before = $before ($(git rev-parse --short "$before"))}"
results=$work/results
for round in $(seq "$rounds"); do
  for host in $routes; do
    echo "$round $host $(run "$host")" >>"$results"
  done
  for route in $token_routes; do
    echo "$round $route $(run_tokens "$route")" >>"$results"
  done
done
echo "$((rounds + 1)) plain $(run plain)" >>"$results"
label() {
  case "$1" in
    headers) echo "Traefik's headers middleware setting the six identity headers" ;;
    noop) echo "a plugin that only calls next (bench/noop)" ;;
    lookup) echo "a plugin that looks the request up in a read-locked map and sets the six headers (bench/lookup)" ;;
    floor) echo "a plugin that verifies an HS256 token with the least work and sets six headers from its claims (bench/verifyfloor)" ;;
    cached) echo "tokengate, cached decision" ;;
    verify) echo "tokengate, every token verified (cacheTTL 0s)" ;;
    verify-rs256) echo "tokengate, every token verified, RS256 (2048-bit)" ;;
    verify-es256) echo "tokengate, every token verified, ES256" ;;
    verify-eddsa) echo "tokengate, every token verified, EdDSA (Ed25519)" ;;
    forged) echo "tokengate, a flood of forged tokens (right structure, random signature, all distinct)" ;;
    garbage) echo "tokengate, a flood of garbage tokens (not a JWT, all distinct)" ;;
    cached-before) echo "tokengate $before, cached decision" ;;
    verify-before) echo "tokengate $before, every token verified" ;;
    peer-agilezebra) echo "agilezebra/jwt-middleware $(git -C "$peers/$agilezebra" describe --tags 2>/dev/null), every token verified" ;;
    peer-jwtplugin) echo "traefik-jwt-plugin $(git -C "$peers/$jwtplugin" describe --tags 2>/dev/null), every token verified" ;;
    refresh) echo "refresh, rotation off (memory store)" ;;
    rotate) echo "refresh, rotation on, memory store" ;;
    rotate-redis) echo "refresh, rotation on, Redis store" ;;
    refresh-before) echo "refresh, tokengate $before" ;;
    login) echo "login (SHA-512-crypt, 5000 rounds; 4 clients of one login, under the throttle's 5 free attempts)" ;;
  esac
}
labels=$work/labels
for r in $routes $token_routes; do echo "$r	$(label "$r")" >>"$labels"; done
awk -F'\t' -v n="$rounds" -v routes="$routes" -v token_routes="$token_routes" '
  FNR == NR { name[$1] = $2; next }
  { split($0, f, " "); rps[f[1], f[2]] = f[3] }
  function median(a, k,   i, j, t) {
    for (i = 2; i <= k; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
    return k % 2 ? a[(k+1)/2] : (a[k/2] + a[k/2+1]) / 2
  }
  END {
    printf "| route | req/s (median) | ratio to plain (median) | ratio range |\n|---|---:|---:|---:|\n"
    m = split(routes, hosts, " ")
    for (h = 1; h <= m; h++) {
      for (r = 1; r <= n; r++) {
        base = (rps[r, "plain"] + rps[r+1, "plain"]) / 2
        req[r] = rps[r, hosts[h]]; ratio[r] = req[r] / base
      }
      medreq = median(req, n); medratio = median(ratio, n)
      if (hosts[h] == "plain") { printf "| plain Traefik | %.0f | 1.00 | |\n", medreq; continue }
      printf "| %s | %.0f | %.2f | %.2f-%.2f |\n", name[hosts[h]], medreq, medratio, ratio[1], ratio[n]
    }
    printf "\n| token service | per second (median) | range |\n|---|---:|---:|\n"
    m = split(token_routes, tr, " ")
    for (h = 1; h <= m; h++) {
      for (r = 1; r <= n; r++) req[r] = rps[r, tr[h]]
      medreq = median(req, n)
      printf "| %s | %.0f | %.0f-%.0f |\n", name[tr[h]], medreq, req[1], req[n]
    }
  }' "$labels" "$results"

# Memory under distinct tokens: each sent once to the cached route, from
# one wrk thread that stops after the last.
if [ "$memory_tokens" -gt 0 ]; then
  traefik_pid=$(pgrep -f -- "--configFile=$work/traefik.yml" | head -1)
  rss() { ps -o rss= -p "$traefik_pid" | awk '{printf "%.0f", $1 / 1024}'; }
  "$work/mint" -n "$memory_tokens" -secret "$secret" -token "$token" >"$work/tokens.txt"
  cat >"$work/distinct.lua" <<LUA
local tokens = {}
for line in io.lines("$work/tokens.txt") do tokens[#tokens + 1] = line end
local i = 0
request = function()
  i = i + 1
  if i > #tokens then i = #tokens end
  wrk.headers["Authorization"] = "Bearer " .. tokens[i]
  return wrk.format("GET", "/device/d1")
end
response = function(status)
  if i >= #tokens then wrk.thread:stop() end
end
LUA
  # wrk waits out its duration even once stopped: give it the time the
  # tokens take at the verify route's rate, with a margin.
  verify_rps=$(awk '$2 == "verify" {print $3}' "$results" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
  seconds=$(awk -v n="$memory_tokens" -v r="$verify_rps" 'BEGIN {printf "%d", n / (r > 100 ? r : 100) * 1.5 + 5}')
  before_rss=$(rss)
  wrk -t1 -c"$connections" -d"${seconds}s" -s "$work/distinct.lua" -H "Host: cached.bench" "$base/device/d1" >"$work/distinct.out"
  after_rss=$(rss)
  sent=$(awk '/requests in/ {print $1}' "$work/distinct.out")
  non2xx=$(awk '/Non-2xx/ {print $NF}' "$work/distinct.out")
  printf '\n| memory | MiB |\n|---|---:|\n'
  printf '| Traefik resident memory after the rounds above | %s |\n' "$before_rss"
  printf '| after %s distinct valid tokens, each sent once to the cached route (%s requests, %s non-2xx) | %s |\n' \
    "$memory_tokens" "$sent" "${non2xx:-0}" "$after_rss"
fi
