#!/usr/bin/env bash
# jalv_jack_test.sh LV2_DIR URI MODEL WORKDIR
# The built LV2 plugin live in a real host: jalv on a private JACK server (dummy driver, 48 kHz,
# 256-frame periods, not real-time). jack_iodelay measures the round trip of a direct loop and
# then of the loop through the plugin (which runs MODEL, a 44.1 kHz model, so it resamples); the
# difference must equal the latency the plugin reports on its latency port (which jalv passes on
# to JACK as its ports' latency).
#
# The JACK server is the test's environment, not its subject: if jackd itself exits during an
# attempt (seen once on a loaded CI machine), its log is printed and the attempt is run again on
# a fresh server, at most three times. A wrong latency, or a plugin that never reports one, fails
# at once.
set -euo pipefail
source "$(dirname "$0")/../../../tests/jack/private_shm.sh"
run_in_private_shm "$0" "$@"
lv2_dir=$1 uri=$2 model=$3 work=$4
mkdir -p "$work"
export HOME=$work LV2_PATH=$lv2_dir RILL_PLUGIN_MODEL=$model
source "$(dirname "$0")/../../../tests/jack/private_server.sh"
jack_logs=(jackd.log jalv.log iodelay.log)

attempt() { # runs in a subshell: its own server, clients and cleanup
    start_server "rill-plugin-test-$$-$1" 48000

    # jalv runs until its stdin closes: a fifo held open by this script.
    rm -f "$work/jalv.stdin"
    mkfifo "$work/jalv.stdin"
    stdbuf -o0 jalv -x -n rill "$uri" <"$work/jalv.stdin" >"$work/jalv.log" 2>&1 &
    pids+=($!)
    exec 3>"$work/jalv.stdin"
    stdbuf -o0 jack_iodelay >"$work/iodelay.log" 2>&1 &
    pids+=($!)

    # jalv prompts ("> ") once its client is active; jack_iodelay prints from then on.
    started() { grep -q "^> " "$work/jalv.log" && [ -s "$work/iodelay.log" ]; }
    wait_for started || fail 1 "jalv or jack_iodelay did not start"
    ports_ready() { jack_lsp | grep -q "^rill:audio_in_1$" && jack_lsp | grep -q "^jack_delay:in$"; }
    wait_for ports_ready || fail 1 "JACK never listed the ports of jalv or jack_iodelay"
    reported() { # the largest figure in "port ... latency = [ min max ] frames" of the plugin's output
        jack_lsp -l rill:audio_out_1 | grep -Eo "port [a-z]+ latency = \[ [0-9]+ [0-9]+" |
            awk '{ if ($6 > m) m = $6 } END { printf "%d", m }'
    }
    model_loaded() { local r; r=$(reported) && [ -n "$r" ] && [ "$r" != 0 ]; }
    wait_for model_loaded || fail 1 "the plugin never reported a latency"
    local latency
    latency=$(reported) || fail 1 "could not read the plugin's latency"

    # The last round trip jack_iodelay printed after the current end of its log (settled value).
    measure() { # LABEL
        local from
        from=$(wc -l <"$work/iodelay.log")
        settled() { [ "$(tail -n +"$((from + 1))" "$work/iodelay.log" | grep -ac "frames")" -ge 8 ]; }
        wait_for settled || fail 1 "jack_iodelay measured nothing for the $1 loop"
        tail -n +"$((from + 1))" "$work/iodelay.log" | grep -aEo "^ *[0-9.]+ frames" | tail -1 |
            awk '{ printf "%d", $1 }'
    }
    local direct through
    jack_connect jack_delay:out jack_delay:in || fail 1 "jack_connect failed (direct loop)"
    direct=$(measure direct) || exit $?
    jack_disconnect jack_delay:out jack_delay:in || fail 1 "jack_disconnect failed"
    jack_connect jack_delay:out rill:audio_in_1 || fail 1 "jack_connect failed (plugin input)"
    jack_connect rill:audio_out_1 jack_delay:in || fail 1 "jack_connect failed (plugin output)"
    through=$(measure "plugin's") || exit $?
    kill -0 "$jackd_pid" 2>/dev/null || fail $server_gone "after the measurements"
    echo "direct loop $direct frames, through the plugin $through frames, reported latency $latency"
    [ $((through - direct)) -eq "$latency" ] || fail 1 "the added round trip is not the reported latency"
}

run_attempts
