"""test_deep_tests - pipelining, non_smtp, bare_newline and the reconnect cycle

SYNOPSIS
    /usr/bin/python3 -m unittest -v tests/integration/test_deep_tests.py

DESCRIPTION
    The deep tests of postscreen-behaviour.md section 5, over a socket, with
    exact replies and exact mxscreen log lines:

      - each test under each action: enforce (the command gets its normal
        reply, RCPT gets "550 5.5.1 Protocol error" and the NOQUEUE line),
        drop (521 and close), ignore (logged; RCPT gets the 450 and, as the
        real postscreen does, the session counts the test as passed: PASS
        NEW, then PASS OLD);
      - a good client: the 450 on RCPT, PASS NEW at the end of the engine
        session, and on reconnect PASS OLD and a hand-off to a real Postfix
        smtpd (PROXY v2) that logs the original client and delivers;
      - a client whose pregreet pass is cached but whose deep tests are not
        gets the engine's "220 <banner>" at once (no teaser, no wait);
      - the cache contents through `mxscreen verdict get` when the binary
        has that command (skipped sub-tests otherwise).

    Expected strings were checked against the real postscreen of Postfix
    3.7.11 on loopback: "COMMAND PIPELINING from [ip]:port after MAIL:
    RCPT TO:<c@d>\\r\\n" (the command name, then what was queued, C-escaped),
    "NON-SMTP COMMAND from [ip]:port after CONNECT: GET / HTTP/1.0" (the
    previous command, "UNIMPLEMENTED" for junk), "BARE NEWLINE from
    [ip]:port after MAIL FROM:<a@b>" (postscreen names the line it was
    reading); one failure per test and session is logged.
"""

import calendar
import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (PostfixInstance, MxscreenTestCase, free_port,  # noqa: E402
                     screening_config, engine_ehlo, postfix_ehlo, msg_connect, msg_disconnect,
                     msg_pass_new, msg_pass_old, msg_rcpt_reject)

MX_HOSTNAME = "mx.test.example"
BACKEND_HOSTNAME = "backend.test.example"
BANNER = "%s ESMTP Postfix" % MX_HOSTNAME
TEASER = "220-" + BANNER
ENGINE_BANNER = "220 " + BANNER
ENGINE_EHLO = engine_ehlo(MX_HOSTNAME)
BACKEND_BANNER = "220 %s ESMTP Postfix" % BACKEND_HOSTNAME
BACKEND_EHLO = postfix_ehlo(BACKEND_HOSTNAME)
REPLY_450 = "450 4.3.2 Service currently unavailable"
REPLY_550 = "550 5.5.1 Protocol error"
REPLY_521 = "521 5.5.1 Protocol error"
REPLY_521_NON_SMTP = "521 5.7.0 Error: I can break rules, too. Goodbye."
REPLY_NOT_RECOGNIZED = "502 5.5.2 Error: command not recognized"
SENDER, RCPT, HELO = "a@b.example", "c@d.example", "client.example"
DEEP = ("pipelining", "non_smtp", "bare_newline")


def msg_pipelining(client, after, queued):
    return "COMMAND PIPELINING from %s after %s: %s" % (client.endpoint, after, queued)


def msg_non_smtp(client, after, line):
    return "NON-SMTP COMMAND from %s after %s: %s" % (client.endpoint, after, line)


def msg_bare_newline(client, after):
    return "BARE NEWLINE from %s after %s" % (client.endpoint, after)


_VERDICT_CLI = None


def binary_has_verdict_cli(mx):
    """True when BUILD/mxscreen knows `verdict get` (added in parallel)."""
    global _VERDICT_CLI
    if _VERDICT_CLI is None:
        r = mx.run_cli("--help")
        _VERDICT_CLI = bool(re.search(r"^\s+verdict\s", r.stdout, re.M))
    return _VERDICT_CLI


def parse_verdict_get(text):
    """'NAME 2026-11-23T03:00:00Z (in 23h59m)' lines -> {name: epoch}."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"^(\S+) (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)( \(in \S+\)| expired)$", line)
        if not m:
            raise AssertionError("unexpected `verdict get` line %r in %r" % (line, text))
        out[m.group(1)] = calendar.timegm(time.strptime(m.group(2), "%Y-%m-%dT%H:%M:%SZ"))
    return out


class DeepTestsTest(MxscreenTestCase):

    @classmethod
    def setUpClass(cls):
        cls.backend = PostfixInstance("backend", proxy=True, hostname=BACKEND_HOSTNAME)
        cls.addClassCleanup(cls.backend.stop)
        cls.backend.start()

    # -- helpers ---------------------------------------------------------------
    def gateway(self, deep, pregreet=False, greet_wait="1s", **kw):
        """deep: {name: action or None (default) or dict of entry fields}."""
        port = free_port()
        filters = []
        if pregreet:
            filters.append({"name": "pregreet"})
        for name, spec in deep.items():
            f = {"name": name}
            if isinstance(spec, dict):
                f.update(spec)
            elif spec is not None:
                f["action"] = spec
            filters.append(f)
        cfg = screening_config(port, [self.backend.address], filters, hostname=MX_HOSTNAME,
                               greet_wait=greet_wait, **kw)
        mx = self.start_gateway(cfg)
        return mx, port

    def engine_client(self, port, ip):
        c = self.connect(port, ip)
        self.assertEqual(c.read_reply(), [ENGINE_BANNER])
        return c

    def good_transaction(self, c, helo=HELO, rcpt=RCPT):
        """EHLO, MAIL, RCPT (-> 450), QUIT: what a real MTA does here."""
        self.assertEqual(c.command("EHLO " + helo), ENGINE_EHLO)
        self.assertEqual(c.command("MAIL FROM:<%s>" % SENDER), ["250 2.1.0 Ok"])
        self.assertEqual(c.command("RCPT TO:<%s>" % rcpt), [REPLY_450])
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.expect_closed()
        c.close()

    def assert_pass_old_handoff(self, mx, port, ip):
        """Reconnect: PASS OLD and the backend's 220 at once; deliver."""
        c = self.connect(port, ip)
        t0 = time.monotonic()
        self.assertEqual(c.read_reply(), [BACKEND_BANNER])
        self.assertLess(time.monotonic() - t0, 0.8, "PASS OLD hands off at once")
        qid, msgid = self.deliver_mail(c, HELO, BACKEND_EHLO, SENDER, RCPT, "deep tests passed")
        who = re.escape("unknown[%s]:%d" % (ip, c.source_port))
        b = self.backend
        b.wait_for_log(r"postfix/smtpd\[\d+\]: connect from %s$" % who)
        b.wait_for_log(r"postfix/smtpd\[\d+\]: %s: client=%s$" % (qid, who))
        b.wait_for_log(r"postfix/cleanup\[\d+\]: %s: message-id=<%s>$"
                       % (qid, re.escape(msgid)))
        b.wait_for_log(r"postfix/smtpd\[\d+\]: disconnect from %s ehlo=1 mail=1 rcpt=1 "
                       r"data=1 quit=1 commands=5$" % who)
        self.assert_session_log(mx, c, [msg_connect(c), msg_pass_old(c)], settle=0.3)
        return c

    def assert_engine_again(self, port, ip):
        """Not cached: the next connection is in the engine again."""
        c = self.engine_client(port, ip)
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.close()

    def check_store(self, mx, ip, expected_ttls, absent=()):
        """After mx.stop(): `verdict get IP` lists each test with now+TTL."""
        with self.subTest("verdict get %s" % ip):
            if not binary_has_verdict_cli(mx):
                self.skipTest("this mxscreen binary has no `verdict get` yet")
            r = mx.verdict_get(ip)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            got = parse_verdict_get(r.stdout)
            now = time.time()
            for name, ttl in expected_ttls.items():
                self.assertIn(name, got, r.stdout)
                self.assertAlmostEqual(got[name], now + ttl, delta=120, msg=r.stdout)
            for name in absent:
                self.assertNotIn(name, got, r.stdout)

    # -- the reconnect cycle ---------------------------------------------------
    def test_good_client_reconnect_cycle(self):
        """New client: teaser, wait, engine 220, EHLO/MAIL, RCPT 450 (and
        VRFY 450), QUIT -> NOQUEUE 450 line, PASS NEW, DISCONNECT.
        Reconnect: PASS OLD, handed to Postfix, which logs the real client."""
        mx, port = self.gateway({"pipelining": None, "non_smtp": None, "bare_newline": None},
                                pregreet=True)
        ip = "127.0.4.1"
        c = self.connect(port, ip)
        t0 = time.monotonic()
        self.assertEqual(c.read_reply(timeout=5), [TEASER, ENGINE_BANNER])
        self.assertGreaterEqual(time.monotonic() - t0, 0.8, "the greet wait comes first")
        self.assertEqual(c.command("EHLO " + HELO), ENGINE_EHLO)
        self.assertEqual(c.command("VRFY postmaster"), [REPLY_450])
        self.assertEqual(c.command("MAIL FROM:<%s>" % SENDER), ["250 2.1.0 Ok"])
        self.assertEqual(c.command("RCPT TO:<%s>" % RCPT), [REPLY_450])
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.expect_closed()
        c.close()
        self.assert_session_log(mx, c, [
            msg_connect(c),
            msg_rcpt_reject(c, REPLY_450, SENDER, RCPT, "ESMTP", HELO),
            msg_pass_new(c), msg_disconnect(c)])
        self.assertNotIn("[%s]:%d" % (ip, c.source_port), self.backend.log())
        self.assert_pass_old_handoff(mx, port, ip)
        mx.stop()
        self.check_store(mx, ip, {"pregreet": 86400, "pipelining": 30 * 86400,
                                  "non_smtp": 30 * 86400, "bare_newline": 30 * 86400})

    def test_early_passes_cached_deep_tests_not(self):
        """A client that passed pregreet but quit before RCPT: next time the
        engine's 220 at once (no teaser, no wait); it must reach RCPT."""
        mx, port = self.gateway({"pipelining": None, "bare_newline": None}, pregreet=True,
                                greet_wait="2s")
        ip = "127.0.4.2"
        c = self.connect(port, ip)
        self.assertEqual(c.read_reply(timeout=8), [TEASER, ENGINE_BANNER])
        self.assertEqual(c.command("EHLO " + HELO), ENGINE_EHLO)
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.close()
        self.assert_session_log(mx, c, [msg_connect(c), msg_disconnect(c)], settle=0.2)

        c2 = self.connect(port, ip)
        t0 = time.monotonic()
        self.assertEqual(c2.read_reply(), [ENGINE_BANNER])
        self.assertLess(time.monotonic() - t0, 1.5, "no greet wait for a cached pregreet pass")
        self.good_transaction(c2)
        self.assert_session_log(mx, c2, [
            msg_connect(c2), msg_rcpt_reject(c2, REPLY_450, SENDER, RCPT, "ESMTP", HELO),
            msg_pass_new(c2), msg_disconnect(c2)])
        self.assert_pass_old_handoff(mx, port, ip)

    # -- pipelining ------------------------------------------------------------
    def test_pipelining_enforce_default(self):
        """Default action enforce: MAIL gets its 250, the queued RCPT and every
        later RCPT get 550 5.5.1; not cached."""
        mx, port = self.gateway({"pipelining": None})
        c = self.engine_client(port, "127.0.4.10")
        self.assertEqual(c.command("EHLO " + HELO), ENGINE_EHLO)
        c.send_raw(b"MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n")
        self.assertEqual(c.read_reply(), ["250 2.1.0 Ok"])
        self.assertEqual(c.read_reply(), [REPLY_550])
        self.assertEqual(c.command("RCPT TO:<e@f.example>"), [REPLY_550])
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.expect_closed()
        self.assert_session_log(mx, c, [
            msg_connect(c),
            msg_pipelining(c, "MAIL", "RCPT TO:<c@d.example>\\r\\n"),
            msg_rcpt_reject(c, REPLY_550, SENDER, RCPT, "ESMTP", HELO),
            msg_rcpt_reject(c, REPLY_550, SENDER, "e@f.example", "ESMTP", HELO),
            msg_disconnect(c)])
        self.assert_engine_again(port, "127.0.4.10")

    def test_pipelining_drop(self):
        mx, port = self.gateway({"pipelining": "drop"})
        c = self.engine_client(port, "127.0.4.11")
        self.assertEqual(c.command("EHLO " + HELO), ENGINE_EHLO)
        c.send_raw(b"MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n")
        self.assertEqual(c.read_reply(), [REPLY_521])
        c.expect_closed()
        self.assert_session_log(mx, c, [
            msg_connect(c), msg_pipelining(c, "MAIL", "RCPT TO:<c@d.example>\\r\\n"),
            msg_disconnect(c)])

    def test_pipelining_ignore(self):
        """ignore: logged once; RCPT 450; the session counts as passed (PASS
        NEW, as real postscreen), so the next connection is PASS OLD."""
        mx, port = self.gateway({"pipelining": "ignore"})
        ip = "127.0.4.12"
        c = self.engine_client(port, ip)
        c.send_raw(b"EHLO client.example\r\nNOOP\r\n")
        self.assertEqual(c.read_reply(), ENGINE_EHLO)
        self.assertEqual(c.read_reply(), ["250 2.0.0 Ok"])
        c.send_raw(b"MAIL FROM:<a@b.example>\r\nRCPT TO:<c@d.example>\r\n")
        self.assertEqual(c.read_reply(), ["250 2.1.0 Ok"])
        self.assertEqual(c.read_reply(), [REPLY_450])
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.expect_closed()
        c.close()
        self.assert_session_log(mx, c, [
            msg_connect(c), msg_pipelining(c, "EHLO", "NOOP\\r\\n"),
            msg_rcpt_reject(c, REPLY_450, SENDER, RCPT, "ESMTP", HELO),
            msg_pass_new(c), msg_disconnect(c)])
        self.assert_pass_old_handoff(mx, port, ip)

    # -- non_smtp --------------------------------------------------------------
    def test_non_smtp_drop_default(self):
        """Default action drop: '521 5.7.0 Error: I can break rules, too.
        Goodbye.'; the log names the previous command (CONNECT first)."""
        mx, port = self.gateway({"non_smtp": None})
        cases = [("127.0.4.20", [], "GET / HTTP/1.0", "CONNECT"),
                 ("127.0.4.21", ["HELO client.example"], "POST /form HTTP/1.1", "HELO"),
                 ("127.0.4.22", ["EHLO client.example"], "CONNECT mx.example:25 HTTP/1.1",
                  "EHLO"),
                 ("127.0.4.23", [], "get /lower-case HTTP/1.0", "CONNECT"),
                 ("127.0.4.24", ["NOOP"], "1234 not a letter", "NOOP"),
                 ("127.0.4.25", ["FOO"], "Subject: a mail header", "UNIMPLEMENTED")]
        for ip, before, line, after in cases:
            with self.subTest(line=line):
                c = self.engine_client(port, ip)
                for cmd in before:
                    c.command(cmd)
                self.assertEqual(c.command(line), [REPLY_521_NON_SMTP])
                c.expect_closed()
                self.assert_session_log(mx, c, [msg_connect(c), msg_non_smtp(c, after, line),
                                                msg_disconnect(c)])

    def test_non_smtp_enforce(self):
        """enforce: the command gets its normal 502; RCPT 550 5.5.1."""
        mx, port = self.gateway({"non_smtp": "enforce"})
        c = self.engine_client(port, "127.0.4.26")
        self.assertEqual(c.command("HELO " + HELO), ["250 %s" % MX_HOSTNAME])
        self.assertEqual(c.command("GET / HTTP/1.0"), [REPLY_NOT_RECOGNIZED])
        self.assertEqual(c.command("POST / HTTP/1.0"), [REPLY_NOT_RECOGNIZED])
        self.assertEqual(c.command("MAIL FROM:<%s>" % SENDER), ["250 2.1.0 Ok"])
        self.assertEqual(c.command("RCPT TO:<%s>" % RCPT), [REPLY_550])
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.expect_closed()
        self.assert_session_log(mx, c, [
            msg_connect(c), msg_non_smtp(c, "HELO", "GET / HTTP/1.0"),
            msg_rcpt_reject(c, REPLY_550, SENDER, RCPT, "SMTP", HELO),
            msg_disconnect(c)])
        self.assert_engine_again(port, "127.0.4.26")

    def test_non_smtp_ignore(self):
        mx, port = self.gateway({"non_smtp": "ignore"})
        ip = "127.0.4.27"
        c = self.engine_client(port, ip)
        self.assertEqual(c.command("GET / HTTP/1.0"), [REPLY_NOT_RECOGNIZED])
        self.good_transaction(c)
        self.assert_session_log(mx, c, [
            msg_connect(c), msg_non_smtp(c, "CONNECT", "GET / HTTP/1.0"),
            msg_rcpt_reject(c, REPLY_450, SENDER, RCPT, "ESMTP", HELO),
            msg_pass_new(c), msg_disconnect(c)])
        self.assert_pass_old_handoff(mx, port, ip)

    def test_non_smtp_forbidden_commands(self):
        """forbidden_commands [FOO]: 'FOO bar' fails (after UNIMPLEMENTED when
        the previous line was junk); GET is no longer forbidden; a mail
        header line still fails."""
        mx, port = self.gateway({"non_smtp": {"typed_config": {"forbidden_commands": ["FOO"]}}})
        c = self.engine_client(port, "127.0.4.28")
        self.assertEqual(c.command("GET /"), [REPLY_NOT_RECOGNIZED])
        self.assertEqual(c.command("FOO bar"), [REPLY_521_NON_SMTP])
        c.expect_closed()
        self.assert_session_log(mx, c, [msg_connect(c),
                                        msg_non_smtp(c, "UNIMPLEMENTED", "FOO bar"),
                                        msg_disconnect(c)])
        c2 = self.engine_client(port, "127.0.4.29")
        self.assertEqual(c2.command("Subject: x"), [REPLY_521_NON_SMTP])
        c2.expect_closed()
        self.assert_session_log(mx, c2, [msg_connect(c2),
                                         msg_non_smtp(c2, "CONNECT", "Subject: x"),
                                         msg_disconnect(c2)])

    # -- bare_newline ----------------------------------------------------------
    def test_bare_newline_ignore_default(self):
        """Default action ignore: 'BARE NEWLINE ... after <that line>'; the
        command is answered; RCPT 450; PASS NEW; then PASS OLD."""
        mx, port = self.gateway({"bare_newline": None})
        ip = "127.0.4.30"
        c = self.engine_client(port, ip)
        self.assertEqual(c.command("EHLO " + HELO), ENGINE_EHLO)
        c.send_raw(b"MAIL FROM:<a@b.example>\n")
        self.assertEqual(c.read_reply(), ["250 2.1.0 Ok"])
        self.assertEqual(c.command("RCPT TO:<%s>" % RCPT), [REPLY_450])
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.expect_closed()
        c.close()
        self.assert_session_log(mx, c, [
            msg_connect(c), msg_bare_newline(c, "MAIL FROM:<a@b.example>"),
            msg_rcpt_reject(c, REPLY_450, SENDER, RCPT, "ESMTP", HELO),
            msg_pass_new(c), msg_disconnect(c)])
        self.assert_pass_old_handoff(mx, port, ip)

    def test_bare_newline_enforce(self):
        mx, port = self.gateway({"bare_newline": "enforce"})
        c = self.engine_client(port, "127.0.4.31")
        c.send_raw(b"EHLO client.example\n")
        self.assertEqual(c.read_reply(), ENGINE_EHLO)
        self.assertEqual(c.command("MAIL FROM:<%s>" % SENDER), ["250 2.1.0 Ok"])
        self.assertEqual(c.command("RCPT TO:<%s>" % RCPT), [REPLY_550])
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.expect_closed()
        self.assert_session_log(mx, c, [
            msg_connect(c), msg_bare_newline(c, "EHLO client.example"),
            msg_rcpt_reject(c, REPLY_550, SENDER, RCPT, "ESMTP", HELO),
            msg_disconnect(c)])
        self.assert_engine_again(port, "127.0.4.31")

    def test_bare_newline_drop(self):
        mx, port = self.gateway({"bare_newline": "drop"})
        c = self.engine_client(port, "127.0.4.32")
        self.assertEqual(c.command("EHLO " + HELO), ENGINE_EHLO)
        c.send_raw(b"NOOP\n")
        self.assertEqual(c.read_reply(), [REPLY_521])
        c.expect_closed()
        self.assert_session_log(mx, c, [msg_connect(c), msg_bare_newline(c, "NOOP"),
                                        msg_disconnect(c)])

    # -- TTLs in the store -----------------------------------------------------
    def test_configured_ttls_are_stored(self):
        """Each pass is stored with now + its entry's ttl."""
        mx, port = self.gateway({"pipelining": {"ttl": "2d"}, "non_smtp": {"ttl": "3h"},
                                 "bare_newline": None})
        ip = "127.0.4.40"
        c = self.engine_client(port, ip)
        self.good_transaction(c)
        mx.wait_for_message(msg_disconnect(c))
        mx.stop()
        self.check_store(mx, ip, {"pipelining": 2 * 86400, "non_smtp": 3 * 3600,
                                  "bare_newline": 30 * 86400}, absent=("pregreet",))


if __name__ == "__main__":
    unittest.main()
