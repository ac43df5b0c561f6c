#!/usr/bin/env bash
# Runs the root module's test packages under the yaegi interpreter, the
# version Traefik v3.6.12 embeds (v0.16.1), the way Traefik loads the plugin:
# by import path from a GOPATH whose src/github.com/tokengate/tokengate is the
# repository (vendor/ included).
#
#   scripts/yaegi-test.sh [yaegi test flags...] [-- import paths...]
#
# Flags are forwarded to every `yaegi test` call: -run, -bench, -benchtime,
# -benchmem, -count, -short, -timeout, -failfast and -v work; -race and -cover
# do not exist in the interpreter. By default -v is passed. Without import
# paths, every package of `go list ./...` with test files is run, except e2e
# and demo/.
#
# Quirks of `yaegi test` (v0.16.1) this script works around or that tests must
# respect:
#   - it takes one import path resolved from $GOPATH; "." cannot see vendor/
#     and "./..." is not supported, hence the temporary GOPATH and the loop;
#   - a package with no Test/Benchmark function is an error ("No tests
#     found"), hence packages without test files are skipped;
#   - TestMain is ignored (never called); only func(*testing.T) and
#     func(*testing.B) are collected;
#   - failure locations read "value.go:586" rather than the test's file:line.
#   - GO111MODULE and GOFLAGS make no difference to it.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
module=$(cd "$root" && go list -m)
per_pkg_timeout=${YAEGI_PKG_TIMEOUT:-900}

flags=()
pkgs=()
while [ $# -gt 0 ]; do
  if [ "$1" = "--" ]; then
    shift
    pkgs=("$@")
    break
  fi
  flags+=("$1")
  shift
done
verbose=-v
for f in "${flags[@]+"${flags[@]}"}"; do
  case "$f" in -v | -v=*) verbose= ;; esac
done

yaegi=$("$root/scripts/install-tools.sh" yaegi)

if [ ! -d "$root/vendor" ] && [ -n "$(cd "$root" && go list -m -f '{{if not .Main}}{{.Path}}{{end}}' all 2>/dev/null)" ]; then
  echo "yaegi-test: $root/vendor is missing; the interpreter (like Traefik) only sees vendored dependencies: run 'make vendor'" >&2
  exit 1
fi

if [ ${#pkgs[@]} -eq 0 ]; then
  while read -r path ntest nxtest; do
    case "$path" in
      "$module"/e2e | "$module"/e2e/* | "$module"/demo | "$module"/demo/* | "$module"/bench | "$module"/bench/*) continue ;;
    esac
    if [ "$ntest" -eq 0 ] && [ "$nxtest" -eq 0 ]; then
      echo "yaegi-test: skip $path (no test files)"
      continue
    fi
    pkgs+=("$path")
  done < <(cd "$root" && go list -f '{{.ImportPath}} {{len .TestGoFiles}} {{len .XTestGoFiles}}' ./...)
fi

gopath=$(mktemp -d "${TMPDIR:-/tmp}/tokengate-yaegi.XXXXXX")
trap 'rm -rf "$gopath"' EXIT
mkdir -p "$gopath/src/$(dirname "$module")"
ln -s "$root" "$gopath/src/$module"

passed=0
failed=0
failed_pkgs=()
for pkg in "${pkgs[@]+"${pkgs[@]}"}"; do
  echo "=== yaegi test $pkg"
  start=$(date +%s)
  # Run from the temporary GOPATH so nothing resolves against the work tree's
  # go.mod; yaegi itself chdirs into the package directory.
  if (cd "$gopath" && GOPATH="$gopath" timeout "$per_pkg_timeout" "$yaegi" test $verbose "${flags[@]+"${flags[@]}"}" "$pkg"); then
    echo "--- yaegi ok   $pkg ($(( $(date +%s) - start ))s)"
    passed=$((passed + 1))
  else
    rc=$?
    echo "--- yaegi FAIL $pkg ($(( $(date +%s) - start ))s, exit $rc)"
    failed=$((failed + 1))
    failed_pkgs+=("$pkg")
  fi
done

if [ $((passed + failed)) -eq 0 ]; then
  echo "yaegi-test: no package with tests found" >&2
fi
for pkg in "${failed_pkgs[@]+"${failed_pkgs[@]}"}"; do
  echo "yaegi-test: FAILED $pkg"
done
echo "yaegi: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
