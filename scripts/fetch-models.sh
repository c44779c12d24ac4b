#!/usr/bin/env bash
# Downloads the third-party models Rill runs as they are (docs/onnx.md) from their upstream:
#   Silero VAD v5/v6 from npm (@ricky0123/vad-web@0.0.31, MIT), the MediaPipe selfie segmentation
#   models from npm (@mediapipe/selfie_segmentation@0.1.1675465747, Apache-2.0; the webcam demo),
#   GTCRN from its GitHub repository (Xiaobin-Rong/gtcrn @ 3862c44808dc, MIT). Nothing here is part
#   of Rill; check their licenses.
#   scripts/fetch-models.sh [DIR]        (default: models/)
set -euo pipefail
dir=${1:-models}
mkdir -p "$dir"
cd "$dir"
echo "fetch-models: Silero VAD from npm"
tarball=$(npm pack --silent @ricky0123/vad-web@0.0.31)
tar -xzf "$tarball" package/dist/silero_vad_v5.onnx package/dist/silero_vad_v6.onnx
mv package/dist/silero_vad_v5.onnx package/dist/silero_vad_v6.onnx .
rm -rf package "$tarball"
echo "fetch-models: MediaPipe selfie segmentation from npm"
tarball=$(npm pack --silent @mediapipe/selfie_segmentation@0.1.1675465747)
tar -xzf "$tarball" package/selfie_segmentation.tflite package/selfie_segmentation_landscape.tflite
mv package/selfie_segmentation.tflite package/selfie_segmentation_landscape.tflite .
rm -rf package "$tarball"
echo "fetch-models: GTCRN from GitHub"
base=https://raw.githubusercontent.com/Xiaobin-Rong/gtcrn/3862c44808dc
for f in stream/onnx_models/gtcrn_simple.onnx stream/test_wavs/mix.wav LICENSE; do
  curl -fsSL -o "gtcrn_$(basename "$f")" "$base/$f" || echo "fetch-models: could not download $f (no access to GitHub?)" >&2
done
ls -l
