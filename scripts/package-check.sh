#!/usr/bin/env bash
# Checks what portkeeper ships, as CI does (root; changes the machine: installs and removes the
# Debian package and the portkeeper user):
#   1. scripts/package.sh builds the static binary, the man page and the .deb;
#   2. the binary runs with the Swift toolchain hidden (a private mount namespace with an empty
#      tmpfs over it) and links no Swift library from the system;
#   3. the systemd unit scores 3.0 or better in `systemd-analyze security --offline=true`;
#   4. the .deb installs (binary, man page, completions, unit, user, registry directory), its
#      binary works, and it is removed and purged leaving nothing behind;
#   5. scripts/install.sh installs into /usr/local and --uninstall removes it again.
# One line per check; exits 1 at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "package-check: needs root (it installs a package)" >&2; exit 77; }
fail() { echo "package-check: FAIL: $*" >&2; exit 1; }
ok() { echo "package-check: ok: $*"; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

scripts/package.sh
bin=.build/dist/portkeeper
deb=$(ls -t .build/dist/portkeeper_*.deb | head -1)

# 2. Without the toolchain.
toolchain=$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")
if ldd "$bin" | grep -q 'libswift\|libFoundation\|libdispatch'; then fail "the binary links Swift libraries: $(ldd "$bin" | grep -o 'lib[A-Za-z_]*swift[A-Za-z_]*\.so' | sort -u | tr '\n' ' ')"; fi
# A gateway description served on loopback (nothing leaves the machine), so that the binary
# does real work: HTTP, XML, SQLite, dates and text.
mkdir -p "$scratch/www"
cp Tests/Fixtures/miniupnpd-2.3.1-igdv2/rootDesc.xml "$scratch/www/"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
(cd "$scratch/www" && exec python3 -m http.server "$port" --bind 127.0.0.1 >/dev/null 2>&1) &
server=$!
trap 'kill $server 2>/dev/null; rm -rf "$scratch"' EXIT
for _ in $(seq 50); do python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 1)" 2>/dev/null && break; sleep 0.1; done
hidden=$(unshare -m bash -c '
  mount -t tmpfs none "$1" && [ -z "$(ls -A "$1")" ] || { echo "could not hide $1"; exit 3; }
  db="$3/registry.sqlite"
  "$2" --version && "$2" add 8080/tcp --no-apply --description "café ☕" --gateway "$4" --db "$db" \
    && "$2" mappings --db "$db" && "$2" history --db "$db" --json && "$2" export --db "$db"
' hide "$toolchain" "$(readlink -f "$bin")" "$scratch" "http://127.0.0.1:$port/rootDesc.xml" 2>&1) || fail "with $toolchain hidden: $hidden"
grep -q 'café ☕' <<<"$hidden" || fail "with $toolchain hidden, the declared mapping did not read back: $hidden"
ok "runs with $toolchain hidden; needs only: $(ldd "$bin" | awk '/=>/ {print $1}' | sort | tr '\n' ' ')"

# 3. The unit's exposure.
score=$(systemd-analyze security --offline=true contrib/portkeeper-watch.service 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
[ -n "$score" ] || fail "systemd-analyze printed no exposure level"
awk -v s="$score" 'BEGIN { exit !(s <= 3.0) }' || fail "the unit's exposure is $score (must be 3.0 or less)"
ok "unit exposure $score"

# 4. The Debian package.
dpkg -s portkeeper >/dev/null 2>&1 && fail "a portkeeper package is installed already; remove it first"
dpkg -i "$deb" >/dev/null
for f in /usr/bin/portkeeper /usr/share/man/man1/portkeeper.1 /usr/share/bash-completion/completions/portkeeper \
  /usr/share/zsh/vendor-completions/_portkeeper /usr/share/fish/vendor_completions.d/portkeeper.fish \
  /lib/systemd/system/portkeeper-watch.service; do
  [ -f "$f" ] || fail "the package did not install $f"
done
grep -q '^ExecStart=/usr/bin/portkeeper watch' /lib/systemd/system/portkeeper-watch.service || fail "the installed unit does not run /usr/bin/portkeeper"
getent passwd portkeeper >/dev/null || fail "the package made no portkeeper user"
[ "$(stat -c '%U %a' /var/lib/portkeeper)" = "portkeeper 700" ] || fail "/var/lib/portkeeper is $(stat -c '%U %a' /var/lib/portkeeper)"
/usr/bin/portkeeper --version >/dev/null || fail "the installed binary does not run"
if command -v man >/dev/null; then man -l /usr/share/man/man1/portkeeper.1 >/dev/null 2>&1 || fail "man cannot read the page"; fi
bash -c 'source /usr/share/bash-completion/completions/portkeeper && complete -p portkeeper' >/dev/null || fail "the bash completion does not load"
dpkg -r portkeeper >/dev/null
[ ! -e /usr/bin/portkeeper ] || fail "dpkg -r left /usr/bin/portkeeper"
dpkg -P portkeeper >/dev/null
getent passwd portkeeper >/dev/null && fail "purge left the portkeeper user"
[ ! -e /var/lib/portkeeper ] || fail "purge left /var/lib/portkeeper"
left=$(dpkg -c "$deb" | awk '{print $6}' | sed 's|^\./|/|' | while read -r p; do [ -f "$p" ] && echo "$p"; done || true)
[ -z "$left" ] || fail "files left after purge: $left"
ok "$(basename "$deb") installs, runs, removes and purges cleanly"

# 5. The install script.
scripts/install.sh --binary "$bin" --no-user >/dev/null
[ -x /usr/local/bin/portkeeper ] && grep -q '^ExecStart=/usr/local/bin/portkeeper watch' /etc/systemd/system/portkeeper-watch.service \
  || fail "install.sh did not install the binary and unit under /usr/local"
scripts/install.sh --uninstall >/dev/null
[ ! -e /usr/local/bin/portkeeper ] && [ ! -e /etc/systemd/system/portkeeper-watch.service ] || fail "install.sh --uninstall left files"
ok "install.sh installs into /usr/local and --uninstall removes it"
