#!/usr/bin/env bash
# The test command (`make test`): every behaviour proven natively, under the
# Yaegi interpreter Traefik embeds, and end to end through a real Traefik.
#
#   scripts/test.sh [stage...]
#
# Stages, in order (default: all):
#   static   go vet (root, e2e, interp, bench baselines), gofmt -l
#   native   go test -race -count=1 ./...            (root module, vendor mode)
#   fuzz     go test -fuzz, each fuzz target for 3s   (seed corpora already run in native)
#   yaegi    scripts/yaegi-test.sh                    (same packages, interpreted)
#   interp   cd interp && go test -count=1 -bench . -benchtime 1x ./...  (the plugin loaded as Traefik does)
#   e2e      go test -tags e2e -count=1 -v ./e2e     (through Traefik v3.6.12)
#   demo     scripts/demo.sh in self-test mode        (`make demo` starts and answers)
#   compose  docker-compose -f docker-compose.yml config -q (when the file exists)
#   lint     golangci-lint (.golangci.yml) on every module, e2e with its build tag;
#            installed by scripts/install-tools.sh when missing (~5 min cold)
#
# Every stage runs even when an earlier one failed; the summary lists them all
# and the exit status is non-zero if any failed. When the e2e stage is asked
# for and Traefik is not cached yet, its build (~18 min cold) starts in the
# background at once so it overlaps the other stages.
#
# Environment: TRAEFIK_BIN (use this Traefik), E2E_TIMEOUT (default 20m),
# E2E_ARGS (extra go test args for e2e, e.g. "-run TestTokenDialects").
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 1

all_stages=(static native fuzz yaegi interp e2e demo compose lint)
stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=("${all_stages[@]}")
for s in "${stages[@]}"; do
  case " ${all_stages[*]} " in *" $s "*) ;; *) echo "test.sh: unknown stage '$s' (stages: ${all_stages[*]})" >&2; exit 2 ;; esac
done
wants() { case " ${stages[*]} " in *" $1 "*) return 0 ;; esac; return 1; }

workdir=$(mktemp -d "${TMPDIR:-/tmp}/tokengate-test.XXXXXX")
build_pid=
cleanup() {
  if [ -n "$build_pid" ] && kill -0 "$build_pid" 2>/dev/null; then
    kill -- "-$build_pid" 2>/dev/null || kill "$build_pid" 2>/dev/null
  fi
  rm -rf "$workdir"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

banner() { printf '\n==== %s ====\n' "$*"; }

# Start the Traefik build early, in its own process group, so it overlaps the
# other stages. Its progress goes to a file that the e2e stage prints.
traefik_log="$workdir/build-traefik.log"
if { wants e2e || wants demo; } && [ -z "${TRAEFIK_BIN:-}" ]; then
  set -m
  "$root/scripts/build-traefik.sh" >"$workdir/traefik-path" 2>"$traefik_log" &
  build_pid=$!
  set +m
fi

results=()
failed=0
passed=0
run_stage() {
  local name=$1
  shift
  banner "$name"
  local start=$SECONDS rc=0
  "$@" || rc=$?
  local took=$((SECONDS - start))
  if [ "$rc" -eq 0 ]; then
    results+=("$(printf '%-8s ok    %5ss' "$name" "$took")")
    passed=$((passed + 1))
  else
    results+=("$(printf '%-8s FAIL  %5ss  (exit %s)' "$name" "$took" "$rc")")
    failed=$((failed + 1))
  fi
  return 0
}

stage_static() {
  local rc=0 unformatted
  echo "+ go vet ./..."
  go vet ./... || rc=1
  echo "+ go vet -tags e2e ./e2e"
  go vet -tags e2e ./e2e || rc=1
  for m in interp bench/noop bench/lookup; do
    echo "+ (cd $m && go vet ./...)"
    (cd "$m" && go vet ./...) || rc=1
  done
  echo "+ gofmt -l"
  unformatted=$(find . -name '*.go' -not -path './vendor/*' -not -path './.git/*' -not -path '*/node_modules/*' -print0 | xargs -0 gofmt -l)
  if [ -n "$unformatted" ]; then
    echo "not gofmt'ed (run gofmt -w):"
    echo "$unformatted"
    rc=1
  fi
  return $rc
}

# redis_tools installs the real parts tests start or call, from Debian's
# packages: redis-server (resp, store and the e2e suite start their own on
# a free loopback port) and promtool (metrics and the e2e suite check the
# exposition with it).
redis_tools() {
  "$root/scripts/install-tools.sh" redis promtool >/dev/null
}

stage_native() {
  redis_tools || return 1
  echo "+ go test -race -count=1 ./..."
  go test -race -count=1 ./...
}

# The fuzz targets, each run for a few seconds so that a regression on
# inputs the seed corpus lacks can surface. go test -fuzz takes one package
# and one target per run, so every `func Fuzz...` of the module's test files
# is found and run in turn; a failing input is written to the package's
# testdata/fuzz/<target>/.
#
# Go before 1.27 can fail a target with a bare "context deadline exceeded"
# when -fuzztime runs out under a worker still busy (golang/go#75804; seen
# here with FuzzCryptHash's slow inputs): such a run, which wrote no failing
# input, is run once more, and fails the stage only if it fails again.
stage_fuzz() {
  local rc=0 entry pkg target log
  local targets=()
  # "<dir>/<file>:func FuzzX(" -> "./<dir> FuzzX"
  while IFS= read -r entry; do
    target=${entry#*:func }
    targets+=("./$(dirname "${entry%%:*}") ${target%%(*}")
  done < <(cd "$root" && grep -r --include='*_test.go' --exclude-dir=vendor --exclude-dir=interp --exclude-dir=e2e -o '^func Fuzz[A-Za-z0-9_]*(' . | sed 's#^\./##' | sort)
  if [ ${#targets[@]} -eq 0 ]; then
    echo "no fuzz targets found" >&2
    return 1
  fi
  log=$(mktemp)
  for entry in "${targets[@]}"; do
    read -r pkg target <<<"$entry"
    echo "+ go test -run '^\$' -fuzz '^$target\$' -fuzztime 3s $pkg"
    if go test -run '^$' -fuzz "^$target\$" -fuzztime 3s "$pkg" 2>&1 | tee "$log"; [ "${PIPESTATUS[0]}" -eq 0 ]; then
      continue
    fi
    if grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"; then
      echo "+ $target stopped on the fuzzing coordinator's own deadline (golang/go#75804), no failing input: once more"
      go test -run '^$' -fuzz "^$target\$" -fuzztime 3s "$pkg" || rc=1
    else
      rc=1
    fi
  done
  rm -f "$log"
  return $rc
}

stage_yaegi() {
  redis_tools || return 1
  "$root/scripts/yaegi-test.sh"
}

stage_interp() {
  # The benchmarks run once each too, so that the load test's baseline
  # plugins (bench/noop, bench/lookup) are known to load under yaegi.
  echo "+ (cd interp && go test -count=1 -bench . -benchtime 1x ./...)"
  (cd interp && go test -count=1 -bench . -benchtime 1x ./...)
}

# resolve_traefik sets traefik to the Traefik binary: TRAEFIK_BIN, the
# background build's (waiting for it), or a fresh build. It runs in the main
# shell, not $(...), so that it can wait for the background build.
traefik=${TRAEFIK_BIN:-}
resolve_traefik() {
  [ -n "$traefik" ] && return 0
  if [ -n "$build_pid" ]; then
    echo "waiting for the Traefik build (progress in $traefik_log)..."
    local rc=0 ticks=0
    while kill -0 "$build_pid" 2>/dev/null; do
      sleep 5
      ticks=$((ticks + 1))
      [ $((ticks % 12)) -eq 0 ] && tail -n 1 "$traefik_log" 2>/dev/null
    done
    wait "$build_pid" || rc=$?
    build_pid=
    cat "$traefik_log"
    if [ "$rc" -ne 0 ]; then
      echo "building Traefik failed (exit $rc)"
      return 1
    fi
    traefik=$(tail -n 1 "$workdir/traefik-path")
  else
    traefik=$("$root/scripts/build-traefik.sh") || return 1
  fi
}

stage_e2e() {
  redis_tools || return 1
  resolve_traefik || return 1
  local bin=$traefik
  echo "+ TRAEFIK_BIN=$bin go test -tags e2e -count=1 -v -timeout ${E2E_TIMEOUT:-20m} ./e2e ${E2E_ARGS:-}"
  # shellcheck disable=SC2086 # E2E_ARGS is a list of words
  TRAEFIK_BIN=$bin go test -tags e2e -count=1 -v -timeout "${E2E_TIMEOUT:-20m}" ./e2e ${E2E_ARGS:-}
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
    echo $((20000 + RANDOM % 20000))
}

stage_demo() {
  resolve_traefik || return 1
  local bin=$traefik web api
  web=127.0.0.1:$(free_port)
  api=127.0.0.1:$(free_port)
  echo "+ TOKENGATE_DEMO_SELFTEST=1 TOKENGATE_DEMO_ADDR=$web TOKENGATE_DEMO_API_ADDR=$api scripts/demo.sh"
  TRAEFIK_BIN=$bin TOKENGATE_DEMO_SELFTEST=1 TOKENGATE_DEMO_ADDR=$web TOKENGATE_DEMO_API_ADDR=$api \
    "$root/scripts/demo.sh" </dev/null
}

stage_compose() {
  if [ ! -f docker-compose.yml ]; then
    echo "no docker-compose.yml: nothing to validate"
    return 0
  fi
  local compose
  if command -v docker-compose >/dev/null; then
    compose=(docker-compose)
  else
    compose=("$("$root/scripts/install-tools.sh" compose)") || return 1
  fi
  echo "+ ${compose[*]} -f docker-compose.yml config -q"
  "${compose[@]}" -f docker-compose.yml config -q
}

stage_lint() {
  local lint rc=0 m
  lint=$("$root/scripts/install-tools.sh" golangci-lint) || return 1
  echo "+ golangci-lint run ./..."
  "$lint" run ./... || rc=1
  echo "+ golangci-lint run --build-tags e2e ./e2e/..."
  "$lint" run --build-tags e2e ./e2e/... || rc=1
  for m in interp bench/noop bench/lookup; do
    echo "+ (cd $m && golangci-lint run --config $root/.golangci.yml ./...)"
    (cd "$m" && "$lint" run --config "$root/.golangci.yml" ./...) || rc=1
  done
  return $rc
}

total_start=$SECONDS
for s in "${all_stages[@]}"; do
  wants "$s" && run_stage "$s" "stage_$s"
done

banner "summary ($((SECONDS - total_start))s)"
printf '%s\n' "${results[@]}"
echo "stages: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
