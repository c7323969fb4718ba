#!/usr/bin/env bash
# Runs the README's test command several times in a row on a fresh clone while a CPU-heavy job
# (a clean release build, over and over) runs beside it: a test that depends on an idle machine
# fails here. Usage: scripts/stability.sh [--runs N] [--no-load] [REV]   (root, for the lab)
# Prints one line per run and a closing "N passed, N failed" line; exits non-zero on a failure.
set -euo pipefail
runs=5 load=1 rev=HEAD
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2;;
    --no-load) load=0; shift;;
    -h|--help) sed -n '2,5p' "$0"; exit 0;;
    *) rev=$1; shift;;
  esac
done
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/portkeeper-stability.XXXXXX)
logs="$repo/bench-results/stability-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$logs"
git clone -q "$repo" "$work/clone"
git -C "$work/clone" checkout -q "$rev"
echo "stability: $(git -C "$work/clone" rev-parse --short HEAD), $runs runs, load: $([ $load = 1 ] && echo 'clean release builds' || echo none), logs in $logs"

loader=
stop_load() {
  if [ -n "$loader" ]; then kill -- -"$loader" 2>/dev/null || true; wait "$loader" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap stop_load EXIT
if [ $load = 1 ]; then
  # Its own process group, so that stopping it stops the compiler too.
  setsid bash -c 'cd "$1"; while :; do rm -rf .build-load; swift build -c release --scratch-path .build-load >/dev/null 2>&1 || true; done' \
    load "$work/clone" &
  loader=$!
fi

passed=0 failed=0
for run in $(seq 1 "$runs"); do
  start=$(date +%s)
  if (cd "$work/clone" && PORTKEEPER_REQUIRE_LAB=1 scripts/test.sh) >"$logs/run-$run.log" 2>&1; then
    result=passed; passed=$((passed + 1))
  else
    result=FAILED; failed=$((failed + 1))
  fi
  summary=$(grep -E "Test run with [0-9]+ tests" "$logs/run-$run.log" | tail -1 | sed 's/^[^T]*//')
  echo "run $run: $result in $(( $(date +%s) - start )) s; ${summary:-no summary line}"
  [ $result = passed ] || grep -E "✘" "$logs/run-$run.log" | head -5 | sed 's/^/    /'
done
echo "stability: $passed passed, $failed failed"
[ "$failed" = 0 ]
