#!/usr/bin/env bash
# Benchmarks portkeeper against upnpc (miniupnpc) on the same lab gateway in one run.
# Needs root (the lab). Prints a table and writes bench-results/bench-<date>.md.
#
#   scripts/bench.sh [--mappings N] [--runs N] [--watch-cycles N] [--budget SECONDS]
#
# What it measures (wall time from hyperfine, peak RSS from GNU time):
#   discover            portkeeper discover       vs  upnpc -s (discovery + status)
#   list, N mappings    portkeeper list           vs  upnpc -l   (IGDv2 lab, N mappings present)
# and, with the registry (a temporary --db), on the same gateway after a reboot clears it:
#   declare N           N x portkeeper add P/tcp --no-apply, then one reconcile applies them
#   in-sync reconcile   portkeeper reconcile with N declared and present  vs  upnpc -l
#   peak RSS            of an in-sync reconcile
#   rows written        row counts of every table and the file size (after a TRUNCATE
#                       checkpoint) before and after 10 in-sync reconciles
#   restore after reboot  lab.sh reboot, then one reconcile (AddPortMapping operations
#                       counted in the registry and in --json)  vs  upnpc -r P TCP ... (N in one process)
#   history             portkeeper history --limit 50 on a copy of the registry grown to
#                       100,000 revisions (root namespace: it touches no network)
# and portkeeper watch, on a second v2 lab gateway of its own (scripts/bench/watch.sh):
#   restore after reboot  20 declared; lab.sh reboot; miniupnpd's launch to all 20 dnat rules back
#                       in the gateway's nft chain, 3 runs each: watch --interval 60 (announcements)
#                       and watch --interval 5 --no-announcements
#   CPU per idle cycle  watch --interval 0.5, 20 in sync, ~60 s: utime+stime / "verified" lines
#   RSS and fds         watch --interval 0.05 --no-announcements, 1 declared: at cycle 100 and at
#                       cycle 10,000 (--watch-cycles), or the most reached within --budget (default
#                       1440 s for the whole script, from its start)
#
# Every portkeeper or upnpc command that talks to the gateway runs in the lab's LAN namespace.
set -euo pipefail
cd "$(dirname "$0")/.."
START_US=${EPOCHREALTIME/./}
MAPPINGS=100
RUNS=10
UPNPC_RUNS=2        # miniupnpd needs ~170 ms a request with 100 rules: upnpc -l takes ~20 s
RESTORE_RUNS=3      # portkeeper restores after a reboot (~20 s each with 100 mappings)
REVISIONS=100000
WATCH_CYCLES=10000  # watch's RSS and fds are sampled at cycle 100 and at this one...
BUDGET=1440         # ...unless it would end later than this many seconds after the start
while [ $# -gt 0 ]; do
  case $1 in
    --mappings) MAPPINGS=$2; shift 2;;
    --runs) RUNS=$2; shift 2;;
    --watch-cycles) WATCH_CYCLES=$2; shift 2;;
    --budget) BUDGET=$2; shift 2;;
    *) echo "usage: $0 [--mappings N] [--runs N] [--watch-cycles N] [--budget SECONDS]" >&2; exit 2;;
  esac
done
scripts/setup.sh
echo "building release..." >&2
swift build -c release --product portkeeper >&2
PK=$(swift build -c release --show-bin-path)/portkeeper
LAB=scripts/lab.sh
REG=scripts/bench/registry.py
NAME=bench$$
NAME=${NAME:0:8}
WATCH_NAME=bw$$                  # the watch section's own lab
WATCH_NAME=${WATCH_NAME:0:8}
TMP=$(mktemp -d)
WATCH_PIDS=$TMP/watch.pids       # watches running (scripts/bench/watch.sh stops them itself)
cleanup() {
  local pid
  for pid in $(cat "$WATCH_PIDS" 2>/dev/null); do
    [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$(readlink -f "$PK")" ] || continue
    echo "bench: stopping watch PID $pid" >&2
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do [ -d "/proc/$pid" ] || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  $LAB down "$WATCH_NAME" >/dev/null 2>&1 || true
  $LAB down "$NAME" >/dev/null 2>&1 || true
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
$LAB up "$NAME" v2 >&2
eval "$($LAB env)"
LAN=pk-$NAME-lan
mkdir -p bench-results
OUT=bench-results/bench-$(date -u +%Y%m%dT%H%M%SZ).md
DB=$TMP/registry.sqlite          # the registry every portkeeper command here uses
HISTORY_DB=$TMP/history.sqlite   # a copy of it grown to $REVISIONS revisions

die() { echo "bench: $*" >&2; exit 1; }
note() { echo "bench: $*" >&2; }
inlan() { ip netns exec "$LAN" "$@"; }

# hyperfine in namespace NS ("-" for this one); prints "mean ± sd (min … max)" in seconds.
# WARMUP (default 1) warm-up runs first. A failure prints "failed: …" instead of a time.
time_in() { # ns label runs command...
  local ns=$1 label=$2 runs=$3; shift 3
  local wrap=(); [ "$ns" = - ] || wrap=(ip netns exec "$ns")
  note "timing $label ($runs runs): $*"
  rm -f "$TMP/h.json"
  if ! timeout 600 "${wrap[@]}" hyperfine --style none --warmup "${WARMUP:-1}" --runs "$runs" --export-json "$TMP/h.json" "$*" \
       >/dev/null 2>"$TMP/h.err"; then
    echo "failed: $(grep -v '^\s*$' "$TMP/h.err" | tail -1)"
    return 0
  fi
  python3 - "$TMP/h.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"][0]
print(f'{r["mean"]:.3f} s ± {r["stddev"] or 0:.3f} (min {r["min"]:.3f}, max {r["max"]:.3f}, {len(r["times"])} runs)')
PY
}
time_cmd() { time_in "$LAN" "$@"; } # label runs command...: in the LAN namespace
mean_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["results"][0]["mean"])' "$TMP/h.json" 2>/dev/null || echo nan; }
verdict() { # value-seconds limit-seconds
  python3 -c 'import sys; v, l = float(sys.argv[1]), float(sys.argv[2]); print("target met" if v <= l else "**target missed**")' "$1" "$2"
}
rss() { # peak resident KiB of one run
  ip netns exec "$LAN" /usr/bin/time -f %M "$@" 2>&1 >/dev/null | tail -1
}
now_ns() { date +%s%N; }
elapsed() { # start-ns end-ns: seconds
  python3 -c 'import sys; print(f"{(int(sys.argv[2]) - int(sys.argv[1])) / 1e9:.3f}")' "$1" "$2"
}
joined() { # items...: "a, b, c"
  local out=${1-}; shift || true
  for x in "$@"; do out+=", $x"; done
  echo "$out"
}
json_kinds() { # file kind: how many changes of that kind (with a key) a reconcile --json reported
  python3 -c 'import json, sys; r = json.load(open(sys.argv[1])); print(sum(1 for c in r["changes"] if c["kind"] == sys.argv[2] and c.get("key")))' "$1" "$2"
}
json_field() { # file field
  python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get(sys.argv[2]))' "$1" "$2"
}
pk_count() { # entries on the gateway, as portkeeper list reads them
  inlan "$PK" list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'
}

{
echo "# portkeeper vs upnpc — $(date -u +%Y-%m-%dT%H:%MZ)"
echo
echo "Lab gateway: miniupnpd $(dpkg-query -W -f='${Version}' miniupnpd) (IGDv2), upnpc $(dpkg-query -W -f='${Version}' miniupnpc); $(nproc) cores (load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)); portkeeper release build."
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
upl_rss=$(rss upnpc -l)
echo "| list, $count mappings (upnpc sees $upcount), wall | $pk | $up |"
echo "| list, $count mappings, peak RSS | $(rss "$PK" list) KiB | $upl_rss KiB |"

# ---- The registry: N declared mappings on the same gateway, its table cleared first. ----
$LAB reboot "$NAME" >&2
[ "$(pk_count)" = 0 ] || die "the gateway still has mappings after a reboot"
ports=(); upargs=()
for i in $(seq 1 "$MAPPINGS"); do ports+=($((30000 + i))); upargs+=($((30000 + i)) TCP); done
note "declaring ${#ports[@]} mappings in $DB"
start=$(now_ns)
for p in "${ports[@]}"; do
  inlan timeout 60 "$PK" add "$p/tcp" --no-apply --db "$DB" >/dev/null || die "portkeeper add $p/tcp --no-apply failed"
done
declare_s=$(elapsed "$start" "$(now_ns)")
note "applying them with one reconcile"
start=$(now_ns)
inlan timeout 300 "$PK" reconcile --json --db "$DB" >"$TMP/apply.json" || die "the first reconcile failed: $(cat "$TMP/apply.json")"
apply_s=$(elapsed "$start" "$(now_ns)")
applied=$(json_kinds "$TMP/apply.json" added)
present=$(pk_count)
[ "$applied" = "$MAPPINGS" ] && [ "$present" = "$MAPPINGS" ] || die "applying: $applied added, $present on the gateway (want $MAPPINGS)"
echo "| declare $MAPPINGS (\`add P/tcp --no-apply\` ×$MAPPINGS, total), then apply (one \`reconcile\`), wall | $declare_s s + $apply_s s ($applied added) | — |"

# In sync: N declared, the same N on the gateway.
pk=$(time_cmd "in-sync reconcile" "$RUNS" "$PK" reconcile --db "$DB")
target=$(verdict "$(mean_of)" 1.5)
up=$(WARMUP=0 time_cmd "upnpc -l" "$UPNPC_RUNS" upnpc -l)
echo "| in-sync \`reconcile\`, $MAPPINGS declared (target ≤ 1.5 s) / \`upnpc -l\`, wall | $pk — $target | $up |"
echo "| in-sync \`reconcile\`, peak RSS | $(rss "$PK" reconcile --db "$DB") KiB | \`upnpc -l\` $upl_rss KiB (list row) |"

# What 10 in-sync reconciles write (measured on copies, so that reading changes nothing).
python3 "$REG" counts "$DB" >"$TMP/before.json"
for _ in $(seq 1 10); do
  inlan timeout 60 "$PK" reconcile --db "$DB" >/dev/null || die "an in-sync reconcile failed"
done
python3 "$REG" counts "$DB" >"$TMP/after.json"
written=$(python3 "$REG" diff "$TMP/before.json" "$TMP/after.json")
rows=${written%% rows*}; rows=${rows#+}
if [ "$rows" -le 1 ]; then rows_verdict="target (≤ 1 small row) met"; else rows_verdict="**target (≤ 1 small row) missed**"; fi
echo "| 10 in-sync \`reconcile\`s, rows written (all tables) | $written — $rows_verdict | — |"
cp "$DB" "$TMP/snapshot.sqlite"; [ ! -f "$DB-wal" ] || cp "$DB-wal" "$TMP/snapshot.sqlite-wal"

# Restoring after a reboot: the gateway loses every mapping; one reconcile puts them back.
times=(); adds=(); journal=(); oks=(); missing=(); insync=()
for run in $(seq 1 "$RESTORE_RUNS"); do
  $LAB reboot "$NAME" >&2
  [ "$(pk_count)" = 0 ] || die "the gateway still has mappings after a reboot"
  note "restore run $run: portkeeper reconcile"
  start=$(now_ns)
  inlan timeout 300 "$PK" reconcile --json --db "$DB" >"$TMP/restore.json" || note "restore run $run: reconcile exited non-zero"
  end=$(now_ns)
  times+=("$(elapsed "$start" "$end")")
  adds+=("$(json_kinds "$TMP/restore.json" added)")
  missing+=("$(json_kinds "$TMP/restore.json" found-missing)")
  insync+=("$(json_field "$TMP/restore.json" inSync)")
  revision=$(json_field "$TMP/restore.json" revision)
  read -r sent ok < <(python3 "$REG" ops "$DB" "$revision")
  journal+=("$sent")
  [ "$ok" = "$sent" ] || note "restore run $run: only $ok of $sent AddPortMapping operations ok"
  oks+=("$ok")
done
pk=$(python3 "$REG" stats "${times[@]}")
pk_present=$(pk_count)
uptimes=(); upadded=()
for run in $(seq 1 "$UPNPC_RUNS"); do
  $LAB reboot "$NAME" >&2
  note "restore run $run: upnpc -r (${#ports[@]} mappings)"
  start=$(now_ns)
  inlan timeout 300 upnpc -e bench -r "${upargs[@]}" >"$TMP/upnpc-r.txt" 2>&1 || note "upnpc -r exited non-zero"
  end=$(now_ns)
  uptimes+=("$(elapsed "$start" "$end")")
  upadded+=("$(pk_count)")
done
up=$(python3 "$REG" stats "${uptimes[@]}")
echo "| restore $MAPPINGS after \`lab.sh reboot\` (reboot untimed): one \`reconcile\` / \`upnpc -r\` ×$MAPPINGS in one process, wall | $pk; AddPortMapping sent per run: $(joined "${journal[@]}") (registry \`operation\`; ok: $(joined "${oks[@]}")), \`--json\` added: $(joined "${adds[@]}"), for $(joined "${missing[@]}") found missing; in sync: $(joined "${insync[@]}"); $pk_present on the gateway after | $up; on the gateway after: $(joined "${upadded[@]}") |"

# History of $REVISIONS revisions: no network, so in this namespace.
filled=$(python3 "$REG" fill "$TMP/snapshot.sqlite" "$HISTORY_DB" "$REVISIONS")
pk=$(time_in - history "$RUNS" "$PK" history --limit 50 --db "$HISTORY_DB")
target=$(verdict "$(mean_of)" 0.1)
echo "| \`history --limit 50\`, ${filled%% *} revisions ($(( ${filled##* } / 1048576 )) MiB registry), wall (target ≤ 100 ms) | $pk — $target | — |"

# watch, on a lab gateway of its own; its RSS/fd run ends by the budget's deadline (less 30 s to finish).
note "watch section: lab $WATCH_NAME"
rc=0
scripts/bench/watch.sh --pk "$PK" --lab "$WATCH_NAME" --work "$TMP/watch" --pids "$WATCH_PIDS" \
  --cycles "$WATCH_CYCLES" --deadline-us $(( START_US + (BUDGET - 30) * 1000000 )) || rc=$?
[ "$rc" = 0 ] || echo "| \`watch\` section | **failed** (scripts/bench/watch.sh exit $rc; see its stderr above) | — |"
echo
echo "Whole run: $(( (${EPOCHREALTIME/./} - START_US) / 1000000 )) s; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
} | tee "$OUT"
echo >&2
echo "written to $OUT" >&2
