#!/usr/bin/env bash
# Puts the npm packages the ONNX tests and benchmark use as references into DIR (once):
# onnxruntime-node (its install script only downloads GPU builds; the CPU library ships in the
# package, so scripts are skipped) and the Silero VAD models of @ricky0123/vad-web.
#   ort_setup.sh DIR    -> DIR/node_modules/onnxruntime-node, DIR/vad-web/dist/silero_vad_v5.onnx, _v6
set -euo pipefail
dir=$1
mkdir -p "$dir"
cd "$dir"
if [ ! -e node_modules/onnxruntime-node/dist/index.js ]; then
  [ -f package.json ] || echo '{"name": "rill-onnx-references", "private": true}' > package.json
  npm install --ignore-scripts --no-audit --no-fund --loglevel=error onnxruntime-node@1.20.1 >&2
fi
if [ ! -e vad-web/dist/silero_vad_v6.onnx ]; then
  tarball=$(npm pack --silent @ricky0123/vad-web@0.0.31)
  mkdir -p vad-web
  tar -xzf "$tarball" -C vad-web --strip-components=1
  rm -f "$tarball"
fi
