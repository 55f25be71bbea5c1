"""test_dnsbl - the DNSBL/DNSWL test against a real rbldnsd on loopback

SYNOPSIS
    /usr/bin/python3 -m unittest -v tests/integration/test_dnsbl.py

DESCRIPTION
    postscreen-behaviour.md section 4, socket by socket: rbldnsd serves block
    and allow lists on a free UDP port of 127.0.0.1, the gateway's resolver
    points at it (dns_resolver.nameservers), a real Postfix smtpd is the
    backend for clients that pass. Each test asserts the exact reply the
    client reads and exactly mxscreen's log lines for that client
    (postfix/postscreen), plus the postfix/dnsblog answer lines:

      - listed above the threshold (drop: 521 at once, DNSBL rank);
      - listed below it (the answer is logged, PASS NEW, handed off early:
        the greet wait ends when the only pending test has its answers);
      - two lists adding up; the reply names the list with the largest
        weight, through the reply map;
      - an answer code outside the entry's filter (logged, not counted);
      - allowlisted by a DNSWL (every other test passes: the greet wait and
        the deep tests are skipped); a DNSWL outweighing a DNSBL;
      - a list that never answers (black-holed by a relay in front of
        rbldnsd): the warning, the wait bounded by the DNSBL timeout;
      - an IPv6 client (::1, nibble query, rbldnsd ip6trie);
      - a 127.255.255.x error code: warned about once, never a listing;
      - a client that hangs up while its list has not answered (never
        called back; the next client is served).

    Every client address is used by one test only: answers are cached for
    their TTL and passes for the verdict TTL.
"""

import os
import re
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (PostfixInstance, MxscreenTestCase, free_port,  # noqa: E402
                     screening_config, msg_connect, msg_disconnect, msg_pass_new)
from dnsbl_peers import Rbldnsd, DropProxy  # noqa: E402

MX_HOSTNAME = "mx.test.example"
BACKEND_HOSTNAME = "backend.test.example"
BACKEND_BANNER = "220 %s ESMTP Postfix" % BACKEND_HOSTNAME
TEASER = "220-%s ESMTP Postfix" % MX_HOSTNAME
DNSBLOG = "postfix/dnsblog"

SOA = "$SOA 300 ns.%s hostmaster.%s 1 600 300 86400 120\n$TTL 300\n"

ZONES = {
    # A block list: per-entry answer codes.
    "bl.test": ("ip4set", SOA % ("bl.test", "bl.test") +
                ":127.0.0.2:listed\n"
                "127.0.0.2\n"
                "127.0.0.5 :127.0.0.20:\n"        # outside the entry's filter
                "127.0.0.4 :127.255.255.254:\n"   # Spamhaus-style error code
                "127.0.0.8 :127.0.0.3:\n"),
    "small.test": ("ip4set", SOA % ("small.test", "small.test") +
                   ":127.0.0.2:small\n127.0.0.7\n127.0.0.9\n127.0.0.11\n"),
    "bl2.test": ("ip4set", SOA % ("bl2.test", "bl2.test") +
                 ":127.0.0.10:bl2\n127.0.0.7\n"),
    # An allow list (DNSWL-style answers 127.0.x.y).
    "wl.test": ("ip4set", SOA % ("wl.test", "wl.test") +
                ":127.0.2.3:allowed\n127.0.0.6\n127.0.0.8\n"),
    "bl6.test": ("ip6trie", SOA % ("bl6.test", "bl6.test") +
                 ":127.0.0.2:v6 listed\n::1/128\n"),
}

SITES = ["bl.test=127.0.0.[2..11]*3", "small.test*1", "bl2.test*2",
         "wl.test=127.0.[0..255].[2..3]*-5"]


def blocked(addr, domain):
    return "521 5.7.1 Service unavailable; client [%s] blocked using %s" % (addr, domain)


def listed(addr, domain, code):
    return "addr %s listed by domain %s as %s" % (addr, domain, code)


def msg_rank(client, rank):
    return "DNSBL rank %d for %s" % (rank, client.endpoint)


class DnsblTest(MxscreenTestCase):

    @classmethod
    def setUpClass(cls):
        cls.rbl = Rbldnsd(ZONES)
        cls.addClassCleanup(cls.rbl.stop)
        cls.rbl.start()
        cls.proxy = DropProxy(cls.rbl.port, ["never.test"])
        cls.addClassCleanup(cls.proxy.stop)
        cls.proxy.start()
        cls.backend = PostfixInstance("backend", proxy=True, hostname=BACKEND_HOSTNAME)
        cls.addClassCleanup(cls.backend.stop)
        cls.backend.start()

    def gateway(self, filters, greet_wait="3s", nameserver=None, listen_host="127.0.0.1"):
        port = free_port(listen_host)
        host = "[%s]" % listen_host if ":" in listen_host else listen_host
        cfg = screening_config(port, [self.backend.address], filters, hostname=MX_HOSTNAME,
                               greet_wait=greet_wait, listen_host=host)
        # "[::1]:port" must be quoted in YAML.
        cfg = cfg.replace("address: %s:%d" % (host, port), 'address: "%s:%d"' % (host, port))
        cfg += ('dns_resolver: { nameservers: ["%s"], timeout: 1s, tries: 3 }\n'
                % (nameserver or self.rbl.address))
        return self.start_gateway(cfg), port

    def dnsbl(self, sites=None, action="drop", **typed):
        typed.setdefault("threshold", 3)
        typed["sites"] = sites or SITES
        return {"name": "dnsbl", "action": action, "typed_config": typed}

    def main_gateway(self):
        return self.gateway([self.dnsbl(
            allowlist_threshold=-2,
            reply_map={"lines": ["bl2.test bl2.public.example"]})])

    def assert_dnsblog(self, mx, expected, timeout=5.0):
        """The postfix/dnsblog lines are exactly `expected` (any order kept)."""
        if expected:
            mx.wait_for_message(expected[-1], DNSBLOG, timeout)
        self.assertEqual(mx.messages(DNSBLOG), expected, mx.log()[-4000:])

    def passes_early(self, c, wait):
        """The backend's banner arrives well before the greet wait ends."""
        t0 = time.monotonic()
        self.assertEqual(c.read_reply(timeout=wait + 5), [BACKEND_BANNER])
        took = time.monotonic() - t0
        self.assertLess(took, wait * 0.6, "the greet wait must end once DNSBL is decided")
        return took

    # -- block lists -----------------------------------------------------------
    def test_listed_above_threshold_is_dropped(self):
        mx, port = self.main_gateway()
        c = self.connect(port, "127.0.0.2")
        self.assertEqual(c.read_reply(), [blocked("127.0.0.2", "bl.test")])
        c.expect_closed()
        self.assert_session_log(mx, c, [msg_connect(c), msg_rank(c, 3), msg_disconnect(c)],
                                settle=0.3)
        self.assert_dnsblog(mx, [listed("127.0.0.2", "bl.test", "127.0.0.2")])
        self.assert_log_format(mx)

    def test_listed_below_threshold_passes_and_is_logged(self):
        mx, port = self.main_gateway()
        c = self.connect(port, "127.0.0.9")
        self.passes_early(c, 3.0)
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        self.assert_session_log(mx, c, [msg_connect(c), msg_pass_new(c)], settle=0.3)
        self.assert_dnsblog(mx, [listed("127.0.0.9", "small.test", "127.0.0.2")])
        # The pass is cached: the next connection is PASS OLD, no lookup.
        c2 = self.connect(port, "127.0.0.9")
        self.assertEqual(c2.read_reply(), [BACKEND_BANNER])
        self.assert_session_log(mx, c2, [msg_connect(c2), "PASS OLD %s" % c2.endpoint],
                                settle=0.3)

    def test_two_lists_add_up_and_reply_map_names_the_heaviest(self):
        mx, port = self.main_gateway()
        c = self.connect(port, "127.0.0.7")
        self.assertEqual(c.read_reply(), [blocked("127.0.0.7", "bl2.public.example")])
        c.expect_closed()
        self.assert_session_log(mx, c, [msg_connect(c), msg_rank(c, 3), msg_disconnect(c)],
                                settle=0.3)
        self.assertEqual(sorted(mx.messages(DNSBLOG)),
                         sorted([listed("127.0.0.7", "small.test", "127.0.0.2"),
                                 listed("127.0.0.7", "bl2.test", "127.0.0.10")]))

    def test_code_outside_the_filter_does_not_count(self):
        mx, port = self.main_gateway()
        c = self.connect(port, "127.0.0.5")
        self.passes_early(c, 3.0)
        self.assert_session_log(mx, c, [msg_connect(c), msg_pass_new(c)], settle=0.3)
        self.assert_dnsblog(mx, [listed("127.0.0.5", "bl.test", "127.0.0.20")])

    def test_enforce_rejects_rcpt(self):
        mx, port = self.gateway([self.dnsbl(action="enforce")])
        c = self.connect(port, "127.0.0.2")
        self.assertEqual(c.read_reply(), ["220 %s ESMTP Postfix" % MX_HOSTNAME])
        c.command("EHLO client.example")
        self.assertEqual(c.command("MAIL FROM:<a@example.com>"), ["250 2.1.0 Ok"])
        reply = "5.7.1 Service unavailable; client [127.0.0.2] blocked using bl.test"
        self.assertEqual(c.command("RCPT TO:<b@example.com>"), ["550 " + reply])
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.expect_closed()
        self.assert_session_log(mx, c, [
            msg_connect(c), msg_rank(c, 3),
            "NOQUEUE: reject: RCPT from %s: 550 %s; from=<a@example.com>, to=<b@example.com>, "
            "proto=ESMTP, helo=<client.example>" % (c.endpoint, reply),
            msg_disconnect(c)], settle=0.3)

    # -- allow lists -------------------------------------------------------------
    def allowlist_gateway(self):
        return self.gateway([{"name": "pregreet"}, self.dnsbl(allowlist_threshold=-2),
                             {"name": "pipelining"}], greet_wait="4s")

    def test_allowlisted_by_dnswl_skips_every_other_test(self):
        mx, port = self.allowlist_gateway()
        c = self.connect(port, "127.0.0.6")
        self.assertEqual(c.read_line(), TEASER)
        # No greet wait (pregreet) and no engine (pipelining): handed off at once.
        self.passes_early(c, 4.0)
        self.assert_session_log(mx, c, [msg_connect(c), msg_pass_new(c)], settle=0.3)
        self.assert_dnsblog(mx, [listed("127.0.0.6", "wl.test", "127.0.2.3")])

    def test_dnswl_outweighs_dnsbl(self):
        mx, port = self.allowlist_gateway()
        c = self.connect(port, "127.0.0.8")
        self.assertEqual(c.read_line(), TEASER)
        self.passes_early(c, 4.0)           # -5 + 3 = -2 <= allowlist threshold -2
        self.assert_session_log(mx, c, [msg_connect(c), msg_pass_new(c)], settle=0.3)
        self.assertEqual(sorted(mx.messages(DNSBLOG)),
                         sorted([listed("127.0.0.8", "bl.test", "127.0.0.3"),
                                 listed("127.0.0.8", "wl.test", "127.0.2.3")]))

    # -- lists that misbehave ---------------------------------------------------
    def test_list_that_never_answers_times_out(self):
        mx, port = self.gateway([self.dnsbl(sites=["never.test*3", "small.test*1"],
                                            timeout="2s")],
                                greet_wait="6s", nameserver=self.proxy.address)
        c = self.connect(port, "127.0.0.11")
        t0 = time.monotonic()
        self.assertEqual(c.read_reply(timeout=10), [BACKEND_BANNER])
        took = time.monotonic() - t0
        self.assertGreater(took, 1.8, "waits for the DNSBL timeout")
        self.assertLess(took, 4.0, "the DNSBL timeout (2s), not the greet wait (6s), ends it")
        self.assert_session_log(mx, c, [msg_connect(c), msg_pass_new(c)], settle=0.3)
        self.assertIn("warning: dnsblog reply timeout 2s for never.test",
                      mx.postscreen_messages())
        self.assert_dnsblog(mx, [listed("127.0.0.11", "small.test", "127.0.0.2")])
        self.assertIn("11.0.0.127.never.test", self.proxy.dropped)

    def test_hangup_while_a_lookup_is_outstanding(self):
        """A session that ends while its list has not answered is never called
        back (run under ASan to see a use-after-free); the next client of the
        same list is served normally."""
        mx, port = self.gateway([self.dnsbl(sites=["never.test*3"], timeout="2s")],
                                greet_wait="6s", nameserver=self.proxy.address)
        c = self.connect(port, "127.0.0.12")
        time.sleep(0.3)
        c.close()
        m = mx.wait_for_log(r"HANGUP after (\S+) from %s in tests before SMTP handshake"
                            % re.escape(c.endpoint))
        self.assert_session_log(mx, c, [
            msg_connect(c),
            "HANGUP after %s from %s in tests before SMTP handshake" % (m.group(1), c.endpoint),
            msg_disconnect(c)], settle=2.5)   # past the DNSBL deadline
        self.assertNotIn("warning: dnsblog reply timeout 2s for never.test",
                         mx.postscreen_messages(), "no callback for a session that is gone")
        c2 = self.connect(port, "127.0.0.13")
        self.assertEqual(c2.read_reply(timeout=10), [BACKEND_BANNER])
        self.assert_session_log(mx, c2, [msg_connect(c2), msg_pass_new(c2)], settle=0.3)
        self.assertEqual(mx.proc.poll(), None, "the gateway is still running")

    def test_error_code_is_warned_once_and_never_counts(self):
        mx, port = self.gateway([self.dnsbl(sites=["bl.test*5"])])
        c = self.connect(port, "127.0.0.4")
        self.passes_early(c, 3.0)
        self.assert_session_log(mx, c, [msg_connect(c), msg_pass_new(c)], settle=0.3)
        warning = ("warning: dnsbl bl.test answered 127.255.255.254 for 127.0.0.4 (an error "
                   "code, not a listing; is the list refusing this resolver? use a local "
                   "caching resolver)")
        self.assertEqual([m for m in mx.postscreen_messages() if m.startswith("warning: dnsbl ")],
                         [warning])
        self.assert_dnsblog(mx, [])
        # Another session gets the same answer (from the cache): no second warning.
        c2 = self.connect(port, "127.0.0.4")
        c2.close()
        time.sleep(0.5)
        self.assertEqual(len([m for m in mx.postscreen_messages()
                              if m.startswith("warning: dnsbl ")]), 1)

    # -- IPv6 ------------------------------------------------------------------
    def test_ipv6_client(self):
        mx, port = self.gateway([self.dnsbl(sites=["bl6.test*3"])], listen_host="::1")
        c = self.connect(port, "::1", host="::1")
        self.assertEqual(c.read_reply(), [blocked("::1", "bl6.test")])
        c.expect_closed()
        self.assert_session_log(mx, c, [msg_connect(c), msg_rank(c, 3), msg_disconnect(c)],
                                settle=0.3)
        self.assert_dnsblog(mx, [listed("::1", "bl6.test", "127.0.0.2")])


if __name__ == "__main__":
    unittest.main()
