#!/bin/bash
# idle.sh: the idle-connection benchmark ("the screening cycle"); results go
# to docs/benchmarks.md, section "Screening cycle: idle connections in the
# greet wait".
#
# Question: how much memory does a client cost while it sits in the greet
# wait, and how many such clients can one server hold at once, for mxscreen
# (workers: 1 and 2) side by side with Postfix postscreen. Targets from the
# issue: at most 1 KiB of resident memory per idle connection above the
# baseline (100,000 in 100 MiB), and ~19,900 idle connections (the most one
# process may open here, hard fd limit 20000) held at once while new clients
# are still screened without added delay.
#
# Per contender:
#   1. start the server alone: mxscreen with one listener, filter `pregreet`
#      (action ignore) only, greet_wait 600s, pre_queue_limit 30000, store and
#      log on tmpfs; or a private Postfix instance whose postscreen has
#      postscreen_greet_wait = 600s, postscreen_pre_queue_limit = 30000, a
#      non-empty greet banner (the teaser, i.e. the pregreet test, action
#      ignore), no DNSBL sites; started with `postfix start` under
#      `ulimit -n <hard limit>`, which the master passes down to postscreen
#      (checked in /proc/PID/limits);
#   2. new clients, no load: IDLE_PROBES (20) fresh clients 50 ms apart, and
#      IDLE_BURST (500) back to back (each connects once the previous one has
#      its teaser and has closed): time from connect() to the teaser line, and
#      the server's CPU time per back-to-back client (all its threads,
#      /proc/PID/task/*/schedstat). Before them 3 uncounted clients: the
#      master forks postscreen on the first connection;
#   3. VmRSS of the server process (/proc/PID/status) = the baseline;
#   4. idle_holder (idle_holder.c, compiled here) opens idle connections in
#      batches, each from its own 127.1.x.y address, never sending a byte, and
#      stops at each step (1000, 5000, IDLE_MAX = 19900): after IDLE_SETTLE
#      seconds the server's VmRSS, the sockets it holds (/proc/PID/fd) and the
#      connections its log shows open (CONNECT minus DISCONNECT lines) are
#      read; per connection = (VmRSS - baseline) / N;
#   5. with the most connections held: the same new clients again, then the
#      holder confirms none of its connections was closed by the server, and
#      the server's socket count and log are read again.
# A server that cannot take IDLE_MAX connections: the holder stops where the
# server stops answering (no teaser for 10 s) or where it loses connections it
# held. postscreen exits (fatal: fcntl F_DUPFD: Too many open files, every
# held client lost) when a connection arrives while its descriptors are used
# up, so after such a loss the contender is run once more, from a fresh
# instance, holding IDLE_MARGIN (8) fewer than the most it held.
# Everything runs on 127.0.0.0/8; every wait is bounded; every process started
# here is stopped on exit and the work directory (on /dev/shm) is removed.
#
# Usage: tests/bench/idle.sh [--smoke] [BUILD_DIR (default /work/main/build)]
#   --smoke: 100 and 200 connections, 5 + 50 probes, no waiting for an idle
#   machine: checks that every contender works (for CI); figures mean little.
# Environment: IDLE_MAX (19900), IDLE_STEPS (1000,5000,$IDLE_MAX),
#   IDLE_PROBES (20), IDLE_PROBE_GAP_MS (50), IDLE_BURST (500), IDLE_WORKERS ("1 2"), IDLE_POSTSCREEN (1; 0 skips it),
#   IDLE_MXSCREEN (1; 0 skips it), IDLE_PORT_BASE (25300), IDLE_SETTLE (2 s),
#   IDLE_BATCH (128 connects in flight), IDLE_WAIT_IDLE (600; 0 in --smoke:
#   up to this many seconds, before each contender, until no mxs_loadgen runs
#   and the 1-minute load average is below IDLE_MAX_LOAD (1.5)),
#   IDLE_MARGIN (8), IDLE_KEEP (0; 1 keeps the work directory),
#   IDLE_OUT (file to copy the markdown summary to), MXSCREEN (binary),
#   IDLE_HOLDER (a prebuilt idle_holder; default: cc -O2 idle_holder.c).
set -euo pipefail
# One compound command: bash parses the whole file before running it.
{

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/bench/lib.sh
. "$HERE/lib.sh"
SMOKE=0
BUILD=/work/main/build
for a in "$@"; do
    case $a in
        --smoke) SMOKE=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "idle.sh: unknown option $a" >&2; exit 2 ;;
        *) BUILD=$a ;;
    esac
done

MAX=${IDLE_MAX:-19900}
STEPS=${IDLE_STEPS:-1000,5000,$MAX}
PROBES=${IDLE_PROBES:-20}
GAP=${IDLE_PROBE_GAP_MS:-50}
BURST=${IDLE_BURST:-500}
WAIT_IDLE=${IDLE_WAIT_IDLE:-600}
if ((SMOKE)); then
    MAX=${IDLE_MAX:-200}; STEPS=${IDLE_STEPS:-100,$MAX}; PROBES=${IDLE_PROBES:-5}
    BURST=${IDLE_BURST:-50}
    WAIT_IDLE=${IDLE_WAIT_IDLE:-0}
fi
MAX_LOAD=${IDLE_MAX_LOAD:-1.5}
WORKERS_LIST=${IDLE_WORKERS:-1 2}
DO_PS=${IDLE_POSTSCREEN:-1}
DO_MXS=${IDLE_MXSCREEN:-1}
PORT=${IDLE_PORT_BASE:-25300}
SETTLE=${IDLE_SETTLE:-2}
BATCH=${IDLE_BATCH:-128}
MARGIN=${IDLE_MARGIN:-8}
GREET_WAIT=600
MXSCREEN=${MXSCREEN:-$BUILD/mxscreen}
PSI=$HERE/postscreen_instance.sh
POSTFIX=${POSTFIX:-/usr/sbin/postfix}

log() { echo "[idle] $*" >&2; }
die() { echo "idle.sh: $*" >&2; exit 1; }

# The holder, the servers and the postfix master all inherit this.
hard=$(ulimit -Hn)
[[ $hard == unlimited ]] && hard=65536
FDLIM=$((hard < 65536 ? hard : 65536))
ulimit -n "$FDLIM" || die "cannot raise the fd limit to $FDLIM"

if ((DO_MXS)) && [[ ! -x $MXSCREEN ]]; then die "no mxscreen binary at $MXSCREEN"; fi
if ((DO_PS)) && [[ ! -x $POSTFIX ]]; then log "no Postfix ($POSTFIX): postscreen skipped"; DO_PS=0; fi

WORK=$(mktemp -d /dev/shm/mxs-idle.XXXXXX 2>/dev/null || mktemp -d /tmp/mxs-idle.XXXXXX)
chmod 755 "$WORK"  # Postfix daemons (user postfix) must reach the instance dir

HOLDER_PID=""
MXS_PID=""
declare -a PFDIRS=()

# shellcheck disable=SC2317  # invoked through the EXIT trap
cleanup() {
    local rc=$? d
    trap - EXIT INT TERM
    [[ -z $HOLDER_PID ]] || stop_pid "$HOLDER_PID" 3 97 || true
    [[ -z $MXS_PID ]] || stop_pid "$MXS_PID" 3 97 || true
    for d in "${PFDIRS[@]}"; do "$PSI" stop "$d" >/dev/null 2>&1 || true; done
    if [[ ${IDLE_KEEP:-0} == 1 || $rc != 0 ]]; then
        log "work directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

HOLDER=${IDLE_HOLDER:-}
if [[ -z $HOLDER ]]; then
    HOLDER=$WORK/idle_holder
    "${CC:-cc}" -O2 -Wall -o "$HOLDER" "$HERE/idle_holder.c" || die "cannot build idle_holder"
fi

port_busy() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

wait_listen() {  # PORT [PID]: bounded (10 s)
    local port=$1 pid=${2:-} i
    for ((i = 0; i < 100; i++)); do
        port_busy "$port" && return 0
        [[ -z $pid ]] || kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# Waits (bounded) until no other benchmark runs: no mxs_loadgen and a 1-minute
# load average below MAX_LOAD. Measuring anyway after the limit, with a note.
IDLE_NOTES=()
wait_idle() {  # LABEL
    local t0=$SECONDS la others
    while :; do
        la=$(cut -d' ' -f1 /proc/loadavg)
        others=$(pgrep -f mxs_loadgen | tr '\n' ' ' || true)
        if [[ -z $others ]] && awk -v l="$la" -v m="$MAX_LOAD" 'BEGIN { exit !(l < m) }'; then
            IDLE_NOTES+=("$1: load $la at start")
            return 0
        fi
        if ((SECONDS - t0 >= WAIT_IDLE)); then
            ((WAIT_IDLE == 0)) || log "machine not idle after ${WAIT_IDLE}s (load $la, mxs_loadgen: ${others:-none}); measuring anyway"
            IDLE_NOTES+=("$1: load $la at start${others:+, mxs_loadgen running}$( ((WAIT_IDLE)) && echo ' (not idle after the wait)')")
            return 0
        fi
        sleep 5
    done
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo -; }
nofile() { awk '/^Max open files/ { print $4 }' "/proc/$1/limits" 2>/dev/null || echo -; }
socket_count() { find "/proc/$1/fd" -lname 'socket:*' 2>/dev/null | wc -l; }
# Connections the server's log shows open: CONNECT lines minus DISCONNECT lines
# (both servers log DISCONNECT after a HANGUP in the greet wait).
log_open() {  # LOGFILE
    awk '/: CONNECT from \[/ { c++ } /: DISCONNECT \[/ { d++ } END { print c - d }' "$1" 2>/dev/null || echo -
}

# --- servers -------------------------------------------------------------------

start_mxscreen() {  # DIR WORKERS
    local dir=$1 workers=$2
    mkdir -p "$dir/store"
    cat >"$dir/mxscreen.yaml" <<EOF
# tests/bench/idle.sh: idle clients in the greet wait.
hostname: bench.example
workers: $workers
store: { path: $dir/store }
logging: { sink: file, path: $dir/mxscreen.log }
limits: { pre_queue_limit: 30000 }
listeners:
  - name: smtp
    address: 127.0.0.1:$PORT
    greet_wait: ${GREET_WAIT}s
    greet_wait_stress: ${GREET_WAIT}s
    filters:
      - name: pregreet
        action: ignore
    handoff:
      # never reached: no client outlasts the greet wait
      backends: ["127.0.0.1:$((PORT + 1))"]
EOF
    port_busy "$PORT" && die "port $PORT is in use (set IDLE_PORT_BASE)"
    "$MXSCREEN" run --config "$dir/mxscreen.yaml" >"$dir/mxscreen.out" 2>&1 &
    MXS_PID=$!
    wait_listen "$PORT" "$MXS_PID" || { tail -5 "$dir/mxscreen.out" >&2; die "mxscreen did not come up"; }
    SERVER_PID=$MXS_PID
    SERVER_LOG=$dir/mxscreen.log
}

# A private Postfix instance: postscreen on PORT with the pregreet test only
# (setup as in postscreen_instance.sh: chroot off, 127.0.0.1 only, discard:,
# maillog_file via postlogd).
start_postscreen() {  # DIR
    local dir=$1
    mkdir -p "$dir/queue" "$dir/data"
    chmod 755 "$dir"
    chown root:root "$dir"
    chown postfix "$dir/data"
    cat >"$dir/main.cf" <<EOF
# Generated by tests/bench/idle.sh; private instance.
compatibility_level = 3.6
config_directory = $dir
queue_directory = $dir/queue
data_directory = $dir/data
mail_owner = postfix
setgid_group = postdrop
syslog_name = idle-postscreen
maillog_file = $dir/maillog
maillog_file_prefixes = $dir
myhostname = bench.example
mydomain = example
myorigin = \$myhostname
mydestination =
relay_domains =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
# 127.0.0.1 only: the holder's 127.1.x.y clients are screened
mynetworks = 127.0.0.1/32
smtpd_banner = \$myhostname ESMTP Postfix
biff = no
alias_maps =
alias_database =
local_recipient_maps =
local_transport = discard:
virtual_transport = discard:
relay_transport = discard:
default_transport = discard:
smtpd_peername_lookup = no
# postscreen must not exit for being idle between the steps
max_idle = 3600s
postscreen_access_list = permit_mynetworks
# non-empty: the 220- teaser is sent and the pregreet test runs
postscreen_greet_banner = \$smtpd_banner
postscreen_greet_action = ignore
postscreen_greet_wait = ${GREET_WAIT}s
postscreen_pre_queue_limit = 30000
postscreen_dnsbl_sites =
EOF
    cat >"$dir/master.cf" <<EOF
# Generated by tests/bench/idle.sh; chroot is off everywhere.
127.0.0.1:$PORT inet n - n - 1 postscreen
smtpd     pass  -       -       n       -       -       smtpd
anvil     unix  -       -       n       -       1       anvil
postlog   unix-dgram n  -       n       -       1       postlogd
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
proxymap  unix  -       -       n       -       -       proxymap
discard   unix  -       -       n       -       -       discard
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
scache    unix  -       -       n       -       1       scache
EOF
    "$POSTFIX" -c "$dir" check 2>"$dir/check.err" || { cat "$dir/check.err" >&2; die "postfix check failed"; }
    port_busy "$PORT" && die "port $PORT is in use (set IDLE_PORT_BASE)"
    PFDIRS+=("$dir")
    # The master passes its descriptor limit down to every daemon it forks.
    (ulimit -n "$FDLIM" && "$POSTFIX" -c "$dir" start) >/dev/null 2>"$dir/start.err" ||
        { cat "$dir/start.err" >&2; die "postfix start failed"; }
    wait_listen "$PORT" || die "postscreen instance does not listen on $PORT (see $dir/maillog)"
    SERVER_PID=""   # forked by the master on the first connection
    SERVER_LOG=$dir/maillog
}

postscreen_pid() {  # DIR
    local m
    m=$(tr -dc '0-9' <"$1/queue/pid/master.pid" 2>/dev/null) || return 1
    pgrep -P "$m" -x postscreen | head -1
}

stop_server() {  # KIND DIR
    if [[ $1 == mxs ]]; then
        stop_pid "$MXS_PID" 3 97 || true
        MXS_PID=""
    else
        "$PSI" stop "$2" >/dev/null 2>&1 || true
    fi
}

# --- one contender ---------------------------------------------------------------

# CPU time (ns) of every thread of a process: /proc/PID/task/*/schedstat.
proc_cpu_ns() {
    cat /proc/"$1"/task/*/schedstat 2>/dev/null | awk '{ s += $1 } END { printf "%.0f\n", s }'
}

# PROBE_RUN numbers the probe runs so that every run has fresh source
# addresses (127.<3 + RUN>.x.y); the caller increments it (probe runs in a
# command substitution).
PROBE_RUN=0
probe() {  # COUNT GAP_MS -> "p50 p95 ok/n max server_cpu_us_per_client"
    local out c0 c1 net=$((3 + PROBE_RUN % 120))
    c0=$(proc_cpu_ns "$SERVER_PID")
    out=$("$HOLDER" probe --target "127.0.0.1:$PORT" --sources "127.$net.0.1-127.$net.255.254" \
        --count "$1" --gap-ms "$2" --timeout 10 2>&1 | tee -a "$CUR/probes.txt" | grep '^PROBE' || true)
    c1=$(proc_cpu_ns "$SERVER_PID")
    if [[ -z $out ]]; then echo "- - 0/$1 - -"; return; fi
    echo "$(field "$out" p50_us) $(field "$out" p95_us) $(field "$out" ok)/$1 $(field "$out" max_us) $(awk -v a="$c0" -v b="$c1" -v n="$1" 'BEGIN { if (a == "" || b == "" || b < a) print "-"; else printf "%.1f\n", (b - a) / 1000 / n }')"
}

field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<" $1"; }

# Waits (bounded) for the holder's COUNT-th line starting with PREFIX.
wait_line() {  # PREFIX COUNT TIMEOUT_S
    local i n
    for ((i = 0; i < $3 * 10; i++)); do
        n=$(grep -c "^$1" "$CUR/holder.out" 2>/dev/null || true)
        ((n >= $2)) && { grep "^$1" "$CUR/holder.out" | sed -n "$2p"; return 0; }
        kill -0 "$HOLDER_PID" 2>/dev/null || { log "holder exited: $(tail -2 "$CUR/holder.out" "$CUR/holder.err" 2>/dev/null)"; return 1; }
        sleep 0.1
    done
    log "timeout waiting for $1 #$2 from the holder"
    return 1
}

declare -A R=()   # results: R[key,field]
KEYS=()

# run_contender KEY DESCRIPTION KIND(mxs|ps) [WORKERS]
# Runs the whole sequence; on a lost connection (postscreen out of fds) once
# more with a lower maximum.
run_contender() {
    local key=$1 desc=$2 kind=$3 workers=${4:-} attempt max=$MAX steps=$STEPS
    KEYS+=("$key")
    R[$key,desc]=$desc
    for attempt in 1 2; do
        if run_once "$key" "$kind" "$workers" "$steps" "$attempt"; then return 0; fi
        # Lost connections at the top step: repeat below the most it held.
        local peak=${R[$key,peak]:-0}
        ((attempt == 1 && peak > MARGIN)) || return 0
        max=$((peak - MARGIN))
        steps=$(tr ',' '\n' <<<"$STEPS" | awk -v m="$max" '$1 < m { printf "%s,", $1 } END { print m }')
        R[$key,first_peak]=$peak
        log "$key: lost connections after holding $peak; again from a fresh start with at most $max"
    done
}

run_once() {  # KEY KIND WORKERS STEPS ATTEMPT; returns 1 when held connections were lost
    local key=$1 kind=$2 workers=$3 steps=$4 attempt=$5
    CUR=$WORK/$key.$attempt
    mkdir -p "$CUR"
    wait_idle "$key"
    log "$key (attempt $attempt): starting server"
    if [[ $kind == mxs ]]; then start_mxscreen "$CUR" "$workers"; else start_postscreen "$CUR/pf"; fi

    local p0 i line n rss fds lo t_hold
    # Warm-up (not counted): the master forks postscreen on the first connection.
    PROBE_RUN=$((PROBE_RUN + 1)); probe 3 0 >/dev/null
    if [[ $kind == ps ]]; then
        SERVER_PID=$(postscreen_pid "$CUR/pf" || true)
        [[ -n $SERVER_PID ]] || die "no postscreen process after the first probes"
    fi
    PROBE_RUN=$((PROBE_RUN + 1)); p0=$(probe "$PROBES" "$GAP")
    R[$key,probe0]=$p0
    PROBE_RUN=$((PROBE_RUN + 1)); R[$key,burst0]=$(probe "$BURST" 0)
    R[$key,nofile]=$(nofile "$SERVER_PID")
    sleep "$SETTLE"
    R[$key,rss0]=$(rss_kb "$SERVER_PID")
    R[$key,sock0]=$(socket_count "$SERVER_PID")
    R[$key,open0]=$(log_open "$SERVER_LOG")
    log "$key: server pid $SERVER_PID, fd limit ${R[$key,nofile]}, baseline VmRSS ${R[$key,rss0]} kB; new clients (p50 p95 ok max cpu, us): ${p0} apart, ${R[$key,burst0]} back to back"

    t_hold=$SECONDS
    "$HOLDER" hold --target "127.0.0.1:$PORT" --sources 127.1.0.1-127.1.255.254 --steps "$steps" \
        --batch "$BATCH" --stall 10 >"$CUR/holder.out" 2>"$CUR/holder.err" &
    HOLDER_PID=$!
    local nsteps lost=0
    nsteps=$(tr ',' '\n' <<<"$steps" | grep -c .)
    R[$key,nsteps]=$nsteps
    for ((i = 1; i <= nsteps; i++)); do
        line=$(wait_line STEP "$i" 600) || die "$key: holder did not reach step $i"
        sleep "$SETTLE"
        n=$(field "$line" held)
        rss=$(rss_kb "$SERVER_PID")
        fds=$(($(socket_count "$SERVER_PID") - ${R[$key,sock0]}))
        lo=$(($(log_open "$SERVER_LOG") - ${R[$key,open0]}))
        R[$key,$i,target]=$(field "$line" target)
        R[$key,$i,n]=$n
        R[$key,$i,rss]=$rss
        R[$key,$i,fds]=$fds
        R[$key,$i,logopen]=$lo
        R[$key,$i,secs]=$(field "$line" secs)
        R[$key,peak]=$(field "$line" peak)
        log "$key: $line | VmRSS $rss kB, server sockets +$fds, log open +$lo"
        if [[ $(field "$line" lost) != 0 ]]; then
            lost=1
            R[$key,lostnote]="holding $(field "$line" peak), the server dropped held connections when more arrived$([[ -d /proc/$SERVER_PID ]] || echo ' (its process exited: every held client was lost)'); its log: $(grep -E 'fatal|panic|warning: (accept|process)' "$SERVER_LOG" | tail -2 | sed 's/^.*: \(fatal\|warning\|panic\)/\1/' | tr '\n' ';' | sed 's/;$//')"
            log "$key: ${R[$key,lostnote]}"
            break
        fi
        kill -USR1 "$HOLDER_PID"
    done
    if ((lost)); then
        stop_pid "$HOLDER_PID" 3 97 || true; HOLDER_PID=""
        stop_server "$kind" "$CUR/pf"
        return 1
    fi
    wait_line HOLDING 1 30 >/dev/null || die "$key: holder did not confirm HOLDING"
    PROBE_RUN=$((PROBE_RUN + 1)); R[$key,probe1]=$(probe "$PROBES" "$GAP")
    PROBE_RUN=$((PROBE_RUN + 1)); R[$key,burst1]=$(probe "$BURST" 0)
    log "$key: with the most held: $BURST back-to-back clients: p50/p95/ok/max/server CPU us per client ${R[$key,burst1]} (no load: ${R[$key,burst0]})"
    sleep 1
    kill -USR2 "$HOLDER_PID"
    line=$(wait_line STATUS 1 10) || die "$key: no STATUS from the holder"
    R[$key,after_held]=$(field "$line" held)
    R[$key,after_closed]=$(field "$line" closed_by_server)
    R[$key,after_sock]=$(($(socket_count "$SERVER_PID") - ${R[$key,sock0]}))
    R[$key,after_logopen]=$(($(log_open "$SERVER_LOG") - ${R[$key,open0]}))
    R[$key,same_pid]=yes
    if [[ $kind == ps && $(postscreen_pid "$CUR/pf" || true) != "$SERVER_PID" ]]; then R[$key,same_pid]=NO; fi
    R[$key,hold_secs]=$((SECONDS - t_hold))
    ((SECONDS - t_hold < GREET_WAIT)) || log "warning: $key held longer than the greet wait ($GREET_WAIT s)"
    log "$key: with ${R[$key,after_held]} held: new clients ${R[$key,probe1]} apart; closed by server ${R[$key,after_closed]}, server sockets +${R[$key,after_sock]}"
    stop_pid "$HOLDER_PID" 3 97 || true; HOLDER_PID=""
    stop_server "$kind" "$CUR/pf"
    return 0
}

# --- run ---------------------------------------------------------------------------
START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
START_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
if ((DO_MXS)); then
    for w in $WORKERS_LIST; do
        run_contender "mxs_w$w" "mxscreen, workers: $w" mxs "$w"
    done
fi
if ((DO_PS)); then
    run_contender ps "Postfix postscreen (1 process)" ps
fi

# --- report --------------------------------------------------------------------------
bytes_per() {  # RSS_KB RSS0_KB N
    awk -v r="$1" -v b="$2" -v n="$3" 'BEGIN { if (r == "-" || b == "-" || n + 0 <= 0) print "-"; else printf "%.0f\n", (r - b) * 1024 / n }'
}
us_ms() { awk -v v="$1" 'BEGIN { if (v == "-" || v == "") print "-"; else printf "%.2f\n", v / 1000 }'; }

SUM=$WORK/summary.md
{
    echo "Run: $START_DATE; $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)); kernel $(uname -r); Postfix $(postconf -dh mail_version 2>/dev/null || echo -); fd hard limit $hard."
    echo "Load average before: $START_LOAD; at each contender's start: $(IFS=';'; echo "${IDLE_NOTES[*]}")."
    echo "Settings: steps $STEPS (max $MAX), $PROBES probes ${GAP} ms apart and $BURST back to back per measurement, greet wait ${GREET_WAIT}s, holder batch $BATCH, RSS read ${SETTLE}s after each step."
    echo
    echo "Memory of the server process (VmRSS) with N idle clients in the greet wait"
    echo
    echo "| contender | fd limit | baseline VmRSS KiB | N held | VmRSS KiB | +KiB | bytes/conn | server sockets | open per log |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    for k in "${KEYS[@]}"; do
        [[ -n ${R[$k,rss0]:-} ]] || { echo "| ${R[$k,desc]} | not measured | | | | | | | |"; continue; }
        for ((i = 1; i <= ${R[$k,nsteps]:-0}; i++)); do
            [[ -n ${R[$k,$i,n]:-} ]] || continue
            echo "| ${R[$k,desc]} | ${R[$k,nofile]} | ${R[$k,rss0]} | ${R[$k,$i,n]} | ${R[$k,$i,rss]} | $((${R[$k,$i,rss]} - ${R[$k,rss0]})) | $(bytes_per "${R[$k,$i,rss]}" "${R[$k,rss0]}" "${R[$k,$i,n]}") | ${R[$k,$i,fds]} | ${R[$k,$i,logopen]} |"
        done
    done
    echo
    echo "Most clients held at once"
    echo
    echo "| contender | max held | bytes/conn at max | marginal bytes/conn | 100,000 would need | still held after the probes (holder / server sockets / log) |"
    echo "|---|---:|---:|---:|---:|---:|"
    for k in "${KEYS[@]}"; do
        [[ -n ${R[$k,probe1]:-} ]] || { echo "| ${R[$k,desc]} | not measured${R[$k,lostnote]:+: ${R[$k,lostnote]}} | | | | |"; continue; }
        last=${R[$k,nsteps]}
        prev=$((last - 1))
        n=${R[$k,$last,n]}
        bpc=$(bytes_per "${R[$k,$last,rss]}" "${R[$k,rss0]}" "$n")
        marg=-
        if ((prev >= 1)); then
            marg=$(awk -v a="${R[$k,$prev,rss]}" -v b="${R[$k,$last,rss]}" -v na="${R[$k,$prev,n]}" -v nb="$n" \
                'BEGIN { if (nb > na) printf "%.0f\n", (b - a) * 1024 / (nb - na); else print "-" }')
        fi
        need=$(awk -v b="$bpc" 'BEGIN { if (b == "-") print "-"; else printf "%.0f MiB\n", b * 100000 / 1048576 }')
        maxnote=$n
        [[ -z ${R[$k,first_peak]:-} ]] || maxnote="$n (${R[$k,first_peak]} reached, see below)"
        restarted=""
        [[ ${R[$k,same_pid]} == yes ]] || restarted=" (server process was replaced!)"
        echo "| ${R[$k,desc]} | $maxnote | $bpc | $marg | $need | ${R[$k,after_held]} / ${R[$k,after_sock]} / ${R[$k,after_logopen]}$restarted |"
    done
    echo
    echo "New clients: time from connect() to the teaser line (ms), no load vs. with the most held; $PROBES clients ${GAP} ms apart, and $BURST clients back to back (each connects when the previous one has its teaser and has closed); server CPU per back-to-back client"
    echo
    echo "| contender | ${PROBES} clients ${GAP} ms apart: p50 / p95 / max, no load | same, most held | back to back: p50 / p95, no load | same, most held | server CPU us/client, no load | same, most held | probes ok | added delay (p50: apart / back to back) |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
    for k in "${KEYS[@]}"; do
        [[ -n ${R[$k,probe1]:-} ]] || continue
        read -r a50 a95 aok amax _ <<<"${R[$k,probe0]}"
        read -r b50 b95 bok bmax _ <<<"${R[$k,probe1]}"
        read -r c50 c95 cok _ ccpu <<<"${R[$k,burst0]}"
        read -r d50 d95 dok _ dcpu <<<"${R[$k,burst1]}"
        delay=$(awk -v a="$a50" -v b="$b50" -v c="$c50" -v d="$d50" 'BEGIN {
            if (a == "-" || b == "-" || c == "-" || d == "-") { print "-"; exit }
            x = (b - a) / 1000; y = (d - c) / 1000
            printf "%+.2f / %+.2f ms: %s\n", x, y, (x < 0.5 && y < 0.5) ? "none (< +0.5 ms)" : "YES" }')
        echo "| ${R[$k,desc]} | $(us_ms "$a50") / $(us_ms "$a95") / $(us_ms "$amax") | $(us_ms "$b50") / $(us_ms "$b95") / $(us_ms "$bmax") | $(us_ms "$c50") / $(us_ms "$c95") | $(us_ms "$d50") / $(us_ms "$d95") | $ccpu | $dcpu | $aok, $bok, $cok, $dok | $delay |"
    done
    echo
    echo "| target | contender | value | verdict |"
    echo "|---|---|---:|---|"
    for k in "${KEYS[@]}"; do
        [[ -n ${R[$k,probe1]:-} ]] || continue
        last=${R[$k,nsteps]}
        bpc=$(bytes_per "${R[$k,$last,rss]}" "${R[$k,rss0]}" "${R[$k,$last,n]}")
        echo "| <= 1024 bytes per idle connection | ${R[$k,desc]} | $bpc | $(awk -v b="$bpc" 'BEGIN { print (b != "-" && b <= 1024) ? "met" : "NOT met" }') |"
        echo "| ~$MAX held at once, none lost | ${R[$k,desc]} | ${R[$k,after_held]} | $( ((${R[$k,after_held]} >= MAX && ${R[$k,after_closed]} == 0)) && echo met || echo "NOT met" ) |"
    done
    for k in "${KEYS[@]}"; do
        if [[ -n ${R[$k,lostnote]:-} ]]; then echo; echo "${R[$k,desc]}, first attempt: ${R[$k,lostnote]}."; fi
    done
    echo
    echo "Columns: bytes/conn = (VmRSS - baseline) / N; marginal = the same between the last two steps; server sockets = sockets in /proc/PID/fd above the baseline; open per log = CONNECT minus DISCONNECT lines; still held after = after the probes: holder's connections not closed by the server / server sockets / log; server CPU = all its threads (/proc/PID/task/*/schedstat) over the back-to-back run / clients; added delay = loaded minus unloaded median (with $PROBES clients p95 is about the second slowest: one stall of the VM moves it; clients ${GAP} ms apart include the VM's wake-up from idle)."
    echo "Command: tests/bench/idle.sh$( ((SMOKE)) && echo ' --smoke') $BUILD (IDLE_MAX=$MAX IDLE_STEPS=$STEPS IDLE_PROBES=$PROBES IDLE_BURST=$BURST IDLE_WORKERS=\"$WORKERS_LIST\")"
} >"$SUM"
echo
cat "$SUM"
[[ -z ${IDLE_OUT:-} ]] || cp "$SUM" "$IDLE_OUT"
exit 0
}
