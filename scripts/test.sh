#!/usr/bin/env bash
# The README's test command: installs dependencies, builds everything and runs every test.
#   RILL_LONG_TESTS=1 scripts/test.sh   also runs the long fuzz soak.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
extra=()
if [ "${RILL_LONG_TESTS:-0}" = 1 ]; then extra+=(-DRILL_FUZZ_ITERATIONS=100000); fi
scripts/build.sh "${extra[@]}"
cd build
ctest --output-on-failure -j"$(nproc)"
