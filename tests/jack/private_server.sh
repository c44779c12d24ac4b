# Sourced by the tests that run on a private JACK server (plugins/juce/tests/jalv_jack_test.sh,
# apps/live/tests/live_jack_test.sh). The server is the tests' environment, not their subject: a
# test defines `attempt N` (its whole run on a fresh server) and calls `run_attempts`, which runs
# it up to three times while it exits with $server_gone (jackd exited, did not start, or its
# socket in /dev/shm vanished while it ran: seen on a CI machine that shared /dev/shm with other
# JACK servers, before the tests ran in a private /dev/shm (private_shm.sh); /dev/shm is listed
# then) or with a code listed in $retry_codes; any other code ends the test at once.
# The test sets: work (its directory), jack_logs (log file names in $work printed on failure).
# Inside an attempt: start_server NAME RATE, pids+=(...) for every process it starts (cleaned up
# in reverse order when the attempt ends), fail CODE MESSAGE, wait_for CONDITION-COMMAND...
#
# Wait for a client to start by what it prints once it is active, not by polling jack_lsp: a
# jack_lsp client opening and closing while another client opens can leave that client's process
# thread never woken (jackd logged "client = probe_rec was not finished, state = Triggered" all
# through the run, and the client never ran: 4 runs in 12 here while live_jack_test.sh polled
# jack_lsp as its probe started, none in 12 once it waited on the probe's "ready" line). Polling
# jack_lsp once every client is active is safe.
readonly server_gone=3
retry_codes=()
# No client may start a server of its own (libjack's autostart would launch a second jackd under
# our server's name, whose socket it would replace).
export JACK_NO_START_SERVER=1
jack_logs=(jackd.log)

show_logs() {
    for f in "${jack_logs[@]}"; do
        [ -f "$work/$f" ] && { echo "--- last lines of $f"; tail -n 30 "$work/$f"; }
    done >&2
    return 0
}

# Bounded waits (polling), not timing checks.
wait_for() {
    for _ in $(seq 1 300); do "$@" && return 0; sleep 0.1; done
    return 1
}

fail() { # CODE MESSAGE: a lost server is reported as such, whatever step noticed it
    if [ -n "${jackd_pid:-}" ] && ! kill -0 "$jackd_pid" 2>/dev/null; then
        echo "the JACK server exited during the attempt ($2)" >&2
        show_logs
        exit $server_gone
    fi
    if [ -n "${jackd_pid:-}" ] && ! jack_lsp >/dev/null 2>&1; then
        echo "the JACK server runs but no client can reach it any more ($2); /dev/shm holds:" >&2
        ls -la /dev/shm >&2 || true
        show_logs
        exit $server_gone
    fi
    echo "$2" >&2
    show_logs
    exit "$1"
}

cleanup_attempt() { # the clients first, then the server; each waited for
    exec 3>&- 2>/dev/null || true
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        kill "${pids[i]}" 2>/dev/null || true
        wait "${pids[i]}" 2>/dev/null || true
    done
}

start_server() { # NAME RATE: a private dummy-driver server, 256-frame periods, not real-time
    export JACK_DEFAULT_SERVER=$1
    pids=()
    jackd_pid=
    trap cleanup_attempt EXIT
    jackd -n "$JACK_DEFAULT_SERVER" --no-realtime -d dummy -r "$2" -p 256 >"$work/jackd.log" 2>&1 &
    jackd_pid=$!
    pids+=("$jackd_pid")
    if ! jack_wait -w -t 20 >/dev/null; then
        grep -q "Too many servers already active" "$work/jackd.log" &&
            echo "JACK's server registry (/dev/shm/jack-shm-registry) is full of servers that" \
                "exited without unregistering; with no jackd running it can be deleted" >&2
        fail $server_gone "the JACK server did not start"
    fi
}

run_attempts() {
    for try in 1 2 3; do
        local status=0
        (attempt "$try") & # in the background, so that errexit holds inside it
        wait $! || status=$?
        local retry=0
        for code in "$server_gone" "${retry_codes[@]}"; do
            [ "$status" -eq "$code" ] && retry=1
        done
        [ "$retry" = 1 ] || exit "$status"
        echo "attempt $try: the JACK server went away or dropped periods; starting a fresh one"
    done
    echo "the JACK server failed in every attempt"
    exit 1
}
