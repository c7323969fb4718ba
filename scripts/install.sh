#!/usr/bin/env bash
# Installs portkeeper: the binary, its man page and shell completions, and the systemd unit that
# runs `portkeeper watch` as a user of its own with its registry in /var/lib/portkeeper.
#
#   scripts/install.sh [--binary PATH] [--prefix DIR] [--destdir DIR] [--no-user]
#
#   --binary PATH   the portkeeper to install (default: build it with scripts/package.sh --binary-only)
#   --prefix DIR    where it goes (default /usr/local; the Debian package uses /usr)
#   --destdir DIR   stage everything under DIR instead of / (for packaging); implies --no-user
#   --no-user       do not create the portkeeper system user nor reload systemd
#
# Removing it: scripts/install.sh --uninstall [--prefix DIR] (the registry in /var/lib/portkeeper
# and the user are kept; delete them by hand if you want them gone).
# The service is installed, not enabled: `systemctl enable --now portkeeper-watch` starts it.
set -euo pipefail
cd "$(dirname "$0")/.."
binary="" prefix=/usr/local destdir="" make_user=1 uninstall=0
while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=$2; shift 2 ;;
    --prefix) prefix=$2; shift 2 ;;
    --destdir) destdir=$2; make_user=0; shift 2 ;;
    --no-user) make_user=0; shift ;;
    --uninstall) uninstall=1; shift ;;
    -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "install.sh: unknown argument $1 (try --help)" >&2; exit 64 ;;
  esac
done
case "$prefix" in /*) ;; *) echo "install.sh: --prefix wants an absolute path, got '$prefix'" >&2; exit 64 ;; esac

bindir="$prefix/bin"
mandir="$prefix/share/man/man1"
bashdir="$prefix/share/bash-completion/completions"
zshdir="$prefix/share/zsh/vendor-completions"
fishdir="$prefix/share/fish/vendor_completions.d"
# Units of distribution packages live in /lib/systemd/system; an administrator's in /etc.
if [ "$prefix" = /usr ]; then unitdir=/lib/systemd/system; else unitdir=/etc/systemd/system; fi
unit=portkeeper-watch.service

if [ $uninstall = 1 ]; then
  rm -f "$destdir$bindir/portkeeper" "$destdir$mandir"/portkeeper*.1 "$destdir$bashdir/portkeeper" \
    "$destdir$zshdir/_portkeeper" "$destdir$fishdir/portkeeper.fish" "$destdir$unitdir/$unit"
  if [ -z "$destdir" ] && [ -d /run/systemd/system ]; then systemctl daemon-reload || true; fi
  echo "install.sh: removed portkeeper from $prefix (registry and user kept)"
  exit 0
fi

if [ -z "$binary" ]; then
  scripts/package.sh --binary-only
  binary=.build/dist/portkeeper
fi
[ -x "$binary" ] || { echo "install.sh: $binary is not an executable" >&2; exit 66; }
version=$("$binary" --version) || { echo "install.sh: $binary does not run here ('$binary --version' failed)" >&2; exit 69; }

install -d "$destdir$bindir" "$destdir$mandir" "$destdir$bashdir" "$destdir$zshdir" "$destdir$fishdir" "$destdir$unitdir"
install -m 0755 "$binary" "$destdir$bindir/portkeeper"
# Completions come from the binary itself (swift-argument-parser writes them).
"$binary" --generate-completion-script bash >"$destdir$bashdir/portkeeper"
"$binary" --generate-completion-script zsh >"$destdir$zshdir/_portkeeper"
"$binary" --generate-completion-script fish >"$destdir$fishdir/portkeeper.fish"
chmod 0644 "$destdir$bashdir/portkeeper" "$destdir$zshdir/_portkeeper" "$destdir$fishdir/portkeeper.fish"
# The man page, written by scripts/package.sh with swift-argument-parser's generate-manual.
if [ -f .build/dist/portkeeper.1 ]; then
  install -m 0644 .build/dist/portkeeper.1 "$destdir$mandir/portkeeper.1"
else
  echo "install.sh: no man page in .build/dist (scripts/package.sh writes it); installing without" >&2
fi
# The unit names the binary by its installed path.
sed "s|^ExecStart=/usr/local/bin/portkeeper |ExecStart=$bindir/portkeeper |" contrib/$unit >"$destdir$unitdir/$unit"
chmod 0644 "$destdir$unitdir/$unit"

if [ $make_user = 1 ]; then
  [ "$(id -u)" = 0 ] || { echo "install.sh: creating the portkeeper user needs root (or pass --no-user)" >&2; exit 77; }
  if ! getent passwd portkeeper >/dev/null; then
    useradd --system --user-group --home-dir /var/lib/portkeeper --no-create-home --shell /usr/sbin/nologin portkeeper
  fi
  # systemd creates /var/lib/portkeeper (StateDirectory=); made here too for use before the first start.
  install -d -m 0700 -o portkeeper -g portkeeper /var/lib/portkeeper
  if [ -d /run/systemd/system ]; then systemctl daemon-reload; fi
fi
echo "install.sh: installed $version in $destdir$prefix (unit: $destdir$unitdir/$unit)"
if [ -z "$destdir" ]; then
  echo "install.sh: declare mappings as the service's user, then start it:"
  echo "  sudo -u portkeeper PORTKEEPER_DB=/var/lib/portkeeper/registry.sqlite $bindir/portkeeper add 8080/tcp"
  echo "  systemctl enable --now $unit"
fi
