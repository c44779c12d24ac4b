#!/usr/bin/env bash
# librill.so exports exactly the symbols of capi/rill.symbols (nm -D, defined, names only).
set -euo pipefail
lib=$1 list=$2
diff <(nm -D --defined-only "$lib" | awk '{print $3}' | sed 's/@.*//' | grep -v '^RILL_[0-9]*$' | sort -u) \
     <(grep '^rill_' "$list" | sort -u) && echo "exported symbols match $list"
