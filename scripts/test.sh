#!/usr/bin/env bash
# Builds portkeeper and runs every test, the lab tests against a real miniupnpd included.
# As root the lab runs; without root the lab tests are skipped with the reason (CI requires them).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build --build-tests
swift test --skip-build "$@"
