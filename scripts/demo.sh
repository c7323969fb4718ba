#!/usr/bin/env bash
# The main job, safe on any machine: builds portkeeper and walks through it against the lab
# gateway (a real miniupnpd in network namespaces this script creates and removes). Nothing
# leaves the namespaces. Needs root for the namespaces.
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
DB=$(mktemp -d)/registry.sqlite
trap '$LAB down $NAME >/dev/null 2>&1 || true; rm -rf "$(dirname "$DB")"' EXIT
$LAB up "$NAME" v2
eval "$($LAB env)"
export PORTKEEPER_DB=$DB

say() { printf '\n# %s\n' "$*"; }
show() { # runs a command on the lab's LAN client, echoing it like a shell would
  local shown=("$@"); [ "${shown[0]}" = "$PK" ] && shown[0]=portkeeper
  echo "lan\$ ${shown[*]}"
  $LAB exec "$NAME" lan "$@" || echo "(exit $?)"
}

echo "The lab: a router running miniupnpd (LAN $LAB_LAN_GW, WAN $LAB_WAN_GW), this host $LAB_LAN_CLIENT,"
echo "and a host out on the internet side, $LAB_WAN_OUT. Every packet stays in namespaces made for this demo."

upnpc_() { # upnpc on the LAN client, showing only its table and result lines
  echo "lan\$ upnpc $*"
  $LAB exec "$NAME" lan upnpc -u "http://$LAB_LAN_GW:$LAB_HTTP_PORT/rootDesc.xml" "$@" 2>&1 \
    | grep -E '^ *[0-9]+ (TCP|UDP)|^ i protocol|redirected|returned' || true
}

say "Find the router, and what it says about itself"
show "$PK" discover
say "Declare three mappings; each is applied at once"
show "$PK" add 8080/tcp --description "web server"
show "$PK" add 25565/tcp --description "game server"
show "$PK" add 27015/udp --to :27016 --description "voice"
show "$PK" mappings
show "$PK" list

say "Prove it from outside: a server on this host answers on the router's public address"
$LAB exec "$NAME" lan socat TCP-LISTEN:8080,reuseaddr,fork SYSTEM:"echo hello from $LAB_LAN_CLIENT" &
SERVER=$!
sleep 0.3
echo "outside\$ socat - TCP:$LAB_WAN_GW:8080"
$LAB exec "$NAME" out socat -T 3 - "TCP:$LAB_WAN_GW:8080,connect-timeout=3" </dev/null || true

say "The router reboots and forgets every mapping"
$LAB reboot "$NAME"
upnpc_ -l
show "$PK" plan --exit-code
say "One reconcile puts them all back"
show "$PK" reconcile
echo "outside\$ socat - TCP:$LAB_WAN_GW:8080"
$LAB exec "$NAME" out socat -T 3 - "TCP:$LAB_WAN_GW:8080,connect-timeout=3" </dev/null || true
kill "$SERVER" 2>/dev/null || true

say "Another program maps a port: portkeeper leaves it alone, unless told to prune"
upnpc_ -e console -a 192.168.77.50 3074 3074 UDP
show "$PK" plan
show "$PK" reconcile --prune

say "What changed, when, and who did it"
show "$PK" history --limit 4
PRUNE=$($LAB exec "$NAME" lan "$PK" history --json --limit 1 | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["revision"])')
say "Undo the prune: roll back to the revision before it"
show "$PK" rollback $((PRUNE - 1))
show "$PK" list
