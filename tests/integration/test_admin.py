"""test_admin - the admin HTTP server against a real gateway and real peers

SYNOPSIS
    /usr/bin/python3 -m unittest -v tests/integration/test_admin.py

DESCRIPTION
    A gateway with an access list (drop), pregreet under `ignore` (dry-run)
    and a DNSBL (drop) against a real rbldnsd, handing off to a real Postfix
    smtpd, with its admin server on loopback. Every request goes through
    Python's http.client; every number is exact:

      - after a known mix of clients (allowlisted, denylisted, a pregreet
        under ignore, a DNSBL listing, a clean client and its PASS OLD), the
        exact value of every series in /metrics and the same numbers in
        /api/summary, with the top rejected clients and networks;
      - the pregreet under ignore keeps postscreen's log line and is handed
        off (would_fail in the metrics, no PASS NEW);
      - /config_dump: the effective config with the defaults filled in, the
        token file by path and never its content;
      - GET /verdicts/ADDR, DELETE /verdicts/ADDR, after which the client's
        next connection is screened again (not PASS OLD);
      - a connection limit (421, outcome limit) and hand-offs to a dead
        backend (mxs_handoff_failures_total, 421);
      - /healthz, /ready;
      - a SIGHUP reload changes the admin server without a restart: a token
        added on the same socket, then a new address (the old one closed), and
        an address in use refuses the reload;
      - access: a configured token guards everything but the probes and the
        dashboard's own files (page, script, styles: no data) (401 with
        WWW-Authenticate, wrong token 401), DELETE without a configured token
        is 403, a non-loopback address without authentication is refused at
        load, and HTTPS with client certificates made by openssl (a client
        without a certificate cannot connect; one with it may DELETE).

    Client addresses (each used by one test only):
      127.0.20.1  permit     127.0.20.2  reject     127.0.20.3  pregreets
      127.0.20.4  listed in bl.test                 127.0.20.5  clean
      127.0.21.x  the other gateways' tests (127.0.21.10: denylisted and listed,
                  under ignore)
"""

import http.client
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (PostfixInstance, MxscreenTestCase, free_port,  # noqa: E402
                     screening_config, msg_connect, msg_disconnect, msg_pass_new,
                     msg_allowlisted, msg_denylisted, REPLY_DENYLIST_DROP)
from dnsbl_peers import Rbldnsd  # noqa: E402
from control_peers import Pki  # noqa: E402

MX_HOSTNAME = "mx.test.example"
BACKEND_HOSTNAME = "backend.test.example"
BACKEND_BANNER = "220 %s ESMTP Postfix" % BACKEND_HOSTNAME
TEASER = "220-%s ESMTP Postfix" % MX_HOSTNAME
TOKEN = "t0ken-for-tests.42"

SOA = "$SOA 300 ns.bl.test hostmaster.bl.test 1 600 300 86400 120\n$TTL 300\n"
ZONES = {"bl.test": ("ip4set", SOA + ":127.0.0.2:listed\n127.0.20.4\n127.0.21.10\n")}

FILTERS = [
    {"name": "access_cidr", "action": "drop",
     "typed_config": {"access_list": [{"cidr": {"lines": ["127.0.20.1/32 permit",
                                                          "127.0.20.2/32 reject"]}}]}},
    {"name": "pregreet", "action": "ignore"},
    {"name": "dnsbl", "action": "drop", "typed_config": {"sites": ["bl.test"], "threshold": 1}},
]


def scrape(text):
    """Prometheus text -> {'name{labels}': value} for every sample line."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, value = line.rsplit(" ", 1)
        out[key] = float(value)
    return out


class AdminClient:
    """GET/DELETE against one admin server, over HTTP or HTTPS."""

    def __init__(self, port, token=None, context=None):
        self.port, self.token, self.context = port, token, context

    def request(self, method, path, token=None, headers=None):
        if self.context is not None:
            conn = http.client.HTTPSConnection("127.0.0.1", self.port, timeout=10,
                                               context=self.context)
        else:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            hdrs = dict(headers or {})
            tok = self.token if token is None else token
            if tok:
                hdrs["Authorization"] = "Bearer " + tok
            conn.request(method, path, headers=hdrs)
            r = conn.getresponse()
            return r.status, dict(r.getheaders()), r.read().decode()
        finally:
            conn.close()

    def get(self, path, **kw):
        return self.request("GET", path, **kw)


class AdminTest(MxscreenTestCase):

    @classmethod
    def setUpClass(cls):
        cls.rbl = Rbldnsd(ZONES)
        cls.addClassCleanup(cls.rbl.stop)
        cls.rbl.start()
        cls.backend = PostfixInstance("backend", proxy=True, hostname=BACKEND_HOSTNAME)
        cls.addClassCleanup(cls.backend.stop)
        cls.backend.start()

    def gateway(self, admin_yaml, files=None, filters=FILTERS):
        port = free_port()
        cfg = screening_config(port, [self.backend.address], filters, hostname=MX_HOSTNAME,
                               greet_wait="1s")
        cfg += 'dns_resolver: { nameservers: ["%s"], timeout: 1s, tries: 2 }\n' % self.rbl.address
        cfg += admin_yaml
        mx = self.start_gateway(cfg, files=files)
        return mx, port

    def wait_metric(self, admin, key, value, timeout=10.0):
        deadline = time.monotonic() + timeout
        while True:
            got = scrape(admin.get("/metrics")[2]).get(key)
            if got == value or time.monotonic() > deadline:
                return got
            time.sleep(0.05)

    # -- the main gateway: metrics after known traffic, verdicts, config dump --
    def test_metrics_summary_verdicts_and_config_dump(self):
        admin_port = free_port()
        mx, port = self.gateway(
            'admin: { address: "127.0.0.1:%d", bearer_token_file: admin.token }\n' % admin_port,
            files={"admin.token": TOKEN + "\n"})
        admin = AdminClient(admin_port, TOKEN)

        status, headers, body = admin.get("/metrics")
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Type"], "text/plain; version=0.0.4")
        self.assertEqual(admin.get("/healthz")[::2], (200, "ok\n"))
        self.assertEqual(admin.get("/ready")[::2], (200, "ready\n"))

        # 1. allowlisted: handed off at once.
        c = self.connect(port, "127.0.20.1")
        self.assertEqual(c.read_reply(), [BACKEND_BANNER])
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.close()
        # 2. denylisted under drop.
        c = self.connect(port, "127.0.20.2")
        self.assertEqual(c.read_reply(), [REPLY_DENYLIST_DROP])
        c.expect_closed()
        self.assert_session_log(mx, c, [msg_connect(c), msg_denylisted(c), msg_disconnect(c)],
                                settle=0.2)
        # 3. a pregreet under ignore: logged as postscreen does, handed off with
        # its early bytes (the backend answers the EHLO it sent too early).
        c = self.connect(port, "127.0.20.3")
        self.assertEqual(c.read_line(), TEASER)
        c.send_raw(b"EHLO pregreet.test\r\n")
        self.assertEqual(c.read_reply(), [BACKEND_BANNER])
        self.assertEqual(c.read_reply()[0], "250-%s" % BACKEND_HOSTNAME)
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.close()
        mx.wait_for_log(r"PREGREET 20 after", timeout=5)
        time.sleep(0.2)
        msgs = mx.messages(self.POSTSCREEN, c.endpoint)
        self.assertEqual(msgs[0], msg_connect(c))
        self.assertRegex(msgs[1], r"^PREGREET 20 after [0-9.]+ from %s: EHLO pregreet\.test\\r\\n$"
                         % re.escape(c.endpoint))
        self.assertEqual(len(msgs), 2, msgs)   # no PASS NEW, no reject, no DISCONNECT here
        # 4. listed in bl.test: 521 after the teaser.
        c = self.connect(port, "127.0.20.4")
        self.assertEqual(c.read_reply(), [
            TEASER, "521 5.7.1 Service unavailable; client [127.0.20.4] blocked using bl.test"])
        c.expect_closed()
        # 5. clean: PASS NEW after the greet wait, then PASS OLD.
        c = self.connect(port, "127.0.20.5")
        self.assertEqual(c.read_reply(timeout=5), [TEASER, BACKEND_BANNER])
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.close()
        self.assert_session_log(mx, c, [msg_connect(c), msg_pass_new(c)], settle=0.2)
        c = self.connect(port, "127.0.20.5")
        self.assertEqual(c.read_reply(), [BACKEND_BANNER])
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.close()
        self.assert_session_log(mx, c, [msg_connect(c), "PASS OLD %s" % c.endpoint], settle=0.2)

        # Every relay has ended once the gauge is back at 0.
        self.assertEqual(self.wait_metric(admin, 'mxs_connections_active{listener="smtp"}', 0), 0)
        m = scrape(admin.get("/metrics")[2])
        smtp = 'listener="smtp"'

        def outcome(o):
            return m['mxs_connection_outcomes_total{%s,outcome="%s"}' % (smtp, o)]

        def verdict(f, v):
            return m['mxs_filter_verdicts_total{%s,filter="%s",verdict="%s"}' % (smtp, f, v)]

        self.assertEqual(m['mxs_connections_total{%s}' % smtp], 6)
        self.assertEqual({o: outcome(o) for o in (
            "pass_new", "pass_old", "allowlisted", "denylisted", "rejected", "dropped", "hangup",
            "limit", "listener_fail")},
            {"pass_new": 2, "pass_old": 1, "allowlisted": 1, "denylisted": 1, "rejected": 0,
             "dropped": 1, "hangup": 0, "limit": 0, "listener_fail": 0})
        self.assertEqual({(f, v): verdict(f, v) for f in ("access_cidr", "pregreet", "dnsbl")
                          for v in ("pass", "fail", "would_fail", "cached")}, {
            ("access_cidr", "pass"): 1, ("access_cidr", "fail"): 1,
            ("access_cidr", "would_fail"): 0, ("access_cidr", "cached"): 0,
            ("pregreet", "pass"): 1, ("pregreet", "fail"): 0,
            ("pregreet", "would_fail"): 1, ("pregreet", "cached"): 1,
            ("dnsbl", "pass"): 2, ("dnsbl", "fail"): 1,
            ("dnsbl", "would_fail"): 0, ("dnsbl", "cached"): 1})
        self.assertEqual(m['mxs_rejections_total{%s,code="521"}' % smtp], 2)
        self.assertEqual(m['mxs_rejections_total{%s,code="550"}' % smtp], 0)
        self.assertEqual(m['mxs_rejections_total{%s,code="421"}' % smtp], 0)
        self.assertEqual(m['mxs_handoffs_total{%s}' % smtp], 4)
        self.assertEqual(m['mxs_handoff_failures_total{%s}' % smtp], 0)
        self.assertEqual(m['mxs_dnsbl_lookups_total{list="bl.test"}'], 3)
        self.assertEqual(m['mxs_dnsbl_hits_total{list="bl.test"}'], 1)
        self.assertEqual(m['mxs_dnsbl_lookup_duration_seconds_count{list="bl.test"}'], 3)
        self.assertEqual(m['mxs_dnsbl_lookup_duration_seconds_bucket{list="bl.test",le="+Inf"}'], 3)
        self.assertEqual(m['mxs_verdict_lookups_total{%s,result="hit"}' % smtp], 1)
        self.assertEqual(m['mxs_verdict_lookups_total{%s,result="miss"}' % smtp], 3)
        self.assertEqual(m['mxs_stress_mode{%s}' % smtp], 0)
        self.assertEqual(m['mxs_verdict_store_degraded{%s}' % smtp], 0)
        # Two clients have records: 127.0.20.3 (its DNSBL pass: an ignored
        # failure does not keep the others from being stored) and 127.0.20.5.
        self.assertEqual(m['mxs_verdict_store_records{%s}' % smtp], 2)
        versions = [k for k, v in m.items() if k.startswith("mxs_config_info{") and v == 1]
        self.assertEqual(len(versions), 1, versions)
        self.assertRegex(versions[0], r'^mxs_config_info\{version="[0-9a-f]{16}"\}$')

        # /api/summary: the same numbers, and who was rejected.
        status, headers, body = admin.get("/api/summary")
        self.assertEqual((status, headers["Content-Type"]), (200, "application/json"))
        s = json.loads(body)
        self.assertEqual(s["connections"], {"total": 6, "active": 0})
        self.assertEqual(s["outcomes"], {"pass_new": 2, "pass_old": 1, "allowlisted": 1,
                                         "denylisted": 1, "rejected": 0, "dropped": 1,
                                         "hangup": 0, "limit": 0, "listener_fail": 0})
        self.assertEqual(s["filters"]["pregreet"],
                         {"pass": 1, "fail": 0, "would_fail": 1, "cached": 1})
        self.assertEqual(s["filters"]["dnsbl"], {"pass": 2, "fail": 1, "would_fail": 0, "cached": 1})
        self.assertEqual(s["rejections"], {"421": 0, "450": 0, "521": 2, "550": 0})
        self.assertEqual(s["handoffs"], {"total": 4, "failures": 0})
        self.assertEqual(s["dnsbl"], {"bl.test": {"lookups": 3, "hits": 1}})
        self.assertEqual(s["verdict_store"], {"records": 2, "hits": 1, "misses": 3})
        self.assertEqual(s["top_clients"], [
            {"client": "127.0.20.2", "rejections": 1, "error": 0},
            {"client": "127.0.20.4", "rejections": 1, "error": 0}])
        self.assertEqual(s["top_networks"],
                         [{"network": "127.0.20.0/24", "rejections": 2, "error": 0}])

        # /verdicts: the clean client's record, then removed.
        status, _, body = admin.get("/verdicts/127.0.20.5")
        self.assertEqual(status, 200)
        rec = json.loads(body)
        self.assertEqual((rec["client"], rec["listener"]), ("127.0.20.5", "smtp"))
        self.assertEqual([(p["filter"], p["valid"]) for p in rec["passes"]],
                         [("pregreet", True), ("dnsbl", True)])
        now = time.time()
        pregreet, dnsbl = rec["passes"]
        # pregreet: the default TTL 1d; dnsbl: the TTL of the "not listed"
        # answer, the zone's negative TTL (the SOA minimum, 120 s), within [60s, 1h].
        self.assertAlmostEqual(pregreet["expires_unix"], now + 86400, delta=30)
        self.assertAlmostEqual(dnsbl["expires_unix"], now + 120, delta=30)
        self.assertEqual(admin.get("/verdicts/127.0.20.5?listener=smtp")[2], body)
        self.assertEqual(admin.get("/verdicts/127.0.20.9")[::2],
                         (404, '{"error":"no record for 127.0.20.9"}\n'))
        self.assertEqual(admin.get("/verdicts/127.0.20.5?listener=nope")[::2],
                         (404, '{"error":"no listener named nope"}\n'))
        self.assertEqual(admin.get("/verdicts/300.1.1.1")[::2],
                         (400, '{"error":"not an IP address: \\"300.1.1.1\\""}\n'))
        self.assertEqual(admin.request("DELETE", "/verdicts/127.0.20.5")[::2],
                         (200, '{"deleted":"127.0.20.5","listener":"smtp"}\n'))
        mx.wait_for_message("admin: removed the verdict record of 127.0.20.5 (listener smtp)",
                            prog="mxscreen")
        self.assertEqual(admin.get("/verdicts/127.0.20.5")[0], 404)
        self.assertEqual(admin.request("DELETE", "/verdicts/127.0.20.5")[0], 404)
        # The next connection is screened again: the greet wait, PASS NEW.
        c = self.connect(port, "127.0.20.5")
        self.assertEqual(c.read_reply(timeout=5), [TEASER, BACKEND_BANNER])
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.close()
        self.assert_session_log(mx, c, [msg_connect(c), msg_pass_new(c)], settle=0.2)
        m = scrape(admin.get("/metrics")[2])
        self.assertEqual(outcome("pass_new"), 3)
        self.assertEqual(outcome("pass_old"), 1)
        self.assertEqual(m['mxs_verdict_lookups_total{%s,result="miss"}' % smtp], 4)

        # /config_dump: effective values, the token file by path only.
        status, headers, body = admin.get("/config_dump")
        self.assertEqual((status, headers["Content-Type"]), (200, "application/json"))
        self.assertNotIn(TOKEN, body)
        d = json.loads(body)
        self.assertEqual(d["admin"], {"address": "127.0.0.1:%d" % admin_port,
                                      "bearer_token_file": mx.dir + "/admin.token",
                                      "cert_file": "", "key_file": "", "client_ca_file": ""})
        self.assertEqual((d["hostname"], d["workers"]), (MX_HOSTNAME, 2))
        lst = d["listeners"][0]
        self.assertEqual((lst["name"], lst["address"], lst["program_name"], lst["banner"]),
                         ("smtp", "127.0.0.1:%d" % port, "postfix/postscreen",
                          "mx.test.example ESMTP Postfix"))
        self.assertEqual(lst["limits"], {"client_connection_count_limit": 50,
                                         "pre_queue_limit": 100, "post_queue_limit": 100,
                                         "relay_limit": 10000})
        self.assertEqual((lst["greet_wait"], lst["greet_wait_stress"]), ("1s", "2s"))
        self.assertEqual([(f["name"], f["action"], f["ttl"], f["enabled"])
                          for f in lst["filters"]],
                         [("access_cidr", "DROP", "0s", True),
                          ("pregreet", "IGNORE", "86400s", True),
                          ("dnsbl", "DROP", "3600s", True)])
        self.assertEqual(lst["filters"][2]["typed_config"]["@type"],
                         "type.googleapis.com/mxscreen.filters.dnsbl.v1.Dnsbl")
        self.assertEqual(lst["store"]["path"], mx.dir + "/store")

    # -- limits and hand-off failures ------------------------------------------
    def test_limit_and_handoff_failure_metrics(self):
        admin_port = free_port()
        dead = free_port()   # nothing listens there: every hand-off fails
        # pregreet keeps a client in the greet wait (1 s), where it counts
        # against its connection limit of 1.
        cfg = screening_config(free_port(), ["127.0.0.1:%d" % dead], [{"name": "pregreet"}],
                               hostname=MX_HOSTNAME, greet_wait="1s",
                               listener_limits={"client_connection_count_limit": 1})
        cfg += 'admin: { address: "127.0.0.1:%d" }\n' % admin_port
        mx = self.start_gateway(cfg)
        port = mx.listen[0][1]
        admin = AdminClient(admin_port)
        unavailable = "421 4.3.2 Service currently unavailable"  # after the teaser
        # The first client passes, and its hand-off fails.
        c1 = self.connect(port, "127.0.21.20")
        self.assertEqual(c1.read_reply(timeout=5), [TEASER, unavailable])
        c1.expect_closed()
        # Two at once from one address: the second is over the limit.
        a = self.connect(port, "127.0.21.21")
        self.assertEqual(a.read_line(), TEASER)
        b = self.connect(port, "127.0.21.21")
        self.assertEqual(b.read_reply(), ["421 4.7.0 Error: too many connections"])
        b.expect_closed()
        self.assertEqual(a.read_reply(timeout=5), [unavailable])
        a.expect_closed()
        self.assertEqual(self.wait_metric(admin, 'mxs_connections_active{listener="smtp"}', 0), 0)
        m = scrape(admin.get("/metrics")[2])
        smtp = 'listener="smtp"'
        self.assertEqual(m['mxs_connections_total{%s}' % smtp], 3)
        self.assertEqual(m['mxs_handoff_failures_total{%s}' % smtp], 2)
        self.assertEqual(m['mxs_handoffs_total{%s}' % smtp], 0)
        self.assertEqual(m['mxs_rejections_total{%s,code="421"}' % smtp], 3)
        self.assertEqual(m['mxs_connection_outcomes_total{%s,outcome="limit"}' % smtp], 1)
        self.assertEqual(m['mxs_connection_outcomes_total{%s,outcome="pass_new"}' % smtp], 2)
        self.assertEqual(m['mxs_filter_verdicts_total{%s,filter="pregreet",verdict="pass"}'
                           % smtp], 2)
        # Only the screening's own rejections name top talkers, not a dead backend.
        self.assertEqual(json.loads(admin.get("/api/summary")[2])["top_clients"],
                         [{"client": "127.0.21.21", "rejections": 1, "error": 0}])

    # -- dry-run ---------------------------------------------------------------
    def test_dry_run_counts_would_fail_and_keeps_postscreen_lines(self):
        admin_port = free_port()
        filters = [{"name": "access_cidr", "action": "ignore",
                    "typed_config": {"access_list": [{"cidr": {"lines": ["127.0.21.10 reject"]}}]}},
                   dict(FILTERS[2], action="ignore")]
        mx, port = self.gateway('admin: { address: "127.0.0.1:%d" }\n' % admin_port,
                                filters=filters)
        admin = AdminClient(admin_port)
        # Denylisted and listed, both under ignore: logged, then handed off.
        c = self.connect(port, "127.0.21.10")
        self.assertEqual(c.read_reply(timeout=5), [BACKEND_BANNER])
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.close()
        self.assert_session_log(mx, c, [msg_connect(c), msg_denylisted(c),
                                        "DNSBL rank 1 for %s" % c.endpoint], settle=0.3)
        self.assertEqual(mx.messages("postfix/dnsblog"),
                         ["addr 127.0.21.10 listed by domain bl.test as 127.0.0.2"])
        self.assertEqual(self.wait_metric(admin, 'mxs_connections_active{listener="smtp"}', 0), 0)
        m = scrape(admin.get("/metrics")[2])
        got = {k: v for k, v in m.items()
               if k.startswith(("mxs_filter_verdicts_total", "mxs_rejections_total",
                                "mxs_connection_outcomes_total")) and v != 0}
        self.assertEqual(got, {
            'mxs_filter_verdicts_total{listener="smtp",filter="access_cidr",verdict="would_fail"}': 1,
            'mxs_filter_verdicts_total{listener="smtp",filter="dnsbl",verdict="would_fail"}': 1,
            'mxs_connection_outcomes_total{listener="smtp",outcome="pass_new"}': 1})
        self.assertEqual(m['mxs_handoffs_total{listener="smtp"}'], 1)
        # Nothing was stored for a client that would have failed.
        self.assertEqual(admin.get("/verdicts/127.0.21.10")[0], 404)
        self.assertEqual(json.loads(admin.get("/api/summary")[2])["top_clients"], [])

    # -- reload --------------------------------------------------------------
    def reload(self, mx, text, outcome="reloaded %s"):
        """Rewrite the config, SIGHUP, wait for the next `outcome` line."""
        with open(mx.config_path, "w") as f:
            f.write(text)
        line = outcome % mx.config_path
        before = mx.log().count(line)
        os.kill(mx.pid, signal.SIGHUP)
        deadline = time.monotonic() + 10
        while mx.log().count(line) == before:
            self.assertLess(time.monotonic(), deadline, mx.log()[-3000:])
            time.sleep(0.05)

    def test_reload_changes_the_admin_server_hitlessly(self):
        port1, port2 = free_port(), free_port()
        admin1 = 'admin: { address: "127.0.0.1:%d" }' % port1
        mx, port = self.gateway(admin1 + "\n")
        mx.write_file("admin.token", TOKEN + "\n")
        text = mx.config_text
        self.assertEqual(AdminClient(port1).get("/metrics")[0], 200)
        # A token added: the same socket now wants it.
        self.reload(mx, text.replace(admin1, 'admin: { address: "127.0.0.1:%d", '
                                             'bearer_token_file: admin.token }' % port1))
        self.assertEqual(AdminClient(port1).get("/metrics")[0], 401)
        self.assertEqual(AdminClient(port1, TOKEN).get("/metrics")[0], 200)
        self.assertEqual(mx.log().count("admin server on"), 1)   # not restarted
        # A new address: served there, the old one closed.
        self.reload(mx, text.replace(admin1, 'admin: { address: "127.0.0.1:%d" }' % port2))
        self.assertEqual(AdminClient(port2).get("/metrics")[0], 200)
        with self.assertRaises(ConnectionRefusedError):
            AdminClient(port1).get("/healthz")
        mx.wait_for_message("admin server on [127.0.0.1]:%d" % port2, prog="mxscreen")
        # An address in use (the SMTP listener's) refuses the whole reload;
        # the running admin server stays.
        self.reload(mx, text.replace(admin1, 'admin: { address: "127.0.0.1:%d" }' % port),
                    "warning: reload of %s refused: admin server: cannot listen on "
                    "[127.0.0.1]:" + str(port) + ": Address already in use")
        self.assertEqual(AdminClient(port2).get("/healthz")[0], 200)

    # -- access ------------------------------------------------------------------
    def test_token_guards_everything_but_probes_and_page_files(self):
        admin_port = free_port()
        mx, port = self.gateway(
            'admin: { address: "127.0.0.1:%d", bearer_token_file: admin.token }\n' % admin_port,
            files={"admin.token": TOKEN + "\n"})
        anon = AdminClient(admin_port)
        for path in ("/metrics", "/config_dump", "/api/summary", "/verdicts/127.0.21.1",
                     "/nope"):
            status, headers, body = anon.get(path)
            self.assertEqual((status, headers.get("WWW-Authenticate"), body),
                             (401, 'Bearer realm="mxscreen"',
                              "401 unauthorized: send Authorization: Bearer TOKEN\n"), path)
            status, headers, body = anon.get(path, token=TOKEN + "x")
            self.assertEqual((status, headers.get("WWW-Authenticate"), body),
                             (401, 'Bearer realm="mxscreen", error="invalid_token"',
                              "401 unauthorized: wrong bearer token\n"), path)
        self.assertEqual(anon.request("DELETE", "/verdicts/127.0.21.1")[0], 401)
        self.assertEqual(anon.get("/healthz")[::2], (200, "ok\n"))
        self.assertEqual(anon.get("/ready")[::2], (200, "ready\n"))
        self.assertEqual(anon.get("/metrics", token=TOKEN)[0], 200)
        # The dashboard's own files hold no data: served without the token
        # (a browser cannot send one for a page load), and with any token.
        page = anon.get("/", token=TOKEN)[2]
        for path, ctype in (("/", "text/html; charset=utf-8"),
                            ("/index.html", "text/html; charset=utf-8"),
                            ("/dashboard.js", "text/javascript; charset=utf-8"),
                            ("/dashboard.css", "text/css; charset=utf-8")):
            for token in (None, TOKEN, TOKEN + "x"):
                status, headers, body = anon.get(path, token=token)
                self.assertEqual((status, headers["Content-Type"],
                                  headers.get("WWW-Authenticate")), (200, ctype, None),
                                 (path, token))
                if path in ("/", "/index.html"):
                    self.assertEqual(body, page, path)
        self.assertIn("<html", page)
        self.assertEqual(anon.request("DELETE", "/")[0], 401)
        self.assertEqual(anon.request("POST", "/metrics", token=TOKEN)[0], 405)

    def test_delete_without_configured_token_is_forbidden(self):
        admin_port = free_port()
        mx, port = self.gateway('admin: { address: "127.0.0.1:%d" }\n' % admin_port)
        anon = AdminClient(admin_port)
        c = self.connect(port, "127.0.21.2")
        self.assertEqual(c.read_reply(timeout=5), [TEASER, BACKEND_BANNER])
        c.command("QUIT")
        c.close()
        self.assert_session_log(mx, c, [msg_connect(c), msg_pass_new(c)], settle=0.2)
        self.assertEqual(anon.get("/metrics")[0], 200)
        self.assertEqual(anon.get("/verdicts/127.0.21.2")[0], 200)
        for token in (None, "anything"):
            self.assertEqual(anon.request("DELETE", "/verdicts/127.0.21.2", token=token)[::2], (
                403, "403 forbidden: DELETE needs authentication; configure "
                     "admin.bearer_token_file and send \"Authorization: Bearer TOKEN\" (or use "
                     "HTTPS client certificates: admin.client_ca_file)\n"))
        self.assertEqual(anon.get("/verdicts/127.0.21.2")[0], 200)

    def test_non_loopback_without_authentication_is_refused(self):
        mx = self.gateway('admin: { address: "127.0.0.1:%d" }\n' % free_port())[0]
        path = mx.write_file("open.yaml", mx.config_text.replace(
            'admin: { address: "127.0.0.1:', 'admin: { address: "0.0.0.0:'))
        r = mx.run_cli("validate", "--config", path)
        self.assertEqual(r.returncode, 2)
        self.assertRegex(r.stderr, r"^mxscreen: %s: admin\.address: the admin server on a "
                         r"non-loopback address \(\[0\.0\.0\.0\]:\d+\) needs bearer_token_file "
                         r"or client_ca_file \(with cert_file and key_file\)\n$" % re.escape(path))
        path = mx.write_file("missing.yaml", mx.config_text.replace(
            'admin: { address:', 'admin: { bearer_token_file: nope, address:'))
        r = mx.run_cli("validate", "--config", path)
        self.assertEqual((r.returncode, r.stderr), (2, "mxscreen: %s: admin.bearer_token_file: "
                                                       "cannot read %s/nope\n" % (path, mx.dir)))
        # A gateway fed by a control plane checks its (host-local) admin too.
        path = mx.write_file("cp.yaml", 'node_id: n1\nstore: { path: %s/cp-store }\n'
                                        'control_plane: { address: "127.0.0.1:1", fleet: f }\n'
                                        'admin: { address: "[::]:9425" }\n' % mx.dir)
        r = mx.run_cli("validate", "--config", path)
        self.assertEqual((r.returncode, r.stderr), (
            2, "mxscreen: %s: admin.address: the admin server on a non-loopback address "
               "([::]:9425) needs bearer_token_file or client_ca_file (with cert_file and "
               "key_file)\n" % path))

    def test_https_with_client_certificates(self):
        pki = Pki()
        server_cert, server_key = pki.issue("admin.test")
        client_cert, client_key = pki.issue("ops.test")
        admin_port = free_port()
        mx, port = self.gateway(
            'admin: { address: "127.0.0.1:%d", cert_file: "%s", key_file: "%s", '
            'client_ca_file: "%s" }\n' % (admin_port, server_cert, server_key, pki.ca))
        mx.wait_for_message("admin server on [127.0.0.1]:%d (HTTPS)" % admin_port,
                            prog="mxscreen")

        def context(with_cert):
            ctx = ssl.create_default_context(cafile=pki.ca)
            ctx.check_hostname = False     # the certificate names admin.test, we dial 127.0.0.1
            if with_cert:
                ctx.load_cert_chain(client_cert, client_key)
            return ctx

        ops = AdminClient(admin_port, context=context(True))
        status, headers, _ = ops.get("/metrics")
        self.assertEqual((status, headers["Content-Type"]), (200, "text/plain; version=0.0.4"))
        # A client certificate authenticates a DELETE (no record: 404, not 401/403).
        self.assertEqual(ops.request("DELETE", "/verdicts/127.0.21.3")[::2],
                         (404, '{"error":"no record for 127.0.21.3"}\n'))
        with self.assertRaises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):
            AdminClient(admin_port, context=context(False)).get("/healthz")
        # Plain HTTP on the HTTPS port gets nothing useful either.
        with self.assertRaises((http.client.HTTPException, ConnectionResetError, OSError)):
            AdminClient(admin_port).get("/healthz")


if __name__ == "__main__":
    unittest.main()
