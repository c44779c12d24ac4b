#!/usr/bin/env bash
# The README's C quick start compiles (C99, pedantic, warnings as errors) and runs on a model.
set -euo pipefail
readme=$1 include1=$2 include2=$3 libdir=$4 model=$5 work=$6
mkdir -p "$work"
sed -n '/<!-- quickstart:begin -->/,/<!-- quickstart:end -->/p' "$readme" | sed '1,2d;$d' | sed '$d' > "$work/quick.c"
grep -q rill_stream_process "$work/quick.c"
cc -std=c99 -pedantic -Wall -Wextra -Werror -I"$include1" -I"$include2" "$work/quick.c" \
  -L"$libdir" -lrill -Wl,-rpath,"$libdir" -o "$work/quick"
"$work/quick" "$model" | tee "$work/quick.out"
grep -q "latency 2 frames" "$work/quick.out"
