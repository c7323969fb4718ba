#!/usr/bin/env bash
# The `watch` section of scripts/bench.sh, on a v2 lab gateway of its own. Prints markdown table
# rows (| measurement | portkeeper | upnpc |) on stdout and progress on stderr. Needs root.
#
#   scripts/bench/watch.sh --pk PATH --lab NAME [--work DIR] [--pids FILE] [--cycles N] [--deadline-us T]
#
# What it measures:
#   restore after a reboot  20 declared and applied; `lab.sh reboot`; time from miniupnpd's launch
#                           (the mtime of the lab's miniupnpd.pid.launch, written as it is started)
#                           to all 20 dnat rules back in the gateway's nft chain (polled every ~50 ms
#                           in the gateway namespace, so miniupnpd is not loaded), 3 runs each:
#                           (a) watch --interval 60 (SSDP announcements), (b) watch --interval 5
#                           --no-announcements (each reboot at a random point of the 5 s period)
#   CPU per idle cycle      watch --interval 0.5 with the 20 in sync for ~60 s: utime+stime of the
#                           portkeeper process (/proc/PID/stat) / the "verified" lines logged between
#   RSS and fds             watch --interval 0.05 --no-announcements with 1 declared: VmRSS, open fds
#                           and threads at cycle 100 and at cycle N (default 10,000; cycles counted by
#                           "verified" lines), every 1,000 cycles in between; stops at the deadline
#                           (--deadline-us, epoch microseconds) if N cycles would not fit
#
# Every portkeeper command runs in the lab's LAN namespace, nft in its gateway namespace. Each
# watch is stopped with SIGTERM and its exit code reported; the trap stops any still running,
# removes the lab and the registries. PIDs of running watches are listed in --pids FILE (one a
# line) so that a caller's trap can stop them too.
set -euo pipefail
cd "$(dirname "$0")/../.."
PK= NAME= WORK= PIDS= CYCLES=10000 DEADLINE_US=0
while [ $# -gt 0 ]; do
  case $1 in
    --pk) PK=$2; shift 2;;
    --lab) NAME=$2; shift 2;;
    --work) WORK=$2; shift 2;;
    --pids) PIDS=$2; shift 2;;
    --cycles) CYCLES=$2; shift 2;;
    --deadline-us) DEADLINE_US=$2; shift 2;;
    *) echo "usage: $0 --pk PATH --lab NAME [--work DIR] [--pids FILE] [--cycles N] [--deadline-us T]" >&2; exit 2;;
  esac
done
[ -x "$PK" ] && [ -n "$NAME" ] || { echo "usage: $0 --pk PATH --lab NAME ..." >&2; exit 2; }
PK=$(readlink -f "$PK")
LAB=scripts/lab.sh
REG=scripts/bench/registry.py
STATE=${PORTKEEPER_LAB_STATE:-/run/portkeeper-lab}/$NAME
LAN=pk-$NAME-lan
GW=pk-$NAME-gw
OWN_WORK=0
if [ -z "$WORK" ]; then WORK=$(mktemp -d); OWN_WORK=1; fi
mkdir -p "$WORK"
PIDS=${PIDS:-$WORK/watch.pids}
touch "$PIDS"
DB20=$WORK/watch20.sqlite   # 20 declared mappings
DB1=$WORK/watch1.sqlite     # 1 declared mapping
MAPPINGS=20
POLLER=
WPID= WJOB=

die() { echo "bench(watch): $*" >&2; exit 1; }
note() { echo "bench(watch): $*" >&2; }
inlan() { ip netns exec "$LAN" "$@"; }
now_us() { echo "${EPOCHREALTIME/./}"; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e6 }'; } # from-us to-us
alive() { local s; s=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1; [ -n "$s" ] && [ "$s" != Z ]; }

stop_pid() { # pid: SIGTERM a portkeeper still running (the trap's way), SIGKILL after 10 s
  local pid=$1
  [ "$(readlink "/proc/$pid/exe" 2>/dev/null)" = "$PK" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 100); do alive "$pid" || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}
cleanup() {
  local rc=$?
  [ -z "$POLLER" ] || kill "$POLLER" 2>/dev/null || true
  if [ -f "$PIDS" ]; then
    for pid in $(cat "$PIDS"); do note "stopping watch PID $pid left running"; stop_pid "$pid"; done
    : >"$PIDS"
  fi
  $LAB down "$NAME" >/dev/null 2>&1 || true
  rm -f "$DB20"* "$DB1"*
  [ "$OWN_WORK" = 0 ] || rm -rf "$WORK"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# dnat rules in the gateway's miniupnpd chain (one per mapping); 0 while the chain is missing.
nft_count() { ip netns exec "$GW" nft list chain inet filter prerouting_miniupnpd 2>/dev/null | grep -c dnat || true; }
lines() { grep -c -- "$2" "$1" || true; } # log pattern
other_lines() { grep -v -c -e ' started: ' -e ' verified: ' -e '\] stopped$' "$1" || true; } # log
launch_us() { python3 -c 'import os, sys; print(os.stat(sys.argv[1]).st_mtime_ns // 1000)' "$STATE/miniupnpd.pid.launch"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
status_field() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; } # pid field
fds() { ls "/proc/$1/fd" | wc -l; }
TICK=$(getconf CLK_TCK)

start_watch() { # log args...: portkeeper watch ARGS in the LAN namespace; sets WPID (found by pgrep) and WJOB
  local log=$1; shift
  note "starting: portkeeper watch $*"
  # "verified" is a debug line (one per cycle, which the figures count); requests are trace.
  ip netns exec "$LAN" env PORTKEEPER_LOG_LEVEL=debug "$PK" watch "$@" >/dev/null 2>"$log" &
  WJOB=$!
  local pattern="watch $*" found=
  for _ in $(seq 1 100); do
    for p in $(pgrep -f -- "$pattern" || true); do
      [ "$(readlink "/proc/$p/exe" 2>/dev/null)" = "$PK" ] && found=$p
    done
    [ -z "$found" ] || break
    sleep 0.05
  done
  [ -n "$found" ] || die "portkeeper watch $* is not running: $(tail -3 "$log")"
  [ "$found" = "$WJOB" ] || note "pgrep found PID $found; the background job is $WJOB"
  WPID=$found
  echo "$WPID" >>"$PIDS"
}

stop_watch() { # log: SIGTERM; sets WRC (exit code), WSTOP (seconds to exit), WLAST (its last log line)
  local log=$1 t0 ok=0
  t0=$(now_us)
  kill -TERM "$WPID" 2>/dev/null || true
  for _ in $(seq 1 300); do alive "$WPID" || { ok=1; break; }; sleep 0.05; done
  if [ "$ok" = 0 ]; then
    note "watch PID $WPID still running 15 s after SIGTERM: SIGKILL"
    kill -KILL "$WPID" 2>/dev/null || true
  fi
  WSTOP=$(secs "$t0" "$(now_us)")
  WRC=0; wait "$WJOB" || WRC=$?
  sed -i "/^$WPID\$/d" "$PIDS"
  WLAST=$(tail -1 "$log" | sed 's/.*\] //')
  [ "$ok" = 1 ] || WSTOP="> 15 (SIGKILL)"
  note "watch PID $WPID: exit $WRC, ${WSTOP} s after SIGTERM; last line: $WLAST"
}
exit_text() { # after stop_watch
  local t="SIGTERM → exit $WRC in $WSTOP s"
  [ "$WRC" = 0 ] || t="**SIGTERM → exit $WRC** in $WSTOP s"
  [ "$WLAST" = stopped ] || t+=" (last line: \`$WLAST\`)"
  echo "$t"
}

wait_lines() { # log pattern count timeout-s: 0 when the log has count lines matching, 1 at the timeout
  local end=$(( $(now_us) + $4 * 1000000 ))
  while [ "$(lines "$1" "$2")" -lt "$3" ]; do
    alive "$WPID" || return 1
    [ "$(now_us)" -lt "$end" ] || return 1
    sleep 0.05
  done
}
wait_next_verified() { # log: returns right after the next "verified" line (sample boundaries between cycles)
  local c0; c0=$(lines "$1" 'verified:')
  local end=$(( $(now_us) + 30000000 ))
  while [ "$(lines "$1" 'verified:')" -le "$c0" ]; do
    alive "$WPID" && [ "$(now_us)" -lt "$end" ] || return 1
    sleep 0.01
  done
}
CYC=0
wait_cycles() { # log target deadline-us (0: none): sets CYC; 0 at target, 1 at the deadline, 2 if watch died
  local c
  while :; do
    c=$(lines "$1" 'verified:'); CYC=$c
    [ "$c" -lt "$2" ] || return 0
    alive "$WPID" || return 2
    [ "$3" = 0 ] || [ "$(now_us)" -lt "$3" ] || return 1
    if [ $(( $2 - c )) -gt 40 ]; then sleep 1; else sleep 0.01; fi
  done
}

poll_start() { # file: samples "start-us end-us dnat-rules" every ~50 ms (at most ~2 min; ends with this script)
  ( for _ in $(seq 1 2000); do
      kill -0 $$ 2>/dev/null || exit 0
      s=${EPOCHREALTIME/./}; c=$(nft_count); e=${EPOCHREALTIME/./}
      echo "$s $e $c"
      sleep 0.05
    done ) >"$1" 2>/dev/null &
  POLLER=$!
}
poll_stop() { [ -z "$POLLER" ] || { kill "$POLLER" 2>/dev/null || true; wait "$POLLER" 2>/dev/null || true; }; POLLER=; }
restored_in() { # pollfile since-us: 0 once a sample taken wholly after since-us shows all $MAPPINGS
  local s e c
  read -r s e c < <(tail -1 "$1" 2>/dev/null || true) || true
  [ -n "${c:-}" ] && [ "$s" -gt "$2" ] && [ "$c" -ge "$MAPPINGS" ]
}
# "launch→done ret→done gap min" for one run: done = the end of the first sample begun after the
# launch that shows every mapping; gap = time since the previous sample ended (the resolution);
# min = the fewest rules seen after the launch (0 shows the reboot did clear the chain).
analyze() { # pollfile launch-us ret-us
  python3 - "$@" "$MAPPINGS" <<'PY'
import sys
path, launch, ret, want = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rows = []
for line in open(path):
    f = line.split()
    if len(f) == 3 and f[2].isdigit():
        rows.append((int(f[0]), int(f[1]), int(f[2])))
after = [i for i, r in enumerate(rows) if r[0] > launch]
low = min((rows[i][2] for i in after), default=-1)
done = next((i for i in after if rows[i][2] >= want), None)
if done is None:
    print(f"none none none {low}")
else:
    end = rows[done][1]
    gap = (end - rows[done - 1][1]) / 1e6 if done > 0 else float("nan")
    print(f"{(end - launch) / 1e6:.3f} {(end - ret) / 1e6:.3f} {gap:.3f} {low}")
PY
}

# ---------------------------------------------------------------------------------------------
$LAB up "$NAME" v2 >&2
[ "$(nft_count)" = 0 ] || die "a fresh lab gateway has dnat rules"
note "declaring $MAPPINGS mappings in $DB20 (lab $NAME)"
for i in $(seq 1 "$MAPPINGS"); do
  inlan timeout 60 "$PK" add "$((40000 + i))/tcp" --no-apply --db "$DB20" >/dev/null || die "portkeeper add $((40000 + i))/tcp --no-apply failed"
done
inlan timeout 120 "$PK" reconcile --db "$DB20" >/dev/null || die "the reconcile of $MAPPINGS declared mappings failed"
n=$(nft_count); [ "$n" = "$MAPPINGS" ] || die "after the reconcile the gateway has $n dnat rules, want $MAPPINGS"

# ---- 1. Restore after a reboot ----
restore_row() { # label interval-label random-phase-s watch-args...
  local label=$1 what=$2 phase=$3; shift 3
  local log=$WORK/watch-restore-$label.log
  start_watch "$log" "$@"
  wait_lines "$log" 'verified:' 1 60 || die "watch $* did not verify within 60 s: $(tail -3 "$log")"
  local launch_times=() ret_times=() gaps=() lows=() bootgaps=() failed=0
  for run in 1 2 3; do
    if [ "$phase" != 0 ]; then sleep "$(awk -v s="$RANDOM" -v p="$phase" 'BEGIN { srand(s); printf "%.2f", rand() * p }')"; fi
    local before poll=$WORK/poll-$label-$run.txt t_ret launch end result
    before=$(lines "$log" 'restored ')
    poll_start "$poll"
    sleep 0.2
    note "restore ($label) run $run: lab.sh reboot $NAME"
    $LAB reboot "$NAME" >&2
    t_ret=$(now_us)
    launch=$(launch_us 2>/dev/null || echo "$t_ret")
    end=$(( t_ret + 30000000 ))
    until restored_in "$poll" "$launch"; do
      [ "$(now_us)" -lt "$end" ] || break
      sleep 0.05
    done
    poll_stop
    read -r a r g low < <(analyze "$poll" "$launch" "$t_ret")
    if [ "$a" = none ]; then
      failed=$((failed + 1))
      note "restore ($label) run $run: not all $MAPPINGS back within 30 s of the reboot returning (fewest seen $low; now $(nft_count))"
    else
      launch_times+=("$a"); ret_times+=("$r"); gaps+=("$g")
      note "restore ($label) run $run: all $MAPPINGS back ${a} s after miniupnpd's launch (${r} s after lab.sh reboot returned; sample gap $g s; fewest seen $low)"
    fi
    lows+=("$low"); bootgaps+=("$(secs "$launch" "$t_ret")")
    # Let watch finish its reconcile (its "restored" line) before the next reboot.
    wait_lines "$log" 'restored ' $((before + 1)) 15 || note "restore ($label) run $run: no new 'restored' line within 15 s"
    sleep 1
  done
  stop_watch "$log"
  grep -v ' verified: ' "$log" | sed 's/^[^ ]*T\([0-9:]*\)[^ ]* [a-z]* [^ ]* \[[A-Za-z]*\] /  watch \1 /' >&2 || true
  local restored errors warnings byebye bootid uptime cell msg
  restored=$(lines "$log" 'restored ')
  errors=$(lines "$log" ' error ')
  warnings=$(lines "$log" ' warning ')
  byebye=$(lines "$log" 'ssdp:byebye')
  bootid=$(lines "$log" 'gateway restarted (BOOTID')
  uptime=$(lines "$log" 'gateway rebooted (uptime')
  joinc() { local IFS=,; echo "$*" | sed 's/,/, /g'; }
  if [ ${#launch_times[@]} -gt 0 ]; then
    cell="$(python3 "$REG" stats "${launch_times[@]}"); per run $(joinc "${launch_times[@]}") s"
    cell+="; from \`lab.sh reboot\` returning: $(python3 "$REG" stats "${ret_times[@]}" | sed 's/ ±.*(/ (/')"
  else
    cell="**never restored**"
  fi
  [ "$failed" = 0 ] || cell+="; **$failed of 3 runs not restored within 30 s**"
  cell+="; all $MAPPINGS first seen ≤ $(printf '%s\n' "${gaps[@]:-0}" | sort -n | tail -1) s after the previous sample (\`nft list\` waits while rules are being added); rules after the launch went down to $(joinc "${lows[@]}"); miniupnpd answered HTTP $(joinc "${bootgaps[@]}") s after its launch"
  cell+="; log: $restored \`restored …\`, checks on \`ssdp:byebye\` $byebye, on a new BOOTID $bootid, on uptime going down $uptime, $errors \`error:\`, $warnings warning(s)"
  if [ "$errors" -gt 0 ]; then
    msg=$(grep -m1 ' error ' "$log" | sed 's/.*\] //')
    cell+=" (\`${msg:0:100}…;${msg##*;}\`)"
  fi
  cell+="; $(exit_text)"
  echo "| \`watch\` restores $MAPPINGS after \`lab.sh reboot\`, $what (own v2 lab): miniupnpd's launch → all $MAPPINGS dnat rules back in its nft chain (polled every ~50 ms), 3 runs | $cell | — |"
}
restore_row a "(a) \`--interval 60\` with SSDP announcements" 0 --interval 60 --db "$DB20"
n=$(nft_count); [ "$n" = "$MAPPINGS" ] || die "after (a) the gateway has $n dnat rules, want $MAPPINGS"
restore_row b "(b) \`--interval 5 --no-announcements\`, each reboot at a random point of the period" 5 --interval 5 --no-announcements --db "$DB20"

# ---- 2. CPU per idle cycle ----
n=$(nft_count)
if [ "$n" != "$MAPPINGS" ]; then
  note "the gateway has $n dnat rules; reconciling"
  inlan timeout 120 "$PK" reconcile --db "$DB20" >/dev/null || die "reconcile failed"
fi
gwpid=$(cat "$STATE/miniupnpd.pid" 2>/dev/null || cat "$STATE/miniupnpd.pid.launch")
gi0=$(cpu_ticks "$gwpid"); ti0=$(now_us); sleep 10; gi1=$(cpu_ticks "$gwpid"); ti1=$(now_us)   # miniupnpd idle, for comparison
log=$WORK/watch-cpu.log
start_watch "$log" --interval 0.5 --db "$DB20"
wait_lines "$log" 'verified:' 1 60 || die "watch --interval 0.5 did not verify within 60 s: $(tail -3 "$log")"
wait_next_verified "$log" || die "watch --interval 0.5 stopped verifying: $(tail -3 "$log")"
cpu_point() { echo "$(lines "$log" 'verified:') $(now_us) $(awk '{print $14, $15}' "/proc/$WPID/stat") $(cpu_ticks "$gwpid")"; }
points=("$(cpu_point)")
read -r v0 t0 u0 s0 g0 <<<"${points[0]}"
note "CPU: watching ~60 s (3 windows of ~20 s) from cycle $v0"
for _ in 1 2 3; do
  sleep 20
  wait_next_verified "$log" || die "watch --interval 0.5 stopped verifying: $(tail -3 "$log")"
  points+=("$(cpu_point)")
done
read -r v1 t1 u1 s1 g1 <<<"${points[3]}"
load=$(cut -d' ' -f1-3 /proc/loadavg)
others=$(other_lines "$log")
stop_watch "$log"
cycles=$((v1 - v0))
wall=$(secs "$t0" "$t1")
cpu_cell=$(python3 - "$u0" "$s0" "$u1" "$s1" "$TICK" "$cycles" "$wall" "$g0" "$g1" "$gi0" "$gi1" "$(secs "$ti0" "$ti1")" "$load" "${points[@]}" <<'PY'
import sys
u0, s0, u1, s1, tick, cycles = (int(x) for x in sys.argv[1:7])
wall = float(sys.argv[7]); g0, g1 = int(sys.argv[8]), int(sys.argv[9])
gi0, gi1, idle = int(sys.argv[10]), int(sys.argv[11]), float(sys.argv[12])
load = sys.argv[13]
pts = [[int(x) for x in p.split()] for p in sys.argv[14:]]
windows = [((b[2] + b[3] - a[2] - a[3]) / tick * 1000 / (b[0] - a[0])) if b[0] > a[0] else float("nan") for a, b in zip(pts, pts[1:])]
user, system = (u1 - u0) / tick, (s1 - s0) / tick
total = user + system
per = total / cycles * 1000 if cycles else float("nan")
print(f"{per:.1f} ms per cycle ({total:.2f} s CPU = user {user:.2f} + sys {system:.2f}, over {cycles} cycles in {wall:.1f} s: "
      f"{total / wall * 100:.1f} % of one core; a cycle every {wall / cycles:.2f} s); gateway side, miniupnpd over the same time: {(g1 - g0) / tick:.2f} s CPU "
      f"({(g1 - g0) / tick / cycles * 1000:.0f} ms per cycle; idle without watch: {(gi1 - gi0) / tick:.2f} s in {idle:.0f} s); "
      f"per ~20 s window: {', '.join(f'{w:.1f}' for w in windows)} ms per cycle; load average at the end {load}")
PY
)
[ "$others" -le 0 ] || cpu_cell+="; **$others log line(s) other than \`verified\`**"
echo "| \`watch --interval 0.5\`, $MAPPINGS in sync (own v2 lab): CPU time per idle cycle (utime+stime from /proc/PID/stat ÷ \`verified\` lines, ~60 s) | $cpu_cell; $(exit_text) | — |"

# ---- 3. Resident memory and open fds over many cycles, 1 declared mapping ----
$LAB reboot "$NAME" >&2       # clears the 20
inlan timeout 60 "$PK" add 41000/tcp --no-apply --db "$DB1" >/dev/null || die "portkeeper add 41000/tcp --no-apply failed"
inlan timeout 60 "$PK" reconcile --db "$DB1" >/dev/null || die "the reconcile of 1 mapping failed"
n=$(nft_count); [ "$n" = 1 ] || die "the gateway has $n dnat rules, want 1"
log=$WORK/watch-mem.log
start_watch "$log" --interval 0.05 --no-announcements --db "$DB1"
wait_cycles "$log" 1 0 || die "watch --interval 0.05 did not verify: $(tail -3 "$log")"
t_first=$(now_us); c_first=$CYC
sample() { # label: "cycle rss-KiB fds threads cpu-ticks us"
  echo "$CYC $(status_field "$WPID" VmRSS) $(fds "$WPID") $(status_field "$WPID" Threads) $(cpu_ticks "$WPID") $(now_us)"
}
wait_cycles "$log" 100 0 || die "watch --interval 0.05 did not reach cycle 100: $(tail -3 "$log")"
read -r a_c a_rss a_fds a_thr a_cpu a_t < <(sample)
samples=("$a_c:$a_rss:$a_fds")
rate=$(awk -v c="$((a_c - c_first))" -v a="$t_first" -v b="$a_t" 'BEGIN { printf "%.2f", c / ((b - a) / 1e6) }')
need=$(awk -v n="$((CYCLES - a_c))" -v r="$rate" 'BEGIN { printf "%d", n / r }')
limit_note=
if [ "$DEADLINE_US" != 0 ] && [ $(( $(now_us) + need * 1000000 )) -gt "$DEADLINE_US" ]; then
  left=$(( (DEADLINE_US - $(now_us)) / 1000000 )); [ "$left" -gt 0 ] || left=0
  limit_note="$CYCLES cycles would take ~${need} s more at $rate cycles/s, ${left} s left in the budget"
  note "memory: $limit_note; stopping at the deadline"
else
  note "memory: $rate cycles/s; cycle $CYCLES in ~${need} s"
fi
status=0
target=$(( (a_c / 1000 + 1) * 1000 ))
while :; do
  [ "$target" -lt "$CYCLES" ] || target=$CYCLES
  status=0; wait_cycles "$log" "$target" "$DEADLINE_US" || status=$?
  [ "$status" != 2 ] || break
  read -r b_c b_rss b_fds b_thr b_cpu b_t < <(sample)
  samples+=("$b_c:$b_rss:$b_fds")
  note "memory: cycle $b_c: VmRSS $b_rss KiB, $b_fds fds, $b_thr threads"
  [ "$status" = 0 ] && [ "$target" -lt "$CYCLES" ] || break
  target=$((target + 1000))
done
died=
[ "$status" != 2 ] || note "memory: **watch exited** at cycle $CYC: $(tail -3 "$log")"
errors=$(lines "$log" ' error ')
warnings=$(lines "$log" ' warning ')
others=$(other_lines "$log")
if [ "$status" = 2 ]; then
  WRC=0; wait "$WJOB" || WRC=$?; WSTOP="n/a (had exited)"; WLAST=$(tail -1 "$log" | sed 's/.*\] //'); sed -i "/^$WPID\$/d" "$PIDS"
  died="**watch ended on its own at cycle $CYC with exit code $WRC** (last line: \`$WLAST\`)"
else
  stop_watch "$log"
fi
mem_cell=$(python3 - "$a_c" "$a_rss" "$a_fds" "$a_thr" "$a_cpu" "$a_t" "${b_c:-$a_c}" "${b_rss:-$a_rss}" "${b_fds:-$a_fds}" "${b_thr:-$a_thr}" "${b_cpu:-$a_cpu}" "${b_t:-$a_t}" "$TICK" "$CYCLES" "${samples[@]}" <<'PY'
import sys
a = [int(x) for x in sys.argv[1:7]]
b = [int(x) for x in sys.argv[7:13]]
tick, cycles = int(sys.argv[13]), int(sys.argv[14])
series = [s.split(":") for s in sys.argv[15:]]
(ac, arss, afds, athr, acpu, at), (bc, brss, bfds, bthr, bcpu, bt) = a, b
n = bc - ac
wall = (bt - at) / 1e6 or float("nan")
reached = "" if bc >= cycles else f" — **{cycles:,} not reached** (the largest count within the time budget)"
growth = brss - arss
pct = growth / arss * 100 if arss else 0
per_k = growth / n * 1000 if n else 0
cpu = (bcpu - acpu) / tick / n * 1000 if n else float("nan")
text = (f"cycle {ac:,}: VmRSS {arss:,} KiB, {afds} fds, {athr} threads; cycle {bc:,}{reached}: VmRSS {brss:,} KiB, {bfds} fds, {bthr} threads "
        f"({wall:.0f} s later, {n / wall:.1f} cycles/s); growth: RSS {growth:+,} KiB ({pct:+.1f} %, {per_k:+.1f} KiB per 1,000 cycles), fds {bfds - afds:+d}, threads {bthr - athr:+d}; "
        f"CPU {cpu:.1f} ms per cycle; RSS KiB / fds by cycle: " + ", ".join(f"{int(c):,}: {int(r):,}/{f}" for c, r, f in series))
print(text)
PY
)
[ -z "$limit_note" ] || mem_cell+=" ($limit_note)"
[ -z "$died" ] || mem_cell+="; $died"
[ "$errors" = 0 ] && [ "$warnings" = 0 ] && [ "$others" -le 0 ] || mem_cell+="; **log: $errors error(s), $warnings warning(s), $others line(s) other than \`verified\`**"
echo "| \`watch --interval 0.05 --no-announcements\`, 1 declared (own v2 lab): resident memory and open fds at cycle 100 and at cycle $(python3 -c 'import sys; print(f"{int(sys.argv[1]):,}")' "$CYCLES") (\`verified\` lines) | $mem_cell$([ -n "$died" ] || echo "; $(exit_text)") | — |"
