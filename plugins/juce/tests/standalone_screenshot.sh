#!/usr/bin/env bash
# standalone_screenshot.sh STANDALONE MODEL OUT.png
# The Standalone plugin live under Xvfb: a private JACK server (dummy driver, 48 kHz) and a
# metronome as the input signal; the Standalone starts with MODEL (RILL_PLUGIN_MODEL) and a
# settings file that selects JACK with the input unmuted. Checks that its window appears and its
# JACK ports exist, feeds it the metronome, saves a screenshot of its window (model, latency,
# DSP load, meters) to OUT.png and checks that it still runs.
set -euo pipefail
source "$(dirname "$0")/../../../tests/jack/private_shm.sh"
run_in_private_shm "$0" "$@"
app=$1 model=$2 shot=$3
mkdir -p "$(dirname "$shot")"
rm -f "$shot"
home=$(mktemp -d)
# No client may autostart a server of its own (as in tests/jack/private_server.sh).
export HOME=$home RILL_PLUGIN_MODEL=$model JACK_DEFAULT_SERVER=rill-standalone-test-$$ JACK_NO_START_SERVER=1
pids=()
cleanup() { # clients first, then the server; each waited for
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill "${pids[i]}" 2>/dev/null || true
        wait "${pids[i]}" 2>/dev/null || true
    done
    rm -rf "$home"
}
trap cleanup EXIT

# JUCE's Standalone keeps its audio setup in ~/.config/<name>.settings.
mkdir -p "$HOME/.config"
cat >"$HOME/.config/Rill.settings" <<'XML'
<?xml version="1.0" encoding="UTF-8"?>
<PROPERTIES>
  <VALUE name="shouldMuteInput" val="0"/>
  <VALUE name="audioSetup">
    <DEVICESETUP deviceType="JACK" audioOutputDeviceName="system" audioInputDeviceName="system"
                 audioDeviceRate="48000" audioDeviceBufferSize="256"/>
  </VALUE>
</PROPERTIES>
XML

jackd -n "$JACK_DEFAULT_SERVER" --no-realtime -d dummy -r 48000 -p 256 >"$home/jackd.log" 2>&1 &
pids+=($!)
jack_wait -w -t 20 >/dev/null
jack_metro -n metro -b 300 -f 220 -A 0.5 -D 150 >/dev/null 2>&1 &
pids+=($!)

xvfb-run -a -s "-screen 0 1000x700x24" bash -c '
  app=$1 shot=$2
  "$app" >"$HOME/standalone.log" 2>&1 &
  pid=$!
  trap "kill $pid 2>/dev/null; wait $pid 2>/dev/null" EXIT
  ready() { xwininfo -root -tree 2>/dev/null | grep -q "\"Rill\"" && jack_lsp | grep -q "^Rill:in_1$"; }
  for _ in $(seq 1 600); do   # a bound on the wait, not a timing check
    ready && break
    kill -0 "$pid" 2>/dev/null || { echo "the Standalone exited:"; cat "$HOME/standalone.log"; exit 1; }
    sleep 0.1
  done
  ready || { echo "no Rill window or no Rill JACK ports:"; jack_lsp; exit 1; }
  metro=$(jack_lsp | grep "^metro:" | head -1)
  jack_connect "$metro" Rill:in_1
  jack_connect "$metro" Rill:in_2
  sleep 3   # lets the editor draw the loaded model, the meters and the DSP load
  window=$(xwininfo -root -tree | awk "/\"Rill\"/ { print \$1; exit }")
  import -window "$window" "$shot"
  kill -0 "$pid" || { echo "the Standalone died"; exit 1; }
' bash "$app" "$shot"
test -s "$shot"
echo "screenshot: $shot"
