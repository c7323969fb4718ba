#!/usr/bin/env bash
# Start-up time and peak memory of `portkeeper --version` and `portkeeper mappings`, side by
# side for each binary given (issue 10 §2: the dynamically linked build against the static one).
#
#   scripts/bench/startup.sh BINARY...
#
# e.g. a dynamic build beside the package's static one:
#   swift build -c release --product portkeeper --scratch-path /tmp/dyn && strip -o /tmp/pk-dynamic /tmp/dyn/release/portkeeper
#   scripts/package.sh --binary-only
#   scripts/bench/startup.sh /tmp/pk-dynamic .build/dist/portkeeper
#
# The registry `mappings` reads is made by the first binary against the miniupnpd fixture's
# description served on loopback (nothing leaves the machine). Times: hyperfine, 5 warm-ups, 30
# runs, no shell. Peak memory: the median of 15 runs' maximum resident set (/usr/bin/time %M).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -ge 1 ] || { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
command -v hyperfine >/dev/null || { echo "startup.sh: needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "startup.sh: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
scratch=$(mktemp -d)
mkdir -p "$scratch/www"
cp Tests/Fixtures/miniupnpd-2.3.1-igdv2/rootDesc.xml "$scratch/www/"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$scratch/www" && exec python3 -m http.server "$port" --bind 127.0.0.1 >/dev/null 2>&1) &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$scratch"' EXIT
for _ in $(seq 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break; sleep 0.1; done
db="$scratch/registry.sqlite"
"$1" add 8080/tcp --no-apply --description bench --gateway "http://127.0.0.1:$port/rootDesc.xml" --db "$db" >/dev/null

for bin in "$@"; do
  echo "== $bin: $(stat -c %s "$bin") bytes; $(ldd "$bin" | grep -c '=>') shared libraries, $(ldd "$bin" | grep -c -E 'swift|Foundation|dispatch|BlocksRuntime') of them Swift's"
done
commands=()
for bin in "$@"; do commands+=("$bin --version" "$bin mappings --db $db"); done
hyperfine -N --warmup 5 --runs 30 --style basic "${commands[@]}" 2>&1 | grep -E '^Benchmark|Time \(mean'
for bin in "$@"; do
  for args in "--version" "mappings --db $db"; do
    # shellcheck disable=SC2086
    peak=$(for _ in $(seq 15); do /usr/bin/time -f %M "$bin" $args 2>&1 >/dev/null | tail -1; done | sort -n | sed -n 8p)
    echo "peak RSS (median of 15): $bin $args: $peak KiB"
  done
done
