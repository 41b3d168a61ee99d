#!/usr/bin/env bash
# Runs a GoogleTest binary for CTest and exits 77 (the test's SKIP_RETURN_CODE) when it passed but
# skipped a test, so that a shard holding a skipped test shows as skipped, not passed. A failure
# keeps its exit code. Used for the sanitizer shards, whose many tests share one CTest entry.
set -uo pipefail
out=$(mktemp)
trap 'rm -f "$out"' EXIT
"$@" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
if [ "$rc" -eq 0 ] && grep -q '^\[  SKIPPED \]' "$out"; then exit 77; fi
exit "$rc"
