#!/usr/bin/env bash
# Installs the build into a temporary prefix, then builds and runs consumers against it: a CMake
# project using find_package(rill) (a C99 program and a C++17 one over rill.hpp), and a C99
# program built with pkg-config that streams the bundled model. Also runs the installed `rill`
# command, which must find the installed library through its RPATH.
# Usage: check_install.sh BUILD_DIR SRC_DIR MODEL BUNDLED_MODEL WORK_DIR
set -euo pipefail
build=$1 src=$2 model=$3 bundled=$4 work=$5
rm -rf "$work" && mkdir -p "$work"
prefix="$work/prefix"
cmake --install "$build" --prefix "$prefix" >/dev/null
libdir=$(dirname "$(find "$prefix" -name 'librill.so' -print -quit)")
test -f "$libdir/librill.so" || { echo "install: librill.so was not installed" >&2; exit 1; }
for f in include/rill/rill.h include/rill/rill.hpp include/rill/rill_version.h; do
  test -f "$prefix/$f" || { echo "install: $f missing" >&2; exit 1; }
done

if [ -x "$prefix/bin/rill" ]; then
  # No LD_LIBRARY_PATH: the RPATH ($ORIGIN/../lib) must find the installed librill.so.
  env -u LD_LIBRARY_PATH "$prefix/bin/rill" info "$model" >/dev/null
  deps=$(env -u LD_LIBRARY_PATH ldd "$prefix/bin/rill")
  case "$deps" in
    *"librill.so.0 => $prefix/"*) ;;
    *) echo "install: bin/rill does not use the installed librill.so:" >&2; echo "$deps" >&2; exit 1 ;;
  esac
fi

echo "== find_package(rill)"
cmake -S "$src/consumer" -B "$work/cmake" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null
cmake --build "$work/cmake" >/dev/null
"$work/cmake/consumer" "$model"
"$work/cmake/consumer_cpp" "$model"

echo "== pkg-config rill"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
pkg-config --exists --print-errors rill
cc -std=c99 -pedantic -Wall -Wextra -Werror "$src/consumer/consumer_bundled.c" \
  $(pkg-config --cflags --libs rill) -lm -o "$work/pc_consumer"
LD_LIBRARY_PATH="$libdir" "$work/pc_consumer" "$bundled"
echo "install: find_package(rill) and pkg-config rill consumers work"
