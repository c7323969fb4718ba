#!/usr/bin/env bash
# The main job, safe on any machine: builds portkeeper and runs it against the lab gateway
# (a real miniupnpd in network namespaces this script creates and removes). Nothing leaves
# the namespaces. Needs root for the namespaces.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "demo: run as root (sudo $0): the lab gateway lives in network namespaces" >&2; exit 1; }
scripts/setup.sh
echo "building portkeeper..." >&2
swift build --product portkeeper >&2
PK=$(swift build --show-bin-path)/portkeeper
LAB=scripts/lab.sh
NAME=demo$$
NAME=${NAME:0:8}
trap '$LAB down $NAME >/dev/null 2>&1 || true' EXIT
$LAB up "$NAME" v2
eval "$($LAB env)"

show() { # runs a command on the lab's LAN client, echoing it like a shell would
  echo
  local shown=("$@"); [ "${shown[0]}" = "$PK" ] && shown[0]=portkeeper
  echo "lan\$ ${shown[*]}"
  $LAB exec "$NAME" lan "$@"
}

echo "Lab: gateway $LAB_LAN_GW (miniupnpd, IGDv2, WAN $LAB_WAN_GW), this host $LAB_LAN_CLIENT, an outside host $LAB_WAN_OUT."
show "$PK" discover
show "$PK" status
echo
echo "(another program, upnpc, maps a port so the gateway has something to list)"
echo "lan\$ upnpc -e 'game server' -a $LAB_LAN_CLIENT 25565 25565 TCP"
$LAB exec "$NAME" lan upnpc -e 'game server' -a "$LAB_LAN_CLIENT" 25565 25565 TCP >/dev/null
show "$PK" list
show "$PK" list --json
