#!/usr/bin/env bash
# lv2_host_test.sh HOST LV2_DIR URI RILL MODEL CLIP WORKDIR
# Runs the built LV2 plugin in our lilv host (rill_lv2_host) with MODEL and checks that its
# output is `rill run MODEL CLIP`'s delayed by the latency the plugin reports (the first 1024
# frames are skipped: the plugin ran silence before, a fresh `rill run` stream did not).
set -euo pipefail
host=$1 lv2_dir=$2 uri=$3 rill=$4 model=$5 clip=$6 work=$7
mkdir -p "$work"
# 32-bit float in, so that `rill run` writes float too (a 16-bit reference would differ by 1 LSB).
sox "$clip" -e floating-point -b 32 "$work/clip_f32.wav"
clip=$work/clip_f32.wav
"$rill" run "$model" "$clip" "$work/rill_run.wav"
latency=$("$rill" info "$model" | awk '$1 == "latency" { print $2 }')
for block in 480 1 4096; do
  echo "== block $block"
  HOME="$work" LV2_PATH="$lv2_dir" RILL_PLUGIN_MODEL="$model" \
    "$host" "$uri" "$clip" "$work/lv2_$block.wav" --block "$block" --settle-latency "$latency" \
    --compare "$work/rill_run.wav" --from 1024
done
