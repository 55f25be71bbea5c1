"""test_screening - the pregreet test and the verdict cache, socket by socket

SYNOPSIS
    /usr/bin/python3 -m unittest -v tests/integration/test_screening.py

DESCRIPTION
    Every row of postscreen-behaviour.md section 3 (pregreet), with a real
    Postfix smtpd as the backend (PROXY v2), asserting exactly the reply
    lines the client reads and exactly mxscreen's log lines for that client:

      - a silent client: the teaser "220-<banner>", the greet wait (timed),
        then the backend's own "220 ..." ends the multi-line greeting;
        "PASS NEW"; its next connection "PASS OLD" and the backend's banner
        at once (no teaser, no wait); Postfix logs the original client;
      - the teaser text: the listener's banner by default, the filter's
        typed_config banner when set;
      - an early talker under ignore (logged, handed off, its bytes reach
        the backend first, the test repeats next time), drop (521 and
        close), enforce (no "220 " line at all, the early command answered
        straight away, RCPT 550 with the NOQUEUE line);
      - the PREGREET line: byte count, the delay in Postfix's format, the
        C-escaped text cut at 100 characters;
      - a hang-up during the wait (HANGUP ... before SMTP handshake);
      - the stress greet wait; a disabled pregreet entry.

    Greet waits are short (1-3 s) and timing bounds generous (0.8x..3x).
    Where the real postscreen was consulted for a detail the spec leaves
    open, the test says so (Postfix 3.7.11 on loopback).
"""

import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (PostfixInstance, MxscreenTestCase, free_port,  # noqa: E402
                     screening_config, engine_ehlo, postfix_ehlo, msg_connect, msg_disconnect,
                     msg_pass_new, msg_pass_old, msg_rcpt_reject, delay_candidates,
                     c_escape)

MX_HOSTNAME = "mx.test.example"
BACKEND_HOSTNAME = "backend.test.example"
DEFAULT_BANNER = "%s ESMTP Postfix" % MX_HOSTNAME       # the listener's default banner
TEASER = "220-" + DEFAULT_BANNER
ENGINE_EHLO = engine_ehlo(MX_HOSTNAME)
BACKEND_BANNER = "220 %s ESMTP Postfix" % BACKEND_HOSTNAME
BACKEND_EHLO = postfix_ehlo(BACKEND_HOSTNAME)
REPLY_PROTOCOL_ERROR_DROP = "521 5.5.1 Protocol error"
REPLY_PROTOCOL_ERROR_RCPT = "550 5.5.1 Protocol error"
EARLY = b"EHLO pregreet.example\r\n"
EARLY_ESCAPED = "EHLO pregreet.example\\r\\n"

GREET_WAIT = 1.0


def msg_pregreet(client, nbytes, delay, text):
    return "PREGREET %d after %s from %s: %s" % (nbytes, delay, client.endpoint, text)


def msg_hangup_before(client, delay):
    return "HANGUP after %s from %s in tests before SMTP handshake" % (delay, client.endpoint)


class PregreetTest(MxscreenTestCase):

    @classmethod
    def setUpClass(cls):
        cls.backend = PostfixInstance("backend", proxy=True, hostname=BACKEND_HOSTNAME)
        cls.addClassCleanup(cls.backend.stop)
        cls.backend.start()

    # -- helpers ---------------------------------------------------------------
    def gateway(self, action=None, greet_wait="1s", typed_banner=None, banner=None,
                enabled=None, **kw):
        port = free_port()
        f = {"name": "pregreet"}
        if action is not None:
            f["action"] = action
        if typed_banner is not None:
            f["typed_config"] = {"banner": typed_banner}
        if enabled is not None:
            f["enabled"] = enabled
        cfg = screening_config(port, [self.backend.address], [f], hostname=MX_HOSTNAME,
                               greet_wait=greet_wait, banner=banner, **kw)
        mx = self.start_gateway(cfg)
        return mx, port

    def pregreet_message(self, mx, client, nbytes, text, low, high):
        """The exact PREGREET line whose delay is one Postfix would write for
        a delay in [low, high]; fails with the log otherwise."""
        m = mx.wait_for_log(r"PREGREET \d+ after (\S+) from %s: " % re.escape(client.endpoint))
        delay = m.group(1)
        self.assertIn(delay, delay_candidates(low, high),
                      "PREGREET delay %r is not Postfix's format for %.2f..%.2f s"
                      % (delay, low, high))
        return msg_pregreet(client, nbytes, delay, text)

    def backend_saw(self, client):
        who = re.escape("unknown[%s]:%d" % (client.source_ip, client.source_port))
        return self.backend.wait_for_log(r"postfix/smtpd\[\d+\]: connect from %s$" % who)

    def assert_backend_never_saw(self, client, settle=0.3):
        time.sleep(settle)
        self.assertNotIn("[%s]:%d" % (client.source_ip, client.source_port),
                         self.backend.log(), "the backend must not see this client")

    def silent_pass(self, port, ip, teaser=TEASER, wait=GREET_WAIT):
        """A client that waits its turn: teaser, the wait, the backend's 220."""
        c = self.connect(port, ip)
        t0 = time.monotonic()
        self.assertEqual(c.read_line(), teaser)
        self.assertEqual(c.read_line(timeout=3 * wait + 5), BACKEND_BANNER)
        waited = time.monotonic() - t0
        self.assertGreaterEqual(waited, 0.8 * wait, "greet wait too short")
        self.assertLessEqual(waited, 3.0 * wait, "greet wait too long")
        return c

    # -- a client that waits its turn -----------------------------------------
    def test_silent_client_pass_new_then_pass_old(self):
        """teaser, full wait, the backend's 220 ends the greeting; PASS NEW;
        next connection PASS OLD: the backend's 220 at once, no teaser."""
        mx, port = self.gateway()
        c = self.silent_pass(port, "127.0.1.1")
        self.assertEqual(c.command("EHLO client.example"), BACKEND_EHLO)
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.expect_closed()
        c.close()
        self.backend_saw(c)           # PROXY v2: Postfix logs the original client
        self.assert_session_log(mx, c, [msg_connect(c), msg_pass_new(c)], settle=0.3)

        c2 = self.connect(port, "127.0.1.1")
        t0 = time.monotonic()
        self.assertEqual(c2.read_reply(), [BACKEND_BANNER])
        self.assertLess(time.monotonic() - t0, 0.8 * GREET_WAIT, "PASS OLD must not wait")
        self.assertEqual(c2.command("QUIT"), ["221 2.0.0 Bye"])
        c2.expect_closed()
        c2.close()
        self.backend_saw(c2)
        self.assert_session_log(mx, c2, [msg_connect(c2), msg_pass_old(c2)], settle=0.3)
        self.assert_log_format(mx)

    def test_greet_wait_duration(self):
        """The wait is the configured greet_wait (2 s here), within 0.8x..3x."""
        mx, port = self.gateway(greet_wait="2s")
        c = self.silent_pass(port, "127.0.1.2", wait=2.0)
        c.close()
        self.assert_session_log(mx, c, [msg_connect(c), msg_pass_new(c)])

    def test_teaser_text(self):
        """The teaser is 220-<listener banner>, or the filter's own banner."""
        mx, port = self.gateway(banner="listener.test.example ESMTP hello")
        c = self.silent_pass(port, "127.0.1.3", teaser="220-listener.test.example ESMTP hello")
        c.close()
        mx2, port2 = self.gateway(banner="listener.test.example ESMTP hello",
                                  typed_banner="teaser.test.example ESMTP wait")
        c = self.silent_pass(port2, "127.0.1.3", teaser="220-teaser.test.example ESMTP wait")
        c.close()
        self.assert_session_log(mx2, c, [msg_connect(c), msg_pass_new(c)])

    def test_disabled_pregreet_entry(self):
        """enabled: false: no teaser, no wait, no PASS line; handed off at once."""
        mx, port = self.gateway(enabled=False, greet_wait="2s")
        c = self.connect(port, "127.0.1.4")
        t0 = time.monotonic()
        self.assertEqual(c.read_reply(), [BACKEND_BANNER])
        self.assertLess(time.monotonic() - t0, 1.5, "no greet wait (2 s) with the test disabled")
        c.close()
        self.backend_saw(c)
        self.assert_session_log(mx, c, [msg_connect(c)], settle=0.3)

    # -- early talkers -------------------------------------------------------
    def test_early_talker_ignore(self):
        """ignore: PREGREET logged, the wait ends, handed off with the early
        bytes first (the backend answers the EHLO); no pass is stored."""
        mx, port = self.gateway(action="ignore", greet_wait="2s")
        c = self.connect(port, "127.0.1.10")
        t0 = time.monotonic()
        self.assertEqual(c.read_line(), TEASER)
        c.send_raw(EARLY)
        # The backend's 220 ends the greeting, then its answer to the early EHLO.
        self.assertEqual(c.read_line(), BACKEND_BANNER)
        self.assertLess(time.monotonic() - t0, 1.6,
                        "the wait ends when the client talks (real postscreen: at once)")
        self.assertEqual(c.read_reply(), BACKEND_EHLO)
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.expect_closed()
        c.close()
        self.backend_saw(c)
        who = re.escape("unknown[%s]:%d" % (c.source_ip, c.source_port))
        self.backend.wait_for_log(r"postfix/smtpd\[\d+\]: disconnect from %s ehlo=1 quit=1 "
                                  r"commands=2$" % who)
        pregreet = self.pregreet_message(mx, c, len(EARLY), EARLY_ESCAPED, 0.0, 1.0)
        self.assert_session_log(mx, c, [msg_connect(c), pregreet], settle=0.3)
        # Not cached: the next connection gets the teaser and the wait again.
        c2 = self.silent_pass(port, "127.0.1.10", wait=2.0)
        c2.close()
        self.assert_session_log(mx, c2, [msg_connect(c2), msg_pass_new(c2)])

    def test_early_talker_drop(self):
        """drop: exactly '521 5.5.1 Protocol error', closed, never handed off."""
        mx, port = self.gateway(action="drop", greet_wait="3s")
        c = self.connect(port, "127.0.1.11")
        t0 = time.monotonic()
        self.assertEqual(c.read_line(), TEASER)
        c.send_raw(EARLY)
        self.assertEqual(c.read_reply(), [REPLY_PROTOCOL_ERROR_DROP])
        self.assertLess(time.monotonic() - t0, 2.0, "drop answers at once")
        c.expect_closed()
        pregreet = self.pregreet_message(mx, c, len(EARLY), EARLY_ESCAPED, 0.0, 1.0)
        self.assert_session_log(mx, c, [msg_connect(c), pregreet, msg_disconnect(c)])
        self.assert_backend_never_saw(c)
        # Failures are never cached: the next connection is tested again.
        c2 = self.connect(port, "127.0.1.11")
        self.assertEqual(c2.read_line(), TEASER)
        c2.send_raw(EARLY)
        self.assertEqual(c2.read_reply(), [REPLY_PROTOCOL_ERROR_DROP])
        c2.expect_closed()

    def test_early_talker_enforce(self):
        """enforce: no '220 ' line at all; the early EHLO is answered at once by
        the engine; RCPT gets 550 5.5.1 and the NOQUEUE line; nothing cached."""
        mx, port = self.gateway(action="enforce", greet_wait="3s")
        c = self.connect(port, "127.0.1.12")
        t0 = time.monotonic()
        self.assertEqual(c.read_line(), TEASER)
        c.send_raw(EARLY)
        # The very next reply is the EHLO answer: no "220 " in between.
        self.assertEqual(c.read_reply(), ENGINE_EHLO)
        self.assertLess(time.monotonic() - t0, 1.5,
                        "the early command is answered straight away, not after the wait")
        self.assertEqual(c.command("MAIL FROM:<a@b.example>"), ["250 2.1.0 Ok"])
        self.assertEqual(c.command("RCPT TO:<c@d.example>"), [REPLY_PROTOCOL_ERROR_RCPT])
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.expect_closed()
        pregreet = self.pregreet_message(mx, c, len(EARLY), EARLY_ESCAPED, 0.0, 1.0)
        self.assert_session_log(mx, c, [
            msg_connect(c), pregreet,
            msg_rcpt_reject(c, REPLY_PROTOCOL_ERROR_RCPT, "a@b.example", "c@d.example",
                            "ESMTP", "pregreet.example"),
            msg_disconnect(c)])
        self.assert_backend_never_saw(c)
        # Nothing stored: the teaser again, and a second early talker too.
        c2 = self.connect(port, "127.0.1.12")
        self.assertEqual(c2.read_line(), TEASER)
        c2.send_raw(b"HELO again.example\r\n")
        self.assertEqual(c2.read_reply(), ["250 %s" % MX_HOSTNAME])
        self.assertEqual(c2.command("MAIL FROM:<a@b.example>"), ["250 2.1.0 Ok"])
        self.assertEqual(c2.command("RCPT TO:<c@d.example>"), [REPLY_PROTOCOL_ERROR_RCPT])
        c2.close()
        mx.wait_for_message(msg_rcpt_reject(c2, REPLY_PROTOCOL_ERROR_RCPT, "a@b.example",
                                            "c@d.example", "SMTP", "again.example"))

    def test_pregreet_delay_is_postfix_formatted(self):
        """Talking 0.35 s and 1.25 s after connect: 'after 0.35'-like (two
        decimals) and 'after 1.2'/'1.3' (two significant digits), never
        '1.25' or '0.350'."""
        mx, port = self.gateway(action="drop", greet_wait="3s")
        # The gateway's clock starts at accept, a little after connect()
        # returned here: its delay may be a few ms shorter than ours.
        for ip, pause, low, high in (("127.0.1.20", 0.35, 0.25, 0.9),
                                     ("127.0.1.21", 1.25, 1.15, 1.9)):
            with self.subTest(pause=pause):
                c = self.connect(port, ip)
                t0 = time.monotonic()
                self.assertEqual(c.read_line(), TEASER)
                time.sleep(max(0.0, pause - (time.monotonic() - t0)))
                c.send_raw(EARLY)
                self.assertEqual(c.read_reply(), [REPLY_PROTOCOL_ERROR_DROP])
                c.expect_closed()
                pregreet = self.pregreet_message(mx, c, len(EARLY), EARLY_ESCAPED, low, high)
                self.assert_session_log(mx, c, [msg_connect(c), pregreet, msg_disconnect(c)])

    def test_pregreet_text_c_escaped_and_cut_at_100(self):
        """The text is C-escaped (\\r \\n \\t \\\\ \\ooo) and cut at 100
        characters after escaping ("%.100s"); the count is of bytes read."""
        mx, port = self.gateway(action="drop", greet_wait="3s")
        cases = [
            ("127.0.1.30", b"\x01\tQUIT\x7f\xff\\ x\r\n",
             "\\001\\tQUIT\\177\\377\\\\ x\\r\\n"),
            ("127.0.1.31", b"Y" * 150 + b"\r\n", "Y" * 100),
            # The cut falls inside an escape sequence, as "%.100s" cuts it.
            ("127.0.1.32", b"Z" * 99 + b"\r\n", "Z" * 99 + "\\"),
            ("127.0.1.33", b"GET / HTTP/1.0\r\nHost: x\r\n\r\n",
             "GET / HTTP/1.0\\r\\nHost: x\\r\\n\\r\\n"),
        ]
        for ip, data, text in cases:
            with self.subTest(data=data):
                self.assertEqual(c_escape(data)[:100], text)     # the helper agrees
                c = self.connect(port, ip)
                self.assertEqual(c.read_line(), TEASER)
                c.send_raw(data)
                self.assertEqual(c.read_reply(), [REPLY_PROTOCOL_ERROR_DROP])
                c.expect_closed()
                pregreet = self.pregreet_message(mx, c, len(data), text, 0.0, 1.5)
                self.assert_session_log(mx, c, [msg_connect(c), pregreet, msg_disconnect(c)])

    def test_hangup_during_greet_wait(self):
        """A client that closes during the wait: HANGUP ... before SMTP
        handshake (delay in Postfix's format), DISCONNECT; nothing cached."""
        mx, port = self.gateway(greet_wait="3s")
        c = self.connect(port, "127.0.1.40")
        t0 = time.monotonic()
        self.assertEqual(c.read_line(), TEASER)
        time.sleep(max(0.0, 1.25 - (time.monotonic() - t0)))
        c.close()
        m = mx.wait_for_log(r"HANGUP after (\S+) from %s in tests before SMTP handshake$"
                            % re.escape(c.endpoint))
        self.assertIn(m.group(1), delay_candidates(1.15, 2.0))
        self.assert_session_log(mx, c, [msg_connect(c), msg_hangup_before(c, m.group(1)),
                                        msg_disconnect(c)], settle=0.2)
        self.assert_backend_never_saw(c, settle=0)
        c2 = self.connect(port, "127.0.1.40")
        self.assertEqual(c2.read_line(), TEASER)    # tested again

    def test_stress_mode_uses_greet_wait_stress(self):
        """At 90% of the pre-queue limit: 'entering STRESS mode with 9
        connections', and the new client waits greet_wait_stress (1 s), not
        greet_wait (4 s)."""
        mx, port = self.gateway(greet_wait="4s", greet_wait_stress="1s",
                                listener_limits={"pre_queue_limit": 10})
        held = []
        for i in range(8):
            h = self.connect(port, "127.0.2.%d" % (i + 1))
            self.assertEqual(h.read_line(), TEASER)
            held.append(h)
        c = self.silent_pass(port, "127.0.2.100", wait=1.0)
        c.close()
        mx.wait_for_message("entering STRESS mode with 9 connections")
        self.assert_session_log(mx, c, [msg_connect(c), msg_pass_new(c)])
        for h in held:
            h.close()
        # 70% of the limit: the watermark on the way down.
        mx.wait_for_message("leaving STRESS mode with 7 connections")

    def test_most_recent_enforced_failure_wins(self):
        """Denylisted (enforce, 550 5.3.2) and then pregreeting (enforce):
        RCPT gets the most recent enforced failure's reply, 550 5.5.1."""
        port = free_port()
        filters = [{"name": "access_cidr", "action": "enforce",
                    "typed_config": {"mynetworks": ["127.0.0.1/32"],
                                     "access_list": [{"cidr": {"lines": ["127.0.1.50 reject"]}}]}},
                   {"name": "pregreet", "action": "enforce"}]
        mx = self.start_gateway(screening_config(port, [self.backend.address], filters,
                                                 hostname=MX_HOSTNAME, greet_wait="2s"))
        c = self.connect(port, "127.0.1.50")
        self.assertEqual(c.read_line(), TEASER)
        c.send_raw(EARLY)
        self.assertEqual(c.read_reply(), ENGINE_EHLO)
        self.assertEqual(c.command("MAIL FROM:<a@b.example>"), ["250 2.1.0 Ok"])
        self.assertEqual(c.command("RCPT TO:<c@d.example>"), [REPLY_PROTOCOL_ERROR_RCPT])
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.expect_closed()
        pregreet = self.pregreet_message(mx, c, len(EARLY), EARLY_ESCAPED, 0.0, 1.0)
        self.assert_session_log(mx, c, [
            msg_connect(c), "DENYLISTED " + c.endpoint, pregreet,
            msg_rcpt_reject(c, REPLY_PROTOCOL_ERROR_RCPT, "a@b.example", "c@d.example",
                            "ESMTP", "pregreet.example"),
            msg_disconnect(c)])


if __name__ == "__main__":
    unittest.main()
