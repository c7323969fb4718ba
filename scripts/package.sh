#!/usr/bin/env bash
# Builds what portkeeper ships, in .build/dist/:
#   portkeeper            release build, Swift standard library and Foundation linked in
#                         (--static-swift-stdlib), stripped: runs on a machine without Swift
#   portkeeper.1          the man page (swift-argument-parser's generate-manual)
#   portkeeper_V_ARCH.deb a Debian package of the same files, staged by scripts/install.sh
#
#   scripts/package.sh [--binary-only]     (--binary-only: just the binary)
#
# What the binary still needs from the system is what `ldd .build/dist/portkeeper` lists:
# glibc (libc, libm), libstdc++ and libgcc_s, and libsqlite3 (Debian's libsqlite3-0): the .deb's Depends.
set -euo pipefail
cd "$(dirname "$0")/.."
binary_only=0
case "${1:-}" in
  --binary-only) binary_only=1 ;;
  "") ;;
  -h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "package.sh: unknown argument $1 (try --help)" >&2; exit 64 ;;
esac
dist=.build/dist
mkdir -p "$dist"

# A scratch path of its own: static and dynamic release builds do not overwrite each other.
echo "package.sh: building the release binary with the Swift runtime linked statically"
swift build -c release --static-swift-stdlib --product portkeeper --scratch-path .build-static
strip --strip-all -o "$dist/portkeeper" .build-static/release/portkeeper
"$dist/portkeeper" --version >/dev/null
echo "package.sh: $dist/portkeeper, $(stat -c %s "$dist/portkeeper") bytes"
[ $binary_only = 1 ] && exit 0

# The man page is generated from the debug build the tests use (the same command tree, and no
# second release build); the tool that writes it is built once.
echo "package.sh: writing the man page"
swift package generate-manual --configuration debug >/dev/null
cp .build/plugins/GenerateManual/outputs/portkeeper/portkeeper.1 "$dist/portkeeper.1"

version=$("$dist/portkeeper" --version)
arch=$(dpkg --print-architecture)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
scripts/install.sh --binary "$dist/portkeeper" --prefix /usr --destdir "$stage/root" >/dev/null
mkdir -p "$stage/root/DEBIAN"
sqlite=$(dpkg-query -W -f='${Version}' libsqlite3-0 2>/dev/null | sed 's/-.*//')
cat >"$stage/root/DEBIAN/control" <<EOF
Package: portkeeper
Version: $version
Architecture: $arch
Maintainer: portkeeper developers <portkeeper@localhost>
Depends: libc6, libstdc++6, libgcc-s1, libsqlite3-0${sqlite:+ (>= $sqlite)}, adduser
Section: net
Priority: optional
Installed-Size: $(du -sk "$stage/root" | cut -f1)
Description: keeps a router's port mappings the way you declared them
 Declares port mappings once in a SQLite registry and keeps them on the router
 over UPnP IGD: reconcile, history, rollback, and a watch service that restores
 them after router reboots, lease expiry and address changes.
EOF
# The service's user is made on install; on purge, the user and its registry go too.
cat >"$stage/root/DEBIAN/postinst" <<'EOF'
#!/bin/sh
set -e
if [ "$1" = configure ]; then
  install -d -m 0700 /var/lib/portkeeper
  getent passwd portkeeper >/dev/null || adduser --system --group --home /var/lib/portkeeper --no-create-home --shell /usr/sbin/nologin portkeeper >/dev/null
  chown portkeeper:portkeeper /var/lib/portkeeper
  if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null || true; fi
fi
EOF
cat >"$stage/root/DEBIAN/prerm" <<'EOF'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then systemctl stop portkeeper-watch.service >/dev/null 2>&1 || true; fi
EOF
cat >"$stage/root/DEBIAN/postrm" <<'EOF'
#!/bin/sh
set -e
if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null || true; fi
if [ "$1" = purge ]; then
  rm -rf /var/lib/portkeeper
  getent passwd portkeeper >/dev/null && deluser --system portkeeper >/dev/null 2>&1 || true
  getent group portkeeper >/dev/null && delgroup --system portkeeper >/dev/null 2>&1 || true
fi
EOF
chmod 0755 "$stage/root/DEBIAN/postinst" "$stage/root/DEBIAN/prerm" "$stage/root/DEBIAN/postrm"
deb="$dist/portkeeper_${version}_${arch}.deb"
dpkg-deb --root-owner-group --build "$stage/root" "$deb" >/dev/null
echo "package.sh: $deb"
