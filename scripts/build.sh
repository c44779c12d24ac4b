#!/usr/bin/env bash
# Configures and builds everything into build/ (shared by demo.sh and test.sh), the JUCE plugin
# (plugins/juce/) included; later -D options override these (test.sh's sanitizer pass turns the
# plugin off).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=Release -DPython3_EXECUTABLE=/usr/bin/python3 \
  -DRILL_BUILD_TESTS=ON -DRILL_BUILD_APPS=ON -DRILL_BUILD_PLUGINS=ON "$@" >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
