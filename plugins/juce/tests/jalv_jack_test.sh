#!/usr/bin/env bash
# jalv_jack_test.sh LV2_DIR URI MODEL WORKDIR
# The built LV2 plugin live in a real host: jalv on a private JACK server (dummy driver, 48 kHz,
# 256-frame periods, not real-time). jack_iodelay measures the round trip of a direct loop and
# then of the loop through the plugin (which runs MODEL, a 44.1 kHz model, so it resamples); the
# difference must equal the latency the plugin reports on its latency port (which jalv passes on
# to JACK as its ports' latency).
set -euo pipefail
lv2_dir=$1 uri=$2 model=$3 work=$4
mkdir -p "$work"
export HOME=$work LV2_PATH=$lv2_dir RILL_PLUGIN_MODEL=$model
export JACK_DEFAULT_SERVER=rill-plugin-test-$$
pids=()
cleanup() { # the clients first, then the server; each waited for
    exec 3>&- 2>/dev/null || true
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill "${pids[i]}" 2>/dev/null || true
        wait "${pids[i]}" 2>/dev/null || true
    done
}
trap cleanup EXIT

jackd -n "$JACK_DEFAULT_SERVER" --no-realtime -d dummy -r 48000 -p 256 >"$work/jackd.log" 2>&1 &
pids+=($!)
jack_wait -w -t 20 >/dev/null

# jalv runs until its stdin closes: a fifo held open by this script.
rm -f "$work/jalv.stdin"
mkfifo "$work/jalv.stdin"
stdbuf -o0 jalv -x -n rill "$uri" <"$work/jalv.stdin" >"$work/jalv.log" 2>&1 &
pids+=($!)
exec 3>"$work/jalv.stdin"
stdbuf -o0 jack_iodelay >"$work/iodelay.log" 2>&1 &
pids+=($!)

# Bounded waits (polling), not timing checks.
wait_for() { # CONDITION-COMMAND...
    for _ in $(seq 1 300); do "$@" && return 0; sleep 0.1; done
    return 1
}
ports_ready() { jack_lsp | grep -q "^rill:audio_in_1$" && jack_lsp | grep -q "^jack_delay:in$"; }
wait_for ports_ready || { echo "jalv or jack_iodelay did not start"; cat "$work/jalv.log"; exit 1; }
reported() { # the largest figure in "port ... latency = [ min max ] frames" of the plugin's output
    jack_lsp -l rill:audio_out_1 | grep -Eo "port [a-z]+ latency = \[ [0-9]+ [0-9]+" |
        awk '{ if ($6 > m) m = $6 } END { printf "%d", m }'
}
model_loaded() { [ -n "$(reported)" ] && [ "$(reported)" != 0 ]; }
wait_for model_loaded || { echo "the plugin never reported a latency"; cat "$work/jalv.log"; exit 1; }

# The last round trip jack_iodelay printed after `lines` lines of its log (a settled value).
measure() {
    local from
    from=$(wc -l <"$work/iodelay.log")
    settled() { [ "$(tail -n +"$((from + 1))" "$work/iodelay.log" | grep -c "frames")" -ge 8 ]; }
    wait_for settled || { echo "jack_iodelay measured nothing"; exit 1; }
    tail -n +"$((from + 1))" "$work/iodelay.log" | grep -Eo "^ *[0-9.]+ frames" | tail -1 | awk '{ printf "%d", $1 }'
}
jack_connect jack_delay:out jack_delay:in
direct=$(measure)
jack_disconnect jack_delay:out jack_delay:in
jack_connect jack_delay:out rill:audio_in_1
jack_connect rill:audio_out_1 jack_delay:in
through=$(measure)
latency=$(reported)
echo "direct loop $direct frames, through the plugin $through frames, reported latency $latency"
[ $((through - direct)) -eq "$latency" ]
