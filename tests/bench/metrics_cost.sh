#!/bin/bash
# metrics_cost.sh: what metrics, the admin server and a plugin hook cost on
# the reject path, counted in instructions (results go to docs/benchmarks.md).
#
# Owns: running the gateway (workers: 1) under `valgrind --tool=callgrind
# --separate-threads=yes` while mxs_loadgen sends a fixed number of clients,
# each from its own 127.x source address, that an access_cidr denylist drops
# (521, close), and printing instructions per connection for three
# configurations (there is no "no metrics" one: metrics are always recorded;
# the figure before metrics existed is in docs/benchmarks.md):
#   1. base    - the denylist alone, no admin server;
#   2. admin   - the same plus `admin: { address: 127.0.0.1:PORT }` (the
#                top-talkers tracker is on): worker thread and whole process;
#   3. plugin  - the rate_limit example plugin (limit 1000000 per 1d, so it
#                refuses nobody) before the denylist, so its connect hook runs
#                on every connection: what one plugin hook costs.
# Why instructions and not time: this machine is shared (builds, CI), so
# wall-clock figures swing by 2x; callgrind's counts repeat to within ~100
# instructions per connection (0.5%) whatever else runs.
# Method: each configuration runs twice, with N0 and with N connections; the
# figure is (Ir(N) - Ir(N0)) / (N - N0), so start-up, config building and
# shutdown cancel out. The two runs of a configuration go side by side (the
# counts do not care; it halves the wall time). The worker thread is the callgrind part file whose
# code ran Worker::Start's thread body; "process" is all threads together.
# Every wait is bounded, everything runs on 127.0.0.1, and every process
# started here is stopped on exit (SIGTERM starts a drain; SIGINT during the
# drain ends it at once; SIGKILL as a last resort).
#
# Usage: tests/bench/metrics_cost.sh [--smoke] [BUILD_DIR (default build)]
#   BUILD_DIR holds mxscreen and tests/bench/mxs_loadgen (override with
#   MXSCREEN=, LOADGEN=); the plugin is BUILD_DIR/examples-plugins/rate_limit.so
#   (PLUGIN=; scripts/build-example-plugins.sh builds it; without it the
#   plugin row is skipped and says so).
# Environment: MC_N (20000) and MC_N0 (2000) connections per run,
#   MC_CONCURRENCY (8), MC_PORT_BASE (25500; ports BASE to BASE+52), MC_RUN_TIMEOUT (900 s per run),
#   MC_KEEP (0; 1 keeps the work directory with callgrind files and logs),
#   MC_OUT (file to copy the markdown table to), MC_CONFIGS ("base admin
#   plugin": which configurations run; base is always needed).
#   --smoke: N=500, N0=100 - for CI; checks that it works, the figures are
#   rough (a few hundred connections are too few to average timer work out).
set -euo pipefail
# One compound command: bash parses the whole file before running it.
{

HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/bench/lib.sh
. "$HERE/lib.sh"
ROOT=$(cd "$HERE/../.." && pwd)
SMOKE=0
BUILD=build
for a in "$@"; do
    case $a in
        --smoke) SMOKE=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "metrics_cost.sh: unknown option $a" >&2; exit 2 ;;
        *) BUILD=$a ;;
    esac
done
BUILD=$(cd "$BUILD" 2>/dev/null && pwd) || { echo "metrics_cost.sh: no build directory $BUILD" >&2; exit 1; }

N=${MC_N:-20000}
N0=${MC_N0:-2000}
if ((SMOKE)); then N=500; N0=100; fi
CONC=${MC_CONCURRENCY:-8}
BASE=${MC_PORT_BASE:-25500}
RUN_TIMEOUT=${MC_RUN_TIMEOUT:-900}
SOURCES=127.0.0.2-127.0.255.254   # 127.0.0.1 is mynetworks in the configs
MXSCREEN=${MXSCREEN:-$BUILD/mxscreen}
LOADGEN=${LOADGEN:-$BUILD/tests/bench/mxs_loadgen}
PLUGIN=${PLUGIN:-$BUILD/examples-plugins/rate_limit.so}

log() { echo "[metrics_cost] $*" >&2; }
die() { echo "metrics_cost.sh: $*" >&2; exit 1; }

((N > N0 && N0 > 0)) || die "need MC_N > MC_N0 > 0 (got $N, $N0)"
[[ -x $MXSCREEN ]] || die "no mxscreen at $MXSCREEN"
[[ -x $LOADGEN ]] || die "no load generator at $LOADGEN (build target mxs_loadgen)"
if ! command -v valgrind >/dev/null; then
    log "valgrind missing: installing it (scripts/install-deps.sh valgrind)"
    "$ROOT/scripts/install-deps.sh" valgrind
fi
command -v valgrind >/dev/null || die "valgrind is not installed"
HAVE_PLUGIN=1
[[ -f $PLUGIN ]] || { HAVE_PLUGIN=0; log "no plugin at $PLUGIN: the plugin row is skipped (scripts/build-example-plugins.sh builds it)"; }
PLUGIN=$(cd "$(dirname "$PLUGIN")" 2>/dev/null && pwd)/$(basename "$PLUGIN")

hard=$(ulimit -Hn)
[[ $hard == unlimited ]] && hard=65536
ulimit -n $((hard < 65536 ? hard : 65536)) 2>/dev/null || true

TMPBASE=/dev/shm
[[ -d $TMPBASE && -w $TMPBASE ]] || TMPBASE=/tmp
WORK=$(mktemp -d "$TMPBASE/mxs-metrics-cost.XXXXXX")
SUBS=()

# shellcheck disable=SC2317  # invoked through the EXIT trap
stop_gateway() {
    local pid=$GW_PID
    [[ -n $pid ]] || return 0
    GW_PID=
    # With no connection left the drain ends at once; otherwise SIGINT ends
    # it. callgrind writes its files on exit: give it up to 60 s.
    stop_pid "$pid" 20 600
}

# shellcheck disable=SC2317  # invoked through the EXIT trap
cleanup() {
    local rc=$? pid
    trap - EXIT INT TERM
    # The run subshells stop their own gateway and load generator on TERM.
    for pid in "${SUBS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${SUBS[@]}"; do wait "$pid" 2>/dev/null || true; done
    if [[ ${MC_KEEP:-0} == 1 || $rc != 0 ]]; then
        log "work directory kept: $WORK"
    else
        rm -rf "$WORK"
    fi
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port_busy() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

write_config() {  # FILE NAME PORT KIND(base|admin|plugin)
    local file=$1 name=$2 port=$3 kind=$4
    mkdir -p "$WORK/$name/store"
    {
        echo "hostname: bench.example"
        echo "workers: 1"
        echo "store: { path: $WORK/$name/store }"
        echo "logging: { sink: file, path: $WORK/$name/mxscreen.log }"
        [[ $kind == admin ]] && echo "admin: { address: 127.0.0.1:$((port + 1)) }"
        echo "listeners:"
        echo "  - name: smtp"
        echo "    address: 127.0.0.1:$port"
        echo "    filters:"
        if [[ $kind == plugin ]]; then
            # First in the chain: the connect phase ends at the first drop,
            # so only a plugin before the denylist runs on every connection.
            # hook_budget 60s: under callgrind a hook is ~50x slower and must
            # not be reported as an overrun (a log line the others lack).
            echo "      - name: rate_limit"
            echo "        plugin:"
            echo "          path: $PLUGIN"
            echo "          hook_budget: 60s"
            echo "          config: { limit: 1000000, window: 1d }"
            echo "        action: drop"
        fi
        cat <<EOF
      - name: access_cidr
        action: drop
        typed_config:
          mynetworks: ["127.0.0.1/32"]
          access_list:
            - permit_mynetworks: true
            - cidr: { lines: ["127.0.0.0/8 reject"] }
    handoff:
      backends: ["127.0.0.1:$((port + 2))"]
      proxy_protocol: none
EOF
    } >"$file"
}

# Sum of the "summary:" lines of callgrind part files (one per thread).
ir_of() { awk '/^summary:/ { s += $2 } END { printf "%.0f\n", s }' "$@"; }

# How often the worker called FUNCTION (a demangled name's tail): the calls=
# lines under the cfn= lines that end with it.
calls_of() {  # FILE FUNCTION
    awk -v fn="$2" '/^cfn=/ { hit = length($0) >= length(fn) && substr($0, length($0) - length(fn) + 1) == fn; next }
        hit && /^calls=/ { split($0, c, /[= ]/); n += c[2] } { hit = 0 }
        END { printf "%.0f\n", n }' "$1"
}

# The part file of the worker thread: the one that ran the body of the
# thread Worker::Start made (demangled into the std::thread state's name).
worker_part() {  # PREFIX -> path
    local f
    for f in "$1".*-*; do
        grep -q 'Worker::Start()::{lambda' "$f" && grep -q 'Session' "$f" && { echo "$f"; return 0; }
    done
    return 1
}

# run_one NAME KIND COUNT PORT: one gateway under callgrind, COUNT rejected
# connections, stop; leaves "<worker Ir> <process Ir> <threads>" in
# $WORK/NAME.ir. Runs in a subshell of its own (see run_pair).
run_one() {
    local name=$1 kind=$2 count=$3 port=$4 res conns errors i wpart t0 t1 t2
    for i in 0 1 2; do port_busy $((port + i)) && die "port $((port + i)) is in use (set MC_PORT_BASE)"; done
    write_config "$WORK/$name.yaml" "$name" "$port" "$kind"
    t0=$(date +%s)
    # --compress-strings=no: every part file names its functions itself
    # (compressed names are defined once for all threads), so they can be grepped.
    valgrind --tool=callgrind --separate-threads=yes --compress-strings=no \
        --callgrind-out-file="$WORK/$name.cg.%p" \
        "$MXSCREEN" run --config "$WORK/$name.yaml" >"$WORK/$name.out" 2>&1 &
    GW_PID=$!
    # Start-up under callgrind takes seconds: bounded at 120 s.
    for ((i = 0; i < 1200; i++)); do
        port_busy "$port" && break
        kill -0 "$GW_PID" 2>/dev/null || { tail -5 "$WORK/$name.out" >&2; die "$name: the gateway exited while starting"; }
        sleep 0.1
    done
    port_busy "$port" || { tail -5 "$WORK/$name.out" >&2; die "$name: the gateway did not listen on $port within 120 s"; }
    t1=$(date +%s)
    # In the background so that a TERM to this subshell is handled at once.
    timeout "$RUN_TIMEOUT" "$LOADGEN" --target "127.0.0.1:$port" --sources "$SOURCES" \
        --mode reject --count "$count" --concurrency "$CONC" --timeout 60 --max-errors 0 \
        --duration "$RUN_TIMEOUT" >"$WORK/$name.loadgen.out" 2>"$WORK/$name.loadgen.err" &
    LG_PID=$!
    wait "$LG_PID" || true
    LG_PID=
    res=$(grep '^RESULT' "$WORK/$name.loadgen.out" | tail -1 || true)
    conns=$(sed -n 's/.* conns=\([0-9]*\).*/\1/p' <<<"$res")
    errors=$(sed -n 's/.* errors=\([0-9]*\).*/\1/p' <<<"$res")
    t2=$(date +%s)
    stop_gateway || die "$name: the gateway had to be killed; no callgrind totals"
    [[ $conns == "$count" && $errors == 0 ]] ||
        die "$name: wanted $count rejected connections and no errors, got: ${res:-no result} $(tail -2 "$WORK/$name.loadgen.err" 2>/dev/null | tr '\n' ' ')"
    # Every connection must have taken the reject path: one denylist line per client.
    i=$(grep -cE ' (DENY|BLACK)LISTED \[' "$WORK/$name/mxscreen.log" || true)
    [[ $i == "$count" ]] || die "$name: $i reject lines in the log, wanted $count ($WORK/$name/mxscreen.log)"
    wpart=$(worker_part "$WORK/$name.cg") || die "$name: no worker thread among the callgrind files"
    if [[ $kind == plugin ]]; then
        # The plugin runs from a memfd copy (core/plugin_loader.cc), so callgrind
        # has no symbols for it; count the gateway's calls into its hook instead.
        i=$(calls_of "$wpart" "::PluginSession::OnConnect(mxs::SessionCallbacks&)")
        [[ $i == "$count" ]] || die "$name: the plugin's connect hook ran $i times on the worker, wanted $count"
    fi
    echo "$(ir_of "$wpart") $(ir_of "$WORK/$name.cg".*-*) $(find "$WORK" -maxdepth 1 -name "$name.cg.*-*" | wc -l)" >"$WORK/$name.ir"
    log "$name: start $((t1 - t0)) s, $count connections $((t2 - t1)) s, stop $(($(date +%s) - t2)) s; Ir worker/process, threads: $(cat "$WORK/$name.ir")"
}

# run_pair KIND INDEX: the N0 and the N run of one configuration at the same
# time (instruction counts do not depend on what else runs, and two at once
# halves the wall time on two cores), each in a subshell that stops its own
# gateway and load generator however it ends.
SUBS=()
run_pair() {
    local kind=$1 port=$((BASE + 20 * $2)) a b rc=0
    (
        LG_PID='' GW_PID=''
        trap '[[ -z $LG_PID ]] || kill -TERM "$LG_PID" 2>/dev/null || true; stop_gateway || true' EXIT
        trap 'exit 130' INT TERM
        run_one "$kind-n0" "$kind" "$N0" "$port"
    ) &
    a=$!
    (
        LG_PID='' GW_PID=''
        trap '[[ -z $LG_PID ]] || kill -TERM "$LG_PID" 2>/dev/null || true; stop_gateway || true' EXIT
        trap 'exit 130' INT TERM
        run_one "$kind-n" "$kind" "$N" $((port + 10))
    ) &
    b=$!
    SUBS=("$a" "$b")
    wait "$a" || rc=1
    wait "$b" || rc=1
    SUBS=()
    ((rc == 0)) || die "configuration $kind failed (see above)"
}

read -r -a KINDS <<<"${MC_CONFIGS:-base admin plugin}"
((HAVE_PLUGIN)) || read -r -a KINDS <<<"${KINDS[*]/plugin/}"
[[ " ${KINDS[*]} " == *" base "* ]] || die "MC_CONFIGS must include base (the reference row)"
log "work directory $WORK; N=$N N0=$N0 concurrency $CONC; configurations: ${KINDS[*]}"
for i in "${!KINDS[@]}"; do run_pair "${KINDS[$i]}" "$i"; done

per_conn() {  # KIND FIELD(1 worker, 2 process)
    awk -v a="$(cut -d' ' -f"$2" "$WORK/$1-n.ir")" -v b="$(cut -d' ' -f"$2" "$WORK/$1-n0.ir")" \
        -v n=$((N - N0)) 'BEGIN { printf "%.0f\n", (a - b) / n }'
}
delta() {  # VALUE BASE -> "+X (+Y%)"
    awk -v v="$1" -v b="$2" 'BEGIN { printf "%+d (%+.1f%%)\n", v - b, 100 * (v - b) / b }'
}
fmt() { sed -E ':a; s/^([-+]?[0-9]+)([0-9]{3})/\1,\2/; ta' <<<"$1"; }

BW=$(per_conn base 1) BP=$(per_conn base 2)
SUM=$WORK/summary.md
{
    echo "Instructions per rejected connection (callgrind Ir, (Ir(N) - Ir(N0)) / (N - N0), N=$N, N0=$N0, concurrency $CONC$( ((SMOKE)) && echo ', SMOKE RUN: rough figures'))"
    echo
    echo "| configuration | worker thread Ir/conn | vs 1 | whole process Ir/conn | vs 1 | other threads Ir/conn | threads seen |"
    echo "|---|---:|---:|---:|---:|---:|---:|"
    echo "| 1. denylist (drop), no admin server | $(fmt "$BW") | | $(fmt "$BP") | | $(fmt $((BP - BW))) | $(cut -d' ' -f3 "$WORK/base-n.ir") |"
    if [[ -f $WORK/admin-n.ir ]]; then
        AW=$(per_conn admin 1) AP=$(per_conn admin 2)
        echo "| 2. + admin server (top talkers on) | $(fmt "$AW") | $(delta "$AW" "$BW") | $(fmt "$AP") | $(delta "$AP" "$BP") | $(fmt $((AP - AW))) | $(cut -d' ' -f3 "$WORK/admin-n.ir") |"
    fi
    if [[ -f $WORK/plugin-n.ir ]]; then
        PW=$(per_conn plugin 1) PP=$(per_conn plugin 2)
        echo "| 3. rate_limit plugin (connect hook) + denylist | $(fmt "$PW") | $(delta "$PW" "$BW") | $(fmt "$PP") | $(delta "$PP" "$BP") | $(fmt $((PP - PW))) | $(cut -d' ' -f3 "$WORK/plugin-n.ir") |"
    elif ((!HAVE_PLUGIN)); then
        echo "| 3. rate_limit plugin + denylist | skipped: no $PLUGIN | | | | | |"
    fi
    echo
    echo "Binaries: $MXSCREEN, $LOADGEN$( ((HAVE_PLUGIN)) && echo ", $PLUGIN"); $(valgrind --version); $(date -u '+%Y-%m-%d %H:%M UTC')."
    echo "Command: tests/bench/metrics_cost.sh$( ((SMOKE)) && echo ' --smoke') $BUILD (MC_N=$N MC_N0=$N0 MC_CONCURRENCY=$CONC)"
} >"$SUM"
echo
cat "$SUM"
[[ -z ${MC_OUT:-} ]] || cp "$SUM" "$MC_OUT"
exit 0
}
