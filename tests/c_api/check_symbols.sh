#!/usr/bin/env bash
# librill.so exports exactly the symbols of capi/rill.symbols (nm -D, defined, names only), and
# rill.h declares exactly those functions (RILL_API), so the list, the header and the binary agree.
# Usage: check_symbols.sh LIBRILL_SO RILL_SYMBOLS [RILL_H]
set -euo pipefail
lib=$1 list=$2 header=${3:-}
expected=$(grep '^rill_' "$list" | sort -u)
exported=$(nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' | grep -v '^RILL_[0-9]*$' | sort -u)
if ! diff <(echo "$exported") <(echo "$expected"); then
  echo "exported symbols ('<' in $lib) differ from $list ('>')" >&2
  exit 1
fi
echo "exported symbols match $list ($(echo "$expected" | wc -l) symbols)"
if [ -n "$header" ]; then
  declared=$(tr '\n' ' ' < "$header" | grep -oE 'RILL_API [^;(]*\brill_[a-z0-9_]+\(' |
             grep -oE 'rill_[a-z0-9_]+\($' | tr -d '(' | sort -u)
  if ! diff <(echo "$declared") <(echo "$expected"); then
    echo "functions declared RILL_API ('<' in $header) differ from $list ('>')" >&2
    exit 1
  fi
  echo "rill.h declares exactly the listed functions"
fi
