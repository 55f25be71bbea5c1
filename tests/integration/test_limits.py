"""test_limits - mxscreen's connection limits, at the socket level

SYNOPSIS
    /usr/bin/python3 -m unittest -v tests/integration/test_limits.py

DESCRIPTION
    Sessions are held open in mxscreen's built-in engine by denylisting the
    clients with action "enforce" (they get the engine's 220 and stay until
    they quit).  Allowlisted clients (127.0.0.3) are handed off to a real
    Postfix backend (PROXY v2) and stay open there, relayed by mxscreen.

      per-client limit  (client_connection_count_limit): N screened sessions
          from one address; the N+1th gets "421 4.7.0 Error: too many
          connections" and the log line "NOQUEUE: reject: CONNECT from
          [%s]:%s: too many connections"; another address is not affected;
          a slot frees when a session ends.
      pre-queue limit   (pre_queue_limit): clients under test; one more gets
          "421 4.3.2 All screening ports are busy" and "reject: connect from
          [%s]:%s: all screening ports busy"; allowlisted clients are handed
          off before this check.  As in the real postscreen, a limit of N
          holds N-1 clients (harness.pre_queue_capacity) and N must be >= 10.
      relayed sessions  do not count towards either limit.
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (PostfixInstance, MxscreenTestCase, free_port, gateway_config,  # noqa: E402
                     msg_connect, msg_denylisted, msg_disconnect, msg_allowlisted,
                     msg_too_many_connections, msg_screening_busy, pre_queue_capacity,
                     REPLY_TOO_MANY_CONNECTIONS, REPLY_SCREENING_BUSY)

MX_HOSTNAME = "mx.test.example"
BACKEND_BANNER = ["220 backend.test.example ESMTP Postfix"]
ENGINE_BANNER = ["220 %s ESMTP Postfix" % MX_HOSTNAME]

# 127.0.0.3 is allowlisted (handed off); every other 127.x address is
# denylisted and, with action enforce, held in the engine.
ACCESS_LIST = [("lines", ["127.0.0.3/32 permit", "127.0.0.0/8 reject"])]

PRE_QUEUE = 10          # postscreen's smallest allowed postscreen_pre_queue_limit
CAPACITY = pre_queue_capacity(PRE_QUEUE)      # 9, as the real postscreen (see harness)
SCREENED_IPS = ["127.0.0.%d" % (40 + i) for i in range(CAPACITY)]


class LimitsTest(MxscreenTestCase):

    @classmethod
    def setUpClass(cls):
        cls.backend = PostfixInstance("backend", proxy=True,
                                      hostname="backend.test.example")
        cls.addClassCleanup(cls.backend.stop)
        cls.backend.start()

    def gateway(self, limits=None, listener_limits=None):
        port = free_port()
        cfg = gateway_config(port, [self.backend.address], access_list=ACCESS_LIST,
                             action="enforce", hostname=MX_HOSTNAME,
                             limits=limits, listener_limits=listener_limits)
        return self.start_gateway(cfg), port

    def screened(self, port, ip):
        """A session held in the engine: it got the engine's 220."""
        c = self.connect(port, ip)
        self.assert_reply(c, None, ENGINE_BANNER)
        return c

    def relayed(self, port, ip="127.0.0.3"):
        """A session handed off to Postfix: it got Postfix's 220."""
        c = self.connect(port, ip)
        self.assert_reply(c, None, BACKEND_BANNER)
        return c

    def refused(self, port, ip, reply):
        c = self.connect(port, ip)
        self.assert_reply(c, None, [reply])
        c.expect_closed()
        return c

    def quit(self, c):
        self.assert_reply(c, "QUIT", ["221 2.0.0 Bye"])
        c.expect_closed()

    # -- per-client limit ----------------------------------------------------------
    def test_per_client_connection_limit(self):
        mx, port = self.gateway(limits={"client_connection_count_limit": 50},
                                listener_limits={"client_connection_count_limit": 3})
        held = [self.screened(port, "127.0.0.7") for _ in range(3)]

        over = self.refused(port, "127.0.0.7", REPLY_TOO_MANY_CONNECTIONS)
        # The limit applies before the access list: no DENYLISTED for it.
        self.assert_session_log(mx, over, [msg_connect(over), msg_too_many_connections(over),
                                           msg_disconnect(over)])

        # Another address is not affected.
        self.screened(port, "127.0.0.8")

        # When one of the three ends, the address gets a slot again.
        self.quit(held[0])
        mx.wait_for_message(msg_disconnect(held[0]), self.POSTSCREEN)
        again = self.screened(port, "127.0.0.7")
        self.assert_session_log(mx, again, [msg_connect(again), msg_denylisted(again)])
        self.refused(port, "127.0.0.7", REPLY_TOO_MANY_CONNECTIONS)
        self.assert_log_format(mx)

    def test_per_client_limit_global_setting(self):
        """The top-level limits.client_connection_count_limit applies without an override."""
        mx, port = self.gateway(limits={"client_connection_count_limit": 2})
        self.screened(port, "127.0.0.7")
        self.screened(port, "127.0.0.7")
        over = self.refused(port, "127.0.0.7", REPLY_TOO_MANY_CONNECTIONS)
        self.assert_session_log(mx, over, [msg_connect(over), msg_too_many_connections(over),
                                           msg_disconnect(over)])

    # -- pre-queue limit -----------------------------------------------------------
    def test_pre_queue_limit(self):
        # Postfix refuses postscreen_pre_queue_limit < 10; use its minimum.
        mx, port = self.gateway(limits={"pre_queue_limit": PRE_QUEUE})
        held = [self.screened(port, ip) for ip in SCREENED_IPS]

        over = self.refused(port, "127.0.0.60", REPLY_SCREENING_BUSY)
        # Order of events: the access list runs before the pre-queue check.
        self.assert_session_log(mx, over, [msg_connect(over), msg_denylisted(over),
                                           msg_screening_busy(over), msg_disconnect(over)])

        # Allowlisted clients are handed off before the check.
        r = self.relayed(port)
        self.assert_session_log(mx, r, [msg_connect(r), msg_allowlisted(r)])

        # A freed slot is usable again.
        self.quit(held[0])
        mx.wait_for_message(msg_disconnect(held[0]), self.POSTSCREEN)
        self.screened(port, "127.0.0.60")
        self.refused(port, "127.0.0.61", REPLY_SCREENING_BUSY)
        self.assert_log_format(mx)

    # -- relayed sessions ----------------------------------------------------------
    def test_relayed_sessions_do_not_count(self):
        mx, port = self.gateway(limits={"pre_queue_limit": PRE_QUEUE},
                                listener_limits={"client_connection_count_limit": 2})
        # Four concurrent relayed sessions from one address: over the
        # per-client limit if they counted (and they would fill the pre-queue
        # limit below).
        relayed = [self.relayed(port) for _ in range(4)]
        for r in relayed:
            self.backend.wait_for_log(r"postfix/smtpd\[\d+\]: connect from "
                                      r"unknown\[127\.0\.0\.3\]:%d$" % r.source_port)

        # With all four still open, the screened sessions fit both limits:
        # two from one address, CAPACITY in all ...
        self.screened(port, "127.0.0.7")
        self.screened(port, "127.0.0.7")
        for ip in SCREENED_IPS[:CAPACITY - 2]:
            self.screened(port, ip)
        # ... and both limits still work.
        self.refused(port, "127.0.0.7", REPLY_TOO_MANY_CONNECTIONS)
        over = self.refused(port, "127.0.0.60", REPLY_SCREENING_BUSY)
        self.assert_session_log(mx, over, [msg_connect(over), msg_denylisted(over),
                                           msg_screening_busy(over), msg_disconnect(over)])

        # The relayed sessions are all alive and talk to Postfix.
        for r in relayed:
            self.assertEqual(r.command("NOOP"), ["250 2.0.0 Ok"])
        for r in relayed:
            self.quit(r)


if __name__ == "__main__":
    unittest.main()
