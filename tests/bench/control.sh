#!/bin/bash
# control.sh: the control-plane benchmark (results go to docs/benchmarks.md).
#
# Owns two measurements, everything on 127.0.0.1:
#   (1) push latency: a real mxscreen-control, N simulated gateways
#       (mxs_control_fleet: the gateway's real discovery client, every pushed
#       config fully built) in one process; the time from starting
#       `mxscreenctl push FILE --fleet bench --wait 10` to its exit, which is
#       when every gateway has ACKed (mxscreenctl waits for all answers and
#       prints "N ACK"), over PUSHES pushes; plus the control plane's own
#       figure (store -> last ACK) from mxscreenctl's report.
#   (2) hitless reload under load: one real gateway fed by the control plane
#       in front of smtp-sink, mxs_loadgen running full SMTP sessions through
#       it while RELOADS pushes change its filter chain; reports sessions and
#       failed sessions (the target is 0).
#
# Usage: tests/bench/control.sh [--smoke] [BUILD_DIR (default /work/main/build)]
# Environment: CONTROL_GATEWAYS (100), CONTROL_PUSHES (20), CONTROL_RELOADS (10),
#   CONTROL_LOAD_SECONDS (15), CONTROL_PORT_BASE (25300).
#   --smoke: 10 gateways, 3 pushes, 3 reloads over 4 s: for CI, checks that
#   everything works; the figures mean nothing.
set -euo pipefail
{
BUILD=/work/main/build
SMOKE=0
for a in "$@"; do
    case $a in
        --smoke) SMOKE=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "control.sh: unknown option $a" >&2; exit 2 ;;
        *) BUILD=$a ;;
    esac
done
BUILD=$(cd "$BUILD" && pwd)
GATEWAYS=${CONTROL_GATEWAYS:-100}
PUSHES=${CONTROL_PUSHES:-20}
RELOADS=${CONTROL_RELOADS:-10}
LOAD_SECS=${CONTROL_LOAD_SECONDS:-15}
BASE=${CONTROL_PORT_BASE:-25300}
if ((SMOKE)); then GATEWAYS=10; PUSHES=3; RELOADS=3; LOAD_SECS=4; fi

CONTROL=$BUILD/mxscreen-control
CTL=$BUILD/mxscreenctl
MXS=$BUILD/mxscreen
FLEET=$BUILD/tests/bench/mxs_control_fleet
LOADGEN=$BUILD/tests/bench/mxs_loadgen
for b in "$CONTROL" "$CTL" "$MXS" "$FLEET" "$LOADGEN"; do
    [[ -x $b ]] || { echo "control.sh: missing $b (build first)" >&2; exit 1; }
done
command -v smtp-sink >/dev/null || { echo "control.sh: smtp-sink (postfix) is required" >&2; exit 1; }

WORK=$(mktemp -d /tmp/mxs-control-bench.XXXXXX)
PIDS=()
cleanup() {
    local rc=$? p
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    if ((rc != 0)); then echo "control.sh: failed; work directory kept: $WORK" >&2; else rm -rf "$WORK"; fi
    exit "$rc"
}
trap cleanup EXIT
log() { echo "[control] $*" >&2; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
wait_port() {  # PORT: bounded (10 s)
    local i
    for ((i = 0; i < 100; i++)); do
        ss -Hltn "sport = :$1" | grep -q . && return 0
        sleep 0.1
    done
    echo "control.sh: nothing listens on port $1" >&2
    return 1
}

P_CONTROL=$((BASE + 1)) P_GW=$((BASE + 2)) P_SINK=$((BASE + 3))
export MXSCREENCTL_SERVER=127.0.0.1:$P_CONTROL
cat >"$WORK/control.yaml" <<CFG
listen: 127.0.0.1:$P_CONTROL
store_path: $WORK/control-store
log_file: $WORK/control.log
CFG
"$CONTROL" --config "$WORK/control.yaml" &
PIDS+=($!)
wait_port "$P_CONTROL"

# A fleet config like a real one: an access list and a DNSBL-free chain;
# each push changes one CIDR line.
fleet_config() {  # FILE N PORT BACKEND_PORT
    cat >"$1" <<CFG
hostname: mx.bench.example
workers: 1
store: { path: store }
listeners:
  - name: smtp
    address: 127.0.0.1:$3
    filters:
      - name: access_cidr
        action: drop
        typed_config:
          mynetworks: ["127.0.0.0/9"]
          access_list:
            - permit_mynetworks: true
            - cidr: { lines: ["127.255.255.$2/32 reject", "192.0.2.0/24 reject", "2001:db8::/32 reject"] }
      - name: pregreet
        enabled: false
    handoff:
      backends: ["127.0.0.1:$4"]
      proxy_protocol: none
CFG
}

# ---------------------------------------------------------- (1) push latency
mkdir -p "$WORK/fleet"
"$FLEET" --control "127.0.0.1:$P_CONTROL" --fleet bench --gateways "$GATEWAYS" --dir "$WORK/fleet" \
    >"$WORK/fleet.out" 2>&1 &
PIDS+=($!)
fleet_config "$WORK/push-0.yaml" 0 "$P_GW" "$P_SINK"
# Version 1 reaches each simulated gateway as it connects.
"$CTL" push "$WORK/push-0.yaml" --fleet bench --wait 0 >/dev/null
for ((i = 0; i < 300; i++)); do
    running=$("$CTL" --json status --fleet bench | grep -c '"applied_version": "1"' || true)
    ((running == GATEWAYS)) && break
    sleep 0.1
done
((running == GATEWAYS)) || { echo "control.sh: only $running of $GATEWAYS gateways run version 1" >&2; exit 1; }
log "$GATEWAYS simulated gateways connected; $PUSHES pushes"
: >"$WORK/push.txt"
for ((i = 1; i <= PUSHES; i++)); do
    fleet_config "$WORK/push-$i.yaml" "$i" "$P_GW" "$P_SINK"
    t0=$(now_ms)
    out=$("$CTL" push "$WORK/push-$i.yaml" --fleet bench --wait 10)
    t1=$(now_ms)
    acks=$(sed -n "s/^fleet bench version [0-9]*: \([0-9]*\) ACK.*/\1/p" <<<"$out")
    server_ms=$(sed -n 's/.* offline (\([0-9]*\) ms)$/\1/p' <<<"$out")
    [[ $acks == "$GATEWAYS" ]] || { echo "control.sh: push $i: $out" >&2; exit 1; }
    echo "$((t1 - t0)) $server_ms" >>"$WORK/push.txt"
    log "push $i: $((t1 - t0)) ms to $acks ACKs (control plane: store -> last ACK ${server_ms} ms)"
done
kill -TERM "${PIDS[1]}" 2>/dev/null || true

stats() {  # COLUMN -> "p50 p90 max"
    awk -v c="$1" '{ print $c }' "$WORK/push.txt" | sort -n |
        awk '{ v[NR] = $1 } END { p50 = v[int((NR + 1) / 2)]; p90 = v[int(NR * 0.9 + 0.999)]; if (p90 == "") p90 = v[NR]; print p50, p90, v[NR] }'
}
read -r c50 c90 cmax < <(stats 1)
read -r s50 s90 smax < <(stats 2)

# ------------------------------------------------- (2) hitless reload, load
smtp-sink -u nobody "127.0.0.1:$P_SINK" 512 &
PIDS+=($!)
wait_port "$P_SINK"
mkdir -p "$WORK/gw"
cat >"$WORK/gw/boot.yaml" <<CFG
node_id: bench-gw
logging: { sink: file, path: $WORK/gw/mxscreen.log }
control_plane:
  address: 127.0.0.1:$P_CONTROL
  fleet: reload
  cache_path: $WORK/gw/pushed.binpb
CFG
(cd "$WORK/gw" && exec "$MXS" run --config boot.yaml) &
PIDS+=($!)
fleet_config "$WORK/reload-0.yaml" 0 "$P_GW" "$P_SINK"
"$CTL" push "$WORK/reload-0.yaml" --fleet reload --wait 10 >/dev/null || {
    sleep 1; "$CTL" push "$WORK/reload-0.yaml" --fleet reload --wait 10 >/dev/null; }
wait_port "$P_GW"
"$LOADGEN" --target "127.0.0.1:$P_GW" --sources 127.0.1.1-127.0.250.254 --mode session \
    --concurrency 16 --duration "$LOAD_SECS" --timeout 10 >"$WORK/loadgen.out" 2>&1 &
LG=$!
sleep 1
gap=$(awk -v s="$LOAD_SECS" -v n="$RELOADS" 'BEGIN { printf "%.2f", (s - 2) / n }')
reloads_ok=0
for ((i = 1; i <= RELOADS; i++)); do
    fleet_config "$WORK/reload-$i.yaml" "$i" "$P_GW" "$P_SINK"
    "$CTL" push "$WORK/reload-$i.yaml" --fleet reload --wait 10 | grep -q ": 1 ACK" && reloads_ok=$((reloads_ok + 1))
    sleep "$gap"
done
wait "$LG" || true
res=$(grep '^RESULT' "$WORK/loadgen.out" | tail -1)
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$res"; }
sessions=$(field conns)
failed=$(field errors)
applied=$(grep -c "applied version [0-9]* of fleet reload" "$WORK/gw/mxscreen.log" || true)

echo
echo "Run: $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs ($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)); kernel $(uname -r)$( ((SMOKE)) && echo '; SMOKE RUN (figures meaningless)')."
echo
echo "| push to every ACK, $GATEWAYS gateways, $PUSHES pushes | p50 ms | p90 ms | max ms | target |"
echo "|---|---:|---:|---:|---|"
verdict=$(awk -v m="$cmax" 'BEGIN { print (m < 1000) ? "met" : "NOT met" }')
echo "| \`mxscreenctl push --wait\`, start to exit | $c50 | $c90 | $cmax | < 1000 ms: $verdict |"
echo "| control plane: version stored -> last ACK | $s50 | $s90 | $smax | |"
echo
echo "| hitless reload under load | value | target |"
echo "|---|---:|---|"
echo "| pushes applied during the load | $reloads_ok of $RELOADS ($applied versions applied in all) | |"
echo "| SMTP sessions through the gateway | $sessions | |"
fverdict=$( [[ $failed == 0 ]] && echo met || echo "NOT met")
echo "| failed or dropped sessions | $failed | 0: $fverdict |"
echo
echo "Command: tests/bench/control.sh$( ((SMOKE)) && echo ' --smoke') $BUILD (CONTROL_GATEWAYS=$GATEWAYS CONTROL_PUSHES=$PUSHES CONTROL_RELOADS=$RELOADS CONTROL_LOAD_SECONDS=$LOAD_SECS)"
[[ $failed == 0 && $reloads_ok == "$RELOADS" ]]
}
