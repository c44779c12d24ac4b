# Sourced first by every test that starts a JACK server (private_server.sh's users and
# plugins/juce/tests/standalone_screenshot.sh): `run_in_private_shm "$0" "$@"` runs the test again
# in a mount and IPC namespace of its own, with a fresh tmpfs on /dev/shm, and exits with its code.
#
# Why: every JACK server on a machine shares /dev/shm (its sockets, its POSIX semaphores and
# jack-shm-registry) and one SysV semaphore (key 0x282929). The registry has 8 server slots, and a
# slot is only reclaimed by a server of the same name, so servers that died without unregistering
# (a killed test, a crash) fill it for good: jackd then fails with "Too many servers already
# active". A CI run saw that. It also once saw a running server's socket vanish; a likely cause is
# that CI runs in its own PID namespace over this machine's /dev/shm, and a starting jackd treats
# every registered segment whose owner's PID it cannot see as dead and removes it (jack2's
# jack_cleanup_shm). In a namespace of its own a test sees none of that.
# RILL_JACK_PRIVATE_SHM=1 in the environment marks a test already inside one (and skips this).
#
# Without the privilege to create namespaces (a developer's non-root shell) the test runs as it is,
# on the machine's /dev/shm, and says so.
run_in_private_shm() { # SCRIPT ARGS...
    [ -n "${RILL_JACK_PRIVATE_SHM:-}" ] && return 0
    if unshare --mount --ipc --fork true 2>/dev/null; then
        export RILL_JACK_PRIVATE_SHM=1
        # --kill-child: nothing the test started outlives it.
        exec unshare --mount --ipc --fork --kill-child -- bash -c \
            'mount -t tmpfs -o mode=1777 rill-jack-shm /dev/shm && exec "$@"' bash "$@"
    fi
    echo "note: no private /dev/shm here (unshare --mount --ipc is not permitted); JACK shares" \
        "the machine's /dev/shm and its server registry" >&2
}
