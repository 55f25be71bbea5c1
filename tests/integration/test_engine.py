"""test_engine - the built-in SMTP engine, reply by reply, over a socket

SYNOPSIS
    /usr/bin/python3 -m unittest -v tests/integration/test_engine.py

DESCRIPTION
    Every row of the engine reply table of postscreen-behaviour.md section 5
    and the engine limits, with exact reply lines and exact log lines.  The
    client reaches the engine through the permanent access list with
    action enforce (every 127.x client but 127.0.0.1 is denylisted), so
    these tests do not depend on the deep-test filters; RCPT therefore
    gets "550 5.3.2 Service currently unavailable" (the 450 of a client
    without an enforced failure is in test_deep_tests.py).

    Details the spec leaves open were checked against the real postscreen
    of Postfix 3.7.11 on loopback (harness role "postscreen"); those tests
    say so in their docstring:
      - "after %s" in COMMAND COUNT/LENGTH/TIME LIMIT is the last command
        the engine answered ("CONNECT" before any, "UNIMPLEMENTED" for
        junk), not the command that hit the limit;
      - a command line of line_length_limit bytes or more (without its
        CRLF) is refused: 2047 passes, 2048 gets the 421;
      - QUIT is not counted against command_count_limit;
      - DATA before MAIL is logged "DATA without valid RCPT" too.
    PostfixParityTest holds answers of the real daemon that go beyond the
    spec's table (VRFY under enforce, helo_required for RCPT/VRFY/STARTTLS,
    MAIL without FROM:).

    No Postfix backend is needed: no client is ever handed off here.
"""

import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (MxscreenTestCase, free_port, screening_config,  # noqa: E402
                     engine_ehlo, msg_connect, msg_denylisted, msg_disconnect,
                     msg_rcpt_reject, delay_candidates, REPLY_DENYLIST_RCPT)

MX_HOSTNAME = "mx.test.example"
ENGINE_BANNER = "220 %s ESMTP Postfix" % MX_HOSTNAME
ENGINE_EHLO = engine_ehlo(MX_HOSTNAME)
NO_BACKEND = "127.0.0.1:9"          # never used: nobody is handed off
REPLY_LIMIT = "421 %s Service unavailable - try again later" % MX_HOSTNAME
REPLY_TIMEOUT = "421 4.4.2 %s Error: timeout exceeded" % MX_HOSTNAME
REPLY_OK = "250 2.0.0 Ok"
REPLY_MAIL_OK = "250 2.1.0 Ok"
REPLY_NOT_RECOGNIZED = "502 5.5.2 Error: command not recognized"
REPLY_SEND_HELO = "503 5.5.1 Error: send HELO/EHLO first"
REPLY_VRFY_450 = "450 4.3.2 Service currently unavailable"
REPLY_VRFY_DISABLED = "502 5.5.1 VRFY command is disabled"
SENDER, RCPT = "sender@client.example", "rcpt@mx.example"


def msg_limit(kind, client, where):
    return "COMMAND %s LIMIT from %s after %s" % (kind, client.endpoint, where)


def msg_without_rcpt(verb, client):
    return "%s without valid RCPT from %s" % (verb, client.endpoint)


class EngineTest(MxscreenTestCase):

    def gateway(self, smtp=None, listener_limits=None):
        port = free_port()
        filters = [{"name": "access_cidr", "action": "enforce",
                    "typed_config": {"mynetworks": ["127.0.0.1/32"],
                                     "access_list": [{"permit_mynetworks": True},
                                                     {"cidr": {"lines": ["127.0.0.0/8 reject"]}}]}}]
        cfg = screening_config(port, [NO_BACKEND], filters, hostname=MX_HOSTNAME, smtp=smtp,
                               store=False, listener_limits=listener_limits)
        mx = self.start_gateway(cfg)
        return mx, port

    def engine_client(self, port, ip):
        c = self.connect(port, ip)
        self.assert_reply(c, None, [ENGINE_BANNER])
        return c

    def assert_engine_log(self, mx, c, middle, settle=0.0):
        self.assert_session_log(mx, c, [msg_connect(c), msg_denylisted(c)] + middle
                                + [msg_disconnect(c)], settle=settle)

    # -- the reply table -------------------------------------------------------
    def test_helo_and_ehlo(self):
        """HELO -> '250 <hostname>'; EHLO -> the fixed list (no PIPELINING, no
        AUTH, no STARTTLS without TLS); the 220 greeting is the banner."""
        mx, port = self.gateway()
        c = self.engine_client(port, "127.0.3.1")
        self.assert_reply(c, "HELO client.example", ["250 %s" % MX_HOSTNAME])
        got = self.assert_reply(c, "EHLO client.example", ENGINE_EHLO)
        for word in ("PIPELINING", "AUTH", "STARTTLS"):
            self.assertFalse(any(word in line for line in got), word)
        self.assert_reply(c, "QUIT", ["221 2.0.0 Bye"])
        c.expect_closed()
        self.assert_engine_log(mx, c, [])

    def test_noop_rset_and_lower_case(self):
        mx, port = self.gateway()
        c = self.engine_client(port, "127.0.3.2")
        self.assert_reply(c, "NOOP", [REPLY_OK])
        self.assert_reply(c, "RSET", [REPLY_OK])
        self.assert_reply(c, "noop", [REPLY_OK])
        self.assert_reply(c, "ehlo lower.example", ENGINE_EHLO)
        self.assert_reply(c, "mail from:<%s>" % SENDER, [REPLY_MAIL_OK])
        self.assert_reply(c, "rcpt to:<%s>" % RCPT, [REPLY_DENYLIST_RCPT])
        self.assert_reply(c, "quit", ["221 2.0.0 Bye"])
        c.expect_closed()
        self.assert_engine_log(mx, c, [msg_rcpt_reject(c, REPLY_DENYLIST_RCPT, SENDER, RCPT,
                                                       "ESMTP", "lower.example")])

    def test_mail_and_nested_mail(self):
        """MAIL -> 250 2.1.0 Ok; a second MAIL, or MAIL without argument after
        one -> 503 nested; RSET clears the sender."""
        mx, port = self.gateway()
        c = self.engine_client(port, "127.0.3.3")
        self.assert_reply(c, "MAIL FROM:<%s>" % SENDER, [REPLY_MAIL_OK])
        self.assert_reply(c, "MAIL FROM:<other@client.example>",
                          ["503 5.5.1 Error: nested MAIL command"])
        self.assert_reply(c, "MAIL", ["503 5.5.1 Error: nested MAIL command"])
        self.assert_reply(c, "RSET", [REPLY_OK])
        self.assert_reply(c, "MAIL FROM:<>", [REPLY_MAIL_OK])
        self.assert_reply(c, "RCPT TO:<%s>" % RCPT, [REPLY_DENYLIST_RCPT])
        self.assert_reply(c, "QUIT", ["221 2.0.0 Bye"])
        c.expect_closed()
        # The null sender, no HELO: proto=SMTP, helo=<>.
        self.assert_engine_log(mx, c, [msg_rcpt_reject(c, REPLY_DENYLIST_RCPT, "", RCPT,
                                                       "SMTP", "")])

    def test_rcpt_rows_and_noqueue_lines(self):
        """RCPT before MAIL -> 503 need MAIL; without TO: -> 501; RCPT TO ->
        the enforced 550, with one NOQUEUE line per RCPT (proto SMTP after
        HELO, ESMTP after EHLO, the current helo name)."""
        mx, port = self.gateway()
        c = self.engine_client(port, "127.0.3.4")
        self.assert_reply(c, "RCPT TO:<%s>" % RCPT, ["503 5.5.1 Error: need MAIL command"])
        self.assert_reply(c, "HELO helo.example", ["250 %s" % MX_HOSTNAME])
        self.assert_reply(c, "MAIL FROM:<%s>" % SENDER, [REPLY_MAIL_OK])
        self.assert_reply(c, "RCPT", ["501 5.5.4 Syntax: RCPT TO:<address>"])
        self.assert_reply(c, "RCPT <%s>" % RCPT, ["501 5.5.4 Syntax: RCPT TO:<address>"])
        self.assert_reply(c, "RCPT TO:<%s>" % RCPT, [REPLY_DENYLIST_RCPT])
        self.assert_reply(c, "EHLO ehlo.example", ENGINE_EHLO)
        # EHLO resets the transaction, like RSET.
        self.assert_reply(c, "RCPT TO:<%s>" % RCPT, ["503 5.5.1 Error: need MAIL command"])
        self.assert_reply(c, "MAIL FROM:<second@client.example>", [REPLY_MAIL_OK])
        self.assert_reply(c, "RCPT TO:<second@mx.example>", [REPLY_DENYLIST_RCPT])
        self.assert_reply(c, "QUIT", ["221 2.0.0 Bye"])
        c.expect_closed()
        self.assert_engine_log(mx, c, [
            msg_rcpt_reject(c, REPLY_DENYLIST_RCPT, SENDER, RCPT, "SMTP", "helo.example"),
            msg_rcpt_reject(c, REPLY_DENYLIST_RCPT, "second@client.example",
                            "second@mx.example", "ESMTP", "ehlo.example")])
        self.assertEqual(
            msg_rcpt_reject(c, REPLY_DENYLIST_RCPT, SENDER, RCPT, "SMTP", "helo.example"),
            "NOQUEUE: reject: RCPT from [127.0.3.4]:%d: 550 5.3.2 Service currently "
            "unavailable; from=<sender@client.example>, to=<rcpt@mx.example>, proto=SMTP, "
            "helo=<helo.example>" % c.source_port)

    def test_etrn_starttls_and_unrecognized(self):
        """ETRN -> 458; STARTTLS without TLS -> 502 5.5.1 not implemented;
        HELP, AUTH, XCLIENT, XFORWARD, junk -> 502 5.5.2 not recognized."""
        mx, port = self.gateway()
        c = self.engine_client(port, "127.0.3.5")
        self.assert_reply(c, "EHLO client.example", ENGINE_EHLO)
        self.assert_reply(c, "ETRN example.com", ["458 Unable to queue messages"])
        self.assert_reply(c, "STARTTLS", ["502 5.5.1 Error: command not implemented"])
        for cmd in ("HELP", "AUTH PLAIN AGFAAGI=", "XCLIENT ADDR=192.0.2.1",
                    "XFORWARD NAME=x", "FOO bar", "TURN", "EXPN list"):
            self.assert_reply(c, cmd, [REPLY_NOT_RECOGNIZED])
        self.assert_reply(c, "QUIT", ["221 2.0.0 Bye"])
        c.expect_closed()
        self.assert_engine_log(mx, c, [])

    def test_vrfy_disabled(self):
        """disable_vrfy: VRFY -> 502 5.5.1 VRFY command is disabled."""
        mx, port = self.gateway(smtp={"disable_vrfy": True})
        c = self.engine_client(port, "127.0.3.6")
        self.assert_reply(c, "VRFY postmaster", [REPLY_VRFY_DISABLED])
        self.assert_reply(c, "HELO client.example", ["250 %s" % MX_HOSTNAME])
        self.assert_reply(c, "VRFY postmaster", [REPLY_VRFY_DISABLED])
        self.assert_reply(c, "QUIT", ["221 2.0.0 Bye"])
        c.expect_closed()

    def test_helo_required(self):
        """helo_required: MAIL and ETRN before HELO/EHLO -> 503 send HELO/EHLO
        first; NOOP, RSET still 250; after HELO, MAIL works; QUIT any time."""
        mx, port = self.gateway(smtp={"helo_required": True})
        c = self.engine_client(port, "127.0.3.7")
        self.assert_reply(c, "MAIL FROM:<%s>" % SENDER, [REPLY_SEND_HELO])
        self.assert_reply(c, "ETRN example.com", [REPLY_SEND_HELO])
        self.assert_reply(c, "NOOP", [REPLY_OK])
        self.assert_reply(c, "RSET", [REPLY_OK])
        self.assert_reply(c, "EHLO client.example", ENGINE_EHLO)
        self.assert_reply(c, "MAIL FROM:<%s>" % SENDER, [REPLY_MAIL_OK])
        self.assert_reply(c, "ETRN example.com", ["458 Unable to queue messages"])
        self.assert_reply(c, "RCPT TO:<%s>" % RCPT, [REPLY_DENYLIST_RCPT])
        self.assert_reply(c, "QUIT", ["221 2.0.0 Bye"])
        c.expect_closed()
        self.assert_engine_log(mx, c, [msg_rcpt_reject(c, REPLY_DENYLIST_RCPT, SENDER, RCPT,
                                                       "ESMTP", "client.example")])
        c2 = self.engine_client(port, "127.0.3.7")
        self.assert_reply(c2, "QUIT", ["221 2.0.0 Bye"])
        c2.expect_closed()

    def test_helo_without_argument(self):
        mx, port = self.gateway()
        c = self.engine_client(port, "127.0.3.8")
        self.assert_reply(c, "HELO", ["501 Syntax: HELO hostname"])
        self.assert_reply(c, "EHLO", ["501 Syntax: EHLO hostname"])
        self.assert_reply(c, "QUIT", ["221 2.0.0 Bye"])

    # -- DATA / BDAT close the connection --------------------------------------
    def test_data_before_mail(self):
        """DATA before MAIL: 503 need RCPT, logged 'DATA without valid RCPT'
        (real postscreen logs it here too), connection closed."""
        mx, port = self.gateway()
        c = self.engine_client(port, "127.0.3.10")
        self.assert_reply(c, "EHLO client.example", ENGINE_EHLO)
        self.assert_reply(c, "DATA", ["503 5.5.1 Error: need RCPT command"])
        c.expect_closed()
        self.assert_engine_log(mx, c, [msg_without_rcpt("DATA", c)])

    def test_data_after_rejected_rcpt(self):
        """DATA after MAIL with no valid RCPT: 554, logged, closed."""
        mx, port = self.gateway()
        c = self.engine_client(port, "127.0.3.11")
        self.assert_reply(c, "EHLO client.example", ENGINE_EHLO)
        self.assert_reply(c, "MAIL FROM:<%s>" % SENDER, [REPLY_MAIL_OK])
        self.assert_reply(c, "RCPT TO:<%s>" % RCPT, [REPLY_DENYLIST_RCPT])
        self.assert_reply(c, "DATA", ["554 5.5.1 Error: no valid recipients"])
        c.expect_closed()
        self.assert_engine_log(mx, c, [
            msg_rcpt_reject(c, REPLY_DENYLIST_RCPT, SENDER, RCPT, "ESMTP", "client.example"),
            msg_without_rcpt("DATA", c)])

    def test_bdat(self):
        """BDAT after MAIL: 554 no valid recipients, 'BDAT without valid
        RCPT', closed.  BDAT before MAIL: the spec row's 503 need RCPT
        (Postfix 3.7.11 answers '554 5.5.1 Error: need MAIL command' here;
        see the report), logged, closed."""
        mx, port = self.gateway()
        c = self.engine_client(port, "127.0.3.12")
        self.assert_reply(c, "EHLO client.example", ENGINE_EHLO)
        self.assert_reply(c, "MAIL FROM:<%s>" % SENDER, [REPLY_MAIL_OK])
        self.assert_reply(c, "BDAT 10 LAST", ["554 5.5.1 Error: no valid recipients"])
        c.expect_closed()
        self.assert_engine_log(mx, c, [msg_without_rcpt("BDAT", c)])
        c2 = self.engine_client(port, "127.0.3.13")
        self.assert_reply(c2, "BDAT 10 LAST", ["503 5.5.1 Error: need RCPT command"])
        c2.expect_closed()
        self.assert_engine_log(mx, c2, [msg_without_rcpt("BDAT", c2)])

    def test_quit(self):
        mx, port = self.gateway()
        c = self.engine_client(port, "127.0.3.14")
        self.assert_reply(c, "QUIT", ["221 2.0.0 Bye"])
        self.assertEqual(c.expect_closed(), "eof")
        self.assert_engine_log(mx, c, [], settle=0.2)

    # -- limits ----------------------------------------------------------------
    def test_command_count_limit_default_20(self):
        """20 commands are answered, the 21st gets the 421 and the connection
        closes; the log names the last command answered (Postfix)."""
        mx, port = self.gateway()
        c = self.engine_client(port, "127.0.3.20")
        for _ in range(19):
            self.assert_reply(c, "NOOP", [REPLY_OK])
        self.assert_reply(c, "RSET", [REPLY_OK])
        self.assert_reply(c, "HELP", [REPLY_LIMIT])
        c.expect_closed()
        self.assert_engine_log(mx, c, [msg_limit("COUNT", c, "RSET")])

    def test_command_count_limit_small(self):
        """command_count_limit 5: junk counts too; 'after UNIMPLEMENTED' when
        the last answered command was junk (Postfix)."""
        mx, port = self.gateway(smtp={"command_count_limit": 5})
        c = self.engine_client(port, "127.0.3.21")
        self.assert_reply(c, "EHLO client.example", ENGINE_EHLO)
        self.assert_reply(c, "MAIL FROM:<%s>" % SENDER, [REPLY_MAIL_OK])
        self.assert_reply(c, "RCPT TO:<%s>" % RCPT, [REPLY_DENYLIST_RCPT])
        self.assert_reply(c, "NOOP", [REPLY_OK])
        self.assert_reply(c, "FOO", [REPLY_NOT_RECOGNIZED])
        self.assert_reply(c, "NOOP", [REPLY_LIMIT])
        c.expect_closed()
        self.assert_engine_log(mx, c, [
            msg_rcpt_reject(c, REPLY_DENYLIST_RCPT, SENDER, RCPT, "ESMTP", "client.example"),
            msg_limit("COUNT", c, "UNIMPLEMENTED")])

    def test_quit_is_not_counted(self):
        """QUIT after command_count_limit commands still gets 221 (real
        postscreen exempts QUIT from the count)."""
        mx, port = self.gateway(smtp={"command_count_limit": 3})
        c = self.engine_client(port, "127.0.3.22")
        for _ in range(3):
            self.assert_reply(c, "NOOP", [REPLY_OK])
        self.assert_reply(c, "QUIT", ["221 2.0.0 Bye"])
        c.expect_closed()
        self.assert_engine_log(mx, c, [])

    def test_line_length_limit_default_2048(self):
        """A 2047-byte command line is answered; 2048 bytes (without CRLF)
        get the 421 (Postfix refuses a line of line_length_limit bytes);
        'after' the last command answered."""
        mx, port = self.gateway()
        c = self.engine_client(port, "127.0.3.23")
        c.send_line("N" * 2047)
        self.assertEqual(c.read_reply(), [REPLY_NOT_RECOGNIZED], "reply to a 2047-byte line")
        self.assert_reply(c, "NOOP", [REPLY_OK])
        c.send_line("N" * 2048)
        self.assertEqual(c.read_reply(), [REPLY_LIMIT], "reply to a 2048-byte line")
        c.expect_closed()
        self.assert_engine_log(mx, c, [msg_limit("LENGTH", c, "NOOP")])

    def test_line_length_limit_small_and_unterminated(self):
        """line_length_limit 600 (the minimum is 512): a 650-byte line ->
        421 'after HELO'; 1500 bytes with no line end at all as the first
        input -> 421 'after CONNECT'."""
        mx, port = self.gateway(smtp={"line_length_limit": 600})
        c = self.engine_client(port, "127.0.3.24")
        c.send_line("HELO " + "h" * 590)
        self.assertEqual(c.read_reply(), ["250 %s" % MX_HOSTNAME], "reply to a 595-byte HELO")
        c.send_line("NOOP " + "x" * 645)
        self.assertEqual(c.read_reply(), [REPLY_LIMIT], "reply to a 650-byte line")
        c.expect_closed()
        self.assert_engine_log(mx, c, [msg_limit("LENGTH", c, "HELO")])
        c2 = self.engine_client(port, "127.0.3.25")
        c2.send_raw(b"N" * 1500)
        self.assert_reply(c2, None, [REPLY_LIMIT])
        c2.expect_closed()
        self.assert_engine_log(mx, c2, [msg_limit("LENGTH", c2, "CONNECT")])

    def test_command_time_limit(self):
        """command_time_limit 1s: silence after the 220 (after CONNECT) or
        after a command (after NOOP) -> '421 4.4.2 <host> Error: timeout
        exceeded' within 0.8..3 s, then close."""
        mx, port = self.gateway(smtp={"command_time_limit": "1s"})
        # Each clock starts before the gateway can have armed its timer, so
        # a slow reader here cannot make the wait look shorter than it is.
        t1 = time.monotonic()
        c1 = self.engine_client(port, "127.0.3.26")
        c2 = self.engine_client(port, "127.0.3.27")
        t2 = time.monotonic()
        self.assert_reply(c2, "NOOP", [REPLY_OK])
        for c, t, where in ((c1, t1, "CONNECT"), (c2, t2, "NOOP")):
            self.assert_reply(c, None, [REPLY_TIMEOUT], timeout=6)
            waited = time.monotonic() - t
            self.assertGreaterEqual(waited, 0.8, where)
            self.assertLessEqual(waited, 3.0, where)
            c.expect_closed()
            self.assert_engine_log(mx, c, [msg_limit("TIME", c, where)])

    def test_command_time_limit_under_stress(self):
        """At 90% of the pre-queue limit (9 of 10) the new client's engine
        uses command_time_limit_stress (1 s here), not command_time_limit
        (10 s)."""
        mx, port = self.gateway(smtp={"command_time_limit": "10s",
                                      "command_time_limit_stress": "1s"},
                                listener_limits={"pre_queue_limit": 10})
        held = [self.engine_client(port, "127.0.3.%d" % (50 + i)) for i in range(8)]
        t0 = time.monotonic()           # before the gateway arms the timer
        c = self.engine_client(port, "127.0.3.60")
        mx.wait_for_message("entering STRESS mode with 9 connections")
        self.assert_reply(c, None, [REPLY_TIMEOUT], timeout=6)
        waited = time.monotonic() - t0
        self.assertGreaterEqual(waited, 0.8)
        self.assertLessEqual(waited, 3.0)
        c.expect_closed()
        self.assert_engine_log(mx, c, [msg_limit("TIME", c, "CONNECT")])
        for h in held:
            self.assert_reply(h, "QUIT", ["221 2.0.0 Bye"])

    def test_hangup_after_handshake(self):
        """The client closes in the engine: 'HANGUP after %s from [ip]:port in
        tests after SMTP handshake' (delay in Postfix's format), DISCONNECT."""
        mx, port = self.gateway()
        c = self.connect(port, "127.0.3.28")
        t0 = time.monotonic()
        self.assert_reply(c, None, [ENGINE_BANNER])
        self.assert_reply(c, "EHLO client.example", ENGINE_EHLO)
        time.sleep(max(0.0, 0.4 - (time.monotonic() - t0)))
        c.close()
        m = mx.wait_for_log(r"HANGUP after (\S+) from %s in tests after SMTP handshake$"
                            % re.escape(c.endpoint))
        self.assertIn(m.group(1), delay_candidates(0.3, 1.2))
        self.assert_engine_log(mx, c, [
            "HANGUP after %s from %s in tests after SMTP handshake" % (m.group(1), c.endpoint)])


class PostfixParityTest(MxscreenTestCase):
    """Answers of the real postscreen (3.7.11, checked on loopback) that the
    spec's table does not spell out."""

    gateway = EngineTest.gateway
    engine_client = EngineTest.engine_client

    def test_vrfy_under_enforce_gets_the_enforced_reply(self):
        """With a failure enforced, real postscreen answers VRFY with the
        enforced 550 (450 only when nothing is enforced)."""
        mx, port = self.gateway()
        c = self.engine_client(port, "127.0.3.40")
        self.assert_reply(c, "VRFY postmaster", [REPLY_DENYLIST_RCPT])
        self.assert_reply(c, "QUIT", ["221 2.0.0 Bye"])

    def test_helo_required_applies_to_mail_and_etrn_only(self):
        """helo_required: real postscreen still answers RCPT (need MAIL),
        STARTTLS (not implemented), VRFY (disabled / enforced reply) and
        DATA (need RCPT) as without it."""
        mx, port = self.gateway(smtp={"helo_required": True, "disable_vrfy": True})
        c = self.engine_client(port, "127.0.3.41")
        self.assert_reply(c, "RCPT TO:<%s>" % RCPT, ["503 5.5.1 Error: need MAIL command"])
        self.assert_reply(c, "STARTTLS", ["502 5.5.1 Error: command not implemented"])
        self.assert_reply(c, "VRFY postmaster", [REPLY_VRFY_DISABLED])
        self.assert_reply(c, "DATA", ["503 5.5.1 Error: need RCPT command"])
        c.expect_closed()

    def test_mail_without_from_is_accepted(self):
        """Real postscreen does not check MAIL's syntax: 'MAIL TO:<x>' -> 250."""
        mx, port = self.gateway()
        c = self.engine_client(port, "127.0.3.42")
        self.assert_reply(c, "MAIL TO:<x@y.example>", [REPLY_MAIL_OK])
        self.assert_reply(c, "QUIT", ["221 2.0.0 Bye"])


if __name__ == "__main__":
    unittest.main()
