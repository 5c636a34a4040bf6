#!/usr/bin/env bash
# The OpenClaw plugin's tests (run by `make test` with the clawback binary as $1):
#   1. type-check src/ against the published openclaw@2026.9.6 plugin SDK with tsc, and check
#      the committed dist/ is exactly what tsc builds (the gateway loads dist/);
#   2. node's test runner: mapping units on recorded hook events, delivery behaviour against
#      a scriptable loopback server, and the handlers against a real `clawback serve`.
# Usage: integrations/openclaw/test.sh [path/to/clawback]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${1:-${CLAWBACK_BIN:-$root/build/clawback}}
case $bin in /*) ;; *) bin=$PWD/$bin ;; esac
cd "$here"

echo "== openclaw plugin: type-check against the OpenClaw plugin SDK"
if scripts/ensure-openclaw >/dev/null; then
  scripts/build --check
else
  # No registry (offline machine) and no cache: the committed dist/ is still tested below.
  echo "WARNING: could not install openclaw/typescript; type-check skipped" >&2
fi

echo "== openclaw plugin: node --test (clawback: $bin)"
CLAWBACK_BIN=$bin node --test --test-reporter=tap test/
