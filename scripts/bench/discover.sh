#!/usr/bin/env bash
# `portkeeper discover` with all three probes (SSDP, NAT-PMP and PCP to the default gateway)
# against the same command with the NAT-PMP/PCP probe off (PORTKEEPER_PCP_SERVER=off: UPnP only,
# as before issue 9), side by side in one lab run on the v2-pmp profile, where miniupnpd serves
# all three (issue 9 §6; target: three probes no slower than 1.2x UPnP only). Needs root.
#
#   scripts/bench/discover.sh [BINARY]      (default .build/release/portkeeper, else .build/debug/portkeeper)
#
# Both run on the lab's LAN client through `ip netns exec`, each with a registry of its own (discover
# records the gateway). Times: hyperfine, no shell, 3 warm-ups, 30 runs; then the protocols each
# variant reported, from one --json run, to show what was compared.
set -euo pipefail
cd "$(dirname "$0")/../.."
PK=${1:-}
if [ -z "$PK" ]; then
  PK=.build/release/portkeeper
  [ -x "$PK" ] || PK=.build/debug/portkeeper
fi
[ -x "$PK" ] || { echo "discover.sh: no portkeeper binary at $PK (swift build, or name one)" >&2; exit 2; }
PK=$(readlink -f "$PK")
command -v hyperfine >/dev/null || { echo "discover.sh: needs hyperfine (apt-get install hyperfine)" >&2; exit 2; }
why=$(scripts/lab.sh check) || { echo "discover.sh: $why" >&2; exit 2; }

name="bd$$"
name=${name:0:8}
scratch=$(mktemp -d)
trap 'scripts/lab.sh down "$name" >/dev/null 2>&1 || true; rm -rf "$scratch"' EXIT
scripts/lab.sh up "$name" v2-pmp >/dev/null
lan="pk-$name-lan"
# miniupnpd answers once it listens; wait for its first SSDP answer before timing anything.
for _ in $(seq 100); do
  ip netns exec "$lan" "$PK" discover --db "$scratch/warm.sqlite" >/dev/null 2>&1 && break
  sleep 0.2
done

echo "== $PK ($(stat -c %s "$PK") bytes), lab $name (v2-pmp), load average $(cut -d' ' -f1-3 /proc/loadavg)"
all=(ip netns exec "$lan" "$PK" discover --db "$scratch/all.sqlite")
upnp=(ip netns exec "$lan" env PORTKEEPER_PCP_SERVER=off "$PK" discover --db "$scratch/upnp.sqlite")
hyperfine -N --warmup 3 --runs 30 --style basic \
  -n "discover, UPnP only (PORTKEEPER_PCP_SERVER=off)" "${upnp[*]}" \
  -n "discover, UPnP + NAT-PMP + PCP" "${all[*]}" \
  --export-json "$scratch/times.json" 2>&1 | grep -E '^Benchmark|Time \(mean|Range'
python3 - "$scratch/times.json" <<'PY'
import json, statistics, sys
results = json.load(open(sys.argv[1]))["results"]
upnp, everything = results
median = lambda r: statistics.median(r["times"])
print(f"median: UPnP only {median(upnp) * 1000:.1f} ms, all three {median(everything) * 1000:.1f} ms; "
      f"ratio of medians {median(everything) / median(upnp):.3f}, of means {everything['mean'] / upnp['mean']:.3f} (target <= 1.2)")
PY
for variant in upnp all; do
  if [ "$variant" = upnp ]; then cmd=("${upnp[@]}"); else cmd=("${all[@]}"); fi
  "${cmd[@]}" --json > "$scratch/$variant.json"
  python3 - "$variant" "$scratch/$variant.json" <<'PY'
import json, sys
variant, path = sys.argv[1], sys.argv[2]
document = json.load(open(path))
for gateway in document["gateways"] + document.get("portControlGateways", []):
    said = ", ".join(p["protocol"] + " " + p["status"] for p in gateway["protocols"])
    print(f"{variant}: {gateway.get('udn') or gateway['identity']}: {said}; uses {gateway['preferredProtocol']}")
PY
done
