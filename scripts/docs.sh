#!/usr/bin/env bash
# Builds the DocC documentation of the library products (PortKeeper with its catalog in
# Sources/PortKeeper/PortKeeper.docc, IGDClient, IGDProtocol, PCPProtocol) into
# .build/plugins/Swift-DocC/outputs/NAME.doccarchive, and fails on any warning: a link that does
# not resolve, a parameter left undocumented or documented under the wrong name. Then checks
# that every public declaration has a doc comment (scripts/doc-coverage.py). CI (.ci/run) runs
# it; `--static` writes static websites instead (for hosting).
set -euo pipefail
cd "$(dirname "$0")/.."
extra=()
if [[ "${1:-}" == "--static" ]]; then
  extra=(--transform-for-static-hosting)
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# The plugin builds the targets first: a compiler warning in them counts too.
if ! swift package generate-documentation --target PortKeeper --target IGDClient --target IGDProtocol --target PCPProtocol \
    "${extra[@]}" 2>&1 | tee "$log"; then
  echo "docs.sh: building the documentation failed" >&2
  exit 1
fi
if grep -q "warning:" "$log"; then
  echo "docs.sh: the documentation has $(grep -c 'warning:' "$log") warning(s); see above" >&2
  exit 1
fi
python3 scripts/doc-coverage.py
echo "docs.sh: .build/plugins/Swift-DocC/outputs/{PortKeeper,IGDClient,IGDProtocol,PCPProtocol}.doccarchive, no warnings"
