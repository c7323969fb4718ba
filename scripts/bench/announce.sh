#!/usr/bin/env bash
# How soon `watch` restores a mapping after a PCP gateway restarts, on its ANNOUNCE alone: a
# pcp-only lab gateway of its own (miniupnpd with enable_upnp=no, which multicasts one PCP
# ANNOUNCE to 224.0.0.1:5350 at start), 9494/tcp declared over PCP, `watch --interval 3600`
# in the LAN namespace (so the periodic check cannot be what restores it). Each run: `lab.sh
# reboot` (miniupnpd restarted, its nft chain flushed), then the time from the reboot command
# returning to the dnat rule being back in the gateway's nft chain, polled every ~10 ms in the
# gateway namespace; and from miniupnpd's launch (the mtime of the lab's miniupnpd.pid.launch,
# written as it is started: the ANNOUNCE goes out at start, before lab.sh sees UDP 5351 answer).
# Prints one line per run and a summary on stdout. Needs root.
#
#   scripts/bench/announce.sh --pk PATH [--runs N]
set -euo pipefail
cd "$(dirname "$0")/../.."
PK= RUNS=5
while [ $# -gt 0 ]; do
  case $1 in
    --pk) PK=$2; shift 2;;
    --runs) RUNS=$2; shift 2;;
    *) echo "usage: $0 --pk PATH [--runs N]" >&2; exit 2;;
  esac
done
[ -x "$PK" ] || { echo "usage: $0 --pk PATH [--runs N]" >&2; exit 2; }
PK=$(readlink -f "$PK")
LAB=scripts/lab.sh
NAME=bann$(( $$ % 10000 ))
LAN=pk-$NAME-lan
GW=pk-$NAME-gw
STATE=${PORTKEEPER_LAB_STATE:-/run/portkeeper-lab}/$NAME
WORK=$(mktemp -d)
DB=$WORK/registry.sqlite
WPID=

note() { echo "bench(announce): $*" >&2; }
die() { note "$*"; exit 1; }
now_us() { echo "${EPOCHREALTIME/./}"; }
cleanup() {
  if [ -n "$WPID" ] && [ "$(readlink "/proc/$WPID/exe" 2>/dev/null)" = "$PK" ]; then kill -TERM "$WPID" 2>/dev/null || true; wait "$WPID" 2>/dev/null || true; fi
  $LAB down "$NAME" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT
rule_back() { ip netns exec "$GW" nft list chain inet filter prerouting_miniupnpd 2>/dev/null | grep -q 'th dport 9494 dnat'; }
launch_us() { python3 -c 'import os, sys; print(os.stat(sys.argv[1]).st_mtime_ns // 1000)' "$STATE/miniupnpd.pid.launch"; }
count() { grep -c "\"event\":\"$1\"" "$WORK/watch.jsonl" || true; }

$LAB up "$NAME" pcp-only >&2
ip netns exec "$LAN" timeout 60 "$PK" add 9494/tcp --gateway pcp://192.168.77.1 --db "$DB" >/dev/null || die "portkeeper add failed"
rule_back || die "the rule is not in the nft chain after add"
# "verified" is a debug event: it says the first check is over (and the listener bound before it).
ip netns exec "$LAN" env PORTKEEPER_LOG_LEVEL=debug "$PK" watch --interval 3600 --json --db "$DB" >"$WORK/watch.jsonl" 2>"$WORK/watch.err" &
WPID=$!
for _ in $(seq 1 600); do [ "$(count verified)" -ge 1 ] && break; sleep 0.05; done
[ "$(count verified)" -ge 1 ] || die "watch did not verify the gateway: $(tail -3 "$WORK/watch.err")"

times=() fromlaunch=()
for run in $(seq 1 "$RUNS"); do
  # The RFC's epoch check has 2 s of slack: a server restarted within ~3 s of its own start
  # looks like one that kept running. Let it age as a real router would have.
  sleep 5
  $LAB reboot "$NAME" >&2
  t0=$(now_us)
  until rule_back; do
    [ $(( $(now_us) - t0 )) -lt 30000000 ] || die "run $run: not restored within 30 s"
    sleep 0.01
  done
  t1=$(now_us)
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')
  launched=$(awk -v a="$(launch_us)" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e6 }')
  times+=("$secs") fromlaunch+=("$launched")
  echo "run $run: restored $secs s after lab.sh reboot returned, $launched s after miniupnpd's launch"
  # Let watch finish telling this restore before the next reboot.
  for _ in $(seq 1 200); do [ "$(count restored)" -ge "$run" ] && break; sleep 0.05; done
done
[ "$(count announced-epoch)" -ge "$RUNS" ] || note "only $(count announced-epoch) announced-epoch events for $RUNS reboots"
summary() { sort -n | awk -v what="$1" '{ a[NR] = $1; s += $1 } END { printf "ANNOUNCE-triggered restore, %s, %d runs: median %.3f s, min %.3f s, max %.3f s, mean %.3f s\n", what, NR, a[int((NR + 1) / 2)], a[1], a[NR], s / NR }'; }
printf '%s\n' "${times[@]}" | summary "from lab.sh reboot returning"
printf '%s\n' "${fromlaunch[@]}" | summary "from miniupnpd's launch"
echo "announced-epoch events: $(count announced-epoch), restored events: $(count restored)"
