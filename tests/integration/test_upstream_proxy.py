"""test_upstream_proxy - mxscreen behind haproxy (upstream PROXY protocol)

SYNOPSIS
    /usr/bin/python3 -m unittest -v tests/integration/test_upstream_proxy.py

DESCRIPTION
    A real haproxy (Debian package) on loopback in front of mxscreen sends
    PROXY v1 (send-proxy) or v2 (send-proxy-v2) headers; mxscreen's
    upstream_proxy filter reads them and hands passing clients to a real
    Postfix smtpd (smtpd_upstream_proxy_protocol = haproxy).  haproxy
    connects from 127.0.0.9 ("source" on its server lines) and the clients
    from 127.0.0.7 / 127.0.0.8 / ::1, so every assertion can tell the real
    client from the balancer:
      - mxscreen's log names the real client in CONNECT and every later
        line, never haproxy's address;
      - the access list judges the real client (mynetworks holds only
        haproxy's 127.0.0.9, so a wrong address would be ALLOWLISTED);
      - Postfix's log shows the real client (mxscreen's own PROXY header).
    Headers that haproxy never sends (malformed, v1 UNKNOWN, v2 LOCAL, cut
    off, late) are written by the test itself straight to mxscreen, and
    checked for postscreen's exact warning and "421 4.3.2 No system
    resources" (spec section 8).
"""

import os
import re
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (PostfixInstance, MxscreenTestCase, free_port, screening_config,  # noqa: E402
                     wait_until_listening, c_escape, _remove_tree, _POPEN_PIDS)

MX_HOSTNAME = "mx.test.example"
BACKEND_HOSTNAME = "backend.test.example"
BACKEND_BANNER = ["220 %s ESMTP Postfix" % BACKEND_HOSTNAME]
HAPROXY = "/usr/sbin/haproxy"
HAPROXY_SOURCE = "127.0.0.9"        # where haproxy connects to mxscreen from
REPLY = "421 4.3.2 No system resources"
V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


def v2_header(cmd, family=0x00, body=b""):
    """A PROXY v2 header: cmd 0 LOCAL, 1 PROXY."""
    return V2_SIGNATURE + bytes([0x20 | cmd, family]) + struct.pack("!H", len(body)) + body


class Haproxy:
    """A private haproxy in the foreground (-db), one frontend per mode:
    "v1" (send-proxy) and "v2" (send-proxy-v2), each on its own port."""

    def __init__(self, target_port, modes=("v1", "v2"), bind="127.0.0.1", health_check=False):
        self.dir = tempfile.mkdtemp(prefix="mxs-haproxy-")
        self.ports = {m: free_port(bind) for m in modes}
        self.bind = bind
        lines = ["global", "  maxconn 100",
                 "defaults", "  mode tcp", "  timeout connect 2s",
                 "  timeout client 30s", "  timeout server 30s"]
        for mode, port in self.ports.items():
            host = "[%s]" % bind if ":" in bind else bind
            opt = "send-proxy" if mode == "v1" else "send-proxy-v2"
            server = "  server mx 127.0.0.1:%d %s source %s" % (target_port, opt, HAPROXY_SOURCE)
            if health_check:
                # haproxy's health checks announce themselves with a v2 LOCAL header.
                server += " check check-send-proxy inter 300ms"
            lines += ["frontend fe_%s" % mode, "  bind %s:%d" % (host, port),
                      "  default_backend be_%s" % mode,
                      "backend be_%s" % mode, server]
            if health_check:
                # A plain connect check closes (with a reset) as soon as it is
                # connected, which on a busy machine can discard the header
                # before mxscreen reads it; waiting for the greeting keeps the
                # check connection open until it was screened.
                lines += ["  option tcp-check", "  tcp-check expect string 220"]
        self.cfg = os.path.join(self.dir, "haproxy.cfg")
        with open(self.cfg, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = None

    def start(self):
        self.log = open(os.path.join(self.dir, "haproxy.out"), "wb")
        self.proc = subprocess.Popen([HAPROXY, "-db", "-f", self.cfg], stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        _POPEN_PIDS.add(self.proc.pid)
        for port in self.ports.values():
            wait_until_listening(self.bind, port, 10, alive=lambda: self.proc.poll() is None)
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            _POPEN_PIDS.discard(self.proc.pid)
            self.log.close()
        _remove_tree(self.dir)


class UpstreamProxyTest(MxscreenTestCase):

    @classmethod
    def setUpClass(cls):
        cls.backend = PostfixInstance("backend", proxy=True, hostname=BACKEND_HOSTNAME)
        cls.addClassCleanup(cls.backend.stop)
        cls.backend.start()

    # -- helpers ---------------------------------------------------------------
    def gateway(self, timeout=None, versions=None, pregreet=False, backend=None,
                listener_limits=None):
        """mxscreen with upstream_proxy, an access list that permits 127.0.0.7
        and haproxy's own address (mynetworks), and optionally pregreet."""
        port = free_port()
        proxy = {"protocol": "haproxy"}
        if timeout:
            proxy["timeout"] = timeout
        if versions:
            proxy["versions"] = versions
        filters = [{"name": "upstream_proxy", "typed_config": proxy},
                   {"name": "access_cidr", "action": "drop", "typed_config": {
                       "mynetworks": [HAPROXY_SOURCE + "/32"],
                       "access_list": [{"permit_mynetworks": True},
                                       {"cidr": {"lines": ["127.0.0.7/32 permit",
                                                           "127.0.0.6/32 reject"]}}]}}]
        if pregreet:
            filters.append({"name": "pregreet"})
        cfg = screening_config(port, [(backend or self.backend).address], filters,
                               hostname=MX_HOSTNAME, listener_limits=listener_limits,
                               greet_wait="1s", greet_wait_stress="1s")
        return self.start_gateway(cfg), port

    def haproxy(self, mx_port, **kw):
        h = Haproxy(mx_port, **kw)
        self.addCleanup(h.stop)
        return h.start()

    def raw(self, port, source_ip="127.0.0.7"):
        """A plain socket to mxscreen itself (no haproxy), for headers that
        haproxy never sends."""
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.addCleanup(s.close)
        s.bind((source_ip, 0))
        s.settimeout(10)
        s.connect(("127.0.0.1", port))
        return s

    def read_all(self, sock, timeout=10):
        """Everything until the peer closes."""
        sock.settimeout(timeout)
        data = b""
        while True:
            try:
                chunk = sock.recv(4096)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
        return data

    def assert_refused(self, mx, sock, warning, timeout=10, seen_before=0):
        """421 No system resources, closed; the exact warning (logged once
        more than seen_before times); no CONNECT."""
        self.assertEqual(self.read_all(sock, timeout), (REPLY + "\r\n").encode())
        deadline = time.monotonic() + timeout
        while mx.messages(self.POSTSCREEN).count(warning) <= seen_before:
            self.assertLess(time.monotonic(), deadline, "no %r in:\n%s" % (warning, mx.log()))
            time.sleep(0.05)
        endpoint = "[%s]:%d" % sock.getsockname()[:2]
        self.assertEqual(mx.postscreen_messages(endpoint), [],
                         "nothing is logged for a client whose header was refused")

    def assert_backend_saw(self, ip, port):
        who = re.escape("unknown[%s]:%d" % (ip, port))
        self.backend.wait_for_log(r"postfix/smtpd\[\d+\]: connect from %s$" % who)

    def assert_no_haproxy_address(self, mx):
        self.assertNotIn(HAPROXY_SOURCE, mx.log(), "haproxy's own address leaked into the log")

    # -- real haproxy ------------------------------------------------------------
    def check_through_haproxy(self, mode):
        mx, port = self.gateway()
        h = self.haproxy(port)
        fe = h.ports[mode]
        c = self.connect(fe, "127.0.0.7")
        self.assert_reply(c, None, BACKEND_BANNER)
        self.assert_reply(c, "QUIT", ["221 2.0.0 Bye"])
        c.expect_closed()
        c.close()
        self.assert_session_log(mx, c, [
            "CONNECT from [127.0.0.7]:%d to [127.0.0.1]:%d" % (c.source_port, fe),
            "ALLOWLISTED [127.0.0.7]:%d" % c.source_port], settle=0.3)
        self.assert_backend_saw("127.0.0.7", c.source_port)
        # Not allowlisted: the access list judged the real client, not
        # haproxy's 127.0.0.9 (which mynetworks permits).
        d = self.connect(fe, "127.0.0.6")
        self.assert_reply(d, None, ["521 5.3.2 Service currently unavailable"])
        d.expect_closed()
        self.assert_session_log(mx, d, [
            "CONNECT from [127.0.0.6]:%d to [127.0.0.1]:%d" % (d.source_port, fe),
            "DENYLISTED [127.0.0.6]:%d" % d.source_port,
            "DISCONNECT [127.0.0.6]:%d" % d.source_port])
        self.assert_no_haproxy_address(mx)
        self.assert_log_format(mx)

    def test_v1_through_haproxy(self):
        """send-proxy: CONNECT, ALLOWLISTED/DENYLISTED and the backend name the real client."""
        self.check_through_haproxy("v1")

    def test_v2_through_haproxy(self):
        """send-proxy-v2: the same with the binary header."""
        self.check_through_haproxy("v2")

    def test_v2_tcp6_through_haproxy(self):
        """An IPv6 client (::1) behind haproxy: a TCP6 header; logged in brackets,
        and announced to a backend that accepts IPv6 PROXY addresses."""
        backend6 = PostfixInstance("backend", proxy=True, hostname=BACKEND_HOSTNAME,
                                   main_cf={"inet_protocols": "all"})
        self.addCleanup(backend6.stop)
        backend6.start()
        mx, port = self.gateway(pregreet=True, backend=backend6)
        h = self.haproxy(port, modes=("v2",), bind="::1")
        fe = h.ports["v2"]
        c = self.connect(fe, "::1", host="::1")
        # Not on the access list: the teaser, the greet wait, then the backend.
        self.assert_reply(c, None, ["220-%s ESMTP Postfix" % MX_HOSTNAME] + BACKEND_BANNER,
                          timeout=5)
        self.assert_reply(c, "QUIT", ["221 2.0.0 Bye"])
        c.close()
        self.assert_session_log(mx, "[::1]:%d" % c.source_port, [
            "CONNECT from [::1]:%d to [::1]:%d" % (c.source_port, fe),
            "PASS NEW [::1]:%d" % c.source_port], settle=0.3)
        backend6.wait_for_log(r"postfix/smtpd\[\d+\]: connect from %s$"
                              % re.escape("unknown[::1]:%d" % c.source_port))
        self.assert_no_haproxy_address(mx)

    def test_pregreet_behind_haproxy(self):
        """A client that talks at once through haproxy is a pregreet under its real address."""
        mx, port = self.gateway(pregreet=True)
        h = self.haproxy(port)
        c = self.connect(h.ports["v2"], "127.0.0.8")
        c.send_raw(b"EHLO x\r\n")
        m = mx.wait_for_log(r"PREGREET 8 after \S+ from \[127\.0\.0\.8\]:%d: EHLO x\\r\\n$"
                            % c.source_port)
        self.assertIsNotNone(m)
        self.assert_no_haproxy_address(mx)

    def test_client_limit_counts_the_real_client(self):
        """The per-client limit counts real clients, not the one haproxy address."""
        mx, port = self.gateway(pregreet=True,
                                listener_limits={"client_connection_count_limit": 1})
        h = self.haproxy(port)
        teaser = ["220-%s ESMTP Postfix" % MX_HOSTNAME]
        a = self.connect(h.ports["v2"], "127.0.0.8")
        b = self.connect(h.ports["v1"], "127.0.0.10")
        for c in (a, b):
            self.assertEqual(c.read_line(), teaser[0])
        again = self.connect(h.ports["v2"], "127.0.0.8")
        self.assert_reply(again, None, ["421 4.7.0 Error: too many connections"])
        self.assert_session_log(mx, again, [
            "CONNECT from [127.0.0.8]:%d to [127.0.0.1]:%d" % (again.source_port,
                                                              h.ports["v2"]),
            "NOQUEUE: reject: CONNECT from [127.0.0.8]:%d: too many connections"
            % again.source_port,
            "DISCONNECT [127.0.0.8]:%d" % again.source_port])
        self.assert_no_haproxy_address(mx)

    def test_v2_local_health_check_from_haproxy(self):
        """haproxy's health checks (check-send-proxy) send v2 LOCAL: the socket's
        endpoints are used, here haproxy's own 127.0.0.9 (permitted by mynetworks)."""
        mx, port = self.gateway()
        self.haproxy(port, modes=("v2",), health_check=True)
        # haproxy spreads its first checks and, on a loaded machine (the
        # sanitizer suite), starts them late: a generous bound.
        mx.wait_for_log(r"CONNECT from \[127\.0\.0\.9\]:\d+ to \[127\.0\.0\.1\]:%d$" % port,
                        timeout=30)
        mx.wait_for_log(r"ALLOWLISTED \[127\.0\.0\.9\]:\d+$")
        self.assertNotIn("warning: haproxy read", mx.log())

    # -- headers written by the test ----------------------------------------------
    def test_header_and_early_bytes_in_one_segment(self):
        """Bytes behind the header in the same read are the client's: a pregreet."""
        mx, port = self.gateway(pregreet=True)
        s = self.raw(port, "127.0.0.8")
        s.sendall(b"PROXY TCP4 192.0.2.7 127.0.0.1 4321 25\r\nEHLO x\r\n")
        mx.wait_for_log(r"PREGREET 8 after \S+ from \[192\.0\.2\.7\]:4321: EHLO x\\r\\n$")
        self.assertEqual(mx.postscreen_messages("[192.0.2.7]:4321")[0],
                         "CONNECT from [192.0.2.7]:4321 to [127.0.0.1]:25")

    def test_malformed_header(self):
        """Malformed: the exact warning (C-escaped header) and 421."""
        mx, port = self.gateway()
        for data in (b"PROXY TCP4 1.2.3.4\r\n", b"PROXY TCP4 1.2.3.4 4.3.2.1 1 99999\r\n",
                     b"EHLO client.example\r\n", v2_header(1, 0x11, b"\x01\x02\x03")):
            with self.subTest(data=data):
                s = self.raw(port)
                s.sendall(data)
                self.assert_refused(mx, s, "warning: haproxy read: unrecognized protocol "
                                           "header: " + c_escape(data))
        self.assert_log_format(mx)

    def test_v1_unknown_refused(self):
        """v1 UNKNOWN would sidestep the access list: refused like malformed input."""
        mx, port = self.gateway()
        s = self.raw(port)
        s.sendall(b"PROXY UNKNOWN\r\n")
        self.assert_refused(mx, s, "warning: haproxy read: unrecognized protocol header: "
                                   "PROXY UNKNOWN\\r\\n")

    def test_v2_local_uses_socket_endpoints(self):
        """v2 LOCAL: the socket's own endpoints, then screening as usual."""
        mx, port = self.gateway()
        s = self.raw(port, "127.0.0.7")
        s.sendall(v2_header(0))
        s.settimeout(10)
        self.assertEqual(s.recv(4096), (BACKEND_BANNER[0] + "\r\n").encode())
        endpoint = "[127.0.0.7]:%d" % s.getsockname()[1]
        self.assertEqual(mx.postscreen_messages(endpoint), [
            "CONNECT from %s to [127.0.0.1]:%d" % (endpoint, port),
            "ALLOWLISTED %s" % endpoint])

    def test_timeout(self):
        """Nothing, or a header sent a byte at a time (slowloris): time limit."""
        mx, port = self.gateway(timeout="1s")
        for slow in (False, True):
            with self.subTest(slow=slow):
                warning = "warning: haproxy read: time limit exceeded"
                seen = mx.messages(self.POSTSCREEN).count(warning)
                t0 = time.monotonic()
                s = self.raw(port)
                if slow:
                    for b in b"PROXY TCP4 ":
                        s.send(bytes([b]))
                        time.sleep(0.1)
                self.assert_refused(mx, s, warning, seen_before=seen)
                elapsed = time.monotonic() - t0
                self.assertGreater(elapsed, 0.9)
                self.assertLess(elapsed, 3.0)

    def test_eof(self):
        """The client hangs up inside the header."""
        mx, port = self.gateway()
        s = self.raw(port)
        s.sendall(b"PROXY TCP4 1.2")
        s.shutdown(socket.SHUT_WR)
        self.assert_refused(mx, s, "warning: haproxy read: EOF")

    def test_v1_refused_when_only_v2_accepted(self):
        """versions: [v2] refuses a v1 header."""
        mx, port = self.gateway(versions=["v2"])
        s = self.raw(port)
        s.sendall(b"PROXY TCP4 192.0.2.7 127.0.0.1 4321 25\r\n")
        self.assert_refused(mx, s, "warning: haproxy read: unrecognized protocol header: "
                                   "PROXY TCP4 192.0.2.7 127.0.0.1 4321 25\\r\\n")


if __name__ == "__main__":
    unittest.main()
