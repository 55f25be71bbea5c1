#!/bin/bash
# run.sh: the foundation benchmark driver (results go to docs/benchmarks.md).
#
# Owns: starting every contender on 127.0.0.1, running mxs_loadgen against
# them in alternating rounds, and printing medians and ratios for
#   (a) reject path: connections/s for denylisted clients with `drop`
#       - mxscreen (workers: 1)  vs  Postfix postscreen (one process)  vs  the
#         minimal C server with 1 thread (the floor). All three are pinned to
#         CPU 0 and the load generator to CPU 1, so every server gets exactly
#         one core: the like-for-like comparison on this 2-core machine.
#       - unpinned: mxscreen (workers: 2) vs minimal server (2 threads).
#       Besides conns/s it reports server CPU microseconds per connection
#       (process tree utime+stime, incl. reaped children such as Postfix's
#       postlogd/master work), which stays meaningful when the single-threaded
#       load generator, not the server, is what saturates.
#   (b) a full short SMTP session (EHLO..QUIT) handed to a backend vs the same
#       session sent straight to the backend: sessions/s.
#   (c) the same for one large DATA (BENCH_DATA_BYTES, default 256M): MB/s.
#       Backend for (b)/(c): one Postfix instance with two smtpd services that
#       differ only in smtpd_upstream_proxy_protocol (see postscreen_instance.sh
#       for why): "direct" uses the plain one, mxscreen (proxy_protocol: v2) the
#       proxy one, postscreen hands off to its own identical smtpd. A second
#       pair, smtp-sink direct vs mxscreen (proxy_protocol: none) -> smtp-sink,
#       isolates mxscreen's forwarding cost from Postfix's cost.
#       haproxy (tcp mode, nbthread 1) on both paths is the relay floor: what a
#       mature splice-capable TCP proxy costs here, i.e. what any design that
#       relays (rather than passes the descriptor as postscreen does) pays.
# Rounds alternate contenders (A B C A B C ...) so drift hits all alike; the
# tables show medians. Everything runs on 127.0.0.0/8, every wait is bounded,
# and every process started here is stopped on exit.
#
# Usage: tests/bench/run.sh [--smoke] [BUILD_DIR (default /work/main/build)]
#   BUILD_DIR holds mxscreen, tests/bench/mxs_loadgen, tests/bench/mxs_minimal_server
#   (override each with MXSCREEN=, LOADGEN=, MINIMAL_SERVER=). Without a
#   mxscreen binary the mxscreen rows are skipped and marked pending.
# Environment: BENCH_SECONDS (10) per measurement, BENCH_ROUNDS (3),
#   BENCH_CONCURRENCY (16), BENCH_DATA_BYTES (256M), BENCH_PORT_BASE (25100),
#   BENCH_PIN (1; 0 = no CPU pinning), BENCH_TWO_THREADS (1), BENCH_SINK (1),
#   BENCH_HAPROXY (1; 0 = no haproxy relay-floor rows),
#   BENCH_KEEP (0; 1 keeps the work directory with all logs),
#   BENCH_TMPDIR (/dev/shm if writable, else /tmp: where the work directory goes),
#   BENCH_OUT (file to copy the markdown summary to),
#   BENCH_WAIT_IDLE (0; up to this many seconds to wait, before starting,
#   until the machine is idle: builds or tests running beside the benchmark
#   take CPU from whichever contender is measured at that moment),
#   BENCH_MAX_OTHERS (100 = off; e.g. 10: repeat a measurement, up to
#   BENCH_RETRIES (3) times, when other processes used more than 10% of the
#   CPUs during it; the tables' "others" column shows what was kept).
#   --smoke: ~1 s per measurement, 1 round, 4M DATA - for CI; checks that
#   every contender works, the figures mean nothing.
set -euo pipefail
# Everything below is one compound command, so bash parses the whole file
# before running any of it: editing run.sh while a benchmark runs cannot
# change (or break) the run in progress.
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
        -*) echo "run.sh: unknown option $a" >&2; exit 2 ;;
        *) BUILD=$a ;;
    esac
done

SECS=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
CONC=${BENCH_CONCURRENCY:-16}
DATA_BYTES=${BENCH_DATA_BYTES:-256M}
BASE=${BENCH_PORT_BASE:-25100}
PIN=${BENCH_PIN:-1}
MAX_OTHERS=${BENCH_MAX_OTHERS:-100}
RETRIES=${BENCH_RETRIES:-3}
TWO=${BENCH_TWO_THREADS:-1}
SINK=${BENCH_SINK:-1}
if ((SMOKE)); then SECS=1; ROUNDS=1; DATA_BYTES=4M; fi
SOURCES=127.0.0.2-127.0.255.254   # 127.0.0.1 is "mynetworks" in the deny configs

MXSCREEN=${MXSCREEN:-$BUILD/mxscreen}
LOADGEN=${LOADGEN:-$BUILD/tests/bench/mxs_loadgen}
MINIMAL_SERVER=${MINIMAL_SERVER:-$BUILD/tests/bench/mxs_minimal_server}
PSI=$HERE/postscreen_instance.sh

log() { echo "[bench] $*" >&2; }
die() { echo "run.sh: $*" >&2; exit 1; }

[[ -x $LOADGEN ]] || die "no load generator at $LOADGEN (build target mxs_loadgen)"
[[ -x $MINIMAL_SERVER ]] || die "no minimal server at $MINIMAL_SERVER (build target mxs_minimal_server)"
HAVE_MXS=1
if [[ ! -x $MXSCREEN ]]; then
    HAVE_MXS=0
    log "no mxscreen binary at $MXSCREEN: mxscreen rows are SKIPPED (pending)"
fi
command -v smtp-sink >/dev/null || SINK=0
HAPROXY=${BENCH_HAPROXY:-1}
HAPROXY_BIN=$(command -v haproxy || echo /usr/sbin/haproxy)
[[ -x $HAPROXY_BIN ]] || HAPROXY=0
NPROC=$(nproc)
((NPROC >= 2)) || PIN=0
CLK_TCK=$(getconf CLK_TCK)

# Loopback load at tens of thousands of connections/s needs descriptors;
# the hard limit on this machine is 20000.
hard=$(ulimit -Hn)
[[ $hard == unlimited ]] && hard=65536
ulimit -n $((hard < 65536 ? hard : 65536)) 2>/dev/null || true

# The work directory (Postfix queues, every log, mxscreen's store) lives on
# tmpfs when there is one: Postfix's cleanup fsyncs every queue file, and on a
# shared disk that made (b) vary by 2x between rounds. On tmpfs every
# contender is CPU-bound, which is what the ratios are meant to compare.
TMPBASE=${BENCH_TMPDIR:-/dev/shm}
[[ -d $TMPBASE && -w $TMPBASE ]] || TMPBASE=/tmp
WORK=$(mktemp -d "$TMPBASE/mxs-bench.XXXXXX")
chmod 755 "$WORK"  # Postfix daemons (user postfix) must reach the instance dirs
RES=$WORK/results.txt
: >"$RES"

# --- process bookkeeping ------------------------------------------------------
declare -A BGPID=()     # name -> pid of a server started here
declare -a PFDIRS=()    # Postfix instance directories started here

stop_name() {
    local n=$1
    [[ -n ${BGPID[$n]:-} ]] || return 0
    stop_pid "${BGPID[$n]}" || true
    unset "BGPID[$n]"
}

# shellcheck disable=SC2317  # invoked through the EXIT trap
cleanup() {
    local rc=$? n d
    trap - EXIT INT TERM
    for n in "${!BGPID[@]}"; do stop_pid "${BGPID[$n]}" || true; done
    for d in "${PFDIRS[@]}"; do "$PSI" stop "$d" || true; done
    if [[ ${BENCH_KEEP:-0} == 1 || $rc != 0 ]]; then
        log "work directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_busy() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

wait_listen() {  # PORT PID: bounded (10 s); fails early if PID died
    local port=$1 pid=${2:-} i
    for ((i = 0; i < 100; i++)); do
        port_busy "$port" && return 0
        [[ -z $pid ]] || kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

# start_bg NAME PINNED PORT CMD...: a server in the background, optionally on CPU 0.
start_bg() {
    local name=$1 pinned=$2 port=$3
    shift 3
    local pre=()
    ((pinned && PIN)) && pre=(taskset -c 0)
    port_busy "$port" && die "port $port is in use (set BENCH_PORT_BASE)"
    "${pre[@]}" "$@" >"$WORK/$name.out" 2>&1 &
    BGPID[$name]=$!
    if ! wait_listen "$port" "${BGPID[$name]}"; then
        log "$name did not come up on port $port; last output:"
        tail -5 "$WORK/$name.out" >&2 || true
        stop_name "$name"
        return 1
    fi
}

start_postfix() {  # DIR ROLE PORT [opts]
    local dir=$1
    PFDIRS+=("$dir")
    "$PSI" start "$@"
}

# mxscreen config in the gateway's YAML format (see docs/benchmarks.md).
write_mxs_config() {  # FILE NAME PORT WORKERS MYNETWORKS BACKEND_PORT PROXY
    local file=$1 name=$2 port=$3 workers=$4 mynet=$5 be=$6 proxy=$7
    mkdir -p "$WORK/$name/store"
    cat >"$file" <<EOF
hostname: bench.example
workers: $workers
store: { path: $WORK/$name/store }
logging: { sink: file, path: $WORK/$name/mxscreen.log }
listeners:
  - name: smtp
    address: 127.0.0.1:$port
    filters:
      - name: access_cidr
        action: drop
        typed_config:
          mynetworks: ["$mynet"]
          access_list:
            - permit_mynetworks: true
            - cidr: { lines: ["127.0.0.0/8 reject"] }
    handoff:
      backends: ["127.0.0.1:$be"]
      proxy_protocol: $proxy
EOF
}

start_mxs() {  # NAME PINNED PORT WORKERS MYNETWORKS BACKEND_PORT PROXY
    local name=$1 pinned=$2 port=$3
    write_mxs_config "$WORK/$name.yaml" "$name" "$port" "$4" "$5" "$6" "$7"
    start_bg "$name" "$pinned" "$port" "$MXSCREEN" run --config "$WORK/$name.yaml"
}

# haproxy as a plain TCP relay: one thread (like mxscreen's workers: 1), one
# listener, PROXY v2 towards the smtpd that expects it.
start_haproxy() {  # NAME PORT BACKEND_PORT SERVER_OPTS
    local name=$1 port=$2 be=$3 opts=$4
    cat >"$WORK/$name.cfg" <<EOF
global
    nbthread 1
    # Two descriptors per relayed connection, within the hard limit of 20000.
    maxconn 9000
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
listen relay
    bind 127.0.0.1:$port
    server backend 127.0.0.1:$be $opts
EOF
    start_bg "$name" 0 "$port" "$HAPROXY_BIN" -db -f "$WORK/$name.cfg"
}

# CPU clock ticks used so far by the given PIDs (one argument, space
# separated) and all their descendants: live processes' utime+stime plus
# cutime+cstime of children they have already reaped.
tree_cpu() {
    # Processes may exit between the glob and the read: cat then fails, harmlessly.
    { cat /proc/[0-9]*/stat 2>/dev/null || true; } | awk -v roots="$1" '
        BEGIN { n = split(roots, rs, " "); for (i = 1; i <= n; i++) isroot[rs[i] + 0] = 1 }
        { pid = $1 + 0; line = $0; sub(/^.*\) /, "", line); split(line, f, " ")
          ppid[pid] = f[2] + 0; t[pid] = f[12] + f[13] + f[14] + f[15] }
        END { total = 0
              for (p in t) { q = p + 0; d = 0
                  while (!(q in isroot) && q > 1 && d < 64) { q = ppid[q] + 0; d++ }
                  if (q in isroot) total += t[p] }
              print total }'
}

# Every server process tree this script started (for the "others" column).
all_roots() {
    local d out="${BGPID[*]}"
    for d in "${PFDIRS[@]}"; do out+=" $("$PSI" pid "$d" 2>/dev/null || true)"; done
    echo "$out"
}

# CPU time of processes that are not part of the benchmark (a build or a test
# run beside it, often niced), in % of all CPUs over one measurement: user +
# nice + system jiffies from /proc/stat minus what the servers started here
# and the load generator used. irq/softirq time is left out on both sides: the
# kernel charges loopback TCP work there, to no process. Rounds skewed from
# outside show up in the tables' "others" column.
cpu_sample() {  # -> "<user+nice+system jiffies> <uptime seconds>"
    echo "$(awk '/^cpu / { print $2 + $3 + $4 }' /proc/stat) $(cut -d' ' -f1 /proc/uptime)"
}
others_pct() {  # SAMPLE_BEFORE SAMPLE_AFTER BENCH_TICKS
    awk -v a="$1" -v b="$2" -v bt="$3" -v n="$NPROC" -v hz="$CLK_TCK" 'BEGIN {
        split(a, x, " "); split(b, y, " "); w = (y[2] - x[2]) * n * hz
        o = (y[1] - x[1]) - bt; if (o < 0) o = 0
        printf "%.0f\n", (w > 0 ? 100 * o / w : 0) }'
}

field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }

# Wait (bounded, 20 s) until a Postfix instance has delivered its queue, so
# one contender's backlog does not slow down the next one's measurement.
drain_queue() {
    local dir=$1 i n
    for ((i = 0; i < 200; i++)); do
        n=$(find "$dir/queue/incoming" "$dir/queue/active" "$dir/queue/maildrop" -type f 2>/dev/null | wc -l)
        ((n == 0)) && return 0
        sleep 0.1
    done
    log "warning: $dir still has $n queued messages"
}

# --- contenders -----------------------------------------------------------------
declare -A CPORT=() CROOT=() CPIN=() CDESC=() CSKIP=() CDRAIN=()
contender() {  # KEY PORT ROOTPID PINNED DESCRIPTION [DRAIN_DIR]
    CPORT[$1]=$2; CROOT[$1]=$3; CPIN[$1]=$4; CDESC[$1]=$5; CDRAIN[$1]=${6:-}
}

run_loadgen() {  # KEY ARGS...  -> RESULT line on stdout (empty on failure)
    local key=$1
    shift
    local pre=()
    ((CPIN[$key] && PIN)) && pre=(taskset -c 1)
    "${pre[@]}" "$LOADGEN" --target "127.0.0.1:${CPORT[$key]}" --sources "$SOURCES" "$@" \
        2>>"$WORK/loadgen-$key.err" | grep '^RESULT' | tail -1 || true
}

# A short, strict run first: a contender that does not answer as expected is
# skipped (with the reason) instead of producing a meaningless figure.
preflight() {  # KEY MODE
    local key=$1 mode=$2 res
    res=$(run_loadgen "$key" --mode "$mode" --count 32 --concurrency 4 --timeout 5 --max-errors 0)
    if [[ -z $res || $(field "$res" errors) != 0 || $(field "$res" conns) != 32 ]]; then
        CSKIP[$key]="preflight failed: ${res:-no result} $(tail -2 "$WORK/loadgen-$key.err" 2>/dev/null | tr '\n' ' ')"
        log "SKIP $key (${CDESC[$key]}): ${CSKIP[$key]}"
        return 1
    fi
}

# One second of load per contender before its first measurement, so cold
# caches, lazily spawned Postfix daemons and first-touch allocations are not
# charged to whoever happens to run first in round 1.
warmup() {  # KEY MODE
    ((SMOKE)) && return 0
    [[ -z ${CSKIP[$1]:-} ]] || return 0
    run_loadgen "$1" --mode "$2" --concurrency "$CONC" --duration 1 >/dev/null
}

measure() {  # PHASE KEY ROUND MODE ARGS...
    local phase=$1 key=$2 round=$3 mode=$4
    shift 4
    [[ -z ${CSKIP[$key]:-} ]] || return 0
    local c0 c1 b0 b1 res conns rate cpu_us s0 s1 others roots lgt try
    for ((try = 0; ; try++)); do
        [[ -z ${CDRAIN[$key]} ]] || drain_queue "${CDRAIN[$key]}"
        roots=$(all_roots)
        c0=$(tree_cpu "${CROOT[$key]}")
        b0=$(tree_cpu "$roots")
        s0=$(cpu_sample)
        res=$(run_loadgen "$key" --mode "$mode" --concurrency "$CONC" "$@")
        s1=$(cpu_sample)
        b1=$(tree_cpu "$roots")
        c1=$(tree_cpu "${CROOT[$key]}")
        if [[ -z $res ]]; then
            log "$phase $key round $round: no result (see $WORK/loadgen-$key.err)"
            return 0
        fi
        conns=$(field "$res" conns)
        lgt=$(awk -v c="$(field "$res" lg_cpu)" -v s="$(field "$res" secs)" -v hz="$CLK_TCK" 'BEGIN { printf "%.0f\n", c * s * hz }')
        others=$(others_pct "$s0" "$s1" $((b1 - b0 + lgt)))
        # On a shared machine: measure again (bounded) when something outside
        # the benchmark took more than BENCH_MAX_OTHERS % of the CPUs meanwhile.
        if ((others > MAX_OTHERS && try < RETRIES)); then
            log "$phase $key round $round: others used ${others}% of the CPUs (> ${MAX_OTHERS}%), measuring again ($((try + 1))/$RETRIES)"
            sleep 5
            continue
        fi
        break
    done
    if [[ $mode == data ]]; then rate=$(field "$res" mb_per_s); else rate=$(field "$res" rate); fi
    cpu_us=$(awk -v d=$((c1 - c0)) -v hz="$CLK_TCK" -v n="$conns" 'BEGIN { printf "%.1f", (n > 0) ? (d * 1e6 / hz / n) : 0 }')
    echo "$phase $key $round $rate $cpu_us $(field "$res" errors) $(field "$res" p50_us) $(field "$res" p99_us) $(field "$res" lg_cpu) $conns $others" >>"$RES"
    echo "$phase $key r$round $res server_cpu_us_per_conn=$cpu_us others_cpu_pct=$others" >>"$WORK/raw.txt"
    log "$(printf '%-3s %-10s r%s rate=%-9s errors=%-3s p50_us=%-6s p99_us=%-6s server_cpu_us/conn=%-7s loadgen_cpu=%-5s others_cpu=%s%%' \
        "$phase" "$key" "$round" "$rate" "$(field "$res" errors)" "$(field "$res" p50_us)" \
        "$(field "$res" p99_us)" "$cpu_us" "$(field "$res" lg_cpu)" "$others")"
}

# median PHASE KEY COLUMN (4 rate, 5 cpu_us, 6 errors, 7 p50, 8 p99, 9 lg_cpu,
# 10 conns, 11 others' CPU %)
median() {
    awk -v p="$1" -v k="$2" -v c="$3" '$1 == p && $2 == k { print $c }' "$RES" | sort -g |
        awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
                                  else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
range() {  # PHASE KEY COLUMN -> "min-max" over the rounds
    awk -v p="$1" -v k="$2" -v c="$3" '$1 == p && $2 == k { v = $c + 0; if (n++ == 0 || v < lo) lo = v; if (n == 1 || v > hi) hi = v }
        END { if (n == 0) print "-"; else printf "%.0f-%.0f\n", lo, hi }' "$RES"
}
sum_col() { awk -v p="$1" -v k="$2" -v c="$3" '$1 == p && $2 == k { s += $c } END { print s + 0 }' "$RES"; }
ratio() {  # A B -> A/B in percent, or "-" when either is missing
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.1f%%\n", 100 * a / b }'
}
cost() {  # VIA DIRECT -> (1 - via/direct) in percent
    awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.1f%%\n", 100 * (1 - a / b) }'
}
verdict() {  # VALUE_PERCENT OP LIMIT
    local v=${1%\%}
    [[ $v == - ]] && { echo "pending"; return; }
    awk -v v="$v" -v op="$2" -v l="$3" 'BEGIN { ok = op == ">=" ? v >= l : v < l; print ok ? "met" : "NOT met" }'
}

# ============================================================================
P_MIN1=$((BASE + 1)) P_MIN2=$((BASE + 2)) P_MXS1=$((BASE + 3)) P_MXS2=$((BASE + 4)) P_PSD=$((BASE + 5))
P_BE=$((BASE + 10)) P_BEPROXY=$((BASE + 11)) P_PSA=$((BASE + 12)) P_MXSH=$((BASE + 13))
P_SINK=$((BASE + 14)) P_MXSSINK=$((BASE + 15)) P_HAPH=$((BASE + 16)) P_HAPSINK=$((BASE + 17))

# Percentage of all CPUs busy over the next 2 seconds (from /proc/stat).
cpu_busy_pct() {
    local a b
    a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat)
    sleep 2
    b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8, $5 + $6 }' /proc/stat)
    awk -v a="$a" -v b="$b" 'BEGIN { split(a, x, " "); split(b, y, " ")
        busy = y[1] - x[1]; idle = y[2] - x[2]; printf "%d\n", ((busy + idle) > 0 ? 100 * busy / (busy + idle) : 0) }'
}
WAIT_IDLE=${BENCH_WAIT_IDLE:-0}
BUSY=$(cpu_busy_pct)
for ((waited = 2; BUSY > 10 && waited < WAIT_IDLE; waited += 2)); do
    ((waited % 30)) || log "machine is ${BUSY}% busy; waiting for it to be idle (${waited}s of ${WAIT_IDLE}s)"
    BUSY=$(cpu_busy_pct)
done
((BUSY <= 10)) || log "warning: machine is ${BUSY}% busy before the benchmark; figures will be skewed"
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg) (CPUs ${BUSY}% busy)"
log "work directory $WORK; ${SECS}s x $ROUNDS rounds, concurrency $CONC, sources $SOURCES, pin=$PIN"

# The backend serves (b)/(c) and is mxscreen's hand-off target everywhere;
# it idles during (a).
start_postfix "$WORK/pf-backend" backend "$P_BE" --proxy-port "$P_BEPROXY"
BE_PID=$("$PSI" pid "$WORK/pf-backend")

# ---------------------------------------------------------------- (a) reject
log "(a) reject path"
start_bg min1 1 "$P_MIN1" "$MINIMAL_SERVER" "$P_MIN1" 1
contender min1 "$P_MIN1" "${BGPID[min1]}" 1 "minimal C server, 1 thread"
PS_PIN=()
((PIN)) && PS_PIN=(--cpus 0)
start_postfix "$WORK/pf-postscreen" postscreen "$P_PSD" "${PS_PIN[@]}"
contender ps "$P_PSD" "$("$PSI" pid "$WORK/pf-postscreen")" 1 "Postfix postscreen (1 process + master/postlogd)"
A_KEYS=(min1)
if ((HAVE_MXS)); then
    contender mxs1 "$P_MXS1" 0 1 "mxscreen, workers: 1"
    if start_mxs mxs1 1 "$P_MXS1" 1 127.0.0.1/32 "$P_BE" none; then
        CROOT[mxs1]=${BGPID[mxs1]}
    else
        CSKIP[mxs1]="did not start (see $WORK/mxs1.out)"
    fi
    A_KEYS+=(mxs1)
fi
A_KEYS+=(ps)
if ((TWO)); then
    start_bg min2 0 "$P_MIN2" "$MINIMAL_SERVER" "$P_MIN2" 2
    contender min2 "$P_MIN2" "${BGPID[min2]}" 0 "minimal C server, 2 threads (unpinned)"
    A_KEYS+=(min2)
    if ((HAVE_MXS)); then
        contender mxs2 "$P_MXS2" 0 0 "mxscreen, workers: 2 (unpinned)"
        if start_mxs mxs2 0 "$P_MXS2" 2 127.0.0.1/32 "$P_BE" none; then
            CROOT[mxs2]=${BGPID[mxs2]}
        else
            CSKIP[mxs2]="did not start (see $WORK/mxs2.out)"
        fi
        A_KEYS+=(mxs2)
    fi
fi
for k in "${A_KEYS[@]}"; do [[ -n ${CSKIP[$k]:-} ]] || preflight "$k" reject || true; done
for k in "${A_KEYS[@]}"; do warmup "$k" reject; done
for ((r = 1; r <= ROUNDS; r++)); do
    for k in "${A_KEYS[@]}"; do measure a "$k" "$r" reject --duration "$SECS"; done
done
for n in min1 min2 mxs1 mxs2; do stop_name "$n"; done
"$PSI" stop "$WORK/pf-postscreen"

# ------------------------------------------------ (b) session, (c) large DATA
log "(b) short sessions and (c) large DATA through the hand-off"
contender direct "$P_BE" "$BE_PID" 0 "straight to Postfix smtpd" "$WORK/pf-backend"
start_postfix "$WORK/pf-postscreen-allow" postscreen "$P_PSA" --allow
contender ps_h "$P_PSA" "$("$PSI" pid "$WORK/pf-postscreen-allow")" 0 \
    "postscreen (allowlisted) -> its smtpd" "$WORK/pf-postscreen-allow"
B_KEYS=(direct)
if ((HAVE_MXS)); then
    contender mxs_h "$P_MXSH" 0 0 "mxscreen (permit) -> smtpd, PROXY v2" "$WORK/pf-backend"
    if start_mxs mxs_h 0 "$P_MXSH" 1 127.0.0.0/8 "$P_BEPROXY" v2; then
        CROOT[mxs_h]=${BGPID[mxs_h]}
    else
        CSKIP[mxs_h]="did not start (see $WORK/mxs_h.out)"
    fi
    B_KEYS+=(mxs_h)
fi
B_KEYS+=(ps_h)
if ((HAPROXY)); then
    if start_haproxy hap_h "$P_HAPH" "$P_BEPROXY" send-proxy-v2; then
        contender hap_h "$P_HAPH" "${BGPID[hap_h]}" 0 "haproxy (tcp, 1 thread) -> smtpd, PROXY v2" "$WORK/pf-backend"
        B_KEYS+=(hap_h)
    fi
fi
if ((SINK)); then
    # smtp-sink is one event-driven process that stores nothing: the fastest
    # backend available, so any forwarding overhead shows up undiluted.
    start_bg sink 0 "$P_SINK" smtp-sink -u nobody -m 1024 -h bench-sink.example "127.0.0.1:$P_SINK" 1024
    contender sink "$P_SINK" "${BGPID[sink]}" 0 "straight to smtp-sink"
    B_KEYS+=(sink)
    if ((HAVE_MXS)); then
        contender mxs_sink "$P_MXSSINK" 0 0 "mxscreen (permit) -> smtp-sink, no PROXY"
        if start_mxs mxs_sink 0 "$P_MXSSINK" 1 127.0.0.0/8 "$P_SINK" none; then
            CROOT[mxs_sink]=${BGPID[mxs_sink]}
        else
            CSKIP[mxs_sink]="did not start (see $WORK/mxs_sink.out)"
        fi
        B_KEYS+=(mxs_sink)
    fi
    if ((HAPROXY)) && start_haproxy hap_sink "$P_HAPSINK" "$P_SINK" ""; then
        contender hap_sink "$P_HAPSINK" "${BGPID[hap_sink]}" 0 "haproxy (tcp, 1 thread) -> smtp-sink"
        B_KEYS+=(hap_sink)
    fi
fi
for k in "${B_KEYS[@]}"; do [[ -n ${CSKIP[$k]:-} ]] || preflight "$k" session || true; done
for k in "${B_KEYS[@]}"; do warmup "$k" session; done
for ((r = 1; r <= ROUNDS; r++)); do
    for k in "${B_KEYS[@]}"; do measure b "$k" "$r" session --duration "$SECS"; done
done
for ((r = 1; r <= ROUNDS; r++)); do
    for k in "${B_KEYS[@]}"; do measure c "$k" "$r" data --count 1 --bytes "$DATA_BYTES" --timeout 60; done
done

# ----------------------------------------------------------------- summary
m() { median "$@"; }
# A row whose measurements are missing: label, reason, then empty cells.
stub_row() {  # NCOLS LABEL REASON
    local n=$1 out="| $2 | $3 |" i
    for ((i = 2; i < n; i++)); do out+=" |"; done
    echo "$out"
}
SUM=$WORK/summary.md
{
    echo "Run: $(date -u '+%Y-%m-%d %H:%M UTC'); $NPROC CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)); kernel $(uname -r); Postfix $(/usr/sbin/postconf -d -h mail_version 2>/dev/null)."
    echo "Machine before the run: load average $LOAD_BEFORE; after: $(cut -d' ' -f1-3 /proc/loadavg). \"others\" = CPU used by processes outside the benchmark during each measurement (min-max over rounds), in % of all CPUs."
    echo "Settings: ${SECS}s per measurement, $ROUNDS rounds alternating, concurrency $CONC, sources $SOURCES, DATA $DATA_BYTES, re-measure when others > ${MAX_OTHERS}% (up to $RETRIES times), pinning $( ((PIN)) && echo 'servers CPU 0 / load generator CPU 1 in (a) 1-thread rows' || echo off)$( ((SMOKE)) && echo ', SMOKE RUN (figures meaningless)')."
    echo
    echo "(a) Reject path, denylisted clients, action drop (medians)"
    echo
    echo "| contender | conns/s | (min-max) | server CPU us/conn | p50 us | p99 us | errors (sum) | loadgen CPU | others' CPU % |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    A_ROWS=(min1 mxs1 ps)
    ((TWO)) && A_ROWS+=(min2 mxs2)
    for k in "${A_ROWS[@]}"; do
        if [[ -z ${CDESC[$k]:-} ]]; then
            stub_row 9 "mxscreen, workers: ${k#mxs}" "pending (no mxscreen binary yet)"
        elif [[ -n ${CSKIP[$k]:-} ]]; then
            stub_row 9 "${CDESC[$k]}" "skipped: ${CSKIP[$k]}"
        else
            echo "| ${CDESC[$k]} | $(m a "$k" 4) | $(range a "$k" 4) | $(m a "$k" 5) | $(m a "$k" 7) | $(m a "$k" 8) | $(sum_col a "$k" 6) | $(m a "$k" 9) | $(range a "$k" 11) |"
        fi
    done
    echo
    r1=$(ratio "$(m a mxs1 4)" "$(m a min1 4)")
    echo "| ratio (a) | value | target |"
    echo "|---|---:|---|"
    echo "| mxscreen / minimal, 1 thread (conns/s) | $r1 | >= 80%: $(verdict "$r1" '>=' 80) |"
    echo "| minimal / mxscreen, 1 thread (CPU per conn) | $(ratio "$(m a min1 5)" "$(m a mxs1 5)") | |"
    echo "| postscreen / minimal, 1 thread (conns/s) | $(ratio "$(m a ps 4)" "$(m a min1 4)") | |"
    echo "| minimal / postscreen (CPU per conn) | $(ratio "$(m a min1 5)" "$(m a ps 5)") | |"
    echo "| mxscreen / postscreen (conns/s) | $(ratio "$(m a mxs1 4)" "$(m a ps 4)") | |"
    if ((TWO)); then
        r2=$(ratio "$(m a mxs2 4)" "$(m a min2 4)")
        echo "| mxscreen / minimal, 2 threads (conns/s) | $r2 | >= 80%: $(verdict "$r2" '>=' 80) |"
    fi
    echo
    echo "(b) Short SMTP session (EHLO, MAIL, RCPT, DATA of ~120 bytes, QUIT) and (c) one ${DATA_BYTES} DATA (medians)"
    echo
    echo "| path | (b) sessions/s | (min-max) | (b) p50 us | (b) errors | screener CPU us/session | (c) MB/s | (min-max) | screener CPU ms/message | others' CPU % (b) |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    B_ROWS=(direct mxs_h ps_h)
    ((HAPROXY)) && B_ROWS+=(hap_h)
    ((SINK)) && B_ROWS+=(sink mxs_sink)
    ((SINK && HAPROXY)) && B_ROWS+=(hap_sink)
    for k in "${B_ROWS[@]}"; do
        if [[ -z ${CDESC[$k]:-} ]]; then
            case $k in
                mxs_h) stub_row 10 "mxscreen (permit) -> smtpd, PROXY v2" "pending (no mxscreen binary yet)" ;;
                mxs_sink) stub_row 10 "mxscreen (permit) -> smtp-sink, no PROXY" "pending (no mxscreen binary yet)" ;;
            esac
            continue
        fi
        if [[ -n ${CSKIP[$k]:-} ]]; then stub_row 10 "${CDESC[$k]}" "skipped: ${CSKIP[$k]}"; continue; fi
        # Only mxscreen's and haproxy's own processes are relays here; the
        # Postfix rows' CPU would include smtpd/cleanup, so it is left out.
        cpu=-; cpuc=-
        if [[ $k == mxs_* || $k == hap_* ]]; then
            cpu=$(m b "$k" 5)
            cpuc=$(awk -v v="$(m c "$k" 5)" 'BEGIN { if (v == "-") print "-"; else printf "%.0f\n", v / 1000 }')
        fi
        echo "| ${CDESC[$k]} | $(m b "$k" 4) | $(range b "$k" 4) | $(m b "$k" 7) | $(sum_col b "$k" 6) | $cpu | $(m c "$k" 4) | $(range c "$k" 4) | $cpuc | $(range b "$k" 11) |"
    done
    echo
    hb=$(cost "$(m b mxs_h 4)" "$(m b direct 4)"); hc=$(cost "$(m c mxs_h 4)" "$(m c direct 4)")
    echo "| hand-off cost vs straight to the backend | value | target |"
    echo "|---|---:|---|"
    echo "| (b) mxscreen -> smtpd, sessions/s | $hb | < 5%: $(verdict "$hb" '<' 5) |"
    echo "| (c) mxscreen -> smtpd, MB/s | $hc | < 5%: $(verdict "$hc" '<' 5) |"
    echo "| (b) postscreen -> smtpd, sessions/s | $(cost "$(m b ps_h 4)" "$(m b direct 4)") | |"
    echo "| (c) postscreen -> smtpd, MB/s | $(cost "$(m c ps_h 4)" "$(m c direct 4)") | |"
    if ((HAPROXY)); then
        echo "| (b) haproxy -> smtpd, sessions/s (relay floor) | $(cost "$(m b hap_h 4)" "$(m b direct 4)") | |"
        echo "| (c) haproxy -> smtpd, MB/s (relay floor) | $(cost "$(m c hap_h 4)" "$(m c direct 4)") | |"
    fi
    if ((SINK)); then
        hs=$(cost "$(m b mxs_sink 4)" "$(m b sink 4)"); hsc=$(cost "$(m c mxs_sink 4)" "$(m c sink 4)")
        echo "| (b) mxscreen -> smtp-sink, sessions/s | $hs | < 5%: $(verdict "$hs" '<' 5) |"
        echo "| (c) mxscreen -> smtp-sink, MB/s | $hsc | < 5%: $(verdict "$hsc" '<' 5) |"
        if ((HAPROXY)); then
            echo "| (b) haproxy -> smtp-sink, sessions/s (relay floor) | $(cost "$(m b hap_sink 4)" "$(m b sink 4)") | |"
            echo "| (c) haproxy -> smtp-sink, MB/s (relay floor) | $(cost "$(m c hap_sink 4)" "$(m c sink 4)") | |"
            echo "| (b) mxscreen / haproxy -> smtp-sink, sessions/s | $(ratio "$(m b mxs_sink 4)" "$(m b hap_sink 4)") | |"
        fi
    fi
    echo
    echo "Binaries: mxscreen $( ((HAVE_MXS)) && echo "$MXSCREEN" || echo "(none: pending)"), $LOADGEN, $MINIMAL_SERVER; work directory on $TMPBASE."
    echo "Command: tests/bench/run.sh$( ((SMOKE)) && echo ' --smoke') $BUILD (BENCH_SECONDS=$SECS BENCH_ROUNDS=$ROUNDS BENCH_CONCURRENCY=$CONC BENCH_DATA_BYTES=$DATA_BYTES BENCH_PIN=$PIN)"
} >"$SUM"
echo
cat "$SUM"
if [[ -n ${BENCH_OUT:-} ]]; then
    cp "$SUM" "$BENCH_OUT"
    cp "$WORK/raw.txt" "$BENCH_OUT.raw" 2>/dev/null || true
fi
exit 0
}
