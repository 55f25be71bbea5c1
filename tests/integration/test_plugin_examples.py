"""test_plugin_examples - the example plugins in a real gateway

SYNOPSIS
    /usr/bin/python3 -m unittest -v tests/integration/test_plugin_examples.py

DESCRIPTION
    examples/plugins/helo_policy.so and rate_limit.so, built outside the core
    by their own CMake project (scripts/build-example-plugins.sh; taken from
    $MXSCREEN_EXAMPLE_PLUGINS_DIR, default BUILD/examples-plugins, and built
    there when missing), loaded by a real mxscreen on loopback:

      (a) from a static config file, with a real Postfix backend (PROXY v2):
          - EHLO with a bare IP: enforce -> the EHLO's normal reply, 550 and
            the NOQUEUE line on RCPT; drop -> 521 right after the EHLO;
          - HELO with a name that is not fully qualified: enforce, and ignore
            (logged, then passed as postscreen's deep tests are);
          - a good FQDN: 450 on RCPT and PASS NEW, then on reconnect PASS OLD
            and a hand-off to Postfix, which logs the real client and
            delivers; the pass is cached under the entry's name;
          - rate limit: N connections from 127.0.0.x (one /24) within the
            window pass, the N+1-th fails with the exact reply and log line,
            and a client in 127.0.1.x is not affected;
      (b) by a control-plane push (mxscreen-control, mxscreenctl) into a
          running gateway that had no plugin: the same verdicts, replies and
          log lines; a push whose plugin config the plugin refuses is NACKed
          with the plugin's message while the gateway keeps its version.
"""

import calendar
import os
import re
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (BUILD_DIR, REPO_DIR, MxscreenTestCase, PostfixInstance,  # noqa: E402
                     free_port, screening_config, engine_ehlo, postfix_ehlo, msg_connect, msg_disconnect,
                     msg_pass_new, msg_pass_old, msg_rcpt_reject)
from control_peers import ControlPlane, FleetGateway, fleet_config, push_fleet  # noqa: E402

EXAMPLES = os.environ.get("MXSCREEN_EXAMPLE_PLUGINS_DIR",
                          os.path.join(BUILD_DIR, "examples-plugins"))
HELO_SO = os.path.join(EXAMPLES, "helo_policy.so")
RATE_SO = os.path.join(EXAMPLES, "rate_limit.so")

MX_HOSTNAME = "mx.test.example"
ENGINE_BANNER = "220 %s ESMTP Postfix" % MX_HOSTNAME
ENGINE_EHLO = engine_ehlo(MX_HOSTNAME)
BACKEND_HOSTNAME = "backend.test.example"
BACKEND_BANNER = "220 %s ESMTP Postfix" % BACKEND_HOSTNAME
BACKEND_EHLO = postfix_ehlo(BACKEND_HOSTNAME)
REPLY_450 = "450 4.3.2 Service currently unavailable"
SENDER, RCPT = "a@b.example", "c@d.example"
NEED_FQDN = "5.7.1 <%s>: Helo command rejected: need fully-qualified hostname"
RATE_REPLY = "4.7.1 Too many connections from your network, try again later"
RATE_LIMIT = 5


def ensure_examples_built():
    """The examples as scripts/test.sh builds them; built here when missing."""
    if os.path.exists(HELO_SO) and os.path.exists(RATE_SO):
        return
    src = os.path.join(REPO_DIR, "examples", "plugins")
    subprocess.run(["cmake", "-S", src, "-B", EXAMPLES, "-G", "Ninja",
                    "-DMXSCREEN_PLUGIN_INCLUDE_DIR=%s" % os.path.join(REPO_DIR, "api")],
                   check=True, capture_output=True)
    subprocess.run(["ninja", "-C", EXAMPLES, "helo_policy", "rate_limit"], check=True,
                   capture_output=True)


def helo_entry(action, config=None, ttl=None):
    e = {"name": "helo_policy", "action": action,
         "plugin": {"path": HELO_SO, "config": config or {}}}
    if ttl:
        e["ttl"] = ttl
    return e


def rate_entry(action="drop", limit=RATE_LIMIT):
    return {"name": "rate_limit", "action": action,
            "plugin": {"path": RATE_SO, "config": {"limit": limit, "window": "60s"}}}


def msg_helo(client, event, verb, name):
    return "%s HELO from %s: %s %s" % (event, client.endpoint, verb, name)


def msg_rate(client, count, network, limit=RATE_LIMIT):
    return ("RATE LIMIT from %s: %d connections from %s within 60s (limit %d)"
            % (client.endpoint, count, network, limit))


class ExampleChecks:
    """The checks shared by the static config and the pushed config; `port`
    and `mx` come from the concrete test."""

    def engine_client(self, ip):
        c = self.connect(self.port, ip)
        self.assertEqual(c.read_reply(), [self.engine_banner])
        return c

    def check_bare_ip_enforced(self, ip):
        c = self.engine_client(ip)
        self.assertEqual(c.command("EHLO 192.0.2.1"), self.engine_ehlo)
        self.assertEqual(c.command("MAIL FROM:<%s>" % SENDER), ["250 2.1.0 Ok"])
        reply = "550 " + NEED_FQDN % "192.0.2.1"
        self.assertEqual(c.command("RCPT TO:<%s>" % RCPT), [reply])
        self.assertEqual(c.command("RCPT TO:<x@d.example>"), [reply])
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.expect_closed()
        c.close()
        self.assert_session_log(self.mx, c, [
            msg_connect(c), msg_helo(c, "BARE IP", "EHLO", "192.0.2.1"),
            msg_rcpt_reject(c, reply, SENDER, RCPT, "ESMTP", "192.0.2.1"),
            msg_rcpt_reject(c, reply, SENDER, "x@d.example", "ESMTP", "192.0.2.1"),
            msg_disconnect(c)], settle=0.2)

    def check_rate_limit(self, net_a, net_b):
        """RATE_LIMIT connections from net_a.1.. pass (they reach the engine),
        the next one fails with the drop reply; net_b is not affected."""
        held = []
        for i in range(1, RATE_LIMIT + 1):
            held.append(self.engine_client("%s.%d" % (net_a, i)))
        c = self.connect(self.port, "%s.%d" % (net_a, 200))
        self.assertEqual(c.read_reply(), ["421 " + RATE_REPLY])
        c.expect_closed()
        self.assert_session_log(self.mx, c, [
            msg_connect(c), msg_rate(c, RATE_LIMIT + 1, net_a + ".0/24"), msg_disconnect(c)])
        # Refused connections count too: the next one is the 7th.
        c2 = self.connect(self.port, "%s.%d" % (net_a, 201))
        self.assertEqual(c2.read_reply(), ["421 " + RATE_REPLY])
        c2.expect_closed()
        self.assert_session_log(self.mx, c2, [
            msg_connect(c2), msg_rate(c2, RATE_LIMIT + 2, net_a + ".0/24"), msg_disconnect(c2)])
        other = self.engine_client(net_b + ".1")
        for c in held + [other]:
            self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
            c.close()
        self.assertNotIn("RATE LIMIT from %s" % other.endpoint, self.mx.log())


class StaticConfigTest(ExampleChecks, MxscreenTestCase):
    engine_banner = ENGINE_BANNER
    engine_ehlo = ENGINE_EHLO

    @classmethod
    def setUpClass(cls):
        ensure_examples_built()
        cls.backend = PostfixInstance("backend", proxy=True, hostname=BACKEND_HOSTNAME)
        cls.addClassCleanup(cls.backend.stop)
        cls.backend.start()

    def gateway(self, helo_action="enforce", **kw):
        self.port = free_port()
        cfg = screening_config(self.port, [self.backend.address],
                               [rate_entry(), helo_entry(helo_action, **kw)],
                               hostname=MX_HOSTNAME)
        return self.start_gateway(cfg)

    def test_bare_ip_enforce(self):
        self.gateway("enforce")
        self.check_bare_ip_enforced("127.0.7.1")

    def test_bare_ip_drop(self):
        mx = self.gateway("drop")
        c = self.engine_client("127.0.7.2")
        self.assertEqual(c.command("EHLO 2001:db8::1"), ["521 " + NEED_FQDN % "2001:db8::1"])
        c.expect_closed()
        self.assert_session_log(mx, c, [
            msg_connect(c), msg_helo(c, "BARE IP", "EHLO", "2001:db8::1"), msg_disconnect(c)])

    def test_non_fqdn_helo_enforce(self):
        mx = self.gateway("enforce")
        c = self.engine_client("127.0.7.3")
        self.assertEqual(c.command("HELO localhost"), ["250 " + MX_HOSTNAME])
        self.assertEqual(c.command("MAIL FROM:<%s>" % SENDER), ["250 2.1.0 Ok"])
        reply = "550 " + NEED_FQDN % "localhost"
        self.assertEqual(c.command("RCPT TO:<%s>" % RCPT), [reply])
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.expect_closed()
        self.assert_session_log(mx, c, [
            msg_connect(c), msg_helo(c, "NON-FQDN", "HELO", "localhost"),
            msg_rcpt_reject(c, reply, SENDER, RCPT, "SMTP", "localhost"), msg_disconnect(c)],
            settle=0.2)

    def test_non_fqdn_helo_ignore(self):
        """ignore: logged only; like postscreen's deep tests the client then
        counts as passed (PASS NEW, and PASS OLD on reconnect)."""
        mx = self.gateway("ignore")
        ip = "127.0.7.6"
        c = self.engine_client(ip)
        self.assertEqual(c.command("EHLO localhost"), ENGINE_EHLO)
        self.assertEqual(c.command("MAIL FROM:<%s>" % SENDER), ["250 2.1.0 Ok"])
        self.assertEqual(c.command("RCPT TO:<%s>" % RCPT), [REPLY_450])
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.expect_closed()
        c.close()
        self.assert_session_log(mx, c, [
            msg_connect(c), msg_helo(c, "NON-FQDN", "EHLO", "localhost"),
            msg_rcpt_reject(c, REPLY_450, SENDER, RCPT, "ESMTP", "localhost"),
            msg_pass_new(c), msg_disconnect(c)])
        c = self.connect(self.port, ip)
        self.assertEqual(c.read_reply(), [BACKEND_BANNER])
        self.assertEqual(c.command("QUIT")[0][:3], "221")
        c.close()
        self.assert_session_log(mx, c, [msg_connect(c), msg_pass_old(c)], settle=0.3)

    def test_invalid_name_with_own_reply(self):
        mx = self.gateway("drop", config={
            "checks": ["invalid"], "reply_invalid": "5.5.2 <{helo}>: Helo command rejected: "
                                                    "Invalid name"})
        c = self.engine_client("127.0.7.4")
        self.assertEqual(c.command("EHLO localhost"), ENGINE_EHLO)   # fqdn not checked
        self.assertEqual(c.command("EHLO bad..name.example"),
                         ["521 5.5.2 <bad..name.example>: Helo command rejected: Invalid name"])
        c.expect_closed()
        self.assert_session_log(mx, c, [
            msg_connect(c), msg_helo(c, "INVALID", "EHLO", "bad..name.example"),
            msg_disconnect(c)])

    def test_good_fqdn_passes_and_is_handed_off(self):
        mx = self.gateway("enforce", ttl="2h")
        ip, helo = "127.0.7.5", "mail.client.example"
        c = self.engine_client(ip)
        self.assertEqual(c.command("EHLO " + helo), ENGINE_EHLO)
        self.assertEqual(c.command("EHLO [127.0.7.5]"), ENGINE_EHLO)   # a literal is fine
        self.assertEqual(c.command("MAIL FROM:<%s>" % SENDER), ["250 2.1.0 Ok"])
        self.assertEqual(c.command("RCPT TO:<%s>" % RCPT), [REPLY_450])
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.expect_closed()
        c.close()
        self.assert_session_log(mx, c, [
            msg_connect(c), msg_rcpt_reject(c, REPLY_450, SENDER, RCPT, "ESMTP", "[127.0.7.5]"),
            msg_pass_new(c), msg_disconnect(c)])

        # Reconnect: PASS OLD, straight to Postfix, which sees the real client.
        c = self.connect(self.port, ip)
        t0 = time.monotonic()
        self.assertEqual(c.read_reply(), [BACKEND_BANNER])
        self.assertLess(time.monotonic() - t0, 0.8, "PASS OLD hands off at once")
        qid, msgid = self.deliver_mail(c, helo, BACKEND_EHLO, SENDER, RCPT,
                                       "helo_policy passed")
        who = re.escape("unknown[%s]:%d" % (ip, c.source_port))
        self.backend.wait_for_log(r"postfix/smtpd\[\d+\]: connect from %s$" % who)
        self.backend.wait_for_log(r"postfix/cleanup\[\d+\]: %s: message-id=<%s>$"
                                  % (qid, re.escape(msgid)))
        self.assert_session_log(mx, c, [msg_connect(c), msg_pass_old(c)], settle=0.3)

        # The pass is stored under the entry's name with the entry's TTL.
        mx.stop()
        r = mx.verdict_get(ip)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        # Only helo_policy: rate_limit is not cached.
        m = re.match(r"^helo_policy (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) \(in \S+\)\n$", r.stdout)
        self.assertIsNotNone(m, r.stdout)
        expiry = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%SZ"))
        self.assertAlmostEqual(expiry, time.time() + 2 * 3600, delta=120)

    def test_rate_limit(self):
        self.gateway("enforce")
        self.check_rate_limit("127.0.0", "127.0.1")


class PushTest(ExampleChecks, MxscreenTestCase):
    """Both examples pushed into a running gateway by mxscreen-control."""
    engine_banner = "220 mx.fleet.example ESMTP Postfix"
    engine_ehlo = engine_ehlo("mx.fleet.example")

    @classmethod
    def setUpClass(cls):
        ensure_examples_built()
        cls.backend = PostfixInstance("backend", proxy=True, hostname=BACKEND_HOSTNAME)
        cls.addClassCleanup(cls.backend.stop)
        cls.backend.start()

    push = push_fleet

    def test_push_loads_both_examples(self):
        cp = ControlPlane(None)
        self.addCleanup(cp.stop)
        cp.start()
        self.port = free_port()
        gw = FleetGateway(cp, "gw1", "eu", self.port)
        self.addCleanup(gw.stop)
        gw.start()
        gw.wait_for_log(r"waiting for the first config of fleet eu")
        self.mx = gw

        # Version 1: no plugin; clients go straight to the backend.
        r = self.push(cp, fleet_config([], [self.backend.address]))
        self.assertRegex(r.stdout, r"\n  gw1\s+ACK      version 1 in \d+ ms\n")
        gw.wait_listening()
        c = self.connect(self.port, "127.0.10.1")
        self.assertEqual(c.read_reply(), [BACKEND_BANNER])
        c.close()

        # A config the plugin refuses: NACKed with its message, version 1 stays.
        bad = fleet_config([rate_entry(), helo_entry("enforce", {"checks": ["rdns"]})],
                           [self.backend.address])
        r = self.push(cp, bad, 3)
        self.assertIn("NACK     keeps version 1: listeners[0].filters[1].plugin.config: refused "
                      "by plugin helo_policy: \"checks\": unknown check \"rdns\" (expected "
                      "bare_ip, invalid or non_fqdn)", r.stdout)

        # Version 3: both examples, loaded into the running gateway.
        good = fleet_config([rate_entry(), helo_entry("enforce")], [self.backend.address])
        r = self.push(cp, good)
        self.assertRegex(r.stdout, r"\n  gw1\s+ACK      version 3 in \d+ ms\n")
        gw.wait_for_log(r"applied version 3 of fleet eu$")
        self.check_bare_ip_enforced("127.0.10.2")
        self.check_rate_limit("127.0.11", "127.0.12")


if __name__ == "__main__":
    unittest.main()
