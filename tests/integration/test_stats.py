"""test_stats - `mxscreen stats` on logs that real servers wrote during the test

SYNOPSIS
    MXSCREEN_BUILD_DIR=$PWD/build /usr/bin/python3 -m unittest -v tests/integration/test_stats.py

DESCRIPTION
    The same known mix of clients is sent to the real Postfix postscreen
    (harness PostfixInstance role "postscreen") and to an mxscreen gateway
    with the same settings, each behind its DNSBL, a real rbldnsd on
    loopback:

      127.0.0.1   allowlisted (permit_mynetworks), handed off
      127.0.0.2   denylisted (cidr reject, action drop)
      127.0.0.10  pregreets (action drop)
      127.0.0.20  listed by bl.test (action enforce): RCPT gets the 550
      127.0.0.30  pipelines in the engine (action enforce): RCPT gets the 550
      127.0.0.40  a good client: 450 on RCPT and PASS NEW, then PASS OLD
      127.0.0.50  hangs up during the greet wait

    then `mxscreen stats` (text and --json, a file and stdin) reads the log
    each wrote and must report exactly these counts. The real postscreen's
    log is also read gzip-compressed (by the real gzip, and as two
    concatenated members), which must give byte for byte the same report,
    and damaged (truncated, a bad CRC), which must fail with the exact error
    and no report.

    A second real postscreen, whose postscreen_allowlist_interfaces leaves
    out the address it listens on (a backup MX), writes ALLOWLIST VETO for a
    client; the report counts it as its own outcome.

    Real postscreen asks DNSBLs through its dnsblog service and the C
    library's resolver, which takes no port: dnsblog runs chrooted into the
    instance's queue directory, whose etc/resolv.conf names a private
    loopback address where rbldnsd answers on port 53. Nothing but loopback
    is ever asked.
"""

import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (BUILD_DIR, PostfixInstance, MxscreenTestCase, free_port,  # noqa: E402
                     screening_config, smtp_client)
from dnsbl_peers import Rbldnsd  # noqa: E402

HOST = "mx.test.example"
BACKEND_HOSTNAME = "backend.test.example"
ZONES = {"bl.test": ("ip4set", ":127.0.0.2:listed\n127.0.0.20\n")}
CIDR = "127.0.0.2/32 reject\n"
MXSCREEN = os.path.join(BUILD_DIR, "mxscreen")

# The expected report: (events, distinct clients) per outcome row.
EXPECTED_OUTCOMES = {
    "connect": (8, 7), "pass_new": (1, 1), "pass_old": (1, 1), "allowlisted": (1, 1),
    "denylisted": (1, 1), "pregreet": (1, 1), "dnsbl_rank": (1, 1), "pipelining": (1, 1),
    "non_smtp_command": (0, 0), "bare_newline": (0, 0), "hangup": (1, 1),
    "command_time_limit": (0, 0), "command_count_limit": (0, 0),
    "command_length_limit": (0, 0), "data_without_rcpt": (0, 0),
    "too_many_connections": (0, 0), "server_ports_busy": (0, 0),
    "screening_ports_busy": (0, 0), "disconnect": (6, 6), "allowlist_veto": (0, 0),
}
EXPECTED_TEXT_OUTCOMES = """\
outcome                   events  clients
CONNECT                        8        7
PASS NEW                       1        1
PASS OLD                       1        1
ALLOWLISTED                    1        1
ALLOWLIST VETO                 0        0
DENYLISTED                     1        1
PREGREET                       1        1
DNSBL rank                     1        1
COMMAND PIPELINING             1        1
NON-SMTP COMMAND               0        0
BARE NEWLINE                   0        0
HANGUP                         1        1
COMMAND TIME LIMIT             0        0
COMMAND COUNT LIMIT            0        0
COMMAND LENGTH LIMIT           0        0
DATA without valid RCPT        0        0
too many connections           0        0
all server ports busy          0        0
all screening ports busy       0        0
DISCONNECT                     6        6
"""
EXPECTED_TEXT_REJECTS = """\
rejects by reply code  events  clients
450                         1        1
550                         2        2
total                       3        3
"""
EXPECTED_TEXT_DNSBL = """\
DNSBL list  hits  clients  rejects  timeouts  errors
bl.test        1        1        1         0       0
bl.test answered 127.0.0.2: 1
"""
# Clients with a reject or a failed test, by rejects, failures, connects, address.
EXPECTED_TEXT_TOP = """\
top clients  rejects  failures  connects  dnsbl hits
127.0.0.20         1         1         1           1
127.0.0.30         1         1         1           0
127.0.0.40         1         0         2           0
127.0.0.2          0         1         1           0
127.0.0.10         0         1         1           0
"""
EXPECTED_TEXT_NETWORKS = """\
top networks  clients  rejects  failures  connects  dnsbl hits
127.0.0.0/24        7        3         4         8           1
"""


def stats(*args, stdin_text=None):
    """Runs BUILD/mxscreen stats ARGS; returns the CompletedProcess."""
    return subprocess.run([MXSCREEN, "stats"] + list(args), input=stdin_text,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)


def stats_bytes(*args, stdin_bytes=None):
    """stats with binary stdin (a gzip stream); output decoded as text."""
    r = subprocess.run([MXSCREEN, "stats"] + list(args), input=stdin_bytes,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    return subprocess.CompletedProcess(r.args, r.returncode, r.stdout.decode(),
                                       r.stderr.decode())


def section(text, first_line):
    """The lines of the report's section that starts with first_line, up to
    the blank line after it."""
    lines = text.splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.startswith(first_line):
            out = []
            for rest in lines[i:]:
                if rest == "\n":
                    break
                out.append(rest)
            return "".join(out)
    raise AssertionError("no section %r in:\n%s" % (first_line, text))


class ChrootedDnsblogPostscreen(PostfixInstance):
    """Role "postscreen" with its dnsblog chrooted to the queue directory,
    whose etc/resolv.conf names `nameserver` (port 53 implied)."""

    def __init__(self, nameserver, **kw):
        super().__init__("postscreen", **kw)
        self.nameserver = nameserver

    def _build(self):
        super()._build()
        path = os.path.join(self.conf, "master.cf")
        with open(path) as f:
            text = f.read()
        old = "dnsblog   unix  -       -       n       -       0       dnsblog"
        if old not in text:
            raise AssertionError("harness master.cf changed: no %r" % old)
        with open(path, "w") as f:
            f.write(text.replace(old, old.replace(" n ", " y ", 1)))
        past = time.time() - 10
        os.utime(path, (past, past))
        etc = os.path.join(self.queue, "etc")
        os.makedirs(etc, exist_ok=True)
        with open(os.path.join(etc, "resolv.conf"), "w") as f:
            f.write("nameserver %s\noptions timeout:1 attempts:2\n" % self.nameserver)


class StatsTest(MxscreenTestCase):

    @classmethod
    def setUpClass(cls):
        # A loopback address of our own for port 53 (no other test uses it).
        cls.dns_host = "127.53.%d.%d" % (random.randint(1, 254), random.randint(1, 254))
        cls.rbl = Rbldnsd(ZONES, port=53, host=cls.dns_host)
        cls.addClassCleanup(cls.rbl.stop)
        cls.rbl.start()

    # -- the traffic -------------------------------------------------------------
    def drive(self, port, log, prog):
        """Sends the client mix to 127.0.0.1:port; waits for each session's
        last log line in `log` (a harness _LogFile) written by `prog`."""
        def wait(message):
            log.wait_for_message(message, prog, timeout=15)

        def connect(ip):
            c = smtp_client("127.0.0.1", port, ip, timeout=15)
            self.addCleanup(c.close)
            return c

        def engine_to_rcpt(c, expect_rcpt):
            c.command("EHLO client.example")
            self.assertEqual(c.command("MAIL FROM:<a@b.example>"), ["250 2.1.0 Ok"])
            self.assertEqual(c.command("RCPT TO:<c@d.example>"), [expect_rcpt])
            self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
            c.expect_closed()

        # Allowlisted: the backend's own banner at once.
        c = connect("127.0.0.1")
        self.assertRegex(c.read_line(), r"^220 ")
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        wait("ALLOWLISTED %s" % c.endpoint)

        # Denylisted, dropped.
        c = connect("127.0.0.2")
        self.assertEqual(c.read_reply(), ["521 5.3.2 Service currently unavailable"])
        c.expect_closed()
        wait("DISCONNECT %s" % c.endpoint)

        # Pregreet, dropped.
        c = connect("127.0.0.10")
        c.send_raw(b"EHLO pregreet.example\r\n")
        self.assertEqual(c.read_line(), "220-%s ESMTP Postfix" % HOST)
        self.assertEqual(c.read_reply(), ["521 5.5.1 Protocol error"])
        c.expect_closed()
        wait("DISCONNECT %s" % c.endpoint)

        # DNSBL-listed, enforced: the 550 on RCPT.
        c = connect("127.0.0.20")
        self.assertEqual(c.read_reply(), ["220-%s ESMTP Postfix" % HOST,
                                          "220 %s ESMTP Postfix" % HOST])
        engine_to_rcpt(c, "550 5.7.1 Service unavailable; client [127.0.0.20] blocked using "
                          "bl.test")
        wait("DISCONNECT %s" % c.endpoint)

        # Pipelining in the engine, enforced.
        c = connect("127.0.0.30")
        self.assertEqual(len(c.read_reply()), 2)
        c.send_raw(b"EHLO client.example\r\nMAIL FROM:<a@b.example>\r\n")
        c.read_reply()
        self.assertEqual(c.read_reply(), ["250 2.1.0 Ok"])
        self.assertEqual(c.command("RCPT TO:<c@d.example>"), ["550 5.5.1 Protocol error"])
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.expect_closed()
        wait("DISCONNECT %s" % c.endpoint)

        # A good client: 450 and PASS NEW, then PASS OLD and the hand-off.
        c = connect("127.0.0.40")
        self.assertEqual(len(c.read_reply()), 2)
        engine_to_rcpt(c, "450 4.3.2 Service currently unavailable")
        wait("DISCONNECT %s" % c.endpoint)
        c = connect("127.0.0.40")
        self.assertRegex(c.read_line(), r"^220 ")
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        wait("PASS OLD %s" % c.endpoint)

        # Hangs up during the greet wait.
        c = connect("127.0.0.50")
        self.assertEqual(c.read_line(), "220-%s ESMTP Postfix" % HOST)
        c.close()
        wait("DISCONNECT %s" % c.endpoint)

    # -- the checks ----------------------------------------------------------------
    def check_report(self, log_path, *extra):
        r = stats(*extra, log_path)
        self.assertEqual((r.returncode, r.stderr), (0, ""), r.stdout)
        text = r.stdout
        self.assertEqual(section(text, "outcome "), EXPECTED_TEXT_OUTCOMES, text)
        self.assertEqual(section(text, "rejects by reply code"), EXPECTED_TEXT_REJECTS, text)
        self.assertEqual(section(text, "DNSBL list"), EXPECTED_TEXT_DNSBL, text)
        self.assertEqual(section(text, "top clients"), EXPECTED_TEXT_TOP, text)
        self.assertEqual(section(text, "top networks"), EXPECTED_TEXT_NETWORKS, text)
        self.assertEqual(text.splitlines()[1], "clients: 7 in 1 networks (/24, /64)")

        j = stats("--json", *extra, log_path)
        self.assertEqual(j.returncode, 0, j.stderr)
        report = json.loads(j.stdout)
        self.assertEqual(report["schema"], "mxscreen-stats/1")
        self.assertEqual({k: (v["events"], v["clients"]) for k, v in report["outcomes"].items()},
                         EXPECTED_OUTCOMES)
        self.assertEqual(report["rejects"], {
            "events": 3, "clients": 3,
            "by_code": {"450": {"events": 1, "clients": 1}, "550": {"events": 2, "clients": 2}}})
        self.assertEqual(report["dnsbl"], [{
            "domain": "bl.test", "hits": 1, "clients": 1, "rejects": 1, "timeouts": 0,
            "errors": 0, "answers": {"127.0.0.2": 1}}])
        self.assertEqual([(e["address"], e["rejects"], e["failures"])
                          for e in report["clients"]["top"]],
                         [("127.0.0.20", 1, 1), ("127.0.0.30", 1, 1), ("127.0.0.40", 1, 0),
                          ("127.0.0.2", 0, 1), ("127.0.0.10", 0, 1)])
        self.assertEqual(report["clients"]["total"], 7)
        self.assertEqual(report["networks"]["total"], 1)
        self.assertEqual(report["networks"]["top"][0]["network"], "127.0.0.0/24")
        self.assertEqual(report["warnings"], 0)
        with open(log_path) as f:
            log_text = f.read()
        self.assertEqual(report["lines"]["unrecognized"], 0, log_text)
        lines = report["lines"]
        self.assertEqual(lines["read"], lines["counted"] + lines["skipped"])
        self.assertGreater(lines["skipped"], 0)   # master, smtpd, ... lines

        # The same log through stdin, and as "-".
        for args in ([], ["-"]):
            s = stats("--json", *extra, *args, stdin_text=log_text)
            self.assertEqual((s.returncode, s.stdout), (0, j.stdout))
        return report

    def test_real_postscreen_log(self):
        pf = ChrootedDnsblogPostscreen(self.dns_host, hostname=HOST, main_cf={
            "mynetworks": "127.0.0.1/32",
            "postscreen_access_list": "permit_mynetworks, cidr:$config_directory/access.cidr",
            "postscreen_denylist_action": "drop",
            "postscreen_greet_wait": "1s",
            "postscreen_greet_action": "drop",
            "postscreen_dnsbl_sites": "bl.test",
            "postscreen_dnsbl_action": "enforce",
            "postscreen_pipelining_enable": "yes",
            "postscreen_pipelining_action": "enforce",
            "postscreen_cache_map": "btree:$data_directory/postscreen_cache",
        }, files={"access.cidr": CIDR})
        self.addCleanup(pf.stop)
        pf.start()
        self.drive(pf.port, pf, "postfix/postscreen")
        pf.wait_for_message("addr 127.0.0.20 listed by domain bl.test as 127.0.0.2",
                            "postfix/dnsblog")
        self.check_report(pf.log_path)
        self.check_gzip(pf.log_path)

    def check_gzip(self, log_path):
        """The log gzip-compressed, every way, reads exactly as the plain
        file; damaged, it fails with the exact error and no report."""
        work = tempfile.mkdtemp(prefix="mxs-stats-gz-")
        self.addCleanup(subprocess.run, ["rm", "-rf", work])
        with open(log_path, "rb") as f:
            log = f.read()
        plain = os.path.join(work, "mail.log")
        with open(plain, "wb") as f:
            f.write(log)
        want_text, want_json = stats(plain).stdout, stats("--json", plain).stdout

        # The real gzip, as logrotate runs it (the name says nothing: no .gz).
        real = os.path.join(work, "mail.log.1")
        with open(real, "wb") as f:
            subprocess.run(["gzip", "-c", plain], stdout=f, check=True)
        # Two members, the cut inside a line: `gzip -c a >> b` does the same.
        cut = log.index(b"PASS OLD") + 4
        two = os.path.join(work, "mail.log.2.gz")
        with open(two, "wb") as f:
            f.write(gzip.compress(log[:cut], compresslevel=1) + gzip.compress(log[cut:]))
        check = subprocess.run(["zcat", two], stdout=subprocess.PIPE, check=True)
        self.assertEqual(check.stdout, log)  # zcat reads both members too
        for path in (real, two):
            r = stats(path)
            self.assertEqual((r.returncode, r.stderr, r.stdout), (0, "", want_text), path)
            j = stats("--json", path)
            self.assertEqual((j.returncode, j.stderr, j.stdout), (0, "", want_json), path)
        with open(real, "rb") as f:
            real_bytes = f.read()
        s = stats_bytes("--json", "-", stdin_bytes=real_bytes)
        self.assertEqual((s.returncode, s.stderr, s.stdout), (0, "", want_json))
        # Files add up, plain and compressed mixed.
        both = json.loads(stats("--json", plain, two).stdout)
        self.assertEqual(both["lines"]["read"], 2 * json.loads(want_json)["lines"]["read"])
        self.assertEqual(both["outcomes"]["connect"], {"events": 16, "clients": 7})

        # Damaged: truncated (the file ends inside the member), and a bad CRC.
        short = os.path.join(work, "short.gz")
        with open(short, "wb") as f:
            f.write(real_bytes[:len(real_bytes) // 2])
        r = stats(plain, short)
        self.assertEqual((r.returncode, r.stdout, r.stderr),
                         (1, "", "mxscreen: %s: gzip data truncated after %d bytes\n"
                          % (short, len(real_bytes) // 2)))
        bad = bytearray(real_bytes)
        bad[-6] ^= 0xff  # the CRC-32 of the trailer
        badcrc = os.path.join(work, "badcrc.gz")
        with open(badcrc, "wb") as f:
            f.write(bad)
        r = stats("--json", badcrc)
        self.assertEqual((r.returncode, r.stdout, r.stderr),
                         (1, "", "mxscreen: %s: gzip data corrupt after %d bytes: incorrect "
                          "data check\n" % (badcrc, len(bad) - 4)))
        s = stats_bytes("-", stdin_bytes=bytes(bad))
        self.assertEqual((s.returncode, s.stdout, s.stderr),
                         (1, "", "mxscreen: stdin: gzip data corrupt after %d bytes: "
                          "incorrect data check\n" % (len(bad) - 4)))

    def test_real_postscreen_allowlist_veto(self):
        # postscreen listens on 127.0.0.1 only; an interface list without it
        # makes every session there a backup-MX session.
        pf = PostfixInstance("postscreen", hostname=HOST, main_cf={
            "mynetworks": "127.0.0.1/32",
            "postscreen_allowlist_interfaces": "127.0.0.99",
            "postscreen_greet_wait": "1s",
            "postscreen_cache_map": "btree:$data_directory/postscreen_cache",
        })
        self.addCleanup(pf.stop)
        pf.start()
        # On the permanent allowlist: ALLOWLISTED, no veto, handed off.
        c = smtp_client("127.0.0.1", pf.port, "127.0.0.1", timeout=15)
        self.addCleanup(c.close)
        self.assertRegex(c.read_line(), r"^220 ")
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        pf.wait_for_message("ALLOWLISTED %s" % c.endpoint, "postfix/postscreen", timeout=15)
        # Anyone else: vetoed, tested, kept in the engine: 450 on RCPT.
        for _ in range(2):
            c = smtp_client("127.0.0.1", pf.port, "127.0.0.60", timeout=15)
            self.addCleanup(c.close)
            self.assertEqual(c.read_reply(), ["220-%s ESMTP Postfix" % HOST,
                                              "220 %s ESMTP Postfix" % HOST])
            c.command("EHLO client.example")
            self.assertEqual(c.command("MAIL FROM:<a@b.example>"), ["250 2.1.0 Ok"])
            self.assertEqual(c.command("RCPT TO:<c@d.example>"),
                             ["450 4.3.2 Service currently unavailable"])
            self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
            c.expect_closed()
            pf.wait_for_message("DISCONNECT %s" % c.endpoint, "postfix/postscreen", timeout=15)
            self.assertIn("ALLOWLIST VETO %s" % c.endpoint,
                          pf.messages("postfix/postscreen"), pf.log())
        r = stats("--json", pf.log_path)
        self.assertEqual((r.returncode, r.stderr), (0, ""))
        report = json.loads(r.stdout)
        got = {k: (v["events"], v["clients"]) for k, v in report["outcomes"].items()
               if v["events"]}
        self.assertEqual(got, {"connect": (3, 2), "allowlisted": (1, 1),
                               "allowlist_veto": (2, 1), "disconnect": (2, 1)}, pf.log())
        self.assertEqual(report["rejects"]["by_code"], {"450": {"events": 2, "clients": 1}})
        self.assertEqual(report["lines"]["unrecognized"], 0, pf.log())
        self.assertEqual(section(stats(pf.log_path).stdout, "outcome ").splitlines()[4:6],
                         ["ALLOWLISTED                    1        1",
                          "ALLOWLIST VETO                 2        1"])

    def test_mxscreen_log(self):
        backend = PostfixInstance("backend", proxy=True, hostname=BACKEND_HOSTNAME)
        self.addCleanup(backend.stop)
        backend.start()
        port = free_port()
        cfg = screening_config(port, [backend.address], [
            {"name": "access_cidr", "action": "drop",
             "typed_config": {"mynetworks": ["127.0.0.1/32"],
                              "access_list": [{"permit_mynetworks": True},
                                              {"cidr": {"lines": CIDR.splitlines()}}]}},
            {"name": "pregreet", "action": "drop"},
            {"name": "dnsbl", "action": "enforce", "typed_config": {"sites": ["bl.test"]}},
            {"name": "pipelining", "action": "enforce"},
        ], hostname=HOST, greet_wait="1s")
        # A program name of the operator's own: --program selects it.
        cfg = cfg.replace("    address: 127.0.0.1:%d\n" % port,
                          "    address: 127.0.0.1:%d\n    program_name: mx/screen\n" % port)
        cfg += 'dns_resolver: { nameservers: ["%s"], timeout: 1s, tries: 2 }\n' % self.rbl.address
        mx = self.start_gateway(cfg)
        self.drive(port, mx, "mx/screen")
        mx.wait_for_message("addr 127.0.0.20 listed by domain bl.test as 127.0.0.2",
                            "mx/dnsblog")
        self.check_report(mx.log_path, "--program", "mx/screen")
        # Without --program only the DNSBL answer counts: "mx/dnsblog" ends
        # in /dnsblog, "mx/screen" is nobody's postscreen.
        r = json.loads(stats("--json", mx.log_path).stdout)
        self.assertEqual(r["lines"]["counted"], 1, mx.log())
        self.assertEqual(r["lines"]["skipped"], r["lines"]["read"] - 1)
        self.assertEqual(r["outcomes"]["connect"], {"events": 0, "clients": 0})
        self.assertEqual(r["dnsbl"][0]["hits"], 1)

    # -- usage and errors ----------------------------------------------------------
    def test_errors_and_usage(self):
        missing = "/nonexistent/mxscreen-stats.log"
        r = stats(missing)
        self.assertEqual((r.returncode, r.stdout, r.stderr),
                         (1, "", "mxscreen: %s: No such file or directory\n" % missing))
        r = stats("--top", "-1", "-")
        self.assertEqual(r.returncode, 2)
        r = stats("--bogus")
        self.assertEqual(r.returncode, 2)
        r = stats("--top", "1", stdin_text="")
        self.assertEqual(r.returncode, 0)
        self.assertTrue(r.stdout.startswith("lines: 0 read, 0 counted, 0 skipped (0 malformed), "
                                            "0 unrecognized\n"), r.stdout)


if __name__ == "__main__":
    unittest.main()
