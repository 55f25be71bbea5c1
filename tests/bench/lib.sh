# lib.sh: shell helpers shared by the benchmark scripts (sourced, not run).
# shellcheck shell=bash

# stop_pid PID [DRAIN_TENTHS] [EXIT_TENTHS]
# Stops a process we started and reaps it. mxscreen drains open sessions on
# SIGTERM and ends the drain on a second signal, so: SIGTERM, DRAIN_TENTHS
# tenths of a second (default 3) to exit by itself, then SIGINT and up to
# EXIT_TENTHS more (default 50; valgrind writes its files on exit and needs
# longer), then SIGKILL. Returns 1 when it had to kill, 0 otherwise.
stop_pid() {
    local pid=$1 drain=${2:-3} grace=${3:-50} i
    kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
    for ((i = 0; i < drain + grace; i++)); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
        [ "$i" -eq "$drain" ] && kill -INT "$pid" 2>/dev/null
        sleep 0.1
    done
    echo "stop_pid: $pid did not exit within $(((drain + grace) / 10)) s: killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    return 1
}
