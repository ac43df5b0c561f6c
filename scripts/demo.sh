#!/usr/bin/env bash
# Runs the tokengate demo natively (no Docker): Traefik v3.6.12 with this
# checkout loaded as a local plugin, in front of the demo device API
# (demo/deviceapi). Stays in the foreground until Ctrl-C, then stops both.
#
#   TOKENGATE_DEMO_ADDR           Traefik entry point address (default 127.0.0.1:8080)
#   TOKENGATE_DEMO_API_ADDR       device API address (default 127.0.0.1:8081)
#   TRAEFIK_BIN                   Traefik binary to use (default: the one
#                                 scripts/build-traefik.sh builds once and caches)
#   TOKENGATE_DEMO_READY_TIMEOUT  seconds to wait for Traefik to answer (default 60)
#   TOKENGATE_DEMO_KEEP=1         keep the work directory (configs, logs, plugin copy)
#                                 after exit; it is always kept after a failure
#   TOKENGATE_DEMO_SELFTEST=1     run the self-check, then stop (exit 1 if a check failed)
#
# How it works: Traefik loads local plugins from ./plugins-local/src/<module>/
# relative to its working directory. The script makes a temporary work
# directory, copies the plugin's files there (the files
# scripts/plugin-files.sh lists), writes demo/traefik.yml and
# demo/dynamic.yml into it with the chosen addresses, and starts Traefik from
# it.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

web_addr=${TOKENGATE_DEMO_ADDR:-127.0.0.1:8080}
api_addr=${TOKENGATE_DEMO_API_ADDR:-127.0.0.1:8081}
ready_timeout=${TOKENGATE_DEMO_READY_TIMEOUT:-60}
keep=${TOKENGATE_DEMO_KEEP:-0}

if [ -t 2 ]; then red=$'\e[1;31m' bold=$'\e[1m' reset=$'\e[0m'; else red='' bold='' reset=''; fi
log() { printf 'demo: %s\n' "$*" >&2; }
die() { printf '%sdemo: error:%s %s\n' "$red" "$reset" "$*" >&2; exit 1; }

# --- addresses -----------------------------------------------------------
# Addresses are HOST:PORT, :PORT or [IPv6]:PORT.
check_addr() {
  [[ $2 =~ ^([A-Za-z0-9._-]*|\[[0-9A-Fa-f:.]+\]):[0-9]{1,5}$ ]] ||
    die "$1=$2 is not HOST:PORT (for example 127.0.0.1:8080)"
}
addr_port() { printf '%s' "${1##*:}"; }
# addr_host gives a host to connect to: loopback for an empty or wildcard host.
addr_host() {
  local h=${1%:*}
  case $h in '' | 0.0.0.0) h=127.0.0.1 ;; '[::]') h='[::1]' ;; esac
  printf '%s' "$h"
}
url_of() { printf 'http://%s:%s' "$(addr_host "$1")" "$(addr_port "$1")"; }
# port_busy succeeds when something already accepts connections on the address.
port_busy() {
  local h
  h=$(addr_host "$1")
  h=${h#[}
  h=${h%]}
  # shellcheck disable=SC2016 # $0 and $1 expand in the inner shell
  timeout 2 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$h" "$(addr_port "$1")" 2>/dev/null
}
check_ports() {
  port_busy "$web_addr" &&
    die "$web_addr (Traefik) is already in use; stop what listens there or set TOKENGATE_DEMO_ADDR=127.0.0.1:<free port>"
  port_busy "$api_addr" &&
    die "$api_addr (device API) is already in use; stop what listens there or set TOKENGATE_DEMO_API_ADDR=127.0.0.1:<free port>"
  return 0
}

check_addr TOKENGATE_DEMO_ADDR "$web_addr"
check_addr TOKENGATE_DEMO_API_ADDR "$api_addr"
[ "$(addr_port "$web_addr")" != "$(addr_port "$api_addr")" ] ||
  die "TOKENGATE_DEMO_ADDR and TOKENGATE_DEMO_API_ADDR use the same port $(addr_port "$web_addr")"
[[ $ready_timeout =~ ^[0-9]+$ ]] || die "TOKENGATE_DEMO_READY_TIMEOUT=$ready_timeout is not a number of seconds"
web_url=$(url_of "$web_addr")
api_url=$(url_of "$api_addr")

for tool in go curl tar sed grep timeout; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
module=$(sed -n 's/^module[[:space:]]\{1,\}\([^[:space:]]*\).*/\1/p' go.mod | head -n 1)
[ -n "$module" ] || die "cannot read the module path from $root/go.mod"

check_ports

# --- the plugin's files --------------------------------------------------
if [ ! -f .traefik.yml ]; then
  log "${bold}warning:${reset} $root/.traefik.yml (the plugin manifest) is missing: Traefik will not load the plugin"
fi
if ! ls ./*.go >/dev/null 2>&1; then
  log "${bold}warning:${reset} no Go files at the repository root: there is no plugin package to load yet"
fi

# --- Traefik -------------------------------------------------------------
if [ -z "${TRAEFIK_BIN:-}" ]; then
  log "locating Traefik (scripts/build-traefik.sh; the first build takes ~20 min)"
  TRAEFIK_BIN=$("$root/scripts/build-traefik.sh") || die "could not build Traefik (see the messages above)"
fi
[ -x "$TRAEFIK_BIN" ] || die "TRAEFIK_BIN=$TRAEFIK_BIN is not an executable file"
log "Traefik: $TRAEFIK_BIN ($("$TRAEFIK_BIN" version 2>/dev/null | sed -n 's/^Version:[[:space:]]*//p' | head -n 1))"

# --- work directory and cleanup ------------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/tokengate-demo.XXXXXX")
traefik_log=$work/traefik.log
api_log=$work/deviceapi.log
pids=()

stop_all() {
  local pid i alive
  for pid in ${pids[@]+"${pids[@]}"}; do kill -TERM "$pid" 2>/dev/null || true; done
  for i in $(seq 50); do
    alive=0
    for pid in ${pids[@]+"${pids[@]}"}; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" = 0 ] && break
    sleep 0.1
  done
  for pid in ${pids[@]+"${pids[@]}"}; do
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  pids=()
}
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ ${#pids[@]} -gt 0 ]; then
    log "stopping Traefik and the device API"
    stop_all
  fi
  # Ctrl-C (130) and TERM (143) are normal stops; keep the logs after failures.
  case "$keep:$rc" in
    0:0 | 0:130 | 0:143) rm -rf "$work" ;;
    *) log "work directory kept: $work (traefik.log, access.log, deviceapi.log)" ;;
  esac
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Copy the plugin to plugins-local/src/<module>/: the files scripts/plugin-files.sh lists.
plugin_dir=$work/plugins-local/src/$module
mkdir -p "$plugin_dir" "$work/bin"
"$root/scripts/plugin-files.sh" | tar --null -T - -cf - | tar -xf - -C "$plugin_dir"
log "plugin copied to $plugin_dir ($(find "$plugin_dir" -type f | wc -l) files)"

# Configuration: the checked-in files with the chosen addresses and the
# absolute path of the dynamic file.
sed -e "s|\"127.0.0.1:8080\"|\"$web_addr\"|" \
  -e "s|^\([[:space:]]*filename:\)[[:space:]]*dynamic.yml[[:space:]]*\$|\1 $work/dynamic.yml|" \
  demo/traefik.yml >"$work/traefik.yml"
grep -q "address: \"$web_addr\"" "$work/traefik.yml" || die "could not set the entry point address in $work/traefik.yml"
grep -q "filename: $work/dynamic.yml" "$work/traefik.yml" || die "could not set the dynamic file in $work/traefik.yml"
sed -e "s|http://127.0.0.1:8081|$api_url|" demo/dynamic.yml >"$work/dynamic.yml"
grep -q -- "- url: $api_url\$" "$work/dynamic.yml" || die "could not set the device API address in $work/dynamic.yml"

# --- device API ----------------------------------------------------------
log "building the device API"
go build -o "$work/bin/deviceapi" ./demo/deviceapi || die "could not build ./demo/deviceapi"

check_ports # again: the Traefik build may have taken a while

# print_errors FILE FIRST_LINE [NAME]: print Traefik's error lines of FILE from
# line FIRST_LINE on, prominently; fails when there are none.
print_errors() {
  local lines
  lines=$(tail -n +"$2" "$1" | sed 's/\x1b\[[0-9;]*m//g' | grep -E ' (ERR|FTL|PNC) |level=(error|fatal|panic)' || true)
  [ -n "$lines" ] || return 1
  {
    printf '\n%s!!! Traefik logged errors (%s):%s\n' "$red" "${3:-$1}" "$reset"
    printf '%s\n' "$lines" | sed 's/^/!!!   /'
    printf '\n'
  } >&2
}
dump_tail() { # dump_tail NAME FILE
  log "last lines of $2:"
  tail -n 20 "$2" | sed "s/^/  $1| /" >&2
}
exited() { ! kill -0 "$1" 2>/dev/null; }

"$work/bin/deviceapi" -addr "$api_addr" >"$api_log" 2>&1 &
api_pid=$!
pids+=("$api_pid")
for i in $(seq 100); do
  if exited "$api_pid"; then
    dump_tail deviceapi "$api_log"
    die "the device API exited at start (port $api_addr busy?)"
  fi
  curl -fs -o /dev/null --max-time 1 "$api_url/healthz" && break
  [ "$i" -lt 100 ] || die "the device API does not answer on $api_url/healthz (log: $api_log)"
  sleep 0.1
done
log "device API: $api_url (pid $api_pid, log $api_log)"

# --- Traefik -------------------------------------------------------------
(cd "$work" && exec "$TRAEFIK_BIN" --configFile="$work/traefik.yml") >"$traefik_log" 2>&1 &
traefik_pid=$!
pids+=("$traefik_pid")
log "Traefik: $web_url (pid $traefik_pid, log $traefik_log)"

# Wait until /healthz answers 200 through Traefik. Traefik listens before the
# file provider's routers (and the plugin) are ready, answering 404 until
# then; a plugin that fails to load leaves the router answering 404 for good.
deadline=$((SECONDS + ready_timeout))
grace=''
code=000
while :; do
  if exited "$traefik_pid"; then
    dump_tail traefik "$traefik_log"
    print_errors "$traefik_log" 1 || true
    if grep -q 'address already in use' "$traefik_log"; then
      die "Traefik could not listen on $web_addr: the address is in use (set TOKENGATE_DEMO_ADDR)"
    fi
    die "Traefik exited at start (log: $traefik_log)"
  fi
  code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$web_url/healthz" || true)
  [ "$code" = 200 ] && break
  if [ "$code" != 000 ] && [ -z "$grace" ]; then
    grace=$((SECONDS + 10)) # Traefik answers; give the routers and plugin 10 s
  fi
  if [ "$SECONDS" -ge "$deadline" ] || { [ -n "$grace" ] && [ "$SECONDS" -ge "$grace" ]; }; then
    break
  fi
  sleep 0.3
done
[ "$code" != 000 ] || {
  dump_tail traefik "$traefik_log"
  die "Traefik does not answer on $web_url after ${ready_timeout}s (log: $traefik_log)"
}

print_errors "$traefik_log" 1 || true
if [ "$code" = 200 ]; then
  log "ready: GET $web_url/healthz -> 200 through Traefik and tokengate"
else
  printf '\n%s!!! GET %s/healthz through Traefik answers %s, not 200:%s\n' "$red" "$web_url" "$code" "$reset" >&2
  printf '!!! the tokengate middleware is probably not loaded (routes using it answer 404).\n' >&2
  printf '!!! See the ERR lines above and %s. Traefik keeps running.\n\n' "$traefik_log" >&2
fi

# --- self-check (informative; the demo runs whatever the answers) ---------
# check LABEL EXPECTED CODE: one line of the self-check table.
failures=0
check() {
  local mark='ok'
  [ "$3" = "$2" ] || { mark="${red}UNEXPECTED${reset} (expected $2)"; failures=$((failures + 1)); }
  printf '  %-58s -> %s %s\n' "$1" "$3" "$mark" >&2
}
status_of() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@" || true; }
json_field() { sed -n "s/.*\"$1\"[[:space:]]*:[[:space:]]*\"\([^\"]*\)\".*/\1/p" | head -n 1; }

log "self-check:"
check "GET /healthz (public path)" 200 "$(status_of "$web_url/healthz")"
check "GET /device/d1 without a token" 401 "$(status_of "$web_url/device/d1")"
check "GET /info without a token (public, as in DeviceHive)" 200 "$(status_of "$web_url/info")"
answer=$(curl -s -w '\n%{http_code}' --max-time 5 -XPOST "$web_url/token" \
  -H 'Content-Type: application/json' -d '{"login":"alice","password":"alice-pass"}' || true)
token_code=${answer##*$'\n'}
access=$(printf '%s' "${answer%$'\n'*}" | tr -d '\n' | json_field accessToken)
check "POST /token as alice" 201 "${token_code:-000}"
case "$(printf '%s' "${answer%$'\n'*}" | tr -d '\n')" in
  *'"accessToken":"'*'"refreshToken":"'*) ;;
  *) log "  POST /token as alice: the answer lacks accessToken or refreshToken"; failures=$((failures + 1)) ;;
esac
if [ -n "$access" ]; then
  check "GET /device/d1 as alice (network 1)" 200 "$(status_of -H "Authorization: Bearer $access" "$web_url/device/d1")"
  check "GET /device/d3 as alice (network 3)" 403 \
    "$(status_of -H "Authorization: Bearer $access" "$web_url/device/d3")"
  check "GET /device/notification/poll as alice (narrowed)" 200 \
    "$(status_of -H "Authorization: Bearer $access" "$web_url/device/notification/poll?waitTimeout=0")"
  check "GET /device/notification/poll?networkIds=3 as alice" 403 \
    "$(status_of -H "Authorization: Bearer $access" "$web_url/device/notification/poll?networkIds=3&waitTimeout=0")"
  check "GET /token/metrics as alice (no ManageConfiguration)" 403 \
    "$(status_of -H "Authorization: Bearer $access" "$web_url/token/metrics")"
  check "POST /token/revoke (logout) with alice's access token" 200 \
    "$(status_of -XPOST "$web_url/token/revoke" -d "{\"token\":\"$access\"}")"
  check "GET /device/d1 with the revoked token" 401 "$(status_of -H "Authorization: Bearer $access" "$web_url/device/d1")"
else
  log "  (no access token in the answer; skipping the token checks)"
  failures=$((failures + 1))
fi

# TOKENGATE_DEMO_SELFTEST=1: stop after the self-check, failing if any check
# did (the test suite runs the demo this way).
if [ "${TOKENGATE_DEMO_SELFTEST:-}" = 1 ]; then
  if [ "$failures" -gt 0 ]; then
    log "self-test: $failures check(s) failed"
    exit 1
  fi
  log "self-test: all checks passed"
  exit 0
fi

# --- walkthrough ---------------------------------------------------------
cat <<EOF

tokengate demo is running.
  gateway (Traefik + tokengate)  $web_url
  device API (behind it)         $api_url
  Traefik log                    $traefik_log
  audit log (one JSON line/event) $work/audit.log
  access log                     $work/access.log
  device API log                 $api_log
  configuration                  $work/traefik.yml, $work/dynamic.yml (edits to dynamic.yml reload live)

Users (DEMO ONLY): admin/admin-pass (admin), alice/alice-pass (networks 1,2; all device types),
bob/bob-pass (network 3; device type 10). Devices: d1 (network 1, type 10), d2 (2, 20), d3 (3, 10).

# 0. Server information is public, as in DeviceHive (clients read it first) -> 200 {"apiVersion":...}
curl -s $web_url/info

# 1. Tokens as alice (DeviceHive REST form) -> 201 {"accessToken":...,"refreshToken":...}
curl -s -XPOST $web_url/token -H 'Content-Type: application/json' -d '{"login":"alice","password":"alice-pass"}'
TOKENS=\$(curl -s -XPOST $web_url/token -H 'Content-Type: application/json' -d '{"login":"alice","password":"alice-pass"}')
ACCESS=\$(printf '%s' "\$TOKENS" | sed -n 's/.*"accessToken" *: *"\\([^"]*\\)".*/\\1/p')
REFRESH=\$(printf '%s' "\$TOKENS" | sed -n 's/.*"refreshToken" *: *"\\([^"]*\\)".*/\\1/p')

# 2. Use the access token; "identity" in the answer shows what the gateway forwarded
curl -s $web_url/device/d1 -H "Authorization: Bearer \$ACCESS"
curl -s $web_url/user/current -H "Authorization: Bearer \$ACCESS"
curl -s -XPOST $web_url/device/d1/notification -H "Authorization: Bearer \$ACCESS" \\
  -H 'Content-Type: application/json' -d '{"notification":"temperature","parameters":{"value":21.5}}'

# 3. No token -> 401
curl -si $web_url/device/d1

# 4. Refresh -> 201 {"accessToken":...}
curl -s -XPOST $web_url/token/refresh -H 'Content-Type: application/json' -d "{\\"refreshToken\\":\\"\$REFRESH\\"}"

# 5. alice is not in network 3 -> 403; she has no ManageNetwork -> 403
curl -si $web_url/device/d3 -H "Authorization: Bearer \$ACCESS"
curl -si -XPOST $web_url/network -H "Authorization: Bearer \$ACCESS" -d '{"name":"n4"}'

# 6. admin mints alice a narrow token: GetDevice on network 1 only -> 201
ADMIN=\$(curl -s -XPOST $web_url/token -d '{"login":"admin","password":"admin-pass"}' | sed -n 's/.*"accessToken" *: *"\\([^"]*\\)".*/\\1/p')
curl -s -XPOST $web_url/token/create -H "Authorization: Bearer \$ADMIN" \\
  -d '{"userId":2,"actions":["GetDevice"],"networkIds":["1"]}'

# 7. The same login in DeviceHive's message form and in HarperDB's form
curl -s -XPOST $web_url/token -H 'Content-Type: application/json' -d '{"action":"token","login":"alice","password":"alice-pass"}'
curl -s -XPOST $web_url/token -H 'Content-Type: application/json' \\
  -d '{"operation":"create_authentication_tokens","username":"alice","password":"alice-pass"}'

# 8. Poll alice's notifications (DeviceHive long polling: a timestamp in the past answers at
#    once, else it waits up to waitTimeout seconds). The gate adds her networks to the query:
#    the device API's log shows networkIds=1,2. Naming network 3 -> 403
curl -s "$web_url/device/notification/poll?timestamp=2020-01-01T00:00:00.000&waitTimeout=5" -H "Authorization: Bearer \$ACCESS"
curl -s "$web_url/device/notification/poll?networkIds=3" -H "Authorization: Bearer \$ACCESS"

# 9. Log out: revoke the session (either of its tokens) -> 200 {}; the access token is then refused -> 401
curl -s -XPOST $web_url/token/revoke -d "{\"token\":\"\$ACCESS\"}"
curl -si $web_url/device/d1 -H "Authorization: Bearer \$ACCESS"

# 10. Guessing bob's password: after 5 failures each attempt must wait (1s, 2s, 4s...) -> 429 with
#     Retry-After, even with the right password, which is not checked during the wait
for i in 1 2 3 4 5 6; do curl -s -o /dev/null -w '%{http_code} ' -XPOST $web_url/token -d '{"login":"bob","password":"guess"}'; done; echo
curl -si -XPOST $web_url/token -d '{"login":"bob","password":"bob-pass"}'

# 11. Metrics (Prometheus text format), readable with the admin's token
curl -s $web_url/token/metrics -H "Authorization: Bearer \$ADMIN" | grep -E '^tokengate_(token_requests|logins_throttled|sessions_revoked)'

# 12. The audit trail: who got which token when (never a token or a password)
tail -n 5 $work/audit.log

Follow the logs with: tail -f $traefik_log $api_log
Press Ctrl-C to stop.
EOF

# --- foreground until Ctrl-C ---------------------------------------------
# Watch both processes, and surface new Traefik error lines as they appear.
seen=$(($(wc -l <"$traefik_log") + 1))
while :; do
  if exited "$traefik_pid"; then
    dump_tail traefik "$traefik_log"
    die "Traefik exited unexpectedly (log: $traefik_log)"
  fi
  if exited "$api_pid"; then
    dump_tail deviceapi "$api_log"
    die "the device API exited unexpectedly (log: $api_log)"
  fi
  now=$(($(wc -l <"$traefik_log") + 1))
  if [ "$now" -gt "$seen" ]; then
    head -n $((now - 1)) "$traefik_log" | tail -n $((now - seen)) >"$work/.new-log-lines"
    print_errors "$work/.new-log-lines" 1 "$traefik_log" || true
    seen=$now
  fi
  sleep 1 &
  wait $! || true
done
