#!/usr/bin/env bash
# Load test through a real Traefik v3.6.12: the same route with no
# middleware; with Traefik's own (native) headers middleware setting the six
# identity headers tokengate sets, which is what forwarding an identity
# costs Traefik and the backend whoever sets it; with a plugin that does
# nothing (bench/noop: the floor of any interpreted plugin); with a plugin
# that only looks the request up in a read-locked map and sets the six
# headers (bench/lookup: the ceiling for any cached decision under Yaegi);
# with tokengate answering from its caches; and with tokengate verifying
# every token. It reports requests per second and the ratios to the plain
# route measured in the same run.
#
# Throughput on a shared machine drifts by several percent within a
# minute, so the routes are measured in interleaved rounds (plain, headers,
# noop, lookup, cached, verify; one more plain run closes the last round); each
# ratio is taken against the mean of the plain runs of its round and the
# next, and the table shows the median and the range over the rounds.
#
#   bench/load.sh                 # 5 rounds of wrk -t2 -c32 -d5s per route
#   ROUNDS=9 DURATION=10s CONNECTIONS=64 bench/load.sh
#
# Needs wrk (scripts/install-tools.sh wrk). Traffic stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
duration=${DURATION:-5s}
rounds=${ROUNDS:-5}
connections=${CONNECTIONS:-32}
threads=${THREADS:-2}

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
git ls-files -z --cached --others --exclude-standard | grep -zv -E '^(demo|e2e|interp|bench|scripts)/' |
  xargs -0 cp --parents -t "$plugin"
for baseline in noop lookup; do
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
    noop: {moduleName: github.com/tokengate/noop}
    lookup: {moduleName: github.com/tokengate/lookup}
YAML

gate_config() { # $1: cacheTTL
  cat <<YAML
        tokengate:
          cacheTTL: "$1"
          keys: [{id: bench, algorithm: HS256, secret: "bench-only-secret-0123456789abcdef-0123456789"}]
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
    cached: {rule: "Host(\`cached.bench\`)", service: backend, middlewares: [cached]}
    verify: {rule: "Host(\`verify.bench\`)", service: backend, middlewares: [verify]}
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
    cached:
      plugin:
$(gate_config 5m)
    verify:
      plugin:
$(gate_config 0s)
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
for host in headers noop lookup cached verify; do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "Host: $host.bench" -H "Authorization: Bearer $token" "$base/device/d1")
  [ "$code" = 200 ] || { echo "load.sh: $host route answered $code" >&2; exit 1; }
done
if grep -q ' ERR \|level=error' "$work/traefik.log"; then
  echo "load.sh: Traefik logged errors:" >&2; cat "$work/traefik.log" >&2; exit 1
fi

run() { # $1 host -> requests/s
  wrk -t"$threads" -c"$connections" -d"$duration" -H "Host: $1.bench" -H "Authorization: Bearer $token" "$base/device/d1" |
    awk '/^Requests\/sec:/ {print $2}'
}
echo "$rounds rounds of wrk -t$threads -c$connections -d$duration GET /device/d1 through Traefik $("$TRAEFIK_BIN" version | sed -n 's/^Version:[[:space:]]*//p'), $(nproc) cores"
results=$work/results
for round in $(seq "$rounds"); do
  for host in plain headers noop lookup cached verify; do
    echo "$round $host $(run "$host")" >>"$results"
  done
done
echo "$((rounds + 1)) plain $(run plain)" >>"$results"
awk '
  { rps[$1, $2] = $3 }
  function median(a, n,   i, j, t) {
    for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j-1] > a[j]; j--) { t = a[j]; a[j] = a[j-1]; a[j-1] = t }
    return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
  }
  END {
    n = '"$rounds"'
    split("plain headers noop lookup cached verify", hosts, " ")
    for (h = 1; h <= 6; h++) {
      for (r = 1; r <= n; r++) {
        base = (rps[r, "plain"] + rps[r+1, "plain"]) / 2
        req[r] = rps[r, hosts[h]]; ratio[r] = req[r] / base
      }
      medreq[h] = median(req, n); medratio[h] = median(ratio, n)
      lo[h] = ratio[1]; hi[h] = ratio[n]
    }
    printf "| route | req/s (median) | ratio to plain (median) | ratio range |\n|---|---:|---:|---:|\n"
    printf "| plain Traefik | %.0f | 1.00 | |\n", medreq[1]
    printf "| Traefik'"'"'s headers middleware setting the six identity headers | %.0f | %.2f | %.2f-%.2f |\n", medreq[2], medratio[2], lo[2], hi[2]
    printf "| a plugin that only calls next (bench/noop) | %.0f | %.2f | %.2f-%.2f |\n", medreq[3], medratio[3], lo[3], hi[3]
    printf "| a plugin that looks the request up in a read-locked map and sets the six headers (bench/lookup) | %.0f | %.2f | %.2f-%.2f |\n", medreq[4], medratio[4], lo[4], hi[4]
    printf "| tokengate, cached decision | %.0f | %.2f | %.2f-%.2f |\n", medreq[5], medratio[5], lo[5], hi[5]
    printf "| tokengate, every token verified (cacheTTL 0s) | %.0f | %.2f | %.2f-%.2f |\n", medreq[6], medratio[6], lo[6], hi[6]
  }' "$results"
