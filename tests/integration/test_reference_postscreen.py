"""test_reference_postscreen - the expected strings, checked against real postscreen(8)

SYNOPSIS
    /usr/bin/python3 -m unittest -v tests/integration/test_reference_postscreen.py

DESCRIPTION
    The mxscreen tests assert exact replies and log lines.  These tests run the
    same scenarios against the real Postfix 3.7 postscreen (harness
    PostfixInstance role "postscreen") with the same helper functions
    (harness.msg_*, REPLY_*), so a failure in test_postfix_backend.py or
    test_limits.py is a difference between mxscreen and Postfix, not a typo in
    the test.  They need no mxscreen binary.

    Known, intended differences: the real postscreen always runs its pregreet
    test (teaser "220-..." and a wait, 1 s here) before the engine's "220 ",
    while mxscreen without a pregreet filter sends only the "220 " line.
"""

import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (PostfixInstance, smtp_client, engine_ehlo, msg_connect,  # noqa: E402
                     msg_allowlisted, msg_denylisted, msg_disconnect, msg_rcpt_reject,
                     msg_too_many_connections, msg_screening_busy, endpoint_re,
                     pre_queue_capacity,
                     REPLY_DENYLIST_DROP, REPLY_DENYLIST_RCPT, REPLY_TOO_MANY_CONNECTIONS,
                     REPLY_SCREENING_BUSY)

HOST = "mx.test.example"
BANNER = "220 %s ESMTP Postfix" % HOST
TEASER = "220-%s ESMTP Postfix" % HOST
CIDR = ("127.0.0.2/32 reject\n127.0.0.3/32 permit\n127.0.0.4 dunno\n"
        "127.0.0.5/32 reject\n127.0.0.0/8 reject\n")


class RealPostscreenTest(unittest.TestCase):
    maxDiff = None

    def postscreen(self, **settings):
        main_cf = {
            "mynetworks": "127.0.0.1/32",
            "postscreen_access_list": "permit_mynetworks, cidr:$config_directory/access.cidr",
            "postscreen_greet_wait": "1s",
            "postscreen_cache_map": "btree:$data_directory/postscreen_cache",
            "smtputf8_enable": "yes",
        }
        main_cf.update(settings)
        pf = PostfixInstance("postscreen", hostname=HOST, main_cf=main_cf,
                             files={"access.cidr": CIDR})
        self.addCleanup(pf.stop)
        pf.start()
        return pf

    def connect(self, pf, ip):
        c = smtp_client("127.0.0.1", pf.port, ip)
        self.addCleanup(c.close)
        return c

    def session_log(self, pf, c, last, settle=0.0):
        pf.wait_for_message(last, "postfix/postscreen")
        if settle:
            time.sleep(settle)
        rx = endpoint_re(c.endpoint)
        return [e.msg for e in pf.entries("postfix/postscreen") if rx.search(e.msg)]

    def test_drop(self):
        pf = self.postscreen(postscreen_denylist_action="drop")
        c = self.connect(pf, "127.0.0.2")
        self.assertEqual(c.read_reply(), [REPLY_DENYLIST_DROP])
        c.expect_closed()
        self.assertEqual(self.session_log(pf, c, msg_disconnect(c)),
                         [msg_connect(c), msg_denylisted(c), msg_disconnect(c)])

    def test_allowlisted_handoff(self):
        pf = self.postscreen(postscreen_denylist_action="drop")
        for ip in ("127.0.0.3", "127.0.0.1"):
            c = self.connect(pf, ip)
            self.assertEqual(c.read_reply(), [BANNER])      # smtpd's own, no teaser
            self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
            c.expect_closed()
            c.close()
            pf.wait_for_log(r"postfix/smtpd\[\d+\]: disconnect from unknown\[%s\]:%d quit=1 "
                            r"commands=1$" % (re.escape(ip), c.source_port))
            self.assertEqual(self.session_log(pf, c, msg_allowlisted(c), settle=0.3),
                             [msg_connect(c), msg_allowlisted(c)])

    def test_enforce_engine(self):
        pf = self.postscreen(postscreen_denylist_action="enforce")
        c = self.connect(pf, "127.0.0.5")
        self.assertEqual(c.read_reply(), [TEASER, BANNER])
        self.assertEqual(c.command("EHLO client.example"), engine_ehlo(HOST))
        self.assertEqual(c.command("MAIL FROM:<a@b.example>"), ["250 2.1.0 Ok"])
        self.assertEqual(c.command("RCPT TO:<c@d.example>"), [REPLY_DENYLIST_RCPT])
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.expect_closed()
        reject = msg_rcpt_reject(c, REPLY_DENYLIST_RCPT, "a@b.example", "c@d.example",
                                 "ESMTP", "client.example")
        self.assertEqual(self.session_log(pf, c, msg_disconnect(c)),
                         [msg_connect(c), msg_denylisted(c), reject, msg_disconnect(c)])

    def test_ignore_and_dunno_handoff(self):
        pf = self.postscreen(postscreen_denylist_action="ignore")
        for ip in ("127.0.0.2", "127.0.0.4"):
            c = self.connect(pf, ip)
            # The pregreet test runs, then the smtpd's own 220 ends the greeting.
            self.assertEqual(c.read_reply(), [TEASER, BANNER])
            self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
            c.expect_closed()
            c.close()
            pf.wait_for_log(r"postfix/smtpd\[\d+\]: connect from unknown\[%s\]:%d$"
                            % (re.escape(ip), c.source_port))
            first = [msg_connect(c)] + ([msg_denylisted(c)] if ip == "127.0.0.2" else [])
            got = self.session_log(pf, c, "PASS NEW %s" % c.endpoint, settle=0.3)
            self.assertEqual(got, first + ["PASS NEW %s" % c.endpoint])

    def test_client_connection_limit(self):
        pf = self.postscreen(postscreen_denylist_action="enforce",
                             postscreen_client_connection_count_limit="2")
        for _ in range(2):
            c = self.connect(pf, "127.0.0.7")
            self.assertEqual(c.read_line(), TEASER)
        c = self.connect(pf, "127.0.0.7")
        self.assertEqual(c.read_reply(), [REPLY_TOO_MANY_CONNECTIONS])
        c.expect_closed()
        self.assertEqual(self.session_log(pf, c, msg_disconnect(c)),
                         [msg_connect(c), msg_too_many_connections(c), msg_disconnect(c)])
        other = self.connect(pf, "127.0.0.8")
        self.assertEqual(other.read_line(), TEASER)

    def test_pre_queue_limit(self):
        pf = self.postscreen(postscreen_denylist_action="enforce",
                             postscreen_pre_queue_limit="10")     # its minimum
        for i in range(pre_queue_capacity(10)):           # 9, not 10
            c = self.connect(pf, "127.0.0.%d" % (40 + i))
            self.assertEqual(c.read_line(), TEASER)
        c = self.connect(pf, "127.0.0.60")
        self.assertEqual(c.read_reply(), [REPLY_SCREENING_BUSY])
        c.expect_closed()
        self.assertEqual(self.session_log(pf, c, msg_disconnect(c)),
                         [msg_connect(c), msg_denylisted(c), msg_screening_busy(c),
                          msg_disconnect(c)])
        # An allowlisted client is handed off before the pre-queue check.
        a = self.connect(pf, "127.0.0.3")
        self.assertEqual(a.read_reply(), [BANNER])
        self.assertEqual(self.session_log(pf, a, msg_allowlisted(a)),
                         [msg_connect(a), msg_allowlisted(a)])


if __name__ == "__main__":
    unittest.main()
