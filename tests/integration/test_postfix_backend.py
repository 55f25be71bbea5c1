"""test_postfix_backend - mxscreen in front of a real Postfix smtpd

SYNOPSIS
    /usr/bin/python3 -m unittest -v tests/integration/test_postfix_backend.py

DESCRIPTION
    A private Postfix instance (harness.PostfixInstance, role "backend") with
    smtpd_upstream_proxy_protocol = haproxy listens on 127.0.0.1 and discards
    all mail.  Each test starts its own mxscreen with an access_cidr filter
    and a hand-off to that Postfix, connects from a chosen 127.0.0.x source
    address and checks, exactly:
      - the SMTP replies the client sees (Postfix's own after a hand-off,
        mxscreen's built-in engine for "enforce", 521/421 for refusals);
      - mxscreen's log lines for that client (postfix/postscreen layout);
      - Postfix's log: the *original* client address and port (from the
        PROXY header), the queue id and the discarded delivery.

    Client addresses used with the access list below:
      127.0.0.1   permit_mynetworks (mynetworks 127.0.0.1/32)
      127.0.0.2   "127.0.0.2/32 reject"         (inline cidr lines)
      127.0.0.3   "127.0.0.3/32 permit"
      127.0.0.4   "127.0.0.4 dunno"             (falls through: no tests, hand-off)
      127.0.0.5   "127.0.0.5/32 reject"
      127.0.0.20  "127.0.0.16/28 permit"        (cidr file)
      127.0.0.6   "127.0.0.0/8 reject"          (cidr file, catch-all)
"""

import os
import re
import subprocess
import sys
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (PostfixInstance, MxscreenTestCase, free_port, gateway_config,  # noqa: E402
                     engine_ehlo, postfix_ehlo, msg_connect, msg_allowlisted, msg_denylisted,
                     msg_disconnect, msg_rcpt_reject, REPLY_DENYLIST_DROP,
                     REPLY_DENYLIST_RCPT, REPLY_SERVER_BUSY)

MX_HOSTNAME = "mx.test.example"
BACKEND_HOSTNAME = "backend.test.example"

# What the Postfix backend itself says (smtputf8_enable = no in the harness).
BACKEND_BANNER = ["220 %s ESMTP Postfix" % BACKEND_HOSTNAME]
BACKEND_EHLO = postfix_ehlo(BACKEND_HOSTNAME)
# What mxscreen's engine says (defaults: banner "$hostname ESMTP Postfix").
ENGINE_BANNER = ["220 %s ESMTP Postfix" % MX_HOSTNAME]
ENGINE_EHLO = engine_ehlo(MX_HOSTNAME)

MYNETWORKS = ["127.0.0.1/32"]
ACCESS_LINES = ["127.0.0.2/32 reject", "127.0.0.3/32 permit", "127.0.0.4 dunno",
                "127.0.0.5/32 reject"]
CIDR_FILE = ("# Postfix cidr: table, first match wins\n"
             "127.0.0.16/28   permit\n"
             "\n"
             "127.0.0.0/8     reject\n")
ACCESS_LIST = ["permit_mynetworks", ("lines", ACCESS_LINES), ("path", "@DIR@/access.cidr")]

SENDER, RCPT, HELO = "a@b.example", "c@d.example", "client.example"


class PostfixBackendTest(MxscreenTestCase):

    @classmethod
    def setUpClass(cls):
        cls.backend = PostfixInstance("backend", proxy=True, hostname=BACKEND_HOSTNAME)
        cls.addClassCleanup(cls.backend.stop)
        cls.backend.start()

    # -- helpers ---------------------------------------------------------------
    def gateway(self, action="drop", backends=None, proxy_protocol="v2"):
        """Start mxscreen with the standard access list; returns (mx, port)."""
        port = free_port()
        cfg = gateway_config(port, backends or [self.backend.address],
                             access_list=ACCESS_LIST, mynetworks=MYNETWORKS,
                             action=action, proxy_protocol=proxy_protocol,
                             hostname=MX_HOSTNAME)
        mx = self.start_gateway(cfg, files={"access.cidr": CIDR_FILE})
        return mx, port

    def deliver(self, client):
        """A full transaction with the Postfix backend; returns (queue id, message-id)."""
        return self.deliver_mail(client, HELO, BACKEND_EHLO, SENDER, RCPT,
                                 "mxscreen integration test")

    def assert_backend_delivery(self, ip, port, qid, msgid):
        """Postfix logged the original client ip:port and discarded the message."""
        who = re.escape("unknown[%s]:%d" % (ip, port))
        b = self.backend
        b.wait_for_log(r"postfix/smtpd\[\d+\]: connect from %s$" % who)
        b.wait_for_log(r"postfix/smtpd\[\d+\]: %s: client=%s$" % (qid, who))
        b.wait_for_log(r"postfix/cleanup\[\d+\]: %s: message-id=<%s>$" % (qid, re.escape(msgid)))
        b.wait_for_log(r"postfix/discard\[\d+\]: %s: to=<%s>, relay=none, .*status=sent"
                       % (qid, re.escape(RCPT)))
        b.wait_for_log(r"postfix/smtpd\[\d+\]: disconnect from %s ehlo=1 mail=1 rcpt=1 "
                       r"data=1 quit=1 commands=5$" % who)

    def assert_backend_never_saw(self, client, settle=0.3):
        time.sleep(settle)
        self.assertNotIn("[%s]:%d" % (client.source_ip, client.source_port),
                         self.backend.log(), "the backend must not see this client")

    # -- tests -----------------------------------------------------------------
    def test_allowlisted_client_delivers_and_postfix_logs_original_client(self):
        """permit -> ALLOWLISTED, hand-off with PROXY v2, Postfix sees the real client."""
        mx, port = self.gateway(action="drop")
        c = self.connect(port, "127.0.0.3")
        # No teaser: the first thing the client reads is the backend's banner.
        self.assert_reply(c, None, BACKEND_BANNER)
        qid, msgid = self.deliver(c)
        self.assert_backend_delivery("127.0.0.3", c.source_port, qid, msgid)
        # Handed off: no DISCONNECT (that is only for sessions not handed off).
        self.assert_session_log(mx, c, [msg_connect(c), msg_allowlisted(c)], settle=0.5)
        self.assert_log_format(mx)

    def test_denylisted_client_gets_521_and_is_dropped(self):
        """reject + action drop -> exactly '521 5.3.2 ...', close, never handed off."""
        mx, port = self.gateway(action="drop")
        for ip in ("127.0.0.2", "127.0.0.6"):        # inline line; cidr file catch-all
            with self.subTest(client=ip):
                c = self.connect(port, ip)
                self.assert_reply(c, None, [REPLY_DENYLIST_DROP])
                c.expect_closed()
                self.assert_session_log(mx, c, [msg_connect(c), msg_denylisted(c),
                                                 msg_disconnect(c)])
                self.assert_backend_never_saw(c)
        self.assert_log_format(mx)

    def test_mynetworks_and_cidr_file_permit(self):
        """permit_mynetworks (127.0.0.1) and a cidr-file permit (127.0.0.20) hand off."""
        mx, port = self.gateway(action="drop")
        for ip in ("127.0.0.1", "127.0.0.20"):
            with self.subTest(client=ip):
                c = self.connect(port, ip)
                self.assert_reply(c, None, BACKEND_BANNER)
                self.assert_reply(c, "QUIT", ["221 2.0.0 Bye"])
                c.expect_closed()
                c.close()
                self.backend.wait_for_log(r"postfix/smtpd\[\d+\]: connect from %s$"
                                          % re.escape("unknown[%s]:%d" % (ip, c.source_port)))
                self.assert_session_log(mx, c, [msg_connect(c), msg_allowlisted(c)],
                                        settle=0.3)

    def test_dunno_client_without_tests_is_handed_off(self):
        """'dunno' ends the access list; with no other tests the client is handed off."""
        mx, port = self.gateway(action="drop")
        c = self.connect(port, "127.0.0.4")
        self.assert_reply(c, None, BACKEND_BANNER)
        qid, msgid = self.deliver(c)
        self.assert_backend_delivery("127.0.0.4", c.source_port, qid, msgid)
        # Neither ALLOWLISTED nor DENYLISTED, no PASS line (no test ran), no DISCONNECT.
        self.assert_session_log(mx, c, [msg_connect(c)], settle=0.5)

    def test_denylist_enforce_rejects_rcpt_in_engine(self):
        """action enforce: mxscreen's engine talks to the client and rejects RCPT with 550."""
        mx, port = self.gateway(action="enforce")
        c = self.connect(port, "127.0.0.5")
        self.assert_reply(c, None, ENGINE_BANNER)
        self.assert_reply(c, "EHLO " + HELO, ENGINE_EHLO)
        self.assert_reply(c, "MAIL FROM:<%s>" % SENDER, ["250 2.1.0 Ok"])
        self.assert_reply(c, "RCPT TO:<%s>" % RCPT, [REPLY_DENYLIST_RCPT])
        self.assert_reply(c, "QUIT", ["221 2.0.0 Bye"])
        c.expect_closed()
        self.assert_session_log(mx, c, [
            msg_connect(c),
            msg_denylisted(c),
            msg_rcpt_reject(c, REPLY_DENYLIST_RCPT, SENDER, RCPT, "ESMTP", HELO),
            msg_disconnect(c)])
        self.assertEqual(
            msg_rcpt_reject(c, REPLY_DENYLIST_RCPT, SENDER, RCPT, "ESMTP", HELO),
            "NOQUEUE: reject: RCPT from [127.0.0.5]:%d: 550 5.3.2 Service currently "
            "unavailable; from=<a@b.example>, to=<c@d.example>, proto=ESMTP, "
            "helo=<client.example>" % c.source_port)
        self.assert_backend_never_saw(c)
        self.assert_log_format(mx)

    def test_denylist_ignore_logs_and_hands_off(self):
        """action ignore: DENYLISTED is logged, then the client is handed off."""
        mx, port = self.gateway(action="ignore")
        c = self.connect(port, "127.0.0.2")
        self.assert_reply(c, None, BACKEND_BANNER)
        qid, msgid = self.deliver(c)
        self.assert_backend_delivery("127.0.0.2", c.source_port, qid, msgid)
        self.assert_session_log(mx, c, [msg_connect(c), msg_denylisted(c)], settle=0.5)

    def test_all_backends_down(self):
        """No backend accepts -> '421 4.3.2 All server ports are busy' and a log line
        naming the backends."""
        dead = ["127.0.0.1:%d" % free_port(), "127.0.0.1:%d" % free_port()]
        mx, port = self.gateway(action="drop", backends=dead)
        c = self.connect(port, "127.0.0.3")
        self.assert_reply(c, None, [REPLY_SERVER_BUSY], timeout=15)
        c.expect_closed()
        # The format of that line is not specified: accept 127.0.0.1:PORT or
        # [127.0.0.1]:PORT (the spec's address form) for each backend.
        named = [r"\[?127\.0\.0\.1\]?:%s(?!\d)" % d.rsplit(":", 1)[1] for d in dead]
        m = mx.wait_for_log(r"^.*%s.*%s.*$" % tuple(named))
        self.assertRegex(m.group(0), r"postfix/postscreen\[\d+\]: ")
        got = mx.postscreen_messages(c.endpoint)
        self.assertEqual(got[:2], [msg_connect(c), msg_allowlisted(c)], mx.log())

    def test_failover_to_second_backend(self):
        """The first backend refuses connections; the session goes to the second."""
        dead = "127.0.0.1:%d" % free_port()
        mx, port = self.gateway(action="drop", backends=[dead, self.backend.address])
        c = self.connect(port, "127.0.0.3")
        self.assert_reply(c, None, BACKEND_BANNER, timeout=10)
        qid, msgid = self.deliver(c)
        self.assert_backend_delivery("127.0.0.3", c.source_port, qid, msgid)

    def test_proxy_v1_handoff(self):
        """proxy_protocol v1: Postfix reads the text header and logs the real client."""
        mx, port = self.gateway(action="drop", proxy_protocol="v1")
        c = self.connect(port, "127.0.0.3")
        self.assert_reply(c, None, BACKEND_BANNER)
        qid, msgid = self.deliver(c)
        self.assert_backend_delivery("127.0.0.3", c.source_port, qid, msgid)
        self.assert_session_log(mx, c, [msg_connect(c), msg_allowlisted(c)], settle=0.3)

    def test_swaks_delivers_through_mxscreen(self):
        """swaks (a real SMTP client) delivers through mxscreen to Postfix."""
        mx, port = self.gateway(action="drop")
        src_port = free_port("127.0.0.3")
        msgid = "%s@swaks.test.example" % uuid.uuid4().hex
        cmd = ["swaks", "--server", "127.0.0.1:%d" % port,
               "--local-interface", "127.0.0.3", "--local-port", str(src_port),
               "--helo", "swaks.example", "--from", SENDER, "--to", RCPT,
               "--header", "Message-Id: <%s>" % msgid, "--timeout", "10"]
        r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=30, text=True)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("<-  220 %s ESMTP Postfix\n" % BACKEND_HOSTNAME, r.stdout)
        m = re.search(r"^<-  250 2\.0\.0 Ok: queued as ([0-9A-F]+)$", r.stdout, re.M)
        self.assertIsNotNone(m, r.stdout)
        who = re.escape("unknown[127.0.0.3]:%d" % src_port)
        self.backend.wait_for_log(r"postfix/smtpd\[\d+\]: %s: client=%s$" % (m.group(1), who))
        self.backend.wait_for_log(r"postfix/cleanup\[\d+\]: %s: message-id=<%s>$"
                                  % (m.group(1), re.escape(msgid)))
        self.backend.wait_for_log(r"postfix/discard\[\d+\]: %s: to=<%s>, .*status=sent"
                                  % (m.group(1), re.escape(RCPT)))
        endpoint = "[127.0.0.3]:%d" % src_port
        self.assert_session_log(mx, endpoint, ["CONNECT from %s to [127.0.0.1]:%d"
                                               % (endpoint, port), "ALLOWLISTED " + endpoint])


class PostfixBackendSelfTest(unittest.TestCase):
    """The harness's Postfix alone (no mxscreen): proves the peer side works."""

    def test_backend_accepts_proxy_v2_from_swaks_and_logs_original_client(self):
        pf = PostfixInstance("backend", proxy=True, hostname=BACKEND_HOSTNAME)
        self.addCleanup(pf.stop)
        t0 = time.monotonic()
        pf.start()
        self.assertLess(time.monotonic() - t0, 3.0, "Postfix should start in < 3 s")
        msgid = "%s@selftest.example" % uuid.uuid4().hex
        r = subprocess.run(
            ["swaks", "--server", pf.address, "--local-interface", "127.0.0.9",
             "--proxy-version", "2", "--proxy-family", "AF_INET",
             "--proxy-source", "127.0.0.77", "--proxy-source-port", "40001",
             "--proxy-dest", "127.0.0.1", "--proxy-dest-port", "25",
             "--from", SENDER, "--to", RCPT, "--header", "Message-Id: <%s>" % msgid,
             "--timeout", "10"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30, text=True)
        self.assertEqual(r.returncode, 0, r.stdout)
        qid = re.search(r"queued as ([0-9A-F]+)", r.stdout).group(1)
        pf.wait_for_log(r"postfix/smtpd\[\d+\]: connect from unknown\[127\.0\.0\.77\]:40001$")
        pf.wait_for_log(r"postfix/smtpd\[\d+\]: %s: client=unknown\[127\.0\.0\.77\]:40001$" % qid)
        pf.wait_for_log(r"postfix/discard\[\d+\]: %s: to=<c@d\.example>, .*status=sent" % qid)
        self.assertNotIn("127.0.0.9", pf.log())

    def test_backend_without_proxy_logs_socket_peer(self):
        pf = PostfixInstance("backend", proxy=False, hostname=BACKEND_HOSTNAME)
        self.addCleanup(pf.stop)
        pf.start()
        from harness import smtp_client
        c = smtp_client("127.0.0.1", pf.port, "127.0.0.9")
        self.addCleanup(c.close)
        self.assertEqual(c.read_reply(), BACKEND_BANNER)
        self.assertEqual(c.command("EHLO x.example"), BACKEND_EHLO)
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        pf.wait_for_log(r"postfix/smtpd\[\d+\]: connect from unknown\[127\.0\.0\.9\]:%d$"
                        % c.source_port)


if __name__ == "__main__":
    unittest.main()
