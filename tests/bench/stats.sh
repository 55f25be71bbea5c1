#!/bin/bash
# stats.sh: the `mxscreen stats` benchmark (issue 7); results go to
# docs/benchmarks.md, section "Log statistics".
#
# Question: how many log lines per second does `mxscreen stats` read, on a
# generated log of STATS_LINES (1,000,000) lines that looks like a busy
# postscreen's: sessions of 2-5 lines from STATS_CLIENTS (100,000) distinct
# clients (IPv4 over ~8,000 /24s, a tenth IPv6), every outcome and NOQUEUE
# reject kind, dnsblog answers from three lists, and one line in five from
# other programs (smtpd, qmgr) that must be skipped. Reported: the best of
# STATS_ROUNDS (3) runs, text report from a file, --json from a file, the
# text report from stdin (a pipe, as from journalctl), and the text report
# from the same log gzip-compressed (`gzip -6`, as logrotate's compress);
# plus the peak memory (max RSS) of a run.
#
# Usage: tests/bench/stats.sh [--smoke] [BUILD_DIR (default build)]
#   --smoke: 20,000 lines, one round (CI: the script still works).
set -euo pipefail
cd "$(dirname "$0")/../.."
SMOKE=0
if [ "${1:-}" = "--smoke" ]; then SMOKE=1; shift; fi
BUILD=${1:-build}
LINES=${STATS_LINES:-1000000}
CLIENTS=${STATS_CLIENTS:-100000}
ROUNDS=${STATS_ROUNDS:-3}
if [ "$SMOKE" = 1 ]; then LINES=20000; CLIENTS=2000; ROUNDS=1; fi
MXS=$BUILD/mxscreen
[ -x "$MXS" ] || { echo "stats.sh: $MXS not found (build first)" >&2; exit 2; }
WORK=$(mktemp -d /tmp/mxs-bench-stats.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
LOG=$WORK/maillog

python3 - "$LOG" "$LINES" "$CLIENTS" <<'PY'
import random, sys
path, total, nclients = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(7)
def client(i):
    if i % 10 == 9:
        return "2001:db8:%x:%x::%x" % (i % 251, i % 13, i)
    return "10.%d.%d.%d" % (i % 31, (i // 31) % 256, 1 + i % 250)
lists = ["zen.example", "bl.example", "psbl.example"]
out, n, port, sec = [], 0, 1024, 0
head = "Dec %2d %02d:%02d:%02d mx postfix/%s[%d]: "
def line(prog, msg, pid=4242):
    return head % (6, sec // 3600 % 24, sec // 60 % 60, sec % 60, prog, pid) + msg
with open(path, "w") as f:
    while n < total:
        sec += 1
        port = 1024 + (port + 7) % 60000
        ip = client(rnd.randrange(nclients))
        ep = "[%s]:%d" % (ip, port)
        s = [line("postscreen", "CONNECT from %s to [192.0.2.25]:25" % ep)]
        k = rnd.randrange(12)
        if k == 0:
            s.append(line("postscreen", "ALLOWLISTED " + ep))
        elif k <= 3:
            s.append(line("postscreen", "PASS OLD " + ep))
            s.append(line("smtpd", "connect from unknown[%s]" % ip, 777))
            s.append(line("qmgr", "3F2A1B: from=<a@b.example>, size=1234, nrcpt=1 (queue active)", 55))
        elif k == 4:
            s.append(line("postscreen", "PREGREET 23 after 0.15 from %s: EHLO x.example\\r\\n" % ep))
            s.append(line("postscreen", "DISCONNECT " + ep))
        elif k <= 6:
            lst = rnd.choice(lists)
            s.append(line("dnsblog", "addr %s listed by domain %s as 127.0.0.%d" % (ip, lst, rnd.choice((2, 4, 10))), 4300))
            s.append(line("postscreen", "DNSBL rank 3 for " + ep))
            s.append(line("postscreen", "NOQUEUE: reject: RCPT from %s: 550 5.7.1 Service unavailable; client [%s] blocked using %s; from=<a@b.example>, to=<c@d.example>, proto=ESMTP, helo=<x.example>" % (ep, ip, lst)))
            s.append(line("postscreen", "DISCONNECT " + ep))
        elif k == 7:
            s.append(line("postscreen", "COMMAND PIPELINING from %s after EHLO: MAIL FROM:<a@b.example>\\r\\n" % ep))
            s.append(line("postscreen", "NOQUEUE: reject: RCPT from %s: 550 5.5.1 Protocol error; from=<a@b.example>, to=<c@d.example>, proto=ESMTP, helo=<x.example>" % ep))
            s.append(line("postscreen", "DISCONNECT " + ep))
        elif k == 8:
            s.append(line("postscreen", "HANGUP after 1.2 from %s in tests before SMTP handshake" % ep))
            s.append(line("postscreen", "DISCONNECT " + ep))
        elif k == 9:
            s.append(line("postscreen", "NOQUEUE: reject: RCPT from %s: 450 4.3.2 Service currently unavailable; from=<a@b.example>, to=<c@d.example>, proto=ESMTP, helo=<x.example>" % ep))
            s.append(line("postscreen", "PASS NEW " + ep))
            s.append(line("postscreen", "DISCONNECT " + ep))
        elif k == 10:
            s.append(line("postscreen", "DENYLISTED " + ep))
            s.append(line("postscreen", "DISCONNECT " + ep))
        else:
            s.append(line("postscreen", "NON-SMTP COMMAND from %s after CONNECT: GET / HTTP/1.1" % ep))
            s.append(line("postscreen", "DISCONNECT " + ep))
        s = s[: total - n]
        n += len(s)
        f.write("\n".join(s) + "\n")
PY
gzip -6 -c "$LOG" >"$LOG.gz"  # logrotate's compress: gzip's default level
cat "$LOG" "$LOG.gz" >/dev/null  # page cache warm: the figure is the parser's, not the disk's
# Timing in Python (no bc or GNU time needed): best wall time of ROUNDS runs,
# max RSS of the children from getrusage.
python3 - "$MXS" "$LOG" "$ROUNDS" "$SMOKE" <<'PY'
import json, os, resource, subprocess, sys, time
mxs, log, rounds, smoke = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4] == "1"
with open(log, "rb") as f:
    lines = sum(1 for _ in f)
size = os.path.getsize(log)

def best(args, stdin_path=None):
    b = None
    for _ in range(rounds):
        stdin = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
        t0 = time.monotonic()
        subprocess.run(args, stdin=stdin, stdout=subprocess.DEVNULL, check=True)
        t = time.monotonic() - t0
        if stdin_path:
            stdin.close()
        b = t if b is None else min(b, t)
    return b

t_text = best([mxs, "stats", log])
t_json = best([mxs, "stats", "--json", log])
t_stdin = best([mxs, "stats"], stdin_path=log)
t_gzip = best([mxs, "stats", log + ".gz"])
rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
r = json.loads(subprocess.run([mxs, "stats", "--json", "--top", "1", log], check=True,
                              stdout=subprocess.PIPE).stdout)
gz_size = os.path.getsize(log + ".gz")
print("stats.sh: %d lines (%.0f MiB; %.1f MiB gzip'd), %d distinct clients, best of %d"
      % (lines, size / 1048576, gz_size / 1048576, r["clients"]["total"], rounds))
for name, t in (("text, file", t_text), ("--json, file", t_json), ("text, stdin", t_stdin),
                ("text, .gz", t_gzip)):
    print("  %-13s %.3fs  %.0f lines/s" % (name + ":", t, lines / t))
print("  max RSS:      %d KiB" % rss)
if smoke:
    # The smoke run checks that the command reads the whole log, not speed.
    assert r["lines"]["read"] == lines, r["lines"]
    assert r["lines"]["unrecognized"] == 0, r["lines"]
    assert r["lines"]["read"] == r["lines"]["counted"] + r["lines"]["skipped"], r["lines"]
    # The compressed log gives the same report, byte for byte.
    run = lambda path: subprocess.run([mxs, "stats", "--json", path], check=True,
                                      stdout=subprocess.PIPE).stdout
    assert run(log + ".gz") == run(log), "the .gz report differs"
    print("stats.sh: smoke ok")
PY
