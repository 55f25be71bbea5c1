"""test_plugins - plugin filters in a real gateway

SYNOPSIS
    /usr/bin/python3 -m unittest -v tests/integration/test_plugins.py

DESCRIPTION
    The test plugins of tests/core/plugins (built into BUILD/tests/plugins
    with only the public header) in a real mxscreen, with real SMTP clients
    on loopback, a real Postfix backend (PROXY v2) and, for pushes, a real
    mxscreen-control driven by mxscreenctl:

      - a plugin from a static config screens clients: a refused HELO is
        logged with the plugin's own line and enforced (550 on RCPT, with the
        NOQUEUE line); a good client gets PASS NEW, and on reconnect PASS OLD
        and the hand-off, its pass cached under the entry's own name with the
        plugin default TTL (`mxscreen verdict get`);
      - a slow hook is reported with the exact warning line;
      - with an admin server, /metrics counts the plugin's verdicts under the
        entry's name, its hook calls and overruns, and names the loaded file;
      - load errors are config errors: `mxscreen validate` exits 2 with the
        exact message (missing file, ABI mismatch, missing entry symbol,
        config refused by the plugin), and a SIGHUP reload with a bad plugin
        is refused while the gateway keeps screening with the old one;
      - a control-plane push loads a plugin into a running gateway; a push
        naming a plugin a gateway does not have is NACKed with the reason;
        a second push with a new build at the same path really runs the new
        code for new sessions, while a session held open since before the
        push finishes on the old build.
"""

import calendar
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (BUILD_DIR, MxscreenTestCase, PostfixInstance, SinkBackend,  # noqa: E402
                     free_port, screening_config, engine_ehlo, msg_connect, msg_disconnect,
                     msg_pass_new, msg_pass_old, msg_rcpt_reject)
from control_peers import ControlPlane, FleetGateway, fleet_config, push_fleet  # noqa: E402

PLUGINS = os.path.join(BUILD_DIR, "tests", "plugins")
MX_HOSTNAME = "mx.test.example"
BANNER = "%s ESMTP Postfix" % MX_HOSTNAME
ENGINE_BANNER = "220 " + BANNER
ENGINE_EHLO = engine_ehlo(MX_HOSTNAME)
BACKEND_HOSTNAME = "backend.test.example"
BACKEND_BANNER = "220 %s ESMTP Postfix" % BACKEND_HOSTNAME
REPLY_450 = "450 4.3.2 Service currently unavailable"
SENDER, RCPT = "a@b.example", "c@d.example"
SINK_BANNER = "220 sink.test.example ESMTP"


def plugin_entry(name, config, path=None, **more):
    """A filter entry with a plugin block (test_plugin.so by default)."""
    block = {"path": path or os.path.join(PLUGINS, "test_plugin.so"), "config": config}
    block.update(more.pop("plugin", {}))
    entry = {"name": name, "plugin": block}
    entry.update(more)
    return entry


def sha256_of(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class StaticConfigTest(MxscreenTestCase):

    @classmethod
    def setUpClass(cls):
        cls.backend = PostfixInstance("backend", proxy=True, hostname=BACKEND_HOSTNAME)
        cls.addClassCleanup(cls.backend.stop)
        cls.backend.start()

    def gateway(self, filters, **kw):
        port = free_port()
        cfg = screening_config(port, [self.backend.address], filters, hostname=MX_HOSTNAME, **kw)
        return self.start_gateway(cfg), port

    def engine_client(self, port, ip):
        c = self.connect(port, ip)
        self.assertEqual(c.read_reply(), [ENGINE_BANNER])
        return c

    def refused_helo(self, mx, port, ip, build="1"):
        """EHLO bad.example: the plugin's line; RCPT 550 with its reply."""
        c = self.engine_client(port, ip)
        self.assertEqual(c.command("EHLO bad.example"), ENGINE_EHLO)
        self.assertEqual(c.command("MAIL FROM:<%s>" % SENDER), ["250 2.1.0 Ok"])
        reply = "550 5.7.1 HELO bad.example refused"
        self.assertEqual(c.command("RCPT TO:<%s>" % RCPT), [reply])
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.expect_closed()
        c.close()
        self.assert_session_log(mx, c, [
            msg_connect(c),
            "test_plugin build %s reject HELO bad.example from %s" % (build, c.endpoint),
            msg_rcpt_reject(c, reply, SENDER, RCPT, "ESMTP", "bad.example"),
            msg_disconnect(c)])

    def test_screens_caches_and_hands_off(self):
        mx, port = self.gateway([plugin_entry("helo_check", {"reject_helo": "bad.example"})])
        so = os.path.join(PLUGINS, "test_plugin.so")
        mx.wait_for_message("listener smtp: filter helo_check is plugin test_plugin 1 (ABI 1.0) "
                            "from %s, sha256 %s" % (so, sha256_of(so)), prog="mxscreen")
        self.refused_helo(mx, port, "127.0.6.1")

        ip = "127.0.6.2"
        c = self.engine_client(port, ip)
        self.assertEqual(c.command("EHLO client.example"), ENGINE_EHLO)
        self.assertEqual(c.command("MAIL FROM:<%s>" % SENDER), ["250 2.1.0 Ok"])
        self.assertEqual(c.command("RCPT TO:<%s>" % RCPT), [REPLY_450])
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.expect_closed()
        c.close()
        self.assert_session_log(mx, c, [
            msg_connect(c), msg_rcpt_reject(c, REPLY_450, SENDER, RCPT, "ESMTP", "client.example"),
            msg_pass_new(c), msg_disconnect(c)])

        # Cached under the entry's name: PASS OLD, straight to the backend.
        c2 = self.connect(port, ip)
        self.assertEqual(c2.read_reply(), [BACKEND_BANNER])
        self.assertEqual(c2.command("QUIT")[0][:3], "221")
        c2.close()
        self.assert_session_log(mx, c2, [msg_connect(c2), msg_pass_old(c2)], settle=0.3)
        # The refused client was not cached: the engine again.
        c3 = self.engine_client(port, "127.0.6.1")
        c3.close()

        mx.stop()
        r = mx.verdict_get(ip)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        m = re.match(r"^helo_check (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ) \(in \S+\)\n$", r.stdout)
        self.assertIsNotNone(m, r.stdout)
        expiry = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%SZ"))
        self.assertAlmostEqual(expiry, time.time() + 86400, delta=120)

    def test_ignore_action_and_own_ttl(self):
        """action: ignore logs the finding and lets the client on; a
        deep test under ignore counts as passed (as built-in deep tests)."""
        mx, port = self.gateway([plugin_entry("helo_check", {"reject_helo": "bad.example"},
                                              action="ignore", ttl="2h")])
        c = self.engine_client(port, "127.0.6.5")
        self.assertEqual(c.command("EHLO bad.example"), ENGINE_EHLO)
        self.assertEqual(c.command("MAIL FROM:<%s>" % SENDER), ["250 2.1.0 Ok"])
        self.assertEqual(c.command("RCPT TO:<%s>" % RCPT), [REPLY_450])
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.close()
        self.assert_session_log(mx, c, [
            msg_connect(c), "test_plugin build 1 reject HELO bad.example from %s" % c.endpoint,
            msg_rcpt_reject(c, REPLY_450, SENDER, RCPT, "ESMTP", "bad.example"),
            msg_pass_new(c), msg_disconnect(c)])
        mx.stop()
        r = mx.verdict_get("127.0.6.5")
        m = re.match(r"^helo_check (\S+) \(in \S+\)\n$", r.stdout)
        self.assertIsNotNone(m, r.stdout)
        expiry = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%SZ"))
        self.assertAlmostEqual(expiry, time.time() + 7200, delta=120)

    def test_slow_hook_is_reported(self):
        mx, port = self.gateway([plugin_entry("slowpoke", {"sleep_ms": 30},
                                              plugin={"hook_budget": "5ms"})])
        c = self.engine_client(port, "127.0.6.10")
        self.assertEqual(c.command("NOOP"), ["250 2.0.0 Ok"])
        line = mx.wait_for_log(r"warning: plugin slowpoke: hook command took \d+ ms "
                               r"\(budget 5 ms\)$")
        took = int(re.search(r"took (\d+) ms", line.group(0)).group(1))
        self.assertGreaterEqual(took, 30)
        c.close()

    def test_metrics_count_plugin_verdicts_and_overruns(self):
        """With an admin server: a plugin's verdicts count in
        mxs_filter_verdicts_total under the entry's name, its slow hook in
        mxs_plugin_hook_overruns_total, and mxs_plugin_info names the file."""
        admin_port = free_port()
        port = free_port()
        path = os.path.join(PLUGINS, "test_plugin.so")
        cfg = ("admin: { address: 127.0.0.1:%d }\n" % admin_port) + screening_config(
            port, [self.backend.address],
            [plugin_entry("helo_check", {"reject_helo": "bad.example"}),
             plugin_entry("slowpoke", {"sleep_ms": 30}, plugin={"hook_budget": "5ms"})],
            hostname=MX_HOSTNAME)
        mx = self.start_gateway(cfg)
        c = self.engine_client(port, "127.0.6.20")
        self.assertEqual(c.command("EHLO bad.example"), ENGINE_EHLO)
        self.assertEqual(c.command("MAIL FROM:<%s>" % SENDER), ["250 2.1.0 Ok"])
        self.assertEqual(c.command("RCPT TO:<%s>" % RCPT), ["550 5.7.1 HELO bad.example refused"])
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.close()
        mx.wait_for_log(r"DISCONNECT \[127\.0\.6\.20\]")
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % admin_port, timeout=10) as r:
            text = r.read().decode()
        samples = {}
        for line in text.splitlines():
            if line and not line.startswith("#"):
                key, value = line.rsplit(" ", 1)
                samples[key] = float(value)

        def verdicts(name, verdict):
            return samples.get('mxs_filter_verdicts_total{listener="smtp",filter="%s",'
                               'verdict="%s"}' % (name, verdict))
        self.assertEqual(verdicts("helo_check", "fail"), 1)
        self.assertEqual(verdicts("helo_check", "pass"), 0)
        self.assertEqual(verdicts("slowpoke", "pass"), 1)
        # Like a built-in deep test, a plugin that passed goes on seeing the
        # session's commands (a later one may still fail it): EHLO, MAIL, RCPT
        # and QUIT each ran its 30 ms hook over the 5 ms budget.
        self.assertEqual(samples.get(
            'mxs_plugin_hook_overruns_total{plugin="slowpoke",hook="command"}'), 4)
        self.assertEqual(samples.get(
            'mxs_plugin_hook_duration_seconds_count{plugin="slowpoke",hook="command"}'), 4)
        self.assertEqual(samples.get(
            'mxs_plugin_hook_overruns_total{plugin="helo_check",hook="command"}'), 0)
        self.assertEqual(samples.get('mxs_plugin_info{plugin="helo_check",abi_version="1.0",'
                                     'path="%s"}' % path), 1)

    def test_sighup_with_a_bad_plugin_keeps_serving(self):
        mx, port = self.gateway([plugin_entry("helo_check", {"reject_helo": "bad.example"})])
        self.refused_helo(mx, port, "127.0.6.20")
        bad = os.path.join(PLUGINS, "abi_mismatch_plugin.so")
        text = mx.config_text.replace(os.path.join(PLUGINS, "test_plugin.so"), bad)
        with open(mx.config_path, "w") as f:
            f.write(text)
        os.kill(mx.pid, signal.SIGHUP)
        mx.wait_for_log(
            r"mxscreen\[\d+\]: warning: reload of %s refused, keeping the running config: "
            r"listeners\[0\]\.filters\[0\]\.plugin\.path: %s was built for plugin ABI 2\.0, "
            r"this gateway has ABI 1\.0 \(rebuild the plugin against this gateway's "
            r"mxscreen_plugin\.h\)$" % (re.escape(mx.config_path), re.escape(bad)))
        self.refused_helo(mx, port, "127.0.6.21")


class ValidateTest(unittest.TestCase):
    """Load errors are config errors: exit 2 and the exact message."""

    def validate(self, entry):
        with tempfile.TemporaryDirectory(prefix="mxs-plugin-validate-") as d:
            path = os.path.join(d, "c.yaml")
            with open(path, "w") as f:
                f.write(screening_config(2525, ["127.0.0.1:1"], [entry],
                                         store=False).replace("@DIR@", d))
            r = subprocess.run([os.path.join(BUILD_DIR, "mxscreen"), "validate", "--config", path],
                               capture_output=True, text=True, timeout=30)
            return r.returncode, r.stdout.replace(d + "/", ""), r.stderr.replace(d + "/", "")

    def test_ok(self):
        self.assertEqual(self.validate(plugin_entry("p", {"reject_helo": "x"})),
                         (0, "c.yaml: ok (1 listener(s), 1 filter(s))\n", ""))

    def test_errors(self):
        prefix = "mxscreen: c.yaml: listeners[0].filters[0]."
        cases = [
            (plugin_entry("p", {}, path="/nonexistent/p.so"),
             "plugin.path: cannot read /nonexistent/p.so: No such file or directory"),
            (plugin_entry("p", {}, path=os.path.join(PLUGINS, "abi_mismatch_plugin.so")),
             "plugin.path: %s/abi_mismatch_plugin.so was built for plugin ABI 2.0, this gateway "
             "has ABI 1.0 (rebuild the plugin against this gateway's mxscreen_plugin.h)" % PLUGINS),
            (plugin_entry("p", {}, path=os.path.join(PLUGINS, "no_symbol_plugin.so")),
             "plugin.path: %s/no_symbol_plugin.so does not export mxscreen_plugin_describe (not "
             "an mxscreen plugin, or built without MXSCREEN_PLUGIN)" % PLUGINS),
            (plugin_entry("p", {"refuse": "reject_helo must be a domain"}),
             "plugin.config: refused by plugin test_plugin: reject_helo must be a domain"),
            (plugin_entry("p", {}, plugin={"path": "missing.so"}),
             "plugin.path: no plugin \"missing.so\" in the plugin path "
             "(/usr/lib/mxscreen/plugins)"),
            (plugin_entry("p", {}, plugin={"sha256": "0" * 64}),
             "plugin.path: %s/test_plugin.so has SHA-256 %s, the config expects %s"
             % (PLUGINS, sha256_of(os.path.join(PLUGINS, "test_plugin.so")), "0" * 64)),
        ]
        for entry, message in cases:
            with self.subTest(message=message):
                self.assertEqual(self.validate(entry), (2, "", prefix + message + "\n"))


class ControlPlanePushTest(MxscreenTestCase):

    @classmethod
    def setUpClass(cls):
        cls.backend = SinkBackend(SINK_BANNER).start()
        cls.addClassCleanup(cls.backend.stop)

    push = push_fleet

    def test_push_loads_and_a_new_build_replaces_the_old(self):
        cp = ControlPlane(None)
        self.addCleanup(cp.stop)
        cp.start()
        gw = FleetGateway(cp, "gw1", "eu", free_port())
        self.addCleanup(gw.stop)
        gw.start()
        gw.wait_for_log(r"waiting for the first config of fleet eu")

        # A plugin this gateway does not have: NACKed with the reason.
        missing = fleet_config([plugin_entry("helo_check", {}, path="/nonexistent/p.so")],
                               [self.backend.address])
        r = self.push(cp, missing, 3)
        self.assertIn("NACK     keeps version (local): listeners[0].filters[0].plugin.path: cannot "
                      "read /nonexistent/p.so: No such file or directory", r.stdout)

        plugin_dir = tempfile.mkdtemp(prefix="mxs-plugins-")
        self.addCleanup(shutil.rmtree, plugin_dir, True)
        path = os.path.join(plugin_dir, "helo_check.so")
        shutil.copy(os.path.join(PLUGINS, "test_plugin.so"), path + ".new")
        os.rename(path + ".new", path)
        cfg = {"reject_helo": "bad.example", "log_build": 1}
        r = self.push(cp, fleet_config([plugin_entry("helo_check", cfg, path=path)],
                                       [self.backend.address]))
        self.assertRegex(r.stdout, r"\n  gw1\s+ACK      version 2 in \d+ ms\n")
        gw.wait_listening()
        build1 = ("listener smtp: filter helo_check is plugin test_plugin 1 (ABI 1.0) from %s, "
                  "sha256 %s" % (path, sha256_of(path)))
        gw.wait_for_message(build1, prog="mxscreen")

        # A session on build 1, held open across the next push.
        old = self.connect(gw.port, "127.0.6.30")
        self.assertEqual(old.read_reply(), ["220 mx.fleet.example ESMTP Postfix"])
        gw.wait_for_message("test_plugin build 1 connect %s" % old.endpoint)

        # A new build at the same path, pinned by its hash: really loaded.
        shutil.copy(os.path.join(PLUGINS, "test_plugin_v2.so"), path + ".new")
        os.rename(path + ".new", path)
        r = self.push(cp, fleet_config(
            [plugin_entry("helo_check", cfg, path=path, plugin={"sha256": sha256_of(path)})],
            [self.backend.address]))
        self.assertRegex(r.stdout, r"\n  gw1\s+ACK      version 3 in \d+ ms\n")
        # The log says which build took over, once.
        build2 = ("listener smtp: filter helo_check is plugin test_plugin 2 (ABI 1.0) from %s, "
                  "sha256 %s" % (path, sha256_of(path)))
        gw.wait_for_message(build2, prog="mxscreen")
        self.assertEqual([gw.log().count(build1), gw.log().count(build2)], [1, 1])
        new = self.connect(gw.port, "127.0.6.31")
        self.assertEqual(new.read_reply(), ["220 mx.fleet.example ESMTP Postfix"])
        gw.wait_for_message("test_plugin build 2 connect %s" % new.endpoint)
        self.assertEqual(new.command("EHLO bad.example")[0][:4], "250-")
        gw.wait_for_message("test_plugin build 2 reject HELO bad.example from %s" % new.endpoint)

        # The old session still runs the old code.
        self.assertEqual(old.command("EHLO bad.example")[0][:4], "250-")
        gw.wait_for_message("test_plugin build 1 reject HELO bad.example from %s" % old.endpoint)
        self.assertEqual(old.command("QUIT"), ["221 2.0.0 Bye"])
        self.assertEqual(new.command("QUIT"), ["221 2.0.0 Bye"])
        self.assertNotIn("test_plugin build 2 connect %s" % old.endpoint, gw.log())


if __name__ == "__main__":
    unittest.main()
