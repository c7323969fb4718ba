#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ (release, coverage + AddressSanitizer) and runs each for
# a while: every target, or those named. One summary line per target; exits 1 when any target
# crashed, timed out, leaked or ran out of memory (the input is kept in .build-fuzz/artifacts/).
#
#   scripts/fuzz.sh [--seconds N] [--runs N] [--timeout S] [--fork N] [--no-asan] [--build-only] [--list] [TARGET...]
#
#   --seconds N   run each target N seconds (default 60)
#   --runs N      stop each target after N executions instead (whichever comes first with --seconds)
#   --timeout S   one input running longer than S seconds is a hang (default 2; libFuzzer measures
#                 wall time, so give a long run beside other work more, e.g. 30)
#   --fork N      one run of each target spread over N worker processes (libFuzzer's -fork): the
#                 counts are the run's totals; it still stops at the first crash, timeout or OOM
#   --no-asan     build without AddressSanitizer (in .build-fuzz/no-asan): about twice the
#                 executions a second, for long runs; traps and contract checks still count
#   --build-only  build, do not run
#   --list        print the target names
#
# Corpora: Fuzz/Corpus/<target>/ holds committed seeds, Fuzz/Regressions/<target>/ inputs that
# once failed (run first, every time); seeds derived from Tests/Fixtures go to
# .build-fuzz/seeds/<target>/ and what libFuzzer learns to .build-fuzz/corpus/<target>/ (kept
# between runs, never committed). Needs only the Swift toolchain (its clang runtime has libFuzzer).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
scratch="$root/.build-fuzz"

targets=(ssdp-search ssdp-notify http-response xml-tree device-description soap-response action-responses natpmp-response pcp-response)
seconds=60
runs=""
timeout=2
fork=0
asan=1
build_only=0
chosen=()
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --timeout) timeout="$2"; shift 2 ;;
    --fork) fork="$2"; shift 2 ;;
    --no-asan) asan=0; shift ;;
    --build-only) build_only=1; shift ;;
    --list) printf '%s\n' "${targets[@]}"; exit 0 ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "fuzz.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
    *)
      if [[ " ${targets[*]} " != *" $1 "* ]]; then
        echo "fuzz.sh: no target '$1'; targets: ${targets[*]}" >&2; exit 2
      fi
      chosen+=("$1"); shift ;;
  esac
done
[ ${#chosen[@]} -gt 0 ] || chosen=("${targets[@]}")
[[ "$seconds" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: --seconds wants a whole number, got '$seconds'" >&2; exit 2; }
[ -z "$runs" ] || [[ "$runs" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: --runs wants a whole number, got '$runs'" >&2; exit 2; }
[[ "$timeout" =~ ^[0-9]+$ ]] && [ "$timeout" -ge 1 ] || { echo "fuzz.sh: --timeout wants a whole number of seconds, got '$timeout'" >&2; exit 2; }
[[ "$fork" =~ ^[0-9]+$ ]] || { echo "fuzz.sh: --fork wants a whole number of workers, got '$fork'" >&2; exit 2; }

swift_bin=$(command -v swift) || { echo "fuzz.sh: no swift on PATH; install the Swift toolchain" >&2; exit 2; }
toolchain=$(dirname "$(dirname "$(readlink -f "$swift_bin")")")
if ! ls "$toolchain"/lib/clang/*/lib/linux/libclang_rt.fuzzer-*.a >/dev/null 2>&1 \
  && ! ls "$toolchain"/lib/swift/clang/lib/linux/libclang_rt.fuzzer-*.a >/dev/null 2>&1; then
  echo "fuzz.sh: this Swift toolchain ($toolchain) ships no libFuzzer runtime; use a swift.org toolchain for Linux" >&2
  exit 2
fi

# SwiftPM's --sanitize fuzzer links libFuzzer's main in place of the executable's and instruments
# the C targets (NIO's llhttp); -sanitize=fuzzer,address in one flag is what gives the Swift
# modules their coverage counters (two separate -sanitize flags keep only the last).
# The -Xswiftc flag also reaches the main package's build tool embed-migrations, which no fuzz
# target needs: -sanitize=fuzzer implies -parse-as-library, so its top-level code fails to
# compile there and SwiftPM carries on; those lines, and the gold linker's ASan notice, are
# left out of the output.
mkdir -p "$scratch"
build_dir="$scratch"
sanitizers=(--sanitize fuzzer --sanitize address -Xswiftc -sanitize=fuzzer,address)
if [ "$asan" -eq 0 ]; then
  build_dir="$scratch/no-asan"
  sanitizers=(--sanitize fuzzer -Xswiftc -sanitize=fuzzer)
fi
echo "fuzz.sh: building the fuzz targets (release, libFuzzer$([ "$asan" -eq 1 ] && echo " + AddressSanitizer") in ${build_dir#"$root"/})"
swift build -c release --package-path Fuzz --scratch-path "$build_dir" "${sanitizers[@]}" 2>&1 | tee "$scratch/build.log" \
  | awk '/EmbedMigrationsTool\/main.swift:[0-9]+:[0-9]+: error/ { skip = 1; next }
         skip && /^ *([0-9]+ )?\|/ { next } { skip = 0 }
         /Cannot export local symbol .__asan_extra_spill_area./ { next } { print; fflush() }' \
  || { echo "fuzz.sh: the fuzz build failed (log: $scratch/build.log)" >&2; exit 1; }
bin="$build_dir/release"
[ "$build_only" -eq 0 ] || exit 0

# Seeds from the fixtures, in each target's input format (see each target's doc comment).
seeds="$scratch/seeds"
rm -rf "$seeds"
for t in "${targets[@]}"; do mkdir -p "$seeds/$t" "$scratch/corpus/$t"; done
for f in Tests/Fixtures/*/*.xml; do
  name=$(basename "$(dirname "$f")")-$(basename "$f" .xml)
  cp "$f" "$seeds/xml-tree/$name"
  case "$f" in
    *-response.xml|*fault*.xml)
      # soap-response: byte 0 = action index << 3 | status index (0: 200, 1: 500).
      for sel in '\x18' '\x28' '\x19' '\x30'; do { printf "$sel"; cat "$f"; } > "$seeds/soap-response/$name-$(printf '%s' "$sel" | tr -d '\\')"; done
      # action-responses: byte 0 = action index.
      for sel in '\x03' '\x05' '\x06'; do { printf "$sel"; cat "$f"; } > "$seeds/action-responses/$name-$(printf '%s' "$sel" | tr -d '\\')"; done ;;
    *)
      cp "$f" "$seeds/device-description/$name" ;;
  esac
  # http-response: byte 0 = read size << 1 | method, byte 1 = body cap (0: 1 MiB); then the answer.
  size=$(wc -c < "$f")
  { printf '\x01\x00HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: %d\r\n\r\n' "$size"; cat "$f"; } > "$seeds/http-response/$name-length"
  { printf '\x40\x00HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n' "$size"; cat "$f"; printf '\r\n0\r\n\r\n'; } > "$seeds/http-response/$name-chunked"
done

dict_for() {
  case "$1" in
    ssdp-*) echo Fuzz/Dictionaries/ssdp.dict ;;
    http-*) echo Fuzz/Dictionaries/http.dict ;;
    natpmp-*|pcp-*) echo Fuzz/Dictionaries/pcp.dict ;;
    *) echo Fuzz/Dictionaries/xml.dict ;;
  esac
}

# The Swift runtime's backtracer trips AddressSanitizer when it inspects a trapping process;
# libFuzzer prints the stack itself.
export SWIFT_BACKTRACE=enable=no
failed=0
logs="$scratch/logs"
mkdir -p "$logs"
for t in "${chosen[@]}"; do
  artifacts="$scratch/artifacts/$t"
  mkdir -p "$artifacts"
  log="$logs/$t.log"
  before=$(find "$artifacts" -type f | wc -l)
  corpora=("$scratch/corpus/$t" "$seeds/$t")
  [ -d "Fuzz/Corpus/$t" ] && corpora+=("Fuzz/Corpus/$t")
  [ -d "Fuzz/Regressions/$t" ] && corpora+=("Fuzz/Regressions/$t")
  # HTTP answers are fed in reads as small as one byte: longer inputs cost much more there.
  max_len=16384
  [ "$t" != http-response ] || max_len=4096
  # NAT-PMP and PCP answers are at most 1100 bytes (RFC 6887 §7); a little beyond reaches the cap.
  case "$t" in natpmp-*|pcp-*) max_len=1200 ;; esac
  args=(-max_total_time="$seconds" -timeout="$timeout" -rss_limit_mb=2048 -malloc_limit_mb=2048 -max_len="$max_len"
    -dict="$(dict_for "$t")" -artifact_prefix="$artifacts/" -print_final_stats=1)
  [ -z "$runs" ] || args+=(-runs="$runs")
  # Fork mode goes on past timeouts and OOMs unless told not to: any of them ends the run here.
  [ "$fork" -eq 0 ] || args+=(-fork="$fork" -ignore_crashes=0 -ignore_timeouts=0 -ignore_ooms=0)
  set +e
  "$bin/fuzz-$t" "${args[@]}" "${corpora[@]}" > "$log" 2>&1
  status=$?
  set -e
  if [ "$fork" -eq 0 ]; then
    execs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$log" | grep -o '[0-9]*$' || true)
    rate=$(grep -o 'stat::average_exec_per_sec: [0-9]*' "$log" | grep -o '[0-9]*$' || true)
  else
    # The parent's progress lines ("#N: cov: … exec/s: R oom/timeout/crash: a/b/c …") carry the
    # totals over all workers; the workers' own final stats are per job.
    execs=$(grep -o '^#[0-9]*:' "$log" | tail -1 | tr -d '#:' || true)
    rate=$(grep -E '^#[0-9]+:' "$log" | grep -o 'exec/s: [0-9]*' | tail -1 | grep -o '[0-9]*$' || true)
  fi
  [ -n "$execs" ] || execs=$(grep -o '^#[0-9]*' "$log" | tail -1 | tr -d '#' || true)
  [ -n "$rate" ] || rate=$(grep -o 'exec/s: [0-9]*' "$log" | tail -1 | grep -o '[0-9]*$' || true)
  # libFuzzer stops at the first failure, so each of these is 0 or 1.
  crashes=0
  ! grep -q -E 'ERROR: (libFuzzer: deadly signal|libFuzzer: fuzz target exited|AddressSanitizer)|Fatal error' "$log" || crashes=1
  timeouts=0; leaks=0; ooms=0
  ! grep -q 'ERROR: libFuzzer: timeout' "$log" || timeouts=1
  ! grep -q 'ERROR: LeakSanitizer' "$log" || leaks=1
  ! grep -q -E 'ERROR: libFuzzer: (out-of-memory|malloc limit)' "$log" || ooms=1
  forked=$(grep -E '^#[0-9]+:' "$log" | grep -o 'oom/timeout/crash: [0-9]*/[0-9]*/[0-9]*' | tail -1 | grep -o '[0-9/]*$' || true)
  if [ -n "$forked" ]; then
    IFS=/ read -r fork_ooms fork_timeouts fork_crashes <<< "$forked"
    [ "$fork_ooms" -le "$ooms" ] || ooms=$fork_ooms
    [ "$fork_timeouts" -le "$timeouts" ] || timeouts=$fork_timeouts
    [ "$fork_crashes" -le "$crashes" ] || crashes=$fork_crashes
  fi
  line="$t: ${execs:-0} executions, ${rate:-0} exec/s, $crashes crashes, $timeouts timeouts, $leaks leaks, $ooms out-of-memory"
  if [ "$status" -ne 0 ] || [ "$crashes" -gt 0 ] || [ "$timeouts" -gt 0 ] || [ "$leaks" -gt 0 ] || [ "$ooms" -gt 0 ]; then
    failed=1
    artifact=$(ls -t "$artifacts" 2>/dev/null | head -1)
    reason=$(grep -m1 -E 'Fatal error|ERROR: (libFuzzer|AddressSanitizer|LeakSanitizer)' "$log" | cut -c1-200 || true)
    after=$(find "$artifacts" -type f | wc -l)
    echo "FAIL $line (exit $status): ${reason:-see the log}; input: ${artifact:+$artifacts/$artifact}$([ "$after" -gt "$before" ] || echo ' (none new)'); log: $log"
  else
    echo "ok   $line"
  fi
done
exit "$failed"
