#!/usr/bin/env bash
# Installs the build into a temporary prefix, then builds and runs two consumers against it:
# a CMake project using find_package(rill) and a C99 program built with pkg-config.
set -euo pipefail
build=$1 src=$2 model=$3 work=$4
rm -rf "$work" && mkdir -p "$work"
prefix="$work/prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
test -x "$prefix/bin/rill"
"$prefix/bin/rill" info "$model" >/dev/null   # the installed CLI finds the installed library

cmake -S "$src/consumer" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cmake" >/dev/null
LD_LIBRARY_PATH="$prefix/lib" "$work/cmake/consumer" "$model"

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
cc -std=c99 -pedantic -Wall -Werror "$src/consumer/consumer.c" $(pkg-config --cflags --libs rill) \
  -o "$work/pc_consumer"
LD_LIBRARY_PATH="$prefix/lib" "$work/pc_consumer" "$model"
echo "install: find_package(rill) and pkg-config rill consumers work"
