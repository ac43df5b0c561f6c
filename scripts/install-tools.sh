#!/usr/bin/env bash
# Installs the tools the test suite needs. Idempotent: a tool already present
# at the right version is left alone.
#
#   scripts/install-tools.sh [yaegi] [compose] [wrk] [golangci-lint] [jose] [redis] [promtool]
#
# redis is Debian's redis-server (7.0), which the resp package's tests start
# on free loopback ports; promtool comes with Debian's prometheus package
# (`promtool check metrics < file`). Both print the path of the binary.
#
# jose is the npm package the end-to-end suite verifies JWKS-signed tokens
# with (e2e/jose: package.json and package-lock.json pin it; `npm ci` there
# when its node_modules is missing or stale); it needs node and npm, and
# prints the path of e2e/jose/verify.mjs.
#
# With no argument it installs yaegi only. Environment:
#   TOKENGATE_CACHE         cache folder (default ${XDG_CACHE_HOME:-$HOME/.cache}/tokengate)
#   TOKENGATE_NEED_COMPOSE  1 also installs docker-compose (used to validate docker-compose.yml)
#   YAEGI_VERSION           default v0.16.1, the interpreter Traefik v3.6.12 embeds
#   GOLANGCI_LINT_VERSION   default v2.15.0
#
# Prints nothing on stdout but the path of each tool it was asked for, so
# callers can do: yaegi=$(scripts/install-tools.sh yaegi)
set -euo pipefail

cache=${TOKENGATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tokengate}
bindir="$cache/bin"
yaegi_version=${YAEGI_VERSION:-v0.16.1}
golangci_version=${GOLANGCI_LINT_VERSION:-v2.15.0}

log() { echo "install-tools: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

apt_updated=
apt_install() {
  command -v apt-get >/dev/null || die "apt-get not found: install $* by hand"
  if [ -z "$apt_updated" ]; then
    log "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get update -qq >&2 ||
      die "apt-get update failed; is the Debian package mirror reachable?"
    apt_updated=1
  fi
  log "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get install -y -qq --no-install-recommends "$@" >&2 ||
    die "apt-get install $* failed (see the apt output above)"
}

install_yaegi() {
  local bin="$bindir/yaegi"
  # yaegi has no -version flag; the module version is in the binary's build info.
  if [ -x "$bin" ] && go version -m "$bin" 2>/dev/null | grep -q "mod[[:space:]]*github.com/traefik/yaegi[[:space:]]*$yaegi_version"; then
    echo "$bin"
    return
  fi
  command -v go >/dev/null || die "go is not installed"
  mkdir -p "$bindir"
  log "go install github.com/traefik/yaegi/cmd/yaegi@$yaegi_version"
  GOBIN="$bindir" GOFLAGS='' go install "github.com/traefik/yaegi/cmd/yaegi@$yaegi_version" >&2 ||
    die "could not install yaegi $yaegi_version; is the Go module proxy reachable?"
  echo "$bin"
}

install_compose() {
  if ! command -v docker-compose >/dev/null; then
    apt_install docker-compose
  fi
  command -v docker-compose >/dev/null || die "docker-compose still not on PATH after apt-get install"
  command -v docker-compose
}

install_wrk() {
  if ! command -v wrk >/dev/null; then
    apt_install wrk
  fi
  command -v wrk >/dev/null || die "wrk still not on PATH after apt-get install"
  command -v wrk
}

install_golangci() {
  local bin="$bindir/golangci-lint"
  if [ -x "$bin" ] && "$bin" version 2>/dev/null | grep -q "version ${golangci_version#v}"; then
    echo "$bin"
    return
  fi
  mkdir -p "$bindir"
  log "go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$golangci_version (~5 min cold)"
  GOBIN="$bindir" GOFLAGS='' go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$golangci_version" >&2 ||
    die "could not install golangci-lint $golangci_version"
  echo "$bin"
}

install_jose() {
  local dir script
  dir=$(cd "$(dirname "$0")/../e2e/jose" && pwd) || die "e2e/jose is missing"
  script="$dir/verify.mjs"
  command -v node >/dev/null || die "node is not installed (the e2e suite verifies tokens with the npm package jose): apt-get install nodejs npm"
  command -v npm >/dev/null || die "npm is not installed: apt-get install npm"
  local want_version
  want_version=$(node -e 'process.stdout.write(require(process.argv[1]).dependencies.jose)' "$dir/package.json") ||
    die "cannot read the jose version from $dir/package.json"
  local have_version=
  if [ -f "$dir/node_modules/jose/package.json" ]; then
    have_version=$(node -e 'process.stdout.write(require(process.argv[1]).version)' "$dir/node_modules/jose/package.json" 2>/dev/null || true)
  fi
  if [ "$have_version" != "$want_version" ]; then
    log "npm ci in $dir (jose $want_version)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2) ||
      die "npm ci in $dir failed; is the npm registry reachable?"
  fi
  echo "$script"
}

install_redis() {
  if ! command -v redis-server >/dev/null; then
    apt_install redis-server
  fi
  command -v redis-server >/dev/null || die "redis-server still not on PATH after apt-get install"
  command -v redis-server
}

install_promtool() {
  if ! command -v promtool >/dev/null; then
    apt_install prometheus
  fi
  command -v promtool >/dev/null || die "promtool still not on PATH after apt-get install prometheus"
  command -v promtool
}

want=("$@")
[ ${#want[@]} -eq 0 ] && want=(yaegi)
if [ "${TOKENGATE_NEED_COMPOSE:-}" = 1 ]; then
  want+=(compose)
fi

for tool in "${want[@]}"; do
  case "$tool" in
    yaegi) install_yaegi ;;
    compose | docker-compose) install_compose ;;
    wrk) install_wrk ;;
    golangci-lint | lint) install_golangci ;;
    jose) install_jose ;;
    redis | redis-server) install_redis ;;
    promtool | prometheus) install_promtool ;;
    *) die "unknown tool '$tool' (known: yaegi compose wrk golangci-lint jose redis promtool)" ;;
  esac
done
