#!/usr/bin/env bash
# Prints the files that make up the plugin, NUL-separated and relative to the
# repository root: what Traefik's plugins-local/src/<module>/ (or the plugin
# catalog) needs. scripts/demo.sh, bench/load.sh and the e2e harness copy
# exactly these.
#
#   scripts/plugin-files.sh             the work tree: tracked files and
#                                       untracked ones that are not ignored
#                                       (a file not yet committed is part of
#                                       the plugin), deleted ones left out
#   scripts/plugin-files.sh REVISION    the files of a git revision
#
#   scripts/plugin-files.sh | (cd "$root" && tar --null -T - -cf -) | tar -xf - -C "$dst"
#   scripts/plugin-files.sh | xargs -0 cp --parents -t "$dst"
#
# Outside a git work tree (a source tarball) the files on disk are listed.
#
# Kept: the Go sources, go.mod, go.sum, vendor/ (Traefik only sees vendored
# dependencies), .traefik.yml (its testData is inline), README.md and the
# other top-level files. Left out: the demo, the test harnesses and tools
# (demo/, e2e/, interp/, bench/, scripts/, .ci/, .github/,
# docker-compose.yml) and what only tests read (*_test.go, testdata/ at any
# depth, internal/: test helpers): harmless to the interpreter, but not the
# plugin.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

rev=${1:-}

part_of_plugin() {
  case $1 in
    demo/* | e2e/* | interp/* | bench/* | scripts/* | .ci/* | .github/* | .git/* | docker-compose.yml) return 1 ;;
    *_test.go | testdata/* | */testdata/* | internal/*) return 1 ;;
  esac
  return 0
}

list() {
  if [ -n "$rev" ]; then
    git ls-tree -r -z --name-only "$rev"
  elif git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    git ls-files -z --cached --others --exclude-standard
  else
    find . -type f -print0 | sed -z 's|^\./||'
  fi
}

# The listing runs first, so that a git failure (an unknown revision) is the
# script's exit status rather than lost in a pipe.
files=$(mktemp "${TMPDIR:-/tmp}/plugin-files.XXXXXX")
trap 'rm -f "$files"' EXIT
list >"$files"
while IFS= read -r -d '' f; do
  part_of_plugin "$f" || continue
  # Deleted in the work tree but still tracked: not part of it any more.
  [ -n "$rev" ] || [ -f "$f" ] || continue
  printf '%s\0' "$f"
done <"$files"
