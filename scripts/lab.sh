#!/usr/bin/env bash
# The portkeeper lab: a real miniupnpd gateway in network namespaces.
#
#   outside (11.77.0.2) --wan-- gateway [miniupnpd] (11.77.0.1 | 192.168.77.1) --lan-- client (192.168.77.2)
#
# Every packet stays inside the namespaces this script creates. The WAN side uses a
# non-reserved address because miniupnpd refuses to forward from reserved ranges;
# nothing routes it anywhere else.
#
# usage: lab.sh up NAME [PROFILE] [min_lifetime=N] [max_lifetime=N]
#                                  create the namespaces and start miniupnpd; PROFILE is
#                                  v2 (default: UPnP IGDv2 only), v1 (UPnP IGDv1 only),
#                                  v2-pmp (UPnP IGDv2 + NAT-PMP/PCP on UDP 5351) or
#                                  pcp-only (NAT-PMP/PCP on UDP 5351, UPnP off: no SSDP, no HTTP);
#                                  the lifetimes bound what NAT-PMP/PCP grant (miniupnpd's
#                                  defaults 120 and 86400 when not given)
#        lab.sh down NAME          stop miniupnpd, delete the namespaces
#        lab.sh reboot NAME [PROFILE]   restart miniupnpd with its nft chains flushed (mappings
#                                  gone); with PROFILE, serving that from now on (the
#                                  administrator switched UPnP off, or NAT-PMP/PCP on)
#        lab.sh stop-gw NAME       stop miniupnpd only (the gateway is "off")
#        lab.sh start-gw NAME      start miniupnpd again
#        lab.sh exec NAME HOST CMD...   run CMD on HOST (gw, lan, out)
#        lab.sh env NAME           print the lab's addresses as shell assignments
#        lab.sh check [TOOL...]    exit 0 when this machine can run the lab (and has each
#                                  extra TOOL, e.g. natpmpc), else say why
set -euo pipefail

LAN_GW=192.168.77.1
LAN_CLIENT=192.168.77.2
WAN_GW=11.77.0.1
WAN_OUT=11.77.0.2
HTTP_PORT=5000
PMP_PORT=5351
STATE_ROOT=${PORTKEEPER_LAB_STATE:-/run/portkeeper-lab}

die() { echo "lab: $*" >&2; exit 1; }

check() {
  [ "$(id -u)" = 0 ] || { echo "the lab needs root (network namespaces)"; return 1; }
  for t in ip nft miniupnpd upnpc; do
    command -v "$t" >/dev/null 2>&1 || { echo "the lab needs '$t' (apt-get install miniupnpd miniupnpc nftables iproute2)"; return 1; }
  done
  for t in "$@"; do
    command -v "$t" >/dev/null 2>&1 || { echo "the lab needs '$t' (apt-get install $t; scripts/setup.sh installs it)"; return 1; }
  done
  local probe="pklabprobe$$"
  ip netns add "$probe" 2>/dev/null || { echo "cannot create network namespaces here"; return 1; }
  ip netns del "$probe"
  return 0
}

name_ok() { [[ "$1" =~ ^[a-z0-9]{1,8}$ ]] || die "lab name must be 1-8 lower-case letters or digits: '$1'"; }

ns() { echo "pk-$1-$2"; }   # ns NAME HOST

# What each profile serves: "UPNP NATPMP IGDV1".
profile_flags() {
  case $1 in
    v2) echo "yes no no";;
    v1) echo "yes no yes";;
    v2-pmp) echo "yes yes no";;
    pcp-only) echo "no yes no";;
    *) return 1;;
  esac
}

write_conf() {
  local name=$1 profile=$2 min_lifetime=$3 max_lifetime=$4 dir=$STATE_ROOT/$1
  local upnp natpmp v1; read -r upnp natpmp v1 <<<"$(profile_flags "$profile")"
  # NAT-PMP and PCP share enable_natpmp and UDP 5351 on every listening_ip address.
  cat > "$dir/miniupnpd.conf" <<CONF
ext_ifname=wan0
listening_ip=lan0
http_port=$HTTP_PORT
enable_natpmp=$natpmp
enable_upnp=$upnp
secure_mode=no
system_uptime=no
notify_interval=900
clean_ruleset_interval=0
uuid=$(cat "$dir/uuid")
friendly_name=portkeeper lab gateway ($name)
model_number=lab-$profile
force_igd_desc_v1=$v1
upnp_table_name=filter
upnp_nat_table_name=filter
upnp_forward_chain=miniupnpd
upnp_nat_chain=prerouting_miniupnpd
upnp_nat_postrouting_chain=postrouting_miniupnpd
allow 1-65535 0.0.0.0/0 1-65535
CONF
  [ -z "$min_lifetime" ] || echo "min_lifetime=$min_lifetime" >> "$dir/miniupnpd.conf"
  [ -z "$max_lifetime" ] || echo "max_lifetime=$max_lifetime" >> "$dir/miniupnpd.conf"
  return 0
}

nft_setup() {
  # Debian's nft_init.sh needs $NFT set; this is the structure it would create.
  ip netns exec "$(ns "$1" gw)" nft -f - <<NFT
table inet filter
delete table inet filter
table inet filter {
  chain miniupnpd { }
  chain prerouting_miniupnpd { }
  chain postrouting_miniupnpd { }
  chain forward { type filter hook forward priority 0; policy accept; jump miniupnpd; }
  chain prerouting { type nat hook prerouting priority -100; policy accept; jump prerouting_miniupnpd; }
  chain postrouting { type nat hook postrouting priority 100; policy accept; jump postrouting_miniupnpd; }
}
NFT
}

start_gw() {
  local name=$1 dir=$STATE_ROOT/$1
  [ -f "$dir/bootid" ] || echo 1 > "$dir/bootid"
  local bootid; bootid=$(( $(cat "$dir/bootid") + 1 )); echo "$bootid" > "$dir/bootid"
  ip netns exec "$(ns "$name" gw)" setsid miniupnpd -d -f "$dir/miniupnpd.conf" -P "$dir/miniupnpd.pid" -b "$bootid" \
    >>"$dir/miniupnpd.log" 2>&1 < /dev/null &
  echo $! > "$dir/miniupnpd.pid.launch"
  # Ready when what the profile serves is up: the description answers (UPnP), miniupnpd's
  # UDP socket is bound on the LAN address (NAT-PMP/PCP).
  local upnp natpmp v1; read -r upnp natpmp v1 <<<"$(profile_flags "$(cat "$dir/profile")")"
  for _ in $(seq 1 100); do
    if { [ "$upnp" = no ] || ip netns exec "$(ns "$name" lan)" bash -c "exec 3<>/dev/tcp/$LAN_GW/$HTTP_PORT" 2>/dev/null; } &&
       { [ "$natpmp" = no ] || [ -n "$(ip netns exec "$(ns "$name" gw)" ss -Hlun "src $LAN_GW:$PMP_PORT")" ]; }; then
      return 0
    fi
    sleep 0.05
  done
  tail -20 "$dir/miniupnpd.log" >&2
  die "miniupnpd did not start in $name"
}

stop_gw() {
  local dir=$STATE_ROOT/$1 pid
  for f in "$dir/miniupnpd.pid.launch" "$dir/miniupnpd.pid"; do
    [ -f "$f" ] || continue
    pid=$(cat "$f"); rm -f "$f"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -9 "$pid" 2>/dev/null || true
  done
}

up() {
  local name=$1 profile=${2:-v2} dir=$STATE_ROOT/$1
  name_ok "$name"
  profile_flags "$profile" >/dev/null || die "profile must be v2, v1, v2-pmp or pcp-only: '$profile'"
  shift 2 2>/dev/null || shift $#
  local min_lifetime='' max_lifetime='' arg
  for arg in "$@"; do
    case $arg in
      min_lifetime=*) min_lifetime=${arg#*=};;
      max_lifetime=*) max_lifetime=${arg#*=};;
      *) die "unknown option '$arg' (min_lifetime=N, max_lifetime=N)";;
    esac
  done
  for v in "$min_lifetime" "$max_lifetime"; do
    [ -z "$v" ] || [[ "$v" =~ ^[1-9][0-9]{0,8}$ ]] || die "a lifetime must be a positive number of seconds: '$v'"
  done
  [ -z "$min_lifetime" ] || [ -z "$max_lifetime" ] || [ "$min_lifetime" -le "$max_lifetime" ] ||
    die "min_lifetime ($min_lifetime) must not exceed max_lifetime ($max_lifetime)"
  local why; why=$(check) || die "$why"
  down "$name" 2>/dev/null || true
  mkdir -p "$dir"
  cat /proc/sys/kernel/random/uuid > "$dir/uuid"
  echo "$profile" > "$dir/profile"
  local gw lan out; gw=$(ns "$name" gw); lan=$(ns "$name" lan); out=$(ns "$name" out)
  ip netns add "$gw"; ip netns add "$lan"; ip netns add "$out"
  for n in "$gw" "$lan" "$out"; do ip -n "$n" link set lo up; done
  ip link add lan0 netns "$gw" type veth peer name eth0 netns "$lan"
  ip link add wan0 netns "$gw" type veth peer name eth0 netns "$out"
  ip -n "$gw" addr add $LAN_GW/24 dev lan0; ip -n "$gw" link set lan0 up
  ip -n "$gw" addr add $WAN_GW/24 dev wan0; ip -n "$gw" link set wan0 up
  ip -n "$lan" addr add $LAN_CLIENT/24 dev eth0; ip -n "$lan" link set eth0 up
  ip -n "$lan" route add default via $LAN_GW
  ip -n "$out" addr add $WAN_OUT/24 dev eth0; ip -n "$out" link set eth0 up
  ip netns exec "$gw" sysctl -qw net.ipv4.ip_forward=1
  nft_setup "$name"
  write_conf "$name" "$profile" "$min_lifetime" "$max_lifetime"
  start_gw "$name"
}

down() {
  local name=$1
  name_ok "$name"
  stop_gw "$name"
  for h in gw lan out; do
    local n; n=$(ns "$name" $h)
    if ip netns pids "$n" >/dev/null 2>&1; then
      for p in $(ip netns pids "$n" 2>/dev/null); do kill -9 "$p" 2>/dev/null || true; done
      ip netns del "$n" 2>/dev/null || true
    fi
  done
  rm -rf "${STATE_ROOT:?}/$name"
}

reboot() {
  local name=$1 profile=${2:-} dir=$STATE_ROOT/$1
  name_ok "$name"
  [ -f "$dir/profile" ] || die "no lab named '$name'"
  stop_gw "$name"
  if [ -n "$profile" ]; then
    profile_flags "$profile" >/dev/null || die "profile must be v2, v1, v2-pmp or pcp-only: '$profile'"
    # The lifetimes it was started with stay.
    local min_lifetime max_lifetime
    min_lifetime=$(sed -n 's/^min_lifetime=//p' "$dir/miniupnpd.conf")
    max_lifetime=$(sed -n 's/^max_lifetime=//p' "$dir/miniupnpd.conf")
    echo "$profile" > "$dir/profile"
    write_conf "$name" "$profile" "$min_lifetime" "$max_lifetime"
  fi
  nft_setup "$name"     # a router reboot loses every mapping
  start_gw "$name"
}

cmd=${1:-}; shift || true
case $cmd in
  up) up "$@";;
  down) down "$@";;
  reboot) reboot "$@";;
  stop-gw) stop_gw "$@";;
  start-gw) start_gw "$@";;
  exec) name=$1 host=$2; shift 2; exec ip netns exec "$(ns "$name" "$host")" "$@";;
  env) echo "LAB_LAN_GW=$LAN_GW LAB_LAN_CLIENT=$LAN_CLIENT LAB_WAN_GW=$WAN_GW LAB_WAN_OUT=$WAN_OUT LAB_HTTP_PORT=$HTTP_PORT LAB_PMP_PORT=$PMP_PORT";;
  check) check "$@";;
  *) sed -n '2,24p' "$0"; exit 2;;
esac
