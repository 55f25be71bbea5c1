"""dnsbl_peers - a real DNSBL server (rbldnsd) for the DNSBL integration tests

SYNOPSIS
    from dnsbl_peers import Rbldnsd, DropProxy, free_udp_port

DESCRIPTION
    Rbldnsd     rbldnsd(8) in the foreground on 127.0.0.1:PORT (a free UDP
                port), serving zones written into a temporary directory:
                Rbldnsd({"bl.test": ("ip4set", text), ...}).start().
                host= binds another loopback address (with port=53 it can
                serve a resolver that cannot be given a port: resolv.conf).
    DropProxy   a UDP relay on 127.0.0.1 in a thread: queries for names under
                the given domains are swallowed (a list that never answers),
                all others go to the upstream server and its answers back.
                This is how one resolver address serves both answering lists
                and a black-holed one, like a local caching resolver with a
                stub zone pointing at a dead server.
    free_udp_port()  a UDP port on 127.0.0.1 free at the time of the call.

    Everything stays on loopback; no public DNSBL is ever asked.
"""

import os
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

RBLDNSD = "/usr/sbin/rbldnsd"


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _qname(packet):
    """The question name of a DNS query, lower case ('' if malformed)."""
    labels, i = [], 12
    while i < len(packet):
        n = packet[i]
        if n == 0 or n & 0xC0:
            break
        labels.append(packet[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += n + 1
    return ".".join(labels).lower()


class Rbldnsd:
    def __init__(self, zones, port=None, host="127.0.0.1"):
        self.zones = zones
        self.host = host
        self.port = port or free_udp_port()
        self.dir = tempfile.mkdtemp(prefix="mxs-rbldnsd-")
        # rbldnsd drops to its own user: it must be able to read the zones.
        os.chmod(self.dir, 0o755)
        self.proc = None

    @property
    def address(self):
        return "%s:%d" % (self.host, self.port)

    def start(self, timeout=10.0):
        args = [RBLDNSD, "-n", "-b", "%s/%d" % (self.host, self.port), "-w", self.dir,
                "-p", os.path.join(self.dir, "pid")]
        for name, (kind, text) in sorted(self.zones.items()):
            fname = name + ".zone"
            with open(os.path.join(self.dir, fname), "w") as f:
                f.write(text)
            os.chmod(os.path.join(self.dir, fname), 0o644)
            args.append("%s:%s:%s" % (name, kind, fname))
        self.log = open(os.path.join(self.dir, "rbldnsd.out"), "wb")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        # Ready when it answers: a query for the first zone's apex.
        deadline = time.monotonic() + timeout
        first = sorted(self.zones)[0]
        query = (b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00" +
                 b"".join(bytes([len(p)]) + p.encode() for p in first.split(".")) +
                 b"\x00\x00\x06\x00\x01")
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.2)
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                s.sendto(query, (self.host, self.port))
                try:
                    s.recvfrom(512)
                    return self
                except socket.timeout:
                    continue
        self.stop()
        with open(os.path.join(self.dir, "rbldnsd.out"), errors="replace") as f:
            raise RuntimeError("rbldnsd did not start:\n" + f.read())

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()
        self.proc = None
        if os.environ.get("MXSCREEN_KEEP_TMP", "") in ("", "0"):
            shutil.rmtree(self.dir, ignore_errors=True)


class DropProxy:
    def __init__(self, upstream_port, drop_domains):
        self.upstream = ("127.0.0.1", upstream_port)
        self.drop = [d.lower() for d in drop_domains]
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.dropped = []             # names swallowed
        self._stop = False
        self._pending = {}            # upstream socket -> client address
        self._thread = threading.Thread(target=self._loop, daemon=True)

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def start(self):
        self._thread.start()
        return self

    def _loop(self):
        while not self._stop:
            socks = [self.sock] + list(self._pending)
            ready, _, _ = select.select(socks, [], [], 0.1)
            for s in ready:
                if s is self.sock:
                    data, client = s.recvfrom(4096)
                    name = _qname(data)
                    if any(name == d or name.endswith("." + d) for d in self.drop):
                        self.dropped.append(name)
                        continue
                    up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    up.sendto(data, self.upstream)
                    self._pending[up] = client
                else:
                    data, _ = s.recvfrom(4096)
                    self.sock.sendto(data, self._pending.pop(s))
                    s.close()

    def stop(self):
        self._stop = True
        self._thread.join(5)
        for s in self._pending:
            s.close()
        self.sock.close()
