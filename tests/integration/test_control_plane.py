"""test_control_plane - a real mxscreen-control pushing configs to real gateways

SYNOPSIS
    /usr/bin/python3 -m unittest -v tests/integration/test_control_plane.py

DESCRIPTION
    Real processes on loopback: BUILD/mxscreen-control, several BUILD/mxscreen
    gateways whose local bootstraps name it (and hold no listeners), and
    BUILD/mxscreenctl as the operator. The backend is harness.SinkBackend (it
    reads the PROXY v2 header and sends its banner), or smtp-sink for the load
    test. Checked: a push is ACKed by three gateways and changes what clients
    see; a config one gateway cannot build (a CIDR table missing on that
    node) is NACKed by it with the reason in `mxscreenctl status`, while it
    keeps serving the old version; a control-plane outage stops nothing and a
    gateway restarted meanwhile starts from its cached version; the control
    plane restarts with everything it knew; a session in its greet wait
    during a push finishes under its old config; ten pushes under a steady
    load fail no session; a moved listener keeps its sessions; rollback,
    diff, versions and the audit log; a refused push; a gateway waiting for
    its first config answers its admin probes (alive, not ready); and with mutual TLS,
    fleet isolation by gateway certificate and operator rights.
"""

import os
import re
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (BUILD_DIR, MxscreenTestCase, SinkBackend, free_port,  # noqa: E402
                     REPLY_DENYLIST_DROP, wait_until_listening)
from control_peers import (ControlPlane, FleetGateway, Pki, access_filter,  # noqa: E402
                           fleet_config)

SINK_BANNER = "220 sink.test.example ESMTP"
TEASER = "220-mx.fleet.example ESMTP Postfix"


class ControlPlaneTest(MxscreenTestCase):

    @classmethod
    def setUpClass(cls):
        cls.backend = SinkBackend(SINK_BANNER).start()
        cls.addClassCleanup(cls.backend.stop)

    # -- helpers ---------------------------------------------------------------
    def control(self, tls=None):
        cp = ControlPlane(tls)
        self.addCleanup(cp.stop)
        cp.start()
        return cp

    def gateway(self, cp, node_id, fleet="eu", files=None, tls=None, port=None,
                override=True):
        gw = FleetGateway(cp, node_id, fleet, port or free_port(), tls=tls, files=files)
        if not override:
            gw.config_text = re.sub(r"\n  listener_addresses:.*", "", gw.config_text)
            with open(gw.config_path, "w") as f:
                f.write(gw.config_text)
        self.addCleanup(gw.stop)
        gw.start()
        return gw

    def write_fleet(self, cp, name, text):
        path = os.path.join(cp.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def push(self, cp, text, fleet="eu", expect_rc=0, name="fleet.yaml", *extra):
        path = self.write_fleet(cp, name, text)
        r = cp.ctl("push", path, "--fleet", fleet, *extra)
        self.assertEqual(r.returncode, expect_rc,
                         "mxscreenctl push: rc %d\nstdout:\n%s\nstderr:\n%s"
                         % (r.returncode, r.stdout, r.stderr))
        return r

    def assert_denied(self, port, ip):
        c = self.connect(port, ip)
        self.assertEqual(c.read_line(), REPLY_DENYLIST_DROP)
        c.expect_closed()

    def assert_handed_off(self, port, ip):
        c = self.connect(port, ip)
        self.assertEqual(c.read_line(), SINK_BANNER)
        return c

    def deny(self, lines, **kw):
        return fleet_config([access_filter(lines)], [self.backend.address], **kw)

    # -- tests -----------------------------------------------------------------
    def test_push_acked_by_three_nack_keeps_old_version(self):
        cp = self.control()
        table = {"tables/deny.cidr": "# pushed by reference, read on each node\n"
                                     "127.0.0.77/32 reject\n"}
        gws = [self.gateway(cp, "gw1", files=table), self.gateway(cp, "gw2", files=table),
               self.gateway(cp, "gw3")]                          # gw3 lacks the table
        for gw in gws:
            gw.wait_for_log(r"waiting for the first config of fleet eu from %s$"
                            % re.escape(cp.address))
        r = self.push(cp, self.deny(["127.0.0.66/32 reject"]), "eu", 0, "fleet.yaml",
                      "--comment", "first")
        self.assertIn("fleet eu: version 1 stored: first version: 1 listener(s) "
                      "(smtp on 127.0.0.1:1), 1 filter(s)\n", r.stdout)
        for gw in gws:
            self.assertRegex(r.stdout, r"\n  %s\s+ACK      version 1 in \d+ ms\n" % gw.node_id)
        self.assertIn("fleet eu version 1: 3 ACK, 0 NACK, 0 no answer, 0 offline", r.stdout)
        for gw in gws:
            gw.wait_listening()
            gw.wait_for_log(r"control plane %s: applied version 1 of fleet eu$"
                            % re.escape(cp.address))
            self.assert_denied(gw.port, "127.0.0.66")
            self.assert_handed_off(gw.port, "127.0.0.77")

        v2 = fleet_config([{"name": "access_cidr", "action": "drop",
                            "typed_config": {"mynetworks": ["127.0.0.1/32"],
                                             "access_list": [{"permit_mynetworks": True},
                                                             {"cidr": {"path": "tables/deny.cidr"}}]}}],
                          [self.backend.address])
        r = self.push(cp, v2, "eu", 3)
        self.assertIn("fleet eu: version 2 stored: listener smtp: filters changed: access_cidr\n",
                      r.stdout)
        self.assertRegex(r.stdout, r"\n  gw1\s+ACK      version 2 in \d+ ms\n")
        self.assertRegex(r.stdout, r"\n  gw2\s+ACK      version 2 in \d+ ms\n")
        reason = ("listeners[0].filters[0].typed_config.access_list[1].cidr: %s: cannot open "
                  "the table" % os.path.join(gws[2].dir, "tables/deny.cidr"))
        self.assertIn("\n  gw3                     NACK     keeps version 1: %s" % reason, r.stdout)
        self.assertIn("fleet eu version 2: 2 ACK, 1 NACK, 0 no answer, 0 offline", r.stdout)

        st = cp.status("eu")
        self.assertEqual(st["gw3"]["applied_version"], "1")
        self.assertEqual(st["gw3"]["nacked_version"], "2")
        self.assertEqual(st["gw3"]["nack_error"], reason)
        self.assertEqual(st["gw1"]["applied_version"], "2")
        self.assertEqual(st["gw1"]["nacked_version"], "")
        human = cp.ctl("status", "--fleet", "eu").stdout
        self.assertRegex(human, r"\n  gw3\s+connected 1\s+\S+\s+version 2 at \S+: %s\n"
                         % re.escape(reason))
        gws[2].wait_for_log(r"warning: control plane %s: refused version 2 of fleet eu, "
                            r"keeping version 1: %s$" % (re.escape(cp.address), re.escape(reason)))
        cp.wait_for_log(r"warning: node gw3 of fleet eu: NACK version 2 \(runs 1\): %s$"
                        % re.escape(reason))
        # gw3 still runs version 1; the others run version 2.
        self.assert_denied(gws[2].port, "127.0.0.66")
        self.assert_handed_off(gws[2].port, "127.0.0.77")
        self.assert_denied(gws[0].port, "127.0.0.77")
        self.assert_handed_off(gws[0].port, "127.0.0.66")

    def test_outage_keeps_mail_flowing_and_restart_loses_nothing(self):
        cp = self.control()
        gw1, gw2 = self.gateway(cp, "gw1"), self.gateway(cp, "gw2")
        self.push(cp, self.deny(["127.0.0.66/32 reject"]))
        gw1.wait_listening()
        gw2.wait_listening()
        cp.kill()
        for gw in (gw1, gw2):
            gw.wait_for_log(r"warning: control plane %s: stream ended: " % re.escape(cp.address))
            self.assert_denied(gw.port, "127.0.0.66")
            self.assert_handed_off(gw.port, "127.0.0.5")
        # A gateway that restarts during the outage starts from its cache.
        gw2.stop()
        gw2.start()
        gw2.wait_for_log(r"starting from version 1 of fleet eu \(%s\)$"
                         % re.escape(os.path.join(gw2.dir, "pushed-config.binpb")))
        gw2.wait_listening()
        self.assert_denied(gw2.port, "127.0.0.66")
        gw2.wait_for_log(r"warning: control plane %s: unreachable: " % re.escape(cp.address))
        # The control plane comes back with its versions and node list.
        cp.start()
        st = cp.wait_status(lambda s: all(s.get(n, {}).get("connected") for n in ("gw1", "gw2")),
                            "eu", timeout=20)
        self.assertEqual({n: st[n]["applied_version"] for n in ("gw1", "gw2")},
                         {"gw1": "1", "gw2": "1"})
        versions = cp.ctl("versions", "--fleet", "eu").stdout
        self.assertRegex(versions, r"\n1\s+\S+\s+local\s+first version: ")
        r = self.push(cp, self.deny(["127.0.0.67/32 reject"]))
        self.assertIn("fleet eu version 2: 2 ACK, 0 NACK", r.stdout)
        self.assert_denied(gw1.port, "127.0.0.67")
        self.assert_denied(gw2.port, "127.0.0.67")

    def test_session_in_greet_wait_finishes_on_its_config(self):
        cp = self.control()
        gw = self.gateway(cp, "gw1")
        self.push(cp, fleet_config([{"name": "pregreet", "action": "enforce"}],
                                   [self.backend.address], greet_wait="3s"))
        gw.wait_listening()
        c = self.connect(gw.port, "127.0.0.9")
        t0 = time.monotonic()
        self.assertEqual(c.read_line(), TEASER)
        # Mid-wait: a config that drops every 127/8 client at once.
        r = self.push(cp, self.deny(["127.0.0.0/8 reject"]), "eu", 0, "v2.yaml")
        self.assertIn("1 ACK", r.stdout)
        self.assertLess(time.monotonic() - t0, 2.5, "the push took longer than the greet wait")
        self.assert_denied(gw.port, "127.0.0.10")
        # The old session ends its greet wait under version 1: passed, handed off.
        self.assertEqual(c.read_line(timeout=10), SINK_BANNER)
        self.assertGreaterEqual(time.monotonic() - t0, 2.5)

    def test_ten_pushes_under_load_fail_no_session(self):
        sink_port = free_port()
        sink = subprocess.Popen(["smtp-sink", "-u", "nobody", "127.0.0.1:%d" % sink_port, "256"],
                                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        self.addCleanup(lambda: (sink.terminate(), sink.wait(5)))
        wait_until_listening("127.0.0.1", sink_port, 10)
        cp = self.control()
        gw = self.gateway(cp, "gw1")

        def config(i):
            return fleet_config([access_filter(["127.255.255.%d/32 reject" % i],
                                               mynetworks=["127.0.0.0/9"])],
                                ["127.0.0.1:%d" % sink_port], proxy_protocol="none")
        self.push(cp, config(0))
        gw.wait_listening()
        loadgen = os.path.join(BUILD_DIR, "tests", "bench", "mxs_loadgen")
        result = {}

        def load():
            r = subprocess.run([loadgen, "--target", "127.0.0.1:%d" % gw.port,
                                "--sources", "127.0.1.1-127.0.200.254", "--mode", "session",
                                "--concurrency", "8", "--duration", "8", "--timeout", "10"],
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=60)
            result["out"] = r.stdout + r.stderr
        t = threading.Thread(target=load)
        t.start()
        time.sleep(1)
        for i in range(1, 11):
            r = self.push(cp, config(i), "eu", 0, "load-%d.yaml" % i)
            self.assertIn("fleet eu version %d: 1 ACK" % (i + 1), r.stdout)
            time.sleep(0.4)
        t.join(60)
        m = re.search(r"^RESULT .*", result.get("out", ""), re.M)
        self.assertIsNotNone(m, result.get("out"))
        fields = dict(kv.split("=", 1) for kv in m.group(0).split()[1:])
        self.assertEqual(fields["errors"], "0", m.group(0))
        self.assertGreater(int(fields["conns"]), 200, m.group(0))
        self.assertEqual(len(re.findall(r"applied version \d+ of fleet eu", gw.log())), 11)

    def test_moved_listener_keeps_its_sessions(self):
        cp = self.control()
        old_port, new_port = free_port(), free_port()
        gw = self.gateway(cp, "gw1", port=old_port, override=False)
        self.push(cp, self.deny(["127.0.0.66/32 reject"], address="127.0.0.1:%d" % old_port))
        gw.wait_listening()
        c = self.assert_handed_off(old_port, "127.0.0.5")
        r = self.push(cp, self.deny(["127.0.0.66/32 reject"], address="127.0.0.1:%d" % new_port),
                      "eu", 0, "moved.yaml")
        self.assertIn("fleet eu: version 2 stored: listener smtp: moved 127.0.0.1:%d -> "
                      "127.0.0.1:%d\n" % (old_port, new_port), r.stdout)
        wait_until_listening("127.0.0.1", new_port, 5)
        gw.wait_for_log(r"listener on \[127.0.0.1\]:%d closed$" % old_port)
        self.assert_denied(new_port, "127.0.0.66")
        self.assert_handed_off(new_port, "127.0.0.5")
        with self.assertRaises(OSError):
            self.connect(old_port, "127.0.0.6", timeout=2)
        # The session relayed before the move is still up, both ways.
        self.assertTrue(c.is_open())
        c.send_line("NOOP")
        time.sleep(0.2)
        self.assertTrue(c.is_open())

    def test_rollback_diff_versions_audit(self):
        cp = self.control()
        gw = self.gateway(cp, "gw1")
        self.push(cp, self.deny(["127.0.0.66/32 reject"]), "eu", 0, "v1.yaml", "-m", "one")
        self.push(cp, self.deny(["127.0.0.67/32 reject"]), "eu", 0, "v2.yaml", "-m", "two")
        gw.wait_listening()
        self.assert_denied(gw.port, "127.0.0.67")
        d = cp.ctl("diff", "--fleet", "eu")
        self.assertEqual(d.returncode, 0, d.stderr)
        self.assertIn("--- fleet eu version 1\n+++ fleet eu version 2\n", d.stdout)
        self.assertIn('\n@@ -20,7 +20,7 @@\n        {\n         "cidr": {\n          "lines": [\n'
                      '-          "127.0.0.66/32 reject"\n+          "127.0.0.67/32 reject"\n'
                      '          ]\n', d.stdout)
        r = cp.ctl("rollback", "--fleet", "eu", "--to", "1", "-m", "back")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("fleet eu: version 3 stored: rollback to version 1: listener smtp: "
                      "filters changed: access_cidr\n", r.stdout)
        self.assertIn("fleet eu version 3: 1 ACK", r.stdout)
        self.assert_denied(gw.port, "127.0.0.66")
        self.assert_handed_off(gw.port, "127.0.0.67")
        self.assertEqual(cp.ctl("diff", "--fleet", "eu", "--from", "1", "--to", "3").stdout,
                         "no difference\n")
        v = cp.ctl("versions", "--fleet", "eu").stdout.splitlines()
        self.assertEqual(v[0].split(), ["VERSION", "CREATED", "AUTHOR", "SUMMARY"])
        self.assertEqual([line.split()[0] for line in v[1:]], ["3", "2", "1"])
        self.assertIn("rollback to version 1", v[1])
        audit = cp.ctl("audit", "--fleet", "eu").stdout.splitlines()
        self.assertEqual([line.split()[1:5] for line in audit[1:]],
                         [["local", "rollback", "eu", "3"], ["local", "push", "eu", "2"],
                          ["local", "push", "eu", "1"]])
        self.assertTrue(audit[1].endswith("(back)"), audit[1])
        # An unchanged push stores nothing.
        r = self.push(cp, self.deny(["127.0.0.66/32 reject"]), "eu", 0, "same.yaml")
        self.assertIn("fleet eu: unchanged, still version 3\n", r.stdout)

    def test_config_that_cannot_start_is_nacked_not_cached(self):
        """A first push whose address is taken is NACKed (not ACKed and then
        fatal); a cached version that no longer starts is set aside."""
        import socket
        cp = self.control()
        gw = self.gateway(cp, "gw1", override=False)
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        self.addCleanup(busy.close)
        busy_port = busy.getsockname()[1]
        r = self.push(cp, self.deny(["127.0.0.66/32 reject"], address="127.0.0.1:%d" % busy_port),
                      "eu", 3, "busy.yaml")
        self.assertIn("NACK     keeps version (local): cannot listen on [127.0.0.1]:%d: "
                      "Address already in use" % busy_port, r.stdout)
        self.assertFalse(os.path.exists(os.path.join(gw.dir, "pushed-config.binpb")))
        port = free_port()
        r = self.push(cp, self.deny(["127.0.0.66/32 reject"], address="127.0.0.1:%d" % port),
                      "eu", 0, "good.yaml")
        self.assertIn("1 ACK", r.stdout)
        wait_until_listening("127.0.0.1", port, 5)
        # Restarted while something else holds its port: the cached version 2
        # does not start, so the gateway waits for the control plane and NACKs.
        gw.stop()
        squatter = socket.socket()
        squatter.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        squatter.bind(("127.0.0.1", port))
        squatter.listen(1)
        self.addCleanup(squatter.close)
        gw.start()
        gw.wait_for_log(r"warning: %s: version 2 does not start: cannot listen on "
                        r"\[127\.0\.0\.1\]:%d: Address already in use$"
                        % (re.escape(os.path.join(gw.dir, "pushed-config.binpb")), port))
        gw.wait_for_log(r"waiting for the first config of fleet eu from ")
        st = cp.wait_status(lambda s: s.get("gw1", {}).get("nacked_version") == "2", "eu")
        self.assertEqual(st["gw1"]["applied_version"], "")
        squatter.close()
        port3 = free_port()
        r = self.push(cp, self.deny(["127.0.0.66/32 reject"], address="127.0.0.1:%d" % port3),
                      "eu", 0, "third.yaml")
        self.assertIn("1 ACK", r.stdout)
        wait_until_listening("127.0.0.1", port3, 5)
        self.assert_denied(port3, "127.0.0.66")

    def test_admin_server_answers_while_waiting_for_the_first_push(self):
        """A gateway with no config yet serves its (host-local) admin server:
        alive, not ready, saying what it waits for; a push that cannot start
        leaves it so; the first config that starts takes the address over."""
        import http.client
        import socket
        cp = self.control()
        admin_port = free_port()
        gw = FleetGateway(cp, "gw1", "eu", free_port())
        # The pushed listener addresses count (a busy one must fail to start).
        gw.config_text = re.sub(r"\n  listener_addresses:.*", "", gw.config_text)
        gw.config_text += 'admin: { address: "127.0.0.1:%d" }\n' % admin_port
        with open(gw.config_path, "w") as f:
            f.write(gw.config_text)
        self.addCleanup(gw.stop)
        gw.start()
        gw.wait_for_log(r"admin server on \[127\.0\.0\.1\]:%d$" % admin_port)

        def get(path):
            conn = http.client.HTTPConnection("127.0.0.1", admin_port, timeout=10)
            try:
                conn.request("GET", path)
                r = conn.getresponse()
                return r.status, r.read().decode()
            finally:
                conn.close()

        waiting = "waiting for the first config of fleet eu from %s" % cp.address
        self.assertEqual(get("/healthz"), (200, "ok\n"))
        self.assertEqual(get("/ready"), (503, "not ready: %s\n" % waiting))
        self.assertEqual(get("/config_dump"), (200, '{"error":"no config yet: %s"}\n' % waiting))
        self.assertEqual(get("/verdicts/127.0.0.66"),
                         (404, '{"error":"no config yet: %s"}\n' % waiting))
        # No listener, filter or store yet: no series (a scrape still succeeds).
        self.assertEqual(get("/metrics"), (200, ""))

        # A first push that cannot start (its address is taken) is NACKed and
        # the gateway keeps answering as before.
        busy = socket.socket()
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        self.addCleanup(busy.close)
        busy_port = busy.getsockname()[1]
        r = self.push(cp, self.deny(["127.0.0.66/32 reject"],
                                    address="127.0.0.1:%d" % busy_port), "eu", 3, "busy.yaml")
        self.assertIn("NACK", r.stdout)
        self.assertEqual(get("/ready"), (503, "not ready: %s\n" % waiting))

        port = free_port()
        self.push(cp, self.deny(["127.0.0.66/32 reject"], address="127.0.0.1:%d" % port), "eu", 0,
                  "good.yaml")
        wait_until_listening("127.0.0.1", port, 5)
        self.assertEqual(get("/ready"), (200, "ready\n"))
        status, body = get("/config_dump")
        self.assertEqual(status, 200)
        self.assertIn('"address": "127.0.0.1:%d"' % port, body)
        self.assert_denied(port, "127.0.0.66")
        # The running version is the control plane's (1 was the NACKed one),
        # also after a restart from the push cache.
        status, body = get("/metrics")
        self.assertIn('\nmxs_config_info{version="2"} 1\n', body)
        gw.stop()
        gw.start()
        gw.wait_for_log(r"starting from version 2 of fleet eu ")
        wait_until_listening("127.0.0.1", port, 5)
        self.assertEqual(get("/ready"), (200, "ready\n"))
        self.assertIn('\nmxs_config_info{version="2"} 1\n', get("/metrics")[1])

    def test_config_larger_than_grpcs_default_message_limit(self):
        """Inline tables make big configs: 220,000 CIDR lines (about 5 MB, over
        gRPC's default 4 MiB message limit) reach the gateway whole."""
        cp = self.control()
        gw = self.gateway(cp, "gw1")
        lines = ["10.%d.%d.%d/32 reject" % (i >> 16 & 255, i >> 8 & 255, i & 255)
                 for i in range(220000)] + ["127.0.0.66/32 reject"]
        r = self.push(cp, self.deny(lines), "eu", 0, "big.yaml")
        self.assertIn("fleet eu version 1: 1 ACK", r.stdout)
        gw.wait_listening()
        self.assert_denied(gw.port, "127.0.0.66")
        self.assert_handed_off(gw.port, "127.0.0.67")

    def test_refused_push_stores_nothing(self):
        cp = self.control()
        bad = fleet_config([{"name": "no_such_filter"}], [self.backend.address])
        path = self.write_fleet(cp, "bad.yaml", bad)
        r = cp.ctl("push", path, "--fleet", "eu")
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"^mxscreenctl: %s refused: listeners\[0\]\.filters\[0\]\.name: "
                         r"unknown filter \"no_such_filter\" \(known: access_cidr, " % re.escape(path))
        bad = self.deny(["127.0.0.66/33 reject"])
        path = self.write_fleet(cp, "bad2.yaml", bad)
        r = cp.ctl("push", path, "--fleet", "eu")
        self.assertEqual(r.returncode, 1)
        self.assertRegex(r.stderr, r"^mxscreenctl: %s refused: listeners\[0\]\.filters\[0\]\."
                         r"typed_config\.access_list\[1\]\.cidr: " % re.escape(path))
        r = cp.ctl("push", path, "--fleet", "bad/name")
        self.assertEqual(r.returncode, 1)
        self.assertIn("fleet \"bad/name\": 1-64 letters, digits", r.stderr)
        self.assertEqual(cp.ctl("versions", "--fleet", "eu").stdout.splitlines()[1:], [])


class ControlPlaneTlsTest(MxscreenTestCase):

    @classmethod
    def setUpClass(cls):
        cls.backend = SinkBackend(SINK_BANNER).start()
        cls.addClassCleanup(cls.backend.stop)
        cls.pki = Pki()

    def test_fleets_by_certificate_and_operator_rights(self):
        pki = self.pki
        cp = ControlPlane({"pki": pki, "fleets": {"eu": ["*.eu.test"], "us": ["*.us.test"]},
                           "operators": {"alice.ops.test": ["eu"], "bob.ops.test": ["us"],
                                         "carol.ops.test": ["eu"]}})
        self.addCleanup(cp.stop)
        cp.start()
        alice, bob = pki.issue("alice.ops.test"), pki.issue("bob.ops.test")
        cp.operator = alice
        eu_gw = FleetGateway(cp, "gw1", "eu", free_port(),
                             tls=(pki,) + pki.issue("gw1.eu.test"))
        spy = FleetGateway(cp, "gw9", "eu", free_port(),
                           tls=(pki,) + pki.issue("gw9.us.test"))   # a us node asking for eu
        for gw in (eu_gw, spy):
            self.addCleanup(gw.stop)
            gw.start()
        secret = fleet_config([access_filter(["127.0.0.66/32 reject"])],
                              [self.backend.address], hostname="secret.eu.test")
        path = os.path.join(cp.dir, "eu.yaml")
        with open(path, "w") as f:
            f.write(secret)
        # bob may not change eu; an unauthenticated client gets nowhere.
        r = cp.ctl("push", path, "--fleet", "eu", operator=bob)
        self.assertEqual(r.returncode, 1)
        self.assertIn("bob.ops.test may not change fleet eu", r.stderr)
        r = subprocess.run([os.path.join(BUILD_DIR, "mxscreenctl"), "--server", cp.address,
                            "status"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=30)
        self.assertEqual(r.returncode, 1)
        r = cp.ctl("push", path, "--fleet", "eu")
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("fleet eu version 1: 1 ACK, 0 NACK", r.stdout)
        eu_gw.wait_listening()
        c = self.connect(eu_gw.port, "127.0.0.66")
        self.assertEqual(c.read_line(), REPLY_DENYLIST_DROP)
        # The us certificate never got eu's config.
        cp.wait_for_log(r"warning: node gw9 from ipv4:127\.0\.0\.1:\d+ refused: certificate "
                        r"gw9\.us\.test belongs to fleet us, not eu$")
        spy.wait_for_log(r"warning: control plane %s: unreachable: certificate gw9\.us\.test "
                         r"belongs to fleet us, not eu$" % re.escape(cp.address))
        self.assertNotIn("applied version", spy.log())
        self.assertFalse(os.path.exists(os.path.join(spy.dir, "pushed-config.binpb")))
        # Status and audit: each operator sees only their fleets.
        self.assertEqual(list(cp.status()), ["gw1"])
        r = cp.ctl("--json", "status", operator=bob)
        self.assertNotIn("gw1", r.stdout)
        audit = cp.ctl("audit").stdout.splitlines()
        self.assertEqual(audit[1].split()[1:5], ["alice.ops.test", "push", "eu", "1"])
        self.assertEqual(cp.ctl("audit", operator=bob).stdout.splitlines()[1:], [])
        # A certificate without a CN is known by its subjectAltName.
        carol = pki.issue("carol.ops.test", with_cn=False)
        r = cp.ctl("rollback", "--fleet", "eu", "--to", "1", operator=carol)
        self.assertEqual(r.returncode, 1)
        self.assertIn("nothing to roll back to", r.stderr)
        self.assertIn("fleet eu: newest version 1, 1 gateway(s)",
                      cp.ctl("status", "--fleet", "eu", operator=carol).stdout)


if __name__ == "__main__":
    unittest.main()
