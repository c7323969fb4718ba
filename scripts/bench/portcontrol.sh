#!/usr/bin/env bash
# NAT-PMP and PCP beside UPnP (issue 9 §6), on lab gateways of its own. Prints markdown table
# rows (| measurement | result |) on stdout and progress on stderr. Needs root.
#
#   scripts/bench/portcontrol.sh [--pk PATH] [--minutes M] [--mappings N]
#
# What it measures (every portkeeper command runs in the lab's LAN namespace):
#   reconcile on pcp-only   N declared (default 100) on miniupnpd with UPnP off: the first
#                           reconcile (makes them), then 3 in-sync reconciles; wall time each, and
#                           the requests the gateway received, counted by nft in its namespace by
#                           the first two bytes of each datagram (PCP MAP, PCP ANNOUNCE, NAT-PMP);
#                           beside it, the reference: one MAP by lab-probe with the N in the table
#   restore after a reboot  the same N on one v2-pmp gateway, over UPnP IGD (one registry) and over
#                           PCP (another, --protocol pcp), 3 runs each: `lab.sh reboot`, then the
#                           wall time of `portkeeper reconcile`
#   renewals and the registry  10,000 renewals (1,000 in-sync reconciles of 10 mappings on a
#                           pcp-only gateway of its own, in one process: lab-probe renewals): the
#                           registry's rows and size before and after (after a TRUNCATE
#                           checkpoint, scripts/bench/registry.py); MAPs counted by nft
#   watch on 60 s leases    1 mapping, --protocol natpmp --lease 60, `watch --interval 3600` for M
#                           minutes (default 10): the longest time the rule was missing from the nft
#                           chain (polled every 0.2 s in the gateway namespace), the renewals (NAT-PMP
#                           MAP datagrams counted by nft) and the CPU per renewal (utime+stime of the
#                           watch process from /proc/PID/stat)
set -euo pipefail
cd "$(dirname "$0")/../.."
PK=.build/release/portkeeper MINUTES=10 N=100
while [ $# -gt 0 ]; do
  case $1 in
    --pk) PK=$2; shift 2;;
    --minutes) MINUTES=$2; shift 2;;
    --mappings) N=$2; shift 2;;
    *) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 2;;
  esac
done
[ "$(id -u)" = 0 ] || { echo "portcontrol.sh: needs root (network namespaces)" >&2; exit 2; }
[ -x "$PK" ] || { echo "portcontrol.sh: no portkeeper at $PK (swift build -c release)" >&2; exit 2; }
PK=$(readlink -f "$PK")
PROBE=$(dirname "$PK")/lab-probe
[ -x "$PROBE" ] || { echo "portcontrol.sh: no lab-probe beside $PK (swift build -c release --product lab-probe)" >&2; exit 2; }
LAB=scripts/lab.sh
REG=scripts/bench/registry.py
TMP=$(mktemp -d)
LABS=()
note() { echo "portcontrol.sh: $*" >&2; }
cleanup() {
  for name in "${LABS[@]}"; do "$LAB" down "$name" >/dev/null 2>&1 || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT

now() { date +%s.%N; }
elapsed() { python3 -c "print(f'{$2 - $1:.3f}')"; }
# lab NAME PROFILE: brings a lab up and remembers to take it down.
lab() { "$LAB" up "$1" "$2" >/dev/null; LABS+=("$1"); }
pk() { local name=$1 db=$2; shift 2; "$LAB" exec "$name" lan "$PK" "$@" --db "$db"; }
# count NAME: installs the datagram counters on UDP 5351 in the gateway namespace.
count_setup() {
  "$LAB" exec "$1" gw nft -f - <<'EOF'
table inet pkbench {
  chain in {
    type filter hook input priority -10;
    udp dport 5351 @th,64,16 0x0201 counter comment "pcp-map"
    udp dport 5351 @th,64,16 0x0200 counter comment "pcp-announce"
    udp dport 5351 @th,64,16 0x0000 counter comment "natpmp-address"
    udp dport 5351 @th,64,16 0x0001 counter comment "natpmp-map-udp"
    udp dport 5351 @th,64,16 0x0002 counter comment "natpmp-map-tcp"
  }
}
EOF
}
# counts NAME: "pcp-map=N pcp-announce=N ..." (packets since setup).
counts() {
  "$LAB" exec "$1" gw nft list table inet pkbench | sed -n 's/.*counter packets \([0-9]*\) bytes [0-9]* comment "\([a-z-]*\)".*/\2=\1/p' | tr '\n' ' '
}
count_of() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
rules() { "$LAB" exec "$1" gw nft list chain inet filter prerouting_miniupnpd 2>/dev/null | grep -c 'dnat ip to' || true; }
declare_n() { # NAME DB GATEWAY BASE [extra add args]
  local name=$1 db=$2 gw=$3 base=$4; shift 4
  for i in $(seq 0 $((N - 1))); do
    local extra=()
    [ "$i" = 0 ] && extra=(--gateway "$gw" "$@")
    pk "$name" "$db" add "$((base + i))/tcp" --no-apply --description "bench $i" "${extra[@]}" >/dev/null
  done
}

# --- reconcile on pcp-only -------------------------------------------------------------------
A=pka$(( $$ % 10000 ))
note "pcp-only lab $A: $N declared"
lab "$A" pcp-only
count_setup "$A"
DB="$TMP/pcp.sqlite"
declare_n "$A" "$DB" "pcp://192.168.77.1" 20000
before=$(counts "$A"); t0=$(now)
pk "$A" "$DB" reconcile >/dev/null
first=$(elapsed "$t0" "$(now)"); after=$(counts "$A")
[ "$(rules "$A")" = "$N" ] || { echo "| reconcile on pcp-only | **failed**: $(rules "$A") of $N rules after the first reconcile |"; exit 1; }
made=$(( $(count_of "$after" pcp-map) - $(count_of "$before" pcp-map) ))
times=()
before=$(counts "$A")
for _ in 1 2 3; do t0=$(now); pk "$A" "$DB" reconcile >/dev/null; times+=("$(elapsed "$t0" "$(now)")"); done
after=$(counts "$A")
maps=$(( ($(count_of "$after" pcp-map) - $(count_of "$before" pcp-map)) / 3 ))
announces=$(( ($(count_of "$after" pcp-announce) - $(count_of "$before" pcp-announce)) / 3 ))
single=()
for i in 1 2 3 4 5; do
  t0=$(now); "$LAB" exec "$A" lan "$PROBE" pcp-map 192.168.77.1 "$(printf '%024x' "$i")" TCP $((29000 + i)) $((29000 + i)) 60 >/dev/null
  single+=("$(elapsed "$t0" "$(now)")")
done
echo "| reconcile, $N declared, pcp-only miniupnpd: first (makes them) | ${first} s, $made PCP MAP sent (floor $N) |"
echo "| reconcile, $N declared, in sync, 3 runs | $(python3 "$REG" stats "${times[@]}"); per run $maps PCP MAP (floor $N: one per mapping) + $announces ANNOUNCE |"
echo "| reference: one PCP MAP by lab-probe (a process each) with those $N in miniupnpd's table, 5 runs | $(python3 "$REG" stats "${single[@]}") |"

# --- renewals and the registry -----------------------------------------------------------------
# On a lab of its own with 10 mappings (miniupnpd's time per request grows with its table), in
# one process (lab-probe renewals: the same Keeper.reconcile as the CLI, without 1,000 starts).
R=pkr$(( $$ % 10000 ))
note "renewals: 1,000 in-sync reconciles of 10 mappings (lab $R)"
lab "$R" pcp-only
count_setup "$R"
RDB="$TMP/renewals.sqlite"
N_SAVED=$N; N=10; declare_n "$R" "$RDB" "pcp://192.168.77.1" 23000; N=$N_SAVED
pk "$R" "$RDB" reconcile >/dev/null
python3 "$REG" counts "$RDB" > "$TMP/before.json"
before=$(counts "$R"); t0=$(now)
"$LAB" exec "$R" lan "$PROBE" renewals "$RDB" 1000 >/dev/null
took=$(elapsed "$t0" "$(now)"); after=$(counts "$R")
python3 "$REG" counts "$RDB" > "$TMP/after.json"
renewals=$(( $(count_of "$after" pcp-map) - $(count_of "$before" pcp-map) ))
echo "| registry after $renewals renewals (1,000 in-sync reconciles of 10 mappings, ${took} s) | $(python3 "$REG" diff "$TMP/before.json" "$TMP/after.json") |"
"$LAB" down "$R" >/dev/null 2>&1 || true

# --- restore after a reboot: UPnP vs PCP on one v2-pmp gateway --------------------------------
B=pkb$(( $$ % 10000 ))
note "v2-pmp lab $B: restore of $N after a reboot, UPnP then PCP"
lab "$B" v2-pmp
UP="$TMP/upnp.sqlite" PC="$TMP/pcp2.sqlite"
declare_n "$B" "$UP" "http://192.168.77.1:5000/rootDesc.xml" 22000
pk "$B" "$UP" reconcile >/dev/null
# restore_times DB LABEL: 3 × (lab.sh reboot, then the wall time of reconcile), space-separated.
restore_times() {
  local times=()
  for _ in 1 2 3; do
    "$LAB" reboot "$B" >/dev/null
    local t0; t0=$(now); pk "$B" "$1" reconcile >/dev/null; times+=("$(elapsed "$t0" "$(now)")")
    [ "$(rules "$B")" = "$N" ] || note "$2 restore left $(rules "$B") rules"
  done
  echo "${times[@]}"
}
read -r -a upnp_times <<< "$(restore_times "$UP" UPnP)"
"$LAB" reboot "$B" >/dev/null
declare_n "$B" "$PC" "pcp://192.168.77.1" 22000 --protocol pcp
pk "$B" "$PC" reconcile >/dev/null
read -r -a pcp_times <<< "$(restore_times "$PC" PCP)"
echo "| restore $N after a reboot, v2-pmp miniupnpd, \`reconcile\` wall time, 3 runs: over UPnP IGD | $(python3 "$REG" stats "${upnp_times[@]}") |"
echo "| … the same $N over PCP, same gateway | $(python3 "$REG" stats "${pcp_times[@]}") |"
"$LAB" down "$B" >/dev/null 2>&1 || true

# --- watch on 60-second NAT-PMP leases ----------------------------------------------------------
C=pkc$(( $$ % 10000 ))
note "pcp-only lab $C: watch on a 60 s NAT-PMP lease for $MINUTES min"
lab "$C" pcp-only
count_setup "$C"
W="$TMP/watch.sqlite"
pk "$C" "$W" add 9595/tcp --lease 60 --protocol natpmp --gateway pcp://192.168.77.1 >/dev/null
"$LAB" exec "$C" lan "$PK" watch --interval 3600 --db "$W" 2>"$TMP/watch.log" &
wrapper=$!
pid=
for _ in $(seq 100); do pid=$(pgrep -f -n "^$PK watch --interval 3600 --db $W" || true); [ -n "$pid" ] && break; sleep 0.1; done
[ -n "$pid" ] || { echo "| watch on 60 s NAT-PMP leases | **failed**: watch did not start |"; exit 1; }
sleep 1
cpu0=$(awk '{print $14 + $15}' "/proc/$pid/stat"); before=$(counts "$C")
python3 - "$C" "$MINUTES" "$LAB" > "$TMP/gaps.txt" <<'EOF'
import subprocess, sys, time
name, minutes, lab = sys.argv[1], float(sys.argv[2]), sys.argv[3]
end = time.monotonic() + minutes * 60
longest = current = 0.0
missing_since = None
polls = 0
while time.monotonic() < end:
    out = subprocess.run([lab, "exec", name, "gw", "nft", "list", "chain", "inet", "filter", "prerouting_miniupnpd"], capture_output=True, text=True).stdout
    now = time.monotonic()
    polls += 1
    if "dport 9595" in out:
        if missing_since is not None:
            longest = max(longest, now - missing_since)
            missing_since = None
    elif missing_since is None:
        missing_since = now
    time.sleep(0.2)
if missing_since is not None:
    longest = max(longest, time.monotonic() - missing_since)
print(f"{longest:.1f} {polls}")
EOF
cpu1=$(awk '{print $14 + $15}' "/proc/$pid/stat"); after=$(counts "$C")
kill -TERM "$pid"; wait "$wrapper" || true
ticks=$(getconf CLK_TCK)
read -r longest polls < "$TMP/gaps.txt"
renewed=$(( $(count_of "$after" natpmp-map-tcp) - $(count_of "$before" natpmp-map-tcp) ))
cpu_ms=$(python3 -c "print(f'{($cpu1 - $cpu0) * 1000 / $ticks / max($renewed, 1):.1f}')")
echo "| watch on a 60 s NAT-PMP lease, $MINUTES min (pcp-only miniupnpd, --interval 3600) | longest time missing from the nft chain ${longest} s over $polls polls; $renewed renewals; ${cpu_ms} ms CPU per renewal (utime+stime / renewals) |"
