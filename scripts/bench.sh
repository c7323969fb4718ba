#!/usr/bin/env bash
# Benchmarks portkeeper against upnpc (miniupnpc) on the same lab gateway in one run.
# Needs root (the lab). Prints a table and writes bench-results/bench-<date>.md.
#
#   scripts/bench.sh [--mappings N] [--runs N]
#
# What it measures (wall time from hyperfine, peak RSS from GNU time):
#   discover            portkeeper discover       vs  upnpc -s (discovery + status)
#   list, N mappings    portkeeper list           vs  upnpc -l   (IGDv2 lab, N mappings present)
set -euo pipefail
cd "$(dirname "$0")/.."
MAPPINGS=100
RUNS=10
while [ $# -gt 0 ]; do
  case $1 in
    --mappings) MAPPINGS=$2; shift 2;;
    --runs) RUNS=$2; shift 2;;
    *) echo "usage: $0 [--mappings N] [--runs N]" >&2; exit 2;;
  esac
done
scripts/setup.sh
echo "building release..." >&2
swift build -c release --product portkeeper >&2
PK=$(swift build -c release --show-bin-path)/portkeeper
LAB=scripts/lab.sh
NAME=bench$$
NAME=${NAME:0:8}
trap '$LAB down $NAME >/dev/null 2>&1 || true' EXIT
$LAB up "$NAME" v2 >&2
eval "$($LAB env)"
LAN=pk-$NAME-lan
mkdir -p bench-results
OUT=bench-results/bench-$(date -u +%Y%m%dT%H%M%SZ).md
TMP=$(mktemp -d)

# hyperfine inside the LAN namespace; prints "mean ± sd (min … max)" in seconds
time_cmd() { # label runs command...
  local label=$1 runs=$2; shift 2
  ip netns exec "$LAN" hyperfine --style none --warmup 1 --runs "$runs" --export-json "$TMP/h.json" "$*" >/dev/null 2>&1
  python3 - "$TMP/h.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(f'{r["mean"]:.3f} s ± {r["stddev"] or 0:.3f} (min {r["min"]:.3f}, max {r["max"]:.3f}, {len(r["times"])} runs)')
PY
}
rss() { # peak resident KiB of one run
  ip netns exec "$LAN" /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1
}

{
echo "# portkeeper vs upnpc — $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "Lab gateway: miniupnpd $(dpkg-query -W -f='${Version}' miniupnpd) (IGDv2), upnpc $(dpkg-query -W -f='${Version}' miniupnpc); $(nproc) cores; portkeeper release build."
echo
echo "| measurement | portkeeper | upnpc |"
echo "|---|---|---|"
pk=$(time_cmd discover "$RUNS" "$PK" discover)
up=$(time_cmd discover 3 upnpc -s)
echo "| discover (\`portkeeper discover\` / \`upnpc -s\`), wall | $pk | $up |"
echo "| discover, peak RSS | $(rss "$PK" discover) KiB | $(rss upnpc -s) KiB |"

# N mappings, added by upnpc in one process (the same table for both tools)
args=()
for i in $(seq 1 "$MAPPINGS"); do args+=($((20000 + i)) TCP); done
ip netns exec "$LAN" upnpc -e bench -r "${args[@]}" >/dev/null 2>&1 || true
count=$(ip netns exec "$LAN" "$PK" list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
upcount=$(ip netns exec "$LAN" upnpc -l 2>/dev/null | grep -cE '^ *[0-9]+ (TCP|UDP) ')
pk=$(time_cmd list "$RUNS" "$PK" list)
up=$(time_cmd list 2 upnpc -l)
echo "| list, $count mappings (upnpc sees $upcount), wall | $pk | $up |"
echo "| list, $count mappings, peak RSS | $(rss "$PK" list) KiB | $(rss upnpc -l) KiB |"
} | tee "$OUT"
echo >&2
echo "written to $OUT" >&2
