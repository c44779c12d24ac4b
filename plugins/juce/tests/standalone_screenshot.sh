#!/usr/bin/env bash
# standalone_screenshot.sh STANDALONE MODEL OUT.png
# Starts the Standalone plugin under Xvfb with MODEL loaded (RILL_PLUGIN_MODEL), waits for its
# window, saves a screenshot of that window to OUT.png and checks that the process still runs.
set -euo pipefail
app=$1 model=$2 shot=$3
mkdir -p "$(dirname "$shot")"
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
rm -f "$shot"
HOME=$home RILL_PLUGIN_MODEL=$model xvfb-run -a -s "-screen 0 1000x700x24" bash -c '
  app=$1 shot=$2
  "$app" >"$HOME/standalone.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do   # a bound on the wait, not a timing check
    xwininfo -root -tree 2>/dev/null | grep -q "\"Rill\"" && break
    kill -0 "$pid" 2>/dev/null || { echo "the Standalone exited:"; cat "$HOME/standalone.log"; exit 1; }
    sleep 0.1
  done
  xwininfo -root -tree | grep -q "\"Rill\"" || { echo "no Rill window appeared"; exit 1; }
  sleep 3   # lets the editor draw the loaded model and a few meter frames
  window=$(xwininfo -root -tree | awk "/\"Rill\"/ { print \$1; exit }")
  import -window "$window" "$shot"
  kill -0 "$pid" || { echo "the Standalone died"; exit 1; }
  kill "$pid"
  wait "$pid" || true
' bash "$app" "$shot"
test -s "$shot"
echo "screenshot: $shot"
