#!/usr/bin/env bash
# Installs what portkeeper's build, tests, lab and benchmarks need on Debian (run as root).
# Swift 6 itself is expected on PATH.
set -euo pipefail
command -v swift >/dev/null || { echo "setup: Swift 6 is not on PATH (https://www.swift.org/install/linux/)" >&2; exit 1; }
need=()
for pkg in miniupnpd miniupnpc natpmpc nftables iproute2 libsqlite3-dev socat python3 hyperfine time procps e2fsprogs; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" = 0 ] || { echo "setup: missing ${need[*]}; run as root (sudo) to install them" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
# The Debian package may start a miniupnpd in the machine's own namespace; the lab runs its
# own copies inside namespaces, never this one.
if pgrep -x miniupnpd >/dev/null 2>&1; then
  for pid in $(pgrep -x miniupnpd); do
    [ "$(readlink /proc/$pid/ns/net)" = "$(readlink /proc/self/ns/net)" ] && kill "$pid" 2>/dev/null || true
  done
fi
exit 0
