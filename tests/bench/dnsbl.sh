#!/bin/bash
# dnsbl.sh: the DNSBL benchmark (issue 4); results go to docs/benchmarks.md,
# section "DNSBL".
#
# Questions:
#   (a) screened connections/s when every new client needs three DNSBL
#       lookups, for mxscreen (workers: 1, pinned to CPU 0; and workers: 2,
#       unpinned) side by side with Postfix postscreen (pinned to CPU 0; its
#       dnsblog helpers included). The lists are served by rbldnsd on
#       127.0.0.1:53 and list all of 127.0.0.0/8, so every client scores 3 of
#       threshold 3 and is dropped with "521 5.7.1 ... blocked using ...";
#       pregreet is off (postscreen: an empty postscreen_greet_banner). Every
#       connection comes from a new source address (mxs_loadgen round robin
#       over four /16 blocks of 127/8 per measurement), so nothing is
#       answered from a cache.
#   (b) the time to first byte (the backend's banner after the hand-off) of
#       allowlisted clients (access_cidr permit) while DNSBL_HOLD (3000)
#       sessions wait on a list that never answers (its nameserver is a UDP
#       socket nobody reads): mxscreen only, p50/p99/max over DNSBL_PROBES
#       (500) fresh clients, against the same clients with nobody waiting.
# postscreen reads /etc/resolv.conf, so everything runs in a network
# namespace of its own (only loopback exists there; `ip netns exec` mounts
# /etc/netns/NAME/resolv.conf = "nameserver 127.0.0.1" over /etc/resolv.conf).
# No packet can leave the machine. Every wait is bounded; everything started
# here is stopped on exit.
#
# Usage: tests/bench/dnsbl.sh [--smoke] [BUILD_DIR (default build)]
#   BUILD_DIR holds mxscreen and tests/bench/mxs_loadgen.
# Environment: BENCH_SECONDS (10) per measurement, BENCH_ROUNDS (3),
#   BENCH_CONCURRENCY (64), DNSBL_HOLD (3000), DNSBL_PROBES (500),
#   BENCH_PIN (1), BENCH_OUT (file to copy the markdown summary to).
#   --smoke: 1 s, 1 round, 100 held, 20 probes: checks that it works.
set -euo pipefail
{

HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
SMOKE=0
BUILD=$REPO/build
for a in "$@"; do
    case $a in
        --smoke) SMOKE=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "dnsbl.sh: unknown option $a" >&2; exit 2 ;;
        *) BUILD=$(cd "$a" && pwd) ;;
    esac
done
SECS=${BENCH_SECONDS:-10}
ROUNDS=${BENCH_ROUNDS:-3}
CONC=${BENCH_CONCURRENCY:-64}
HOLD=${DNSBL_HOLD:-3000}
PROBES=${DNSBL_PROBES:-500}
PIN=${BENCH_PIN:-1}
if ((SMOKE)); then SECS=1; ROUNDS=1; HOLD=100; PROBES=20; fi
MXSCREEN=${MXSCREEN:-$BUILD/mxscreen}
LOADGEN=${LOADGEN:-$BUILD/tests/bench/mxs_loadgen}
NS=mxsbench-dnsbl-$$

# --- re-run inside a fresh network namespace --------------------------------
if [[ -z ${MXS_DNSBL_NETNS:-} ]]; then
    [[ -x $MXSCREEN && -x $LOADGEN ]] || { echo "dnsbl.sh: build mxscreen and mxs_loadgen in $BUILD" >&2; exit 2; }
    mkdir -p "/etc/netns/$NS"
    echo "nameserver 127.0.0.1" >"/etc/netns/$NS/resolv.conf"
    ip netns add "$NS"
    trap 'ip netns del "$NS" 2>/dev/null; rm -rf "/etc/netns/$NS"' EXIT
    ip -n "$NS" link set lo up
    rc=0
    ip netns exec "$NS" env MXS_DNSBL_NETNS=1 MXSCREEN="$MXSCREEN" LOADGEN="$LOADGEN" \
        "$0" "$@" || rc=$?
    exit $rc
fi

WORK=$(mktemp -d "$([[ -w /dev/shm ]] && echo /dev/shm || echo /tmp)/mxs-dnsbl-bench.XXXXXX")
chmod 755 "$WORK"
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    "$HERE/postscreen_instance.sh" stop "$WORK/postscreen" 2>/dev/null || true
    "$HERE/postscreen_instance.sh" stop "$WORK/backend" 2>/dev/null || true
    sleep 0.3
    for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
ulimit -n "$(ulimit -Hn)"
# CPU pinning as a command prefix (not a function: a background function
# would be a subshell, and $! its pid instead of the server's).
ON0=() ON1=()
if ((PIN)); then ON0=(taskset -c 0) ON1=(taskset -c 1); fi
wait_port() {  # bounded: 10 s
    for _ in $(seq 100); do ss -Hltn "sport = :$1" | grep -q . && return 0; sleep 0.1; done
    echo "dnsbl.sh: nothing listens on $1" >&2; return 1
}

# --- rbldnsd: three lists that list all of 127/8 ------------------------------
mkdir -p "$WORK/zones"
chmod 755 "$WORK/zones"
for z in a b c; do
    printf '$SOA 300 ns.%s.bench hm.%s.bench 1 600 300 86400 300\n$TTL 300\n:127.0.0.2:listed\n127.0.0.0/8\n' \
        "$z" "$z" >"$WORK/zones/$z.zone"
done
chmod 644 "$WORK/zones"/*
"${ON1[@]}" /usr/sbin/rbldnsd -n -b 127.0.0.1/53 -w "$WORK/zones" -p "$WORK/zones/pid" \
    a.bench:ip4set:a.zone b.bench:ip4set:b.zone c.bench:ip4set:c.zone >"$WORK/rbldnsd.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 50); do dig +short +time=1 +tries=1 @127.0.0.1 2.0.0.127.a.bench A 2>/dev/null | grep -q 127.0.0.2 && break; sleep 0.1; done

# --- contenders for (a) ---------------------------------------------------------
gateway_yaml() {  # workers port store chain-yaml [extra top-level yaml]
    cat <<EOF
hostname: bench.example
workers: $1
store: { path: $3 }
logging: { sink: file, path: $3.log }
dns_resolver: { nameservers: ["127.0.0.1:53"] }
${5:-}
listeners:
  - address: 127.0.0.1:$2
    limits: { pre_queue_limit: 30000, client_connection_count_limit: 1000 }
    greet_wait: 30s
    filters:
$4
    handoff: { backends: ["127.0.0.1:$BACKEND_PORT"], proxy_protocol: none }
EOF
}
DNSBL_CHAIN='      - name: dnsbl
        action: drop
        typed_config: { sites: ["a.bench*1", "b.bench*1", "c.bench*1"], threshold: 3 }'

# The backend of (b): one line and close (smtp-sink stops accepting past
# select()'s 1024 descriptors).
BACKEND_PORT=25390
"$BUILD/tests/bench/mxs_minimal_server" $BACKEND_PORT 1 >/dev/null 2>&1 &
PIDS+=($!)
wait_port $BACKEND_PORT

gateway_yaml 1 25391 "$WORK/mx1.store" "$DNSBL_CHAIN" >"$WORK/mx1.yaml"
"${ON0[@]}" "$MXSCREEN" run --config "$WORK/mx1.yaml" >"$WORK/mx1.out" 2>&1 &
PIDS+=($!)
gateway_yaml 2 25392 "$WORK/mx2.store" "$DNSBL_CHAIN" >"$WORK/mx2.yaml"
"$MXSCREEN" run --config "$WORK/mx2.yaml" >"$WORK/mx2.out" 2>&1 &
PIDS+=($!)
wait_port 25391
wait_port 25392

PS_PORT=25393
"$HERE/postscreen_instance.sh" start "$WORK/postscreen" postscreen $PS_PORT $( ((PIN)) && echo --cpus 0)
postconf -c "$WORK/postscreen" -e "postscreen_access_list =" \
    "postscreen_dnsbl_sites = a.bench*1 b.bench*1 c.bench*1" \
    "postscreen_dnsbl_threshold = 3" "postscreen_dnsbl_action = drop" \
    "postscreen_pre_queue_limit = 500" "postscreen_client_connection_count_limit = 1000"
postconf -c "$WORK/postscreen" -M "dnsblog/unix=dnsblog unix - - n - 0 dnsblog"
postfix -c "$WORK/postscreen" reload >/dev/null 2>&1
sleep 2

# One rejection each, checked, before measuring.
check_reply() {  # port
    python3 - "$1" <<'EOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10,
                             source_address=("127.0.0.200", 0))
data = b""
while b"\n" not in data:
    chunk = s.recv(512)
    if not chunk:
        break
    data += chunk
line = data.decode(errors="replace").strip()
print(line)
sys.exit(0 if line.startswith("521 5.7.1 Service unavailable; client [127.0.0.200] blocked using") else 1)
EOF
}
for p in 25391 25392 $PS_PORT; do
    check_reply $p >"$WORK/check.$p" || { echo "dnsbl.sh: port $p: $(cat "$WORK/check.$p")" >&2; exit 1; }
done

# Each measurement gets source addresses of its own (four /16 blocks, more
# than one run uses), so no client was seen before: no answer is cached.
NEXT_BLOCK=1
measure() {  # port -> "rate p99_us errors"
    local out first=$NEXT_BLOCK
    NEXT_BLOCK=$((NEXT_BLOCK + 4))
    out=$("${ON1[@]}" "$LOADGEN" --target 127.0.0.1:"$1" --mode reject --concurrency "$CONC" \
        --duration "$SECS" --sources "127.$first.0.1-127.$((first + 3)).255.254" --timeout 30 \
        2>/dev/null | tail -1)
    local rate p99 err
    rate=$(sed -n 's/.* rate=\([0-9.]*\).*/\1/p' <<<"$out")
    p99=$(sed -n 's/.* p99_us=\([0-9]*\).*/\1/p' <<<"$out")
    err=$(sed -n 's/.* errors=\([0-9]*\).*/\1/p' <<<"$out")
    echo "${rate:-0} ${p99:-0} ${err:-?}"
}
declare -A RATES P99S ERRS
for ((r = 1; r <= ROUNDS; r++)); do
    for c in mx1:25391 mx2:25392 postscreen:$PS_PORT; do
        measure "${c#*:}" >"$WORK/m.out"
        read -r rate p99 err <"$WORK/m.out"
        RATES[${c%%:*}]+="$rate "
        P99S[${c%%:*}]+="$p99 "
        ERRS[${c%%:*}]+="$err "
        echo "round $r ${c%%:*}: $rate conn/s, p99 ${p99} us, errors $err" >&2
    done
done
# Sanity: every rejection of mx1 had its own three answers (distinct clients,
# so none came from the answer cache).
RANKS=$(grep -c "DNSBL rank 3 for" "$WORK/mx1.store.log" || true)
CLIENTS=$(grep -o "addr [0-9.]* listed by domain a.bench" "$WORK/mx1.store.log" | sort -u | wc -l)
ANSWERS=$(grep -c "listed by domain" "$WORK/mx1.store.log" || true)
echo "mx1: $RANKS rejections, $CLIENTS distinct clients, $ANSWERS answers logged" >&2
median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : 0)}'; }

# --- (b): allowlisted clients while sessions wait on a dead list ---------------
python3 -c '
import socket, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 5399))
time.sleep(3600)' &
PIDS+=($!)
HOLD_CHAIN='      - name: access_cidr
        typed_config: { access_list: [ { cidr: { lines: ["127.0.0.0/16 permit"] } } ] }
      - name: pregreet
      - name: dnsbl
        typed_config: { sites: ["never.bench*1"], timeout: 25s }'
gateway_yaml 2 25394 "$WORK/hold.store" "$HOLD_CHAIN" >"$WORK/hold.yaml"
sed -i 's|dns_resolver: .*|dns_resolver: { nameservers: ["127.0.0.1:5399"], timeout: 10s, tries: 3 }|' "$WORK/hold.yaml"
"$MXSCREEN" run --config "$WORK/hold.yaml" >"$WORK/hold.out" 2>&1 &
MXH=$!
PIDS+=($MXH)
wait_port 25394

probe() {  # -> "p50_ms p99_ms max_ms n_ok"
    python3 - "$PROBES" <<'EOF'
import socket, sys, time
n = int(sys.argv[1]); times = []
for i in range(n):
    src = "127.0.%d.%d" % (1 + i // 250, 1 + i % 250)
    t0 = time.monotonic()
    try:
        s = socket.create_connection(("127.0.0.1", 25394), timeout=3, source_address=(src, 0))
        if s.recv(1):
            times.append(time.monotonic() - t0)
        s.close()
    except OSError:
        pass
    time.sleep(0.005)
times.sort()
q = lambda p: times[min(len(times) - 1, int(p * len(times)))] * 1000 if times else 0
print("%.2f %.2f %.2f %d" % (q(0.50), q(0.99), (times[-1] * 1000 if times else 0), len(times)))
EOF
}
read -r B_P50 B_P99 B_MAX B_OK < <(probe)
cc -O2 -o "$WORK/idle_holder" "$HERE/idle_holder.c"
"$WORK/idle_holder" hold --target 127.0.0.1:25394 --sources 127.1.0.1-127.1.255.254 \
    --steps "$HOLD" >"$WORK/holder.out" 2>&1 &
HOLDER=$!
PIDS+=($HOLDER)
for _ in $(seq 600); do grep -q "^HOLDING" "$WORK/holder.out" && break; sleep 0.1; done
HELD=$(sed -n 's/^STEP .*held=\([0-9]*\).*/\1/p' "$WORK/holder.out" | tail -1)
read -r L_P50 L_P99 L_MAX L_OK < <(probe)
WAITING=$(grep -c "warning: dnsblog reply timeout" "$WORK/hold.store.log" || true)
kill "$HOLDER" 2>/dev/null || true

CPU=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
{
    echo "### DNSBL ($(date -u "+%Y-%m-%d %H:%M UTC"), $(nproc) CPUs: $CPU; load average at the end: $(cut -d" " -f1-3 /proc/loadavg))"
    echo
    echo "Command: \`tests/bench/dnsbl.sh $*\` (BENCH_SECONDS=$SECS, BENCH_ROUNDS=$ROUNDS, concurrency $CONC)"
    echo
    echo "(a) every client new, three DNSBL lookups (rbldnsd on 127.0.0.1:53), all listed, drop (521):"
    echo
    echo "| contender | conn/s (median of $ROUNDS) | p99 connect→close | errors |"
    echo "|---|---|---|---|"
    for c in mx1 mx2 postscreen; do
        name=$c
        [[ $c = mx1 ]] && name="mxscreen, workers: 1 (CPU 0)"
        [[ $c = mx2 ]] && name="mxscreen, workers: 2 (unpinned)"
        [[ $c = postscreen ]] && name="postscreen + dnsblog (CPU 0)"
        echo "| $name | $(median <<<"${RATES[$c]}") | $(( $(median <<<"${P99S[$c]}") / 1000 )) ms | ${ERRS[$c]}|"
    done
    echo
    echo "mxscreen workers: 1 check: $RANKS rejections, $CLIENTS distinct clients, $ANSWERS list answers logged."
    echo
    echo "(b) time to first byte of allowlisted clients (access_cidr permit, handed to a one-line backend), $PROBES probes:"
    echo
    echo "| while | p50 | p99 | max | ok |"
    echo "|---|---|---|---|---|"
    echo "| nothing else runs | $B_P50 ms | $B_P99 ms | $B_MAX ms | $B_OK |"
    echo "| ${HELD:-?} sessions wait on a list that never answers | $L_P50 ms | $L_P99 ms | $L_MAX ms | $L_OK |"
} | tee "$WORK/summary.md"
[[ -z ${BENCH_OUT:-} ]] || cp "$WORK/summary.md" "$BENCH_OUT"
}
