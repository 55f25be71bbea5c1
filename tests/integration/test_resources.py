"""No file descriptor leaks on any path: after drops, engine sessions,
hang-ups, hand-offs (good, failing, cut by either side) and limit rejections,
the gateway holds exactly the descriptors it held before."""
import os
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402


class TinyBackend:
    """A backend that greets, answers QUIT, and can be told to hang up."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.hang_up_at_once = False
        self.stop = False
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except socket.timeout:
                continue
            threading.Thread(target=self.talk, args=(conn,), daemon=True).start()

    def talk(self, conn):
        with conn:
            conn.settimeout(5)
            try:
                if self.hang_up_at_once:
                    return
                conn.sendall(b"220 backend.example ESMTP\r\n")
                buf = b""
                while b"QUIT" not in buf:
                    data = conn.recv(4096)
                    if not data:
                        return
                    buf += data
                conn.sendall(b"221 bye\r\n")
            except OSError:
                return

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()


def fd_count(pid):
    """Sockets and pipes: what connections and relays use. (Files come and go
    with the verdict store's own work and are not a connection's to leak.)"""
    n = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            target = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        n += target.startswith("socket:") or target.startswith("pipe:")
    return n


class NoLeaks(unittest.TestCase):
    def test_every_path_returns_its_descriptors(self):
        backend = TinyBackend()
        self.addCleanup(backend.close)
        port = harness.free_port()
        dead = harness.free_port()
        cfg = harness.gateway_config(
            port, ["127.0.0.1:%d" % backend.port], mynetworks=["127.0.0.1/32"],
            access_list=["permit_mynetworks",
                         ("lines", ["127.0.0.2/32 reject", "127.0.0.3/32 reject", "127.0.0.0/8 dunno"])],
            action="drop", proxy_protocol="none", listener_limits={"client_connection_count_limit": 2})
        # A second listener whose only backend is down, and one that enforces.
        cfg += ("  - name: dead\n    address: 127.0.0.1:%d\n    handoff: { backends: [\"127.0.0.1:%d\"] }\n"
                % (harness.free_port(), dead))
        gw = harness.Mxscreen(cfg)
        gw.start()
        self.addCleanup(gw.stop)
        dead_port = gw.listen[1][1]
        time.sleep(0.3)
        baseline = fd_count(gw.pid)

        for _ in range(3):
            # drop
            c = harness.SmtpClient("127.0.0.1", port, source_ip="127.0.0.2")
            self.assertEqual(c.read_line(), "521 5.3.2 Service currently unavailable")
            c.close()
            # hand-off, full session
            c = harness.SmtpClient("127.0.0.1", port, source_ip="127.0.0.4")
            self.assertEqual(c.read_line(), "220 backend.example ESMTP")
            c.send_line("QUIT")
            self.assertEqual(c.read_line(), "221 bye")
            c.close()
            # hand-off, client resets mid-relay
            c = harness.SmtpClient("127.0.0.1", port, source_ip="127.0.0.5")
            self.assertEqual(c.read_line(), "220 backend.example ESMTP")
            c.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            c.close()
            # hand-off to a backend that hangs up at once
            backend.hang_up_at_once = True
            c = harness.SmtpClient("127.0.0.1", port, source_ip="127.0.0.6")
            c.expect_closed()
            c.close()
            backend.hang_up_at_once = False
            # hand-off failure: no backend
            c = harness.SmtpClient("127.0.0.1", dead_port, source_ip="127.0.0.7")
            self.assertEqual(c.read_line(), "421 4.3.2 All server ports are busy")
            c.close()
            # relayed sessions do not count towards the per-client limit (2):
            # three at once from one address are all handed off.
            held = [harness.SmtpClient("127.0.0.1", port, source_ip="127.0.0.8") for _ in range(3)]
            for h in held:
                self.assertEqual(h.read_line(), "220 backend.example ESMTP")
            for h in held:
                h.close()

        deadline = time.time() + 5
        while fd_count(gw.pid) != baseline and time.time() < deadline:
            time.sleep(0.1)
        self.assertEqual(fd_count(gw.pid), baseline)


if __name__ == "__main__":
    unittest.main()
