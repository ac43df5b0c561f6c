#!/usr/bin/env bash
# Builds Traefik from the Go module proxy once and caches the binary at a
# version-keyed path outside the clone. Prints the binary's path on stdout.
#
#   TRAEFIK_VERSION   version to build (default v3.6.12)
#   TRAEFIK_CACHE     cache folder (default ${XDG_CACHE_HOME:-$HOME/.cache}/tokengate)
#   TRAEFIK_BUILD_TIMEOUT  seconds the build may take (default 2400)
set -euo pipefail

version=${TRAEFIK_VERSION:-v3.6.12}
cache=${TRAEFIK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tokengate}
bin="$cache/traefik-$version/traefik"
limit=${TRAEFIK_BUILD_TIMEOUT:-2400}

log() { echo "build-traefik: $*" >&2; }

if [ -x "$bin" ] && "$bin" version 2>/dev/null | grep -q "$version"; then
  echo "$bin"
  exit 0
fi

command -v go >/dev/null || { log "go is not installed"; exit 1; }
mkdir -p "$cache"
src="$cache/src-$version"

# One build at a time: a second caller waits for the first, then reuses its
# binary.
exec 9>"$cache/build-$version.lock"
if command -v flock >/dev/null; then
  flock 9
  if [ -x "$bin" ] && "$bin" version 2>/dev/null | grep -q "$version"; then
    echo "$bin"
    exit 0
  fi
fi

log "downloading github.com/traefik/traefik/v3@$version from the module proxy (~2 min cold)"
dir=$(timeout "$limit" go mod download -json "github.com/traefik/traefik/v3@$version" |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
if [ -z "$dir" ] || [ ! -d "$dir" ]; then
  log "could not download Traefik $version (no module directory); is the Go module proxy reachable?"
  exit 1
fi

rm -rf "$src"
cp -r "$dir" "$src"
chmod -R u+w "$src"

log "compiling Traefik $version (~16 min cold on 2 cores, ~15 s warm); limit ${limit}s"
start=$(date +%s)
(
  cd "$src"
  GOFLAGS=-mod=mod timeout "$limit" go build -trimpath -o "$bin.tmp" \
    -ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=$version" ./cmd/traefik
) &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
  sleep 30
  kill -0 "$pid" 2>/dev/null && log "still compiling... $(( $(date +%s) - start ))s"
done
if ! wait "$pid"; then
  log "building Traefik $version failed or exceeded ${limit}s (see the go output above)"
  exit 1
fi
mv "$bin.tmp" "$bin"
rm -rf "$src"
log "built $bin in $(( $(date +%s) - start ))s"
echo "$bin"
