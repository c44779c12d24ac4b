#!/usr/bin/env bash
# Runs the ONNX conformance cases listed in conformance_cases.txt (Debian libonnx-testdata).
# Exit 77 (CTest skip) when the package's data is not installed.
set -euo pipefail
checker=$1
data=${RILL_ONNX_TESTDATA:-/usr/share/libonnx-testdata/data/node}
if [ ! -d "$data" ]; then
  echo "SKIP: $data not found (apt-get install libonnx-testdata)"
  exit 77
fi
cases=()
while read -r name; do
  case "$name" in ''|'#'*) continue ;; esac
  cases+=("$data/$name")
done < "$(dirname "$0")/conformance_cases.txt"
exec "$checker" "${cases[@]}"
