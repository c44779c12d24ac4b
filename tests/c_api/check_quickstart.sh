#!/usr/bin/env bash
# The README's C quick start (the ```c block between <!-- quickstart:begin --> and
# <!-- quickstart:end -->) compiles against the build tree (C99, pedantic, warnings as errors)
# and runs on a model.
# Usage: check_quickstart.sh README SRC_INCLUDE BUILD_INCLUDE LIBDIR MODEL WORK_DIR
set -euo pipefail
readme=$1 include1=$2 include2=$3 libdir=$4 model=$5 work=$6
mkdir -p "$work"
awk '/<!-- quickstart:begin -->/ { inside = 1; next }
     /<!-- quickstart:end -->/   { inside = 0 }
     inside && /^```/            { code = !code; next }
     inside && code              { print }' "$readme" > "$work/quick.c"
if ! grep -q rill_stream_process "$work/quick.c"; then
  echo "quickstart: no C program calling rill_stream_process between the markers in $readme" >&2
  exit 1
fi
cc -std=c99 -pedantic -Wall -Wextra -Werror -I"$include1" -I"$include2" "$work/quick.c" \
  -L"$libdir" -lrill -Wl,-rpath,"$libdir" -o "$work/quick"
"$work/quick" "$model" | tee "$work/quick.out"
grep -q "latency 2 frames" "$work/quick.out"
