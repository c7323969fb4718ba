#!/usr/bin/env bash
# Builds the PortKeeper library's DocC documentation (Sources/PortKeeper/PortKeeper.docc and
# every doc comment) into .build/docs/PortKeeper.doccarchive, and fails on any warning: a link
# that does not resolve, a parameter left undocumented or documented under the wrong name.
# CI (.ci/run) runs it; `--static` writes a static website instead (for hosting).
set -euo pipefail
cd "$(dirname "$0")/.."
output=.build/docs
mkdir -p "$output"
extra=()
if [[ "${1:-}" == "--static" ]]; then
  extra=(--transform-for-static-hosting)
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# The plugin builds the target first: a compiler warning in it counts too.
if ! swift package --allow-writing-to-directory "$output" generate-documentation --target PortKeeper \
    --output-path "$output/PortKeeper.doccarchive" "${extra[@]}" 2>&1 | tee "$log"; then
  echo "docs.sh: building the documentation failed" >&2
  exit 1
fi
if grep -q "warning:" "$log"; then
  echo "docs.sh: the documentation has $(grep -c 'warning:' "$log") warning(s); see above" >&2
  exit 1
fi
echo "docs.sh: $output/PortKeeper.doccarchive, no warnings"
