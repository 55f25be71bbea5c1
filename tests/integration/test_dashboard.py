"""test_dashboard - the admin server's dashboard page in a real browser

SYNOPSIS
    MXSCREEN_BUILD_DIR=$PWD/build /usr/bin/python3 -m unittest -v tests/integration/test_dashboard.py

DESCRIPTION
    A real gateway (admin server on 127.0.0.1, a real Postfix smtpd as the
    backend, a real DNSBL server: rbldnsd) and Debian's headless chromium
    (tests/integration/chromium_peer.py, DevTools over a pipe).  The page
    is loaded with ?refresh=0 so that the test decides when it refreshes:

      1. on the fresh gateway: every number on the page is what /metrics
         says (all counters zero), the top lists say there is nothing yet,
         and the page asked nothing of any server but the gateway;
      2. known traffic: an allowlisted client, denylisted clients (drop),
         an early talker under pregreet `ignore` (dry-run: would_fail), a
         silent client (PASS NEW, then PASS OLD), a client on a DNS block
         list (dropped) and one on a list below the threshold;
      3. one refresh: every element with data-metric shows exactly the sum
         (or maximum) of its /metrics series, read before and after the
         refresh (and equal, so both are the page's moment); the expected
         counts of the traffic; each rate is its counter's difference over
         the page's own interval; the chart's last bar holds the outcomes
         of the traffic; the top rejected clients and networks are
         /api/summary's, and the ones the traffic made;
         a screenshot then, kept as
         $MXSCREEN_BUILD_DIR/test-artifacts/dashboard.png;
      4. the page refreshing on its own (default period).

    With admin.bearer_token_file set, the page's files load without the
    token but its data does not: the page shows its token form, the test
    fills it in (a wrong token first: the page says so) and then the page
    shows exactly what /metrics (read with the token) says; the token is in
    the tab's sessionStorage only.

    Another test checks the page's /metrics parser on escapes and junk
    lines, and what the page says when the gateway goes away and comes back
    (counters lower after a restart count as a reset, as in Prometheus).

    Skipped only when /usr/bin/chromium is missing (scripts/install-deps.sh
    installs it, so CI runs this).  Everything is on loopback.
"""

import decimal
import json
import os
import re
import sys
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (BUILD_DIR, PostfixInstance, MxscreenTestCase, free_port,  # noqa: E402
                     screening_config, wait_until_listening, msg_connect, msg_pass_new,
                     msg_pass_old, msg_allowlisted, msg_denylisted, msg_disconnect,
                     REPLY_DENYLIST_DROP)
from dnsbl_peers import Rbldnsd  # noqa: E402
from chromium_peer import CHROMIUM, Chromium  # noqa: E402

MX_HOSTNAME = "mx.test.example"
BACKEND_HOSTNAME = "backend.test.example"
BACKEND_BANNER = "220 %s ESMTP Postfix" % BACKEND_HOSTNAME
TEASER = "220-%s ESMTP Postfix" % MX_HOSTNAME

SOA = "$SOA 300 ns.%s hostmaster.%s 1 600 300 86400 120\n$TTL 300\n"
ZONES = {
    "bl.test": ("ip4set", SOA % ("bl.test", "bl.test") + ":127.0.0.2:listed\n127.0.5.2\n"),
    "small.test": ("ip4set", SOA % ("small.test", "small.test") +
                   ":127.0.0.2:small\n127.0.5.2\n127.0.6.9\n"),
}

ALLOWED = "127.0.4.1"
DENIED = ("127.0.4.2", "127.0.4.3")
EARLY_TALKER = "127.0.6.1"
SILENT = "127.0.6.2"
DNSBL_LISTED = "127.0.5.2"        # bl.test*3 + small.test*1: rank 4, dropped
DNSBL_LOW = "127.0.6.9"           # small.test*1 only: rank 1, passes

EXPECTED = {
    # Every connection of the traffic below.
    ("mxs_connections_total", ""): 9,
    ("mxs_connection_outcomes_total", "outcome=allowlisted"): 1,
    ("mxs_connection_outcomes_total", "outcome=denylisted"): 3,
    # SILENT's first visit, DNSBL_LOW, and the early talker (its only
    # failure was under ignore).
    ("mxs_connection_outcomes_total", "outcome=pass_new"): 3,
    ("mxs_connection_outcomes_total", "outcome=pass_old"): 1,
    ("mxs_connection_outcomes_total", "outcome=dropped"): 1,
    ("mxs_filter_verdicts_total", "filter=pregreet,verdict=would_fail"): 1,
    ("mxs_filter_verdicts_total", "filter=dnsbl,verdict=fail"): 1,
    ("mxs_rejections_total", "code=521"): 4,
    ("mxs_dnsbl_hits_total", "list=bl.test"): 1,
    ("mxs_dnsbl_hits_total", "list=small.test"): 2,
    ("mxs_connections_active", ""): 0,
}
EXPECTED_TOP_CLIENTS = [("127.0.4.3", 2), ("127.0.4.2", 1), ("127.0.5.2", 1)]
EXPECTED_TOP_NETWORKS = [("127.0.4.0/24", 3), ("127.0.5.0/24", 1)]

ADMIN_TOKEN = "dash-t0ken.for-tests"
WRONG_TOKEN_TEXT = "Wrong token: the gateway did not accept it. Try again."

ALLOW_OUTCOMES = ("pass_new", "pass_old", "allowlisted")
DENY_OUTCOMES = ("denylisted", "rejected", "dropped", "limit", "listener_fail")

# Everything the test reads from the page, in one evaluation.
COLLECT_JS = r"""
(() => {
  const all = (sel) => Array.from(document.querySelectorAll(sel));
  const rows = (id) => all('#' + id + ' tr:not(.empty)').map((tr) => ({
      key: tr.querySelector('th').textContent,
      value: tr.querySelector('td').dataset.value,
      text: tr.querySelector('td').textContent}));
  const canvas = document.getElementById('outcome-chart');
  return {
    samples: mxsDashboard.samples,
    lastError: mxsDashboard.lastError,
    status: document.getElementById('status-text').textContent,
    metrics: all('[data-metric]').map((e) => ({
      id: e.id, metric: e.dataset.metric, match: e.dataset.match || '',
      agg: e.dataset.agg || 'sum', label: e.dataset.label || '',
      display: e.dataset.display || '', value: e.dataset.value, text: e.textContent})),
    rates: all('[data-rate-of]').map((e) => ({
      of: e.dataset.rateOf, delta: e.dataset.delta, ms: e.dataset.intervalMs,
      text: e.textContent})),
    clients: rows('client-rows'),
    networks: rows('network-rows'),
    empty: all('tr.empty td').map((td) => td.textContent),
    chart: {allow: canvas.dataset.lastAllow, deny: canvas.dataset.lastDeny,
            hangup: canvas.dataset.lastHangup, label: canvas.getAttribute('aria-label')},
    resources: performance.getEntriesByType('resource').map((r) => r.name),
  };
})()
"""


def parse_metrics(text):
    """Prometheus text -> {name: [(labels dict, value)]} (counters and gauges
    as the page reads them; histogram sample lines are kept under their own
    _bucket/_sum/_count names)."""
    out = {}
    line_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+\d+)?$')
    label_re = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = line_re.match(line)
        if not m:
            raise AssertionError("unparsable /metrics line: %r" % line)
        labels = {k: re.sub(r"\\(.)", lambda e: "\n" if e.group(1) == "n" else e.group(1), v)
                  for k, v in label_re.findall(m.group(2) or "")}
        out.setdefault(m.group(1), []).append((labels, float(m.group(3))))
    return out


# The metrics the page shows. Others may move on an idle gateway: the
# verdict store's record count is refreshed by a rate-limited background
# scan, and it lagged the traffic by a refresh in one run of forty.
SHOWN = ("mxs_config_info", "mxs_connections_active", "mxs_connections_total",
         "mxs_rejections_total", "mxs_handoffs_total", "mxs_handoff_failures_total",
         "mxs_stress_mode", "mxs_connection_outcomes_total", "mxs_filter_verdicts_total",
         "mxs_dnsbl_lookups_total", "mxs_dnsbl_hits_total")


def shown_series(metrics):
    """Only the SHOWN metrics' series, in a comparable form."""
    return {name: sorted(map(repr, metrics.get(name, []))) for name in SHOWN}


def aggregate(metrics, name, match, agg="sum"):
    want = dict(kv.split("=", 1) for kv in match.split(",")) if match else {}
    values = [v for labels, v in metrics.get(name, [])
              if all(labels.get(k) == x for k, x in want.items())]
    if agg == "max":
        return max(values + [0])
    return sum(values)


def page_number(text):
    """'1,234' -> 1234 (the page groups thousands with commas)."""
    return float(text.replace(",", ""))


def rate_text(delta, ms):
    """What the page shows for a rate: per minute, one decimal, halves up
    (JavaScript's toFixed on the same double)."""
    exact = decimal.Decimal(delta * 60000 / ms)
    return str(exact.quantize(decimal.Decimal("0.1"), rounding=decimal.ROUND_HALF_UP))


@unittest.skipUnless(os.access(CHROMIUM, os.X_OK),
                     "%s is missing: install Debian's chromium package "
                     "(scripts/install-deps.sh does)" % CHROMIUM)
class DashboardTest(MxscreenTestCase):

    @classmethod
    def setUpClass(cls):
        cls.backend = PostfixInstance("backend", proxy=True, hostname=BACKEND_HOSTNAME)
        cls.addClassCleanup(cls.backend.stop)
        cls.backend.start()
        cls.rbl = Rbldnsd(ZONES)
        cls.addClassCleanup(cls.rbl.stop)
        cls.rbl.start()

    def setUp(self):
        port = free_port()
        self.admin_port = free_port()
        filters = [
            {"name": "access_cidr", "action": "drop", "typed_config": {"access_list": [
                {"cidr": {"lines": ["%s/32 permit" % ALLOWED] +
                          ["%s/32 reject" % a for a in DENIED]}}]}},
            {"name": "pregreet", "action": "ignore"},
            {"name": "dnsbl", "action": "drop", "typed_config": {
                "sites": ["bl.test*3", "small.test*1"], "threshold": 3}},
        ]
        cfg = screening_config(port, [self.backend.address], filters, hostname=MX_HOSTNAME,
                               greet_wait="1s")
        cfg += 'dns_resolver: { nameservers: ["%s"], timeout: 1s, tries: 2 }\n' % self.rbl.address
        # Tests named *_token* get a gateway whose admin server wants a token.
        self.token = ADMIN_TOKEN if "_token" in self._testMethodName else None
        files = None
        if self.token:
            cfg += ('admin: { address: "127.0.0.1:%d", bearer_token_file: admin.token }\n'
                    % self.admin_port)
            files = {"admin.token": self.token + "\n"}
        else:
            cfg += 'admin: { address: "127.0.0.1:%d" }\n' % self.admin_port
        self.mx = self.start_gateway(cfg, files=files)
        self.port = port
        wait_until_listening("127.0.0.1", self.admin_port, alive=lambda: self.mx.proc.poll() is None)
        self.base = "http://127.0.0.1:%d/" % self.admin_port
        self.browser = Chromium(width=1280, height=900)
        self.addCleanup(self.browser.close)
        self.browser.start()

    # -- helpers -------------------------------------------------------------
    def get(self, path, token=None):
        """GET with the gateway's token (token=False: none)."""
        token = self.token if token is None else token
        req = urllib.request.Request(self.base + path)
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                return r.status, r.headers.get("Content-Type", ""), r.read()
        except urllib.error.HTTPError as e:
            with e:
                return e.code, e.headers.get("Content-Type", ""), e.read()

    def metrics(self):
        status, _, body = self.get("metrics")
        self.assertEqual(status, 200)
        return parse_metrics(body.decode())

    def summary(self):
        status, _, body = self.get("api/summary")
        self.assertEqual(status, 200)
        return json.loads(body)

    def refresh_and_collect(self):
        """One page refresh between two /metrics reads; both reads must agree
        (the gateway is idle), so they are the page's moment."""
        before = self.metrics()
        summary = self.summary()
        samples = self.browser.evaluate("mxsDashboard.samples")
        self.browser.evaluate("mxsDashboard.refresh()")
        page = self.browser.evaluate(COLLECT_JS)
        after = self.metrics()
        self.assertEqual(page["samples"], samples + 1, page)
        self.assertIsNone(page["lastError"], page)
        self.assertRegex(page["status"], r"^Updated \d\d:\d\d:\d\d$")
        later = self.summary()
        for key in ("top_clients", "top_networks"):
            self.assertEqual(later[key], summary[key], "%s moved while the page refreshed" % key)
        shown = {e["metric"] for e in page["metrics"]}
        self.assertEqual(shown, set(SHOWN))
        self.assertEqual(shown_series(before), shown_series(after),
                         "/metrics moved while the page refreshed")
        return page, after, summary

    def assert_page_matches(self, page, metrics):
        """Every number on the page is its /metrics aggregate, exactly."""
        self.assertGreater(len(page["metrics"]), 15, page)
        for e in page["metrics"]:
            where = "%s %s{%s} (element %r)" % (e["agg"], e["metric"], e["match"], e["id"])
            if e["label"]:
                series = [labels for labels, v in metrics.get(e["metric"], []) if v == 1]
                self.assertEqual(len(series), 1, where)
                self.assertEqual(e["value"], series[0][e["label"]], where)
                self.assertEqual(e["text"], series[0][e["label"]], where)
                continue
            want = aggregate(metrics, e["metric"], e["match"], e["agg"])
            self.assertEqual(float(e["value"]), want, where)
            if e["display"] == "onoff":
                self.assertEqual(e["text"], "on" if want > 0 else "off", where)
            else:
                self.assertEqual(page_number(e["text"]), want, where)

    def by_id(self, page, element_id):
        found = [e for e in page["metrics"] if e["id"] == element_id]
        self.assertEqual(len(found), 1, "element %r: %r" % (element_id, page["metrics"]))
        return float(found[0]["value"])

    def drive_traffic(self):
        """The known traffic; returns when every session has ended and logged."""
        c = self.connect(self.port, ALLOWED)
        self.assertEqual(c.read_reply(), [BACKEND_BANNER])
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.close()
        self.assert_session_log(self.mx, c, [msg_connect(c), msg_allowlisted(c)])

        for addr in (DENIED[0], DENIED[1], DENIED[1]):
            c = self.connect(self.port, addr)
            self.assertEqual(c.read_reply(), [REPLY_DENYLIST_DROP])
            c.expect_closed()
            self.assert_session_log(self.mx, c, [msg_connect(c), msg_denylisted(c),
                                                 msg_disconnect(c)])

        # Dry-run: the early talker is logged, counted as would_fail and
        # handed off all the same.
        c = self.connect(self.port, EARLY_TALKER)
        self.assertEqual(c.read_line(), TEASER)
        c.send_raw(b"EHLO early.example\r\n")
        self.assertEqual(c.read_line(), BACKEND_BANNER)
        c.read_reply()                       # the backend's EHLO answer
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.close()
        self.mx.wait_for_log(r"PREGREET \d+ after \S+ from %s: "
                             % re.escape(c.endpoint))

        for addr in (SILENT, DNSBL_LOW):
            c = self.connect(self.port, addr)
            self.assertEqual(c.read_line(), TEASER)
            self.assertEqual(c.read_line(timeout=6), BACKEND_BANNER)
            self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
            c.close()
            self.assert_session_log(self.mx, c, [msg_connect(c), msg_pass_new(c)])

        c = self.connect(self.port, SILENT)
        self.assertEqual(c.read_reply(), [BACKEND_BANNER])
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.close()
        self.assert_session_log(self.mx, c, [msg_connect(c), msg_pass_old(c)])

        c = self.connect(self.port, DNSBL_LISTED)
        self.assertEqual(c.read_line(), TEASER)
        self.assertEqual(c.read_reply(),
                         ["521 5.7.1 Service unavailable; client [%s] blocked using bl.test"
                          % DNSBL_LISTED])
        c.expect_closed()
        self.assert_session_log(self.mx, c, [msg_connect(c), "DNSBL rank 4 for %s" % c.endpoint,
                                             msg_disconnect(c)])
        # The gateway may finish its bookkeeping just after the last log line.
        self.wait_idle()

    def wait_idle(self, timeout=5.0):
        """Until no connection is active and two /metrics reads agree."""
        deadline = time.monotonic() + timeout
        last = None
        while True:
            metrics = self.metrics()
            now = shown_series(metrics)
            if aggregate(metrics, "mxs_connections_active", "") == 0 and now == last:
                return
            if time.monotonic() > deadline:
                raise AssertionError("the gateway did not settle: %r" % now)
            last = now
            time.sleep(0.2)

    def artifact(self, name):
        return os.path.join(BUILD_DIR, "test-artifacts", name)

    # -- the test --------------------------------------------------------------
    def test_dashboard_shows_exactly_what_metrics_says(self):
        status, ctype, body = self.get("")
        self.assertEqual((status, ctype), (200, "text/html; charset=utf-8"))
        self.assertIn(b'<script src="dashboard.js" defer></script>', body)
        for path, want in (("dashboard.js", "text/javascript; charset=utf-8"),
                           ("dashboard.css", "text/css; charset=utf-8")):
            self.assertEqual(self.get(path)[:2], (200, want), path)

        # 1. A fresh gateway: zeros, empty tables, nothing fetched elsewhere.
        self.browser.navigate(self.base + "?refresh=0")
        self.browser.wait_for("window.mxsDashboard && mxsDashboard.samples >= 1")
        page, metrics, summary = self.refresh_and_collect()
        self.assert_page_matches(page, metrics)
        for e in page["metrics"]:
            if not e["label"]:
                self.assertEqual(float(e["value"]), 0, "fresh gateway: %r" % e)
        self.assertEqual((page["clients"], page["networks"]), ([], []))
        self.assertIn("No rejected clients yet.", page["empty"])
        self.assertIn("No rejected networks yet.", page["empty"])
        self.assertEqual((summary["top_clients"], summary["top_networks"]), ([], []))
        self.assertEqual(page["chart"]["allow"], "0")
        for url in page["resources"]:
            self.assertTrue(url.startswith(self.base), "fetched from elsewhere: %s" % url)
        fresh = {e["of"]: e for e in page["rates"]}
        self.assertEqual(fresh["connections-total"]["delta"], "0")
        print("\ndashboard (fresh gateway): %s"
              % self.browser.screenshot(self.artifact("dashboard-empty.png")))

        # 2. Known traffic.
        self.drive_traffic()

        # 3. One refresh: the page shows exactly /metrics.
        page, metrics, summary = self.refresh_and_collect()
        self.assert_page_matches(page, metrics)
        for (name, match), want in EXPECTED.items():
            self.assertEqual(aggregate(metrics, name, match), want,
                             "/metrics %s{%s}" % (name, match))
        self.assertEqual(self.by_id(page, "connections-total"), 9)
        self.assertEqual(self.by_id(page, "outcome-denylisted"), 3)
        self.assertEqual(self.by_id(page, "filter-pregreet-would_fail"), 1)
        self.assertEqual(self.by_id(page, "dnsbl-small.test-hits"), 2)
        self.assertEqual(self.by_id(page, "code-521"), 4)

        # Rates: this refresh's counter minus the previous one's (the fresh
        # page saw the zeros), per minute of the page's own interval.
        values = {e["id"]: float(e["value"]) for e in page["metrics"]
                  if e["id"] and not e["label"]}
        self.assertGreater(len(page["rates"]), 10)
        for r in page["rates"]:
            self.assertIn(r["of"], values, r)
            self.assertEqual(float(r["delta"]), values[r["of"]], r)
            self.assertEqual(r["text"], rate_text(float(r["delta"]), int(r["ms"])), r)
        rates = {r["of"]: r for r in page["rates"]}
        self.assertEqual(rates["connections-total"]["delta"], "9")

        # The chart's newest bar: what concluded since the previous refresh.
        allow = sum(aggregate(metrics, "mxs_connection_outcomes_total", "outcome=" + o)
                    for o in ALLOW_OUTCOMES)
        deny = sum(aggregate(metrics, "mxs_connection_outcomes_total", "outcome=" + o)
                   for o in DENY_OUTCOMES)
        self.assertEqual((int(page["chart"]["allow"]), int(page["chart"]["deny"])), (allow, deny))
        self.assertEqual((allow, deny), (5, 4))
        self.assertIn("the latest: 5 allowed, 4 denied, 0 hang-ups", page["chart"]["label"])

        # Top rejected clients and networks: /api/summary's, as the traffic made them.
        self.assertEqual([(r["key"], int(r["value"])) for r in page["clients"]],
                         [(e["client"], e["rejections"]) for e in summary["top_clients"]])
        self.assertEqual([(r["key"], int(r["value"])) for r in page["networks"]],
                         [(e["network"], e["rejections"]) for e in summary["top_networks"]])
        self.assertEqual([(r["key"], int(r["text"])) for r in page["clients"]],
                         EXPECTED_TOP_CLIENTS)
        self.assertEqual([(r["key"], int(r["text"])) for r in page["networks"]],
                         EXPECTED_TOP_NETWORKS)

        # A screenshot for people: the traffic's bar, rates and top lists.
        path = self.browser.screenshot(self.artifact("dashboard.png"))
        with open(path, "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")
        print("dashboard screenshot: %s" % path)

        # 4. The page refreshes by itself at its default period.
        self.browser.navigate(self.base)
        self.browser.wait_for("window.mxsDashboard && mxsDashboard.samples >= 2", timeout=10)
        page = self.browser.evaluate(COLLECT_JS)
        self.assertIsNone(page["lastError"])
        self.assert_page_matches(page, self.metrics())
        self.assertEqual(self.browser.console, [], "the page logged errors")

    def test_page_asks_for_the_admin_token(self):
        """admin.bearer_token_file set: the page's files are public, its data
        is not; the page asks for the token, says so when it is wrong, keeps
        the right one in sessionStorage only and then shows /metrics exactly."""
        for path in ("", "index.html", "dashboard.js", "dashboard.css"):
            self.assertEqual(self.get(path, token=False)[0], 200, path)
        for path in ("metrics", "api/summary"):
            self.assertEqual(self.get(path, token=False)[0], 401, path)
            self.assertEqual(self.get(path, token=ADMIN_TOKEN + "x")[0], 401, path)

        self.browser.navigate(self.base + "?refresh=0")
        form_js = r"""
        (() => {
          const form = document.getElementById('auth-form');
          const input = document.getElementById('auth-token');
          const label = document.querySelector('label[for="auth-token"]');
          return {
            shown: !form.hidden && form.offsetParent !== null,
            title: document.getElementById(form.getAttribute('aria-labelledby')).textContent,
            inputType: input.type,
            label: label ? label.textContent : null,
            button: form.querySelector('button[type=submit]').textContent,
            focused: document.activeElement === input,
            error: document.getElementById('auth-error').textContent,
            errorRole: document.getElementById('auth-error').getAttribute('role'),
            invalid: input.getAttribute('aria-invalid'),
            mainShown: document.querySelector('main').offsetParent !== null,
            samples: mxsDashboard.samples,
            lastError: mxsDashboard.lastError,
            status: document.getElementById('status-text').textContent,
            session: sessionStorage.getItem('mxscreen.adminToken'),
            local: localStorage.length,
            url: location.href,
          };
        })()"""
        self.browser.wait_for("window.mxsDashboard && mxsDashboard.lastError !== null")
        form = self.browser.evaluate(form_js)
        self.assertEqual(form, {
            "shown": True, "title": "This gateway needs its admin token",
            "inputType": "password", "label": "Admin token", "button": "Show the dashboard",
            "focused": True, "error": "", "errorRole": "alert", "invalid": None,
            "mainShown": False, "samples": 0,
            "lastError": "Error: the gateway needs its admin token",
            "status": "Waiting for the admin token", "session": None, "local": 0,
            "url": self.base + "?refresh=0"})

        def submit(token):
            self.browser.evaluate(
                "document.getElementById('auth-token').value = %s;"
                "document.getElementById('auth-form').requestSubmit();"
                "mxsDashboard.tokenCheck" % json.dumps(token))
            return self.browser.evaluate(form_js)

        # A wrong token: said so, forgotten, the numbers stay hidden.
        form = submit(ADMIN_TOKEN + "x")
        self.assertEqual((form["shown"], form["error"], form["invalid"], form["focused"],
                          form["mainShown"], form["samples"], form["session"], form["lastError"]),
                         (True, WRONG_TOKEN_TEXT, "true", True, False, 0, None,
                          "Error: the gateway did not accept the admin token"))
        # A refresh without a token keeps the message until the next submit.
        self.browser.evaluate("mxsDashboard.refresh()")
        self.assertEqual(self.browser.evaluate(form_js)["error"], WRONG_TOKEN_TEXT)

        # The right token: the form goes, the numbers come; kept in this
        # tab's sessionStorage only, never in localStorage or the URL.
        form = submit(ADMIN_TOKEN)
        self.assertEqual((form["shown"], form["error"], form["invalid"], form["mainShown"],
                          form["samples"], form["lastError"], form["session"], form["local"],
                          form["url"]),
                         (False, "", None, True, 1, None, ADMIN_TOKEN, 0,
                          self.base + "?refresh=0"))

        self.drive_traffic()
        page, metrics, summary = self.refresh_and_collect()
        self.assert_page_matches(page, metrics)
        for (name, match), want in EXPECTED.items():
            self.assertEqual(aggregate(metrics, name, match), want,
                             "/metrics %s{%s}" % (name, match))
        self.assertEqual(self.by_id(page, "connections-total"), 9)
        self.assertEqual([(r["key"], int(r["text"])) for r in page["clients"]],
                         EXPECTED_TOP_CLIENTS)
        self.assertEqual([(r["key"], int(r["text"])) for r in page["networks"]],
                         EXPECTED_TOP_NETWORKS)

        # A reload of the tab keeps the token (sessionStorage): no form.
        self.browser.navigate(self.base + "?refresh=0")
        self.browser.wait_for("window.mxsDashboard && mxsDashboard.samples >= 1")
        form = self.browser.evaluate(form_js)
        self.assertEqual((form["shown"], form["mainShown"], form["lastError"]),
                         (False, True, None))
        page, metrics, _ = self.refresh_and_collect()
        self.assert_page_matches(page, metrics)
        self.assertEqual(self.browser.console, [], "the page logged errors")

    def test_parser_edge_cases_gateway_gone_and_restarted(self):
        """The page's /metrics parser on escapes, odd values and junk lines;
        a gateway that went away is said so (once, to screen readers too);
        after its restart the counters are lower, which is a reset: the rate
        counts the new value (as Prometheus's increase() does), never less
        than zero."""
        self.browser.navigate(self.base + "?refresh=0")
        self.browser.wait_for("window.mxsDashboard && mxsDashboard.samples >= 1")
        text = ('# HELP x a "help"\\n line\n'
                'a_total{l="q\\"uote",m="back\\\\slash",n="new\\nline"} 7\n'
                'b{l="x"} NaN\nc +Inf\nd 1.5e3 1700000000\n'
                'e{l="unterminated} 1\n{bad} 1\nf{l="v",} 2\n  \n')
        got = self.browser.evaluate(
            "Array.from(mxsDashboard.parseMetrics(%s)).map(([k, v]) => [k, v.map((s) => "
            "[s.labels, String(s.value)])])" % json.dumps(text))
        self.assertEqual(got, [
            ["a_total", [[{"l": 'q"uote', "m": "back\\slash", "n": "new\nline"}, "7"]]],
            ["b", [[{"l": "x"}, "NaN"]]],
            ["c", [[{}, "Infinity"]]],
            ["d", [[{}, "1500"]]],
            ["f", [[{"l": "v"}, "2"]]],
        ])
        c = self.connect(self.port, DENIED[0])
        self.assertEqual(c.read_reply(), [REPLY_DENYLIST_DROP])
        c.expect_closed()
        self.assert_session_log(self.mx, c, [msg_connect(c), msg_denylisted(c),
                                             msg_disconnect(c)])
        self.wait_idle()
        page, metrics, _ = self.refresh_and_collect()
        self.assert_page_matches(page, metrics)
        self.assertEqual(self.by_id(page, "connections-total"), 1)

        self.mx.stop()
        self.browser.evaluate("mxsDashboard.refresh()")
        page = self.browser.evaluate(COLLECT_JS)
        self.assertEqual(page["samples"], 2)
        self.assertRegex(page["status"], r"^Cannot reach the gateway: ")
        self.assertTrue(self.browser.evaluate(
            "document.querySelector('.top .status').classList.contains('error')"))
        # Screen readers hear it once (role=alert), not every refresh.
        self.assertEqual(self.browser.evaluate("document.getElementById('alert').textContent"),
                         page["status"])

        self.mx.start()
        wait_until_listening("127.0.0.1", self.admin_port,
                             alive=lambda: self.mx.proc.poll() is None)
        page, metrics, _ = self.refresh_and_collect()
        self.assert_page_matches(page, metrics)
        self.assertEqual(self.by_id(page, "connections-total"), 0)
        rates = {r["of"]: r for r in page["rates"]}
        self.assertEqual((rates["connections-total"]["delta"], rates["connections-total"]["text"]),
                         ("0", "0.0"))
        self.assertEqual(self.browser.evaluate("document.getElementById('alert').textContent"),
                         "Connected to the gateway again.")
        self.assertFalse(self.browser.evaluate(
            "document.querySelector('.top .status').classList.contains('error')"))


if __name__ == "__main__":
    unittest.main()
