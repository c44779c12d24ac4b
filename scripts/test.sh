#!/usr/bin/env bash
# The README's test command: installs dependencies, builds everything and runs every test, then
# runs the library's C/C++ tests again under AddressSanitizer + UndefinedBehaviorSanitizer.
#   RILL_LONG_TESTS=1 scripts/test.sh   also runs the long fuzz soak (100k mutations per seed).
#   RILL_SKIP_SANITIZERS=1              skips the sanitizer pass (quick local runs).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
extra=()
if [ "${RILL_LONG_TESTS:-0}" = 1 ]; then extra+=(-DRILL_FUZZ_ITERATIONS=100000); fi
scripts/build.sh "${extra[@]}"
(cd build && ctest --output-on-failure -j"$(nproc)")

if [ "${RILL_SKIP_SANITIZERS:-0}" != 1 ]; then
  echo "== sanitizers (address, undefined)"
  BUILD_DIR=build-asan scripts/build.sh -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DRILL_ENABLE_SANITIZERS=ON -DRILL_BUILD_APPS=OFF -DRILL_BUILD_PLUGINS=OFF "${extra[@]}"
  # The allocation-counting test replaces malloc, which ASan also does; the Python and install
  # tests and the README quick start load the library into programs not built with ASan.
  (cd build-asan && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
     ctest --output-on-failure -j"$(nproc)" -E '^(rt_no_alloc|python|install|cli|readme_quickstart)$')
fi
echo "scripts/test.sh: all tests passed"
