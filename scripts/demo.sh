#!/usr/bin/env bash
# The README's demo: installs dependencies, builds, and runs the bundled drive-pedal model (a
# non-causal TCN with a FiLM knob, trained by this project) on the bundled clip.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=assets/effect/drive_tcn.rill
CLIP=assets/effect/clip.wav
for f in "$MODEL" "$CLIP"; do
  [ -f "$f" ] || { echo "demo: $f is missing (see assets/effect/PROVENANCE.md)" >&2; exit 1; }
done
scripts/install-deps.sh
scripts/build.sh -DRILL_BUILD_TESTS=OFF
mkdir -p out
echo
echo "== rill info $MODEL"
build/apps/cli/rill info "$MODEL"
echo
echo "== rill run $MODEL $CLIP out/demo.wav --param drive=0.7"
build/apps/cli/rill run "$MODEL" "$CLIP" out/demo.wav --param drive=0.7
echo
echo "== rill bench $MODEL --block 128"
build/apps/cli/rill bench "$MODEL" --block 128 --seconds 5
echo
echo "demo: listen to $CLIP (input) and out/demo.wav (output)"
