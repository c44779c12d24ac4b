#!/usr/bin/env bash
# The README's demo: installs dependencies, builds, and runs the bundled drive-pedal model (a
# non-causal TCN with a FiLM `drive` knob, trained by this project: training/effect/) on the
# bundled clip. Prints the output file, the latency and the real-time factor.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=assets/effect/drive_tcn.rill
CLIP=assets/effect/clip.wav
OUT=out/demo.wav

missing=0
for f in "$MODEL" "$CLIP"; do
  if [ ! -f "$f" ]; then
    echo "demo: $f is missing." >&2
    missing=1
  fi
done
if [ "$missing" = 1 ]; then
  echo "demo: the bundled model and clip are produced by training/effect/train.py (clip alone:" \
       "training/effect/make_clip.py); see assets/effect/PROVENANCE.md." >&2
  exit 1
fi

scripts/install-deps.sh
BUILD_DIR=${BUILD_DIR:-build}
BUILD_DIR="$BUILD_DIR" scripts/build.sh -DRILL_BUILD_TESTS=OFF -DRILL_BUILD_PLUGINS=OFF  # the demo needs only the library and rill
RILL="$BUILD_DIR/apps/cli/rill"
mkdir -p "$(dirname "$OUT")"

echo
echo "== rill info $MODEL"
"$RILL" info "$MODEL"
echo
echo "== rill run $MODEL $CLIP $OUT --param drive=0.7"
"$RILL" run "$MODEL" "$CLIP" "$OUT" --param drive=0.7
echo
echo "== rill bench $MODEL --block 128 --seconds 5"
"$RILL" bench "$MODEL" --block 128 --seconds 5
echo
echo "demo: listen to $CLIP (input) and $OUT (output, drive 0.7)"
