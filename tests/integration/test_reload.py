"""test_reload - SIGHUP re-reads a static config file through the same hitless
apply as a control-plane push

SYNOPSIS
    /usr/bin/python3 -m unittest -v tests/integration/test_reload.py

DESCRIPTION
    A gateway with a static file: the file is rewritten (the listener moves
    to another port, a second listener appears, the access list changes) and
    the gateway gets SIGHUP. Checked: "reloaded FILE" is logged; the new
    addresses serve the new config; the old address is closed; a session
    relayed before the reload keeps going; a file that does not build is
    refused with its field path and the old config keeps serving. A changed
    filter chain applies to new connections only: a client in its greet
    wait when the reload comes finishes on the chain it started with. A
    file that is not YAML, or is gone, is refused with a clear line too.
"""

import os
import re
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (MxscreenTestCase, SinkBackend, free_port, gateway_config,  # noqa: E402
                     REPLY_DENYLIST_DROP, screening_config, wait_until_listening)

SINK_BANNER = "220 sink.test.example ESMTP"


class ReloadTest(MxscreenTestCase):

    @classmethod
    def setUpClass(cls):
        cls.backend = SinkBackend(SINK_BANNER).start()
        cls.addClassCleanup(cls.backend.stop)

    def config(self, port, deny, extra_port=None):
        text = gateway_config(port, [self.backend.address], action="drop",
                              mynetworks=["127.0.0.1/32"],
                              access_list=["permit_mynetworks", ("lines", deny)])
        if extra_port is not None:
            # A second listener, same chain: copy the listener block.
            block = text[text.index("  - name: smtp"):]
            text += block.replace("name: smtp", "name: submission").replace(
                "127.0.0.1:%d" % port, "127.0.0.1:%d" % extra_port)
        return text

    def reload(self, mx, text):
        with open(mx.config_path, "w") as f:
            f.write(text.replace("@DIR@", mx.dir))
        mx.proc.send_signal(signal.SIGHUP)

    def denied(self, port, ip):
        c = self.connect(port, ip)
        self.assertEqual(c.read_line(), REPLY_DENYLIST_DROP)

    def handed_off(self, port, ip):
        c = self.connect(port, ip)
        self.assertEqual(c.read_line(), SINK_BANNER)
        return c

    def test_sighup_moves_listeners_without_dropping_sessions(self):
        old, new, extra = free_port(), free_port(), free_port()
        mx = self.start_gateway(self.config(old, ["127.0.0.66/32 reject"]))
        self.denied(old, "127.0.0.66")
        kept = self.handed_off(old, "127.0.0.5")
        self.reload(mx, self.config(new, ["127.0.0.67/32 reject"], extra_port=extra))
        mx.wait_for_log(r"mxscreen\[\d+\]: reloaded %s$" % re.escape(mx.config_path))
        wait_until_listening("127.0.0.1", new, 5)
        wait_until_listening("127.0.0.1", extra, 5)
        mx.wait_for_log(r"listener on \[127\.0\.0\.1\]:%d closed$" % old)
        self.denied(new, "127.0.0.67")
        self.denied(extra, "127.0.0.67")
        self.handed_off(new, "127.0.0.66")
        with self.assertRaises(OSError):
            self.connect(old, "127.0.0.6", timeout=2)
        self.assertTrue(kept.is_open())
        kept.send_line("NOOP")
        time.sleep(0.2)
        self.assertTrue(kept.is_open())

    def test_sighup_with_a_bad_file_keeps_the_running_config(self):
        port = free_port()
        mx = self.start_gateway(self.config(port, ["127.0.0.66/32 reject"]))
        self.reload(mx, self.config(port, ["127.0.0.66/33 reject"]))
        mx.wait_for_log(r"warning: reload of %s refused, keeping the running config: "
                        r"listeners\[0\]\.filters\[0\]\.typed_config\.access_list\[1\]\.cidr: "
                        % re.escape(mx.config_path))
        self.denied(port, "127.0.0.66")
        self.handed_off(port, "127.0.0.5")

    def test_a_changed_chain_applies_to_new_connections_only(self):
        port = free_port()
        pregreet = {"name": "pregreet"}
        deny = {"name": "access_cidr", "action": "drop",
                "typed_config": {"access_list": [{"cidr": {"lines": ["127.0.9.0/24 reject"]}}]}}
        mx = self.start_gateway(screening_config(port, [self.backend.address], [pregreet],
                                                 hostname="mx.test.example", greet_wait="3s"))
        waiting = self.connect(port, "127.0.9.1")
        self.assertEqual(waiting.read_line(), "220-mx.test.example ESMTP Postfix")
        # The new chain also runs a deep test: a session on it would go to the
        # engine (its own "220 mx.test.example ESMTP Postfix") after the wait.
        self.reload(mx, screening_config(port, [self.backend.address],
                                         [deny, pregreet, {"name": "pipelining"}],
                                         hostname="mx.test.example", greet_wait="1s"))
        mx.wait_for_log(r"mxscreen\[\d+\]: reloaded %s$" % re.escape(mx.config_path))
        # New: the new chain's access list drops it.
        self.denied(port, "127.0.9.2")
        # Old: still on the chain it began with (no access list, no deep
        # test): it passes the greet wait and is handed off.
        self.assertEqual(waiting.read_line(timeout=10), SINK_BANNER)
        mx.wait_for_log(r"PASS NEW \[127\.0\.9\.1\]:\d+$")
        self.assertEqual([m for m in mx.postscreen_messages() if "127.0.9.1" in m
                          and m.startswith("DENYLISTED")], [])

    def test_sighup_with_a_file_that_is_not_yaml_or_is_gone(self):
        port = free_port()
        mx = self.start_gateway(self.config(port, ["127.0.0.66/32 reject"]))
        self.reload(mx, "listeners: [ {\n")
        m = mx.wait_for_log(r"mxscreen\[\d+\]: warning: reload of %s refused, keeping the "
                            r"running config: (.*)$" % re.escape(mx.config_path))
        self.assertNotEqual(m.group(1), "")
        os.unlink(mx.config_path)
        mx.proc.send_signal(signal.SIGHUP)
        mx.wait_for_log(r"mxscreen\[\d+\]: warning: reload of %s refused, keeping the "
                        r"running config: cannot read config file %s$" % (re.escape(mx.config_path), re.escape(mx.config_path)))
        self.denied(port, "127.0.0.66")
        self.handed_off(port, "127.0.0.5")


if __name__ == "__main__":
    unittest.main()
