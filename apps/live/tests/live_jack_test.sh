#!/usr/bin/env bash
# live_jack_test.sh RILL_LIVE PROBE RILL MODEL MODELS_DIR WORKDIR
# rill-live on a private JACK server (dummy driver, 44.1 kHz like MODEL, the bundled drive_tcn,
# 256-frame periods, not real-time), headless, with four models switched every 1.5 s: MODEL,
# half_gain_44k (y = -0.5 x, 1 frame of latency), broken.rill (must not load: pass-through) and
# half_gain_48k (resampled). rill-live-probe plays a known signal into it and records its output
# on the same JACK clock. Checks:
#   - each model's stretch of the recording is that model's output of what was played: MODEL's
#     equals `rill run --keep-latency` of the played signal; half_gain's equals -0.5 x delayed by
#     the latency rill-live reported; pass-through equals x; the resampled one is -0.5 x delayed
#     by its reported latency, within the resampler's error. So the reported model latency is
#     the real one, to the frame;
#   - every status line's latency is model + JACK's capture latency of system:capture_1 + its
#     playback latency of system:playback_1 (jack_lsp -l), and JACK sees rill-live's ports with
#     the model's latency added;
#   - broken.rill gives a message naming the file, and the audio keeps running;
#   - no allocation on the audio thread (--count-allocations), no non-finite sample.
#
# The JACK server is the test's environment, not its subject (as in
# plugins/juce/tests/jalv_jack_test.sh). Without real-time scheduling on a loaded machine it
# drops periods (xruns: a client did not finish in time and missed a period); each spoils the
# comparison for a period or two, so the comparisons allow 3 periods off per xrun rill-live
# reported (none in a clean run; a wrong model, gain or latency spoils nearly every period). A
# server that drops periods can also lag behind with graph changes: a CI run saw the first status
# line with playback latency 0 and JACK never showing rill-live's port latency while the probe's
# ports stayed unconnected, 5 xruns in the first second. If jackd itself exits during an
# attempt, or JACK drops more than a quarter of the periods, or a comparison or a latency check
# fails in an attempt with xruns, the logs are printed and the attempt is run again on a fresh
# server, at most three times. Anything else fails at once.
set -euo pipefail
source "$(dirname "$0")/../../../tests/jack/private_shm.sh"
run_in_private_shm "$0" "$@"
rill_live=$1 probe=$2 rill=$3 model=$4 models=$5 work=$6
mkdir -p "$work"
source "$(dirname "$0")/../../../tests/jack/private_server.sh"
readonly noisy=4 rate=44100 fade=882 # 20 ms crossfade
retry_codes=("$noisy")
jack_logs=(jackd.log probe.log live.log)

attempt() { # runs in a subshell: its own server, clients and cleanup
    xruns=0
    # A wrong recording is only the machine's fault when JACK dropped periods meanwhile.
    mismatch() { if [ "$xruns" -gt 0 ]; then fail $noisy "$1 ($xruns xruns)"; else fail 1 "$1"; fi; }
    exited() { ! kill -0 "$1" 2>/dev/null; }
    xruns_so_far() { # from rill-live's latest status line
        local n
        n=$(grep -Eo "xruns [0-9]+" "$work/live.log" | tail -1 | awk '{ print $2 }')
        echo "${n:-0}"
    }

    rm -f "$work"/*.log "$work"/*.wav
    start_server "rill-live-test-$$-$1" $rate

    # The probe records 7 s from the moment rill-live connects to it (0.5 s of silence first).
    "$probe" record --out-dir "$work" --seconds 7 --lead 0.5 --name probe >"$work/probe.log" 2>&1 &
    local probe_pid=$!
    pids+=("$probe_pid")
    probe_ready() { grep -q "^probe: ready" "$work/probe.log"; } # printed once it is active
    wait_for probe_ready || fail 1 "the probe did not start"

    "$rill_live" --headless --count-allocations --client-name rill-live \
        --model "$model" --model "$models/half_gain_44k.rill" --model "$models/broken.rill" \
        --model "$models/half_gain_48k.rill" --switch-every 1.5 --seconds 9 \
        --connect-in probe_play:out --connect-in system:capture_1 \
        --connect-out probe_rec:in --connect-out system:playback_1 >"$work/live.log" 2>&1 &
    local live_pid=$!
    pids+=("$live_pid")

    # JACK's view of rill-live's ports while drive_tcn plays (after the first switch line).
    playing_first() { grep -q "playing $(basename "$model" .rill) " "$work/live.log"; }
    wait_for playing_first || fail 1 "rill-live never played the first model"
    range() { # PORT capture|playback: the max of JACK's latency range
        jack_lsp -l "$1" | grep -Eo "port $2 latency = \[ [0-9]+ [0-9]+" | awk '{ print $6 }' | head -1
    }
    local capture playback model_latency out_capture
    capture=$(range system:capture_1 capture) playback=$(range system:playback_1 playback)
    model_latency=$("$rill" info "$model" | grep -Eo "latency [0-9]+ frames" | awk '{ print $2 }')
    [ -n "$capture" ] && [ -n "$playback" ] && [ -n "$model_latency" ] ||
        fail 1 "could not read the latencies (jack_lsp -l, rill info)"
    jack_port_latency_ok() { [ "$(range rill-live:out_1 capture)" = $((capture + model_latency)) ]; }
    # rill-live plays the model twice in its run; once it has exited there is nothing to see.
    local seen_port_latency=0
    port_latency_seen() { # twice a second: each jack_lsp is a client opening and closing
        if jack_port_latency_ok; then seen_port_latency=1; else sleep 0.4; exited "$live_pid"; fi
    }
    wait_for port_latency_seen || true
    if [ "$seen_port_latency" = 0 ]; then
        xruns=$(xruns_so_far)
        mismatch "JACK does not see rill-live:out_1 at capture latency $capture + $model_latency"
    fi

    wait_for exited "$probe_pid" || fail 1 "the probe did not finish recording"
    wait "$probe_pid" || fail 1 "the probe failed"
    wait_for exited "$live_pid" || fail 1 "rill-live did not stop after --seconds"
    wait "$live_pid" || fail 1 "rill-live exited with an error"
    kill -0 "$jackd_pid" 2>/dev/null || fail $server_gone "after the run"

    local log=$work/live.log summary
    summary=$(grep "^summary:" "$log") || fail 1 "rill-live printed no summary"
    field() { echo "$summary" | grep -Eo "$1=[0-9]+" | cut -d= -f2; }
    xruns=$(field xruns)
    echo "$summary"
    grep " played: DSP" "$log"
    [ "$(field allocations)" = 0 ] || fail 1 "the audio thread allocated"
    [ "$(field callbacks)" -gt 0 ] || fail 1 "no audio callback ran"
    [ $((4 * xruns)) -le "$(field callbacks)" ] || fail $noisy "JACK dropped a quarter of the periods"
    grep -q "Cannot load $models/broken.rill" "$log" || fail 1 "no message for the broken model"

    # Status lines: total = model + JACK's capture + playback latency, for each model.
    local bad
    bad=$(grep -E "^\[ *[0-9]+ s\]" "$log" | awk -v c="$capture" -v p="$playback" '{
        if (!match($0, /latency [0-9]+ = model [0-9]+ \+ in [0-9]+ \+ out [0-9]+/)) { print; next }
        split(substr($0, RSTART, RLENGTH), f, " ")
        if (f[2] != f[5] + f[8] + f[11] || f[8] != c || f[11] != p) print }')
    [ -z "$bad" ] || mismatch "status lines whose latency is not model + $capture + $playback: $bad"
    grep -Eq "\| latency $((model_latency + capture + playback)) = model $model_latency " "$log" ||
        fail 1 "no status line with the bundled model's latency"

    # The recording, split at the frames where rill-live switched.
    local t0 frames lead
    read -r t0 frames lead < <(grep -Eo "t0=[0-9]+ frames=[0-9]+ lead=[0-9]+" "$work/probe.log" |
        sed 's/[a-z0-9]*=//g')
    [ -n "$lead" ] || fail 1 "the probe printed no t0"
    mapfile -t switches < <(grep -E "^frame [0-9]+: playing" "$log")
    [ "${#switches[@]}" -ge 5 ] || fail 1 "fewer than 4 switches in the run"
    start() { # LINE: the switch frame, relative to the recording
        local f
        f=$(echo "$1" | awk '{ print $2 }' | tr -d :)
        echo $(((f - t0) & 0xffffffff))
    }
    latency_of() { echo "$1" | grep -Eo "latency [0-9]+" | awk '{ print $2 }'; }
    local s1 s2 s3 s4 d4
    s1=$(start "${switches[1]}") s2=$(start "${switches[2]}") s3=$(start "${switches[3]}")
    s4=$(start "${switches[4]}") d4=$(latency_of "${switches[3]}")
    echo "t0=$t0; switches at recording frames $s1 $s2 $s3 $s4 (of $frames)"
    [[ "${switches[1]}" == *"half_gain_44k (latency 1 frames)"* ]] || fail 1 "switch 1: ${switches[1]}"
    [[ "${switches[2]}" == *"pass-through ($models/broken.rill did not load)"* ]] ||
        fail 1 "switch 2: ${switches[2]}"
    [[ "${switches[3]}" == *"half_gain_48k"*"resampled"* ]] || fail 1 "switch 3: ${switches[3]}"
    [ "$s4" -lt $((frames + 0x80000000)) ] || fail 1 "the recording started after a switch"
    [ "$s1" -gt $((lead + 2048)) ] || fail 1 "the first model played for too short a time"

    "$rill" run --keep-latency "$model" "$work/played.wav" "$work/reference.wav" >/dev/null ||
        fail 1 "rill run failed"
    local r="$work/recorded.wav" x="$work/played.wav" allow=$((3 * xruns))
    "$probe" compare "$r" "$work/reference.wav" --from "$lead" --to "$s1" \
        --allow-bad-periods $allow ||
        mismatch "the first model's output is not rill run's"
    "$probe" compare "$r" "$x" --gain -0.5 --delay 1 --from $((s1 + fade + 64)) --to "$s2" \
        --allow-bad-periods $allow ||
        mismatch "half_gain_44k's output is not -0.5 x delayed by 1"
    "$probe" compare "$r" "$x" --from $((s2 + fade + 64)) --to "$s3" --allow-bad-periods $allow ||
        mismatch "the pass-through after broken.rill is not the input"
    "$probe" compare "$r" "$x" --gain -0.5 --delay "$d4" --tolerance 0.01 \
        --from $((s3 + fade + 2 * d4 + 64)) --to "$((s4 < frames ? s4 : frames))" \
        --allow-bad-periods $allow ||
        mismatch "half_gain_48k (resampled) is not -0.5 x delayed by its reported $d4 frames"
    echo "latency: model $model_latency + capture $capture + playback $playback frames; $xruns xruns"
}

run_attempts
