"""Log sinks: a maillog_file-style file (reopened on SIGUSR1), syslog
datagrams to a socket the test owns, and stderr; all in Postfix's layout."""
import os
import sys
import re
import signal
import socket
import subprocess
import tempfile
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

LINE_FILE = re.compile(r"^[A-Z][a-z]{2} \d{2} \d{2}:\d{2}:\d{2} mx\.test\.example postfix/postscreen\[(\d+)\]: (.*)$")
LINE_SYSLOG = re.compile(r"^<(\d+)>[A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} postfix-in/postscreen\[(\d+)\]: (.*)$")


def config(port, logging, program_name=None):
    lines = ["hostname: mx.test.example", "workers: 1", "logging: %s" % logging,
             "listeners:", "  - address: 127.0.0.1:%d" % port]
    if program_name:
        lines.append("    program_name: %s" % program_name)
    lines += ["    filters:",
              "      - { name: access_cidr, action: drop, typed_config: { access_list: [ { cidr: { lines: [\"127.0.0.0/8 reject\"] } } ] } }",
              "    handoff: { backends: [\"127.0.0.1:9\"] }"]
    return "\n".join(lines) + "\n"


def read(path):
    with open(path, errors="replace") as f:
        return f.read()


def denied_client(port, source="127.0.0.2"):
    c = harness.SmtpClient("127.0.0.1", port, source_ip=source)
    reply = c.read_line()
    c.close()
    return c.endpoint, reply


class FileSink(unittest.TestCase):
    def test_layout_and_reopen_on_sigusr1(self):
        port = harness.free_port()
        gw = harness.Mxscreen(config(port, "{ sink: file, path: @DIR@/mail.log }"))
        gw.start()
        self.addCleanup(gw.stop)
        client, reply = denied_client(port)
        self.assertEqual(reply, "521 5.3.2 Service currently unavailable")
        gw.wait_for_log(r"DISCONNECT \[127\.0\.0\.2\]")
        lines = [l for l in read(gw.log_path).splitlines() if "postfix/postscreen" in l]
        self.assertEqual([LINE_FILE.match(l).group(2) for l in lines],
                         ["CONNECT from %s to [127.0.0.1]:%d" % (client, port),
                          "DENYLISTED %s" % client, "DISCONNECT %s" % client])
        self.assertEqual({LINE_FILE.match(l).group(1) for l in lines}, {str(gw.pid)})

        # logrotate: move the file away, signal, and the next lines go to a new file.
        os.rename(gw.log_path, gw.log_path + ".1")
        os.kill(gw.pid, signal.SIGUSR1)
        deadline = time.time() + 5
        while not os.path.exists(gw.log_path) and time.time() < deadline:
            time.sleep(0.05)
        client2, _ = denied_client(port, "127.0.0.3")
        gw.wait_for_log(r"DISCONNECT \[127\.0\.0\.3\]")
        self.assertIn("CONNECT from %s" % client2, read(gw.log_path))
        self.assertNotIn("127.0.0.3", read(gw.log_path + ".1"))


class SyslogSink(unittest.TestCase):
    def test_datagrams_in_rfc3164_layout(self):
        d = tempfile.mkdtemp(prefix="mxs-syslog-")
        path = os.path.join(d, "log.sock")
        rx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        rx.bind(path)
        rx.settimeout(5)
        self.addCleanup(lambda: (rx.close(), os.unlink(path), os.rmdir(d)))
        port = harness.free_port()
        gw = harness.Mxscreen(config(port, "{ sink: syslog, syslog_socket: %s, syslog_facility: mail }" % path,
                                     program_name="postfix-in/postscreen"))
        gw.start()
        self.addCleanup(gw.stop)
        client, reply = denied_client(port)
        self.assertEqual(reply, "521 5.3.2 Service currently unavailable")
        got = []
        while len(got) < 3:
            msg = rx.recv(4096).decode()
            m = LINE_SYSLOG.match(msg)
            if m is None:
                continue  # the start-up line is written under "mxscreen"
            self.assertEqual(int(m.group(1)), 2 * 8 + 6, msg)  # mail.info
            self.assertEqual(m.group(2), str(gw.pid))
            got.append(m.group(3))
        self.assertEqual(got, ["CONNECT from %s to [127.0.0.1]:%d" % (client, port),
                               "DENYLISTED %s" % client, "DISCONNECT %s" % client])

    def test_missing_socket_is_a_startup_error(self):
        d = tempfile.mkdtemp(prefix="mxs-syslog-")
        cfg = os.path.join(d, "c.yaml")
        with open(cfg, "w") as f:
            f.write(config(harness.free_port(), "{ sink: syslog, syslog_socket: /nonexistent/log }"))
        r = subprocess.run([os.path.join(harness.BUILD_DIR, "mxscreen"), "run", "--config", cfg],
                           capture_output=True, text=True, timeout=10)
        os.unlink(cfg)
        os.rmdir(d)
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "mxscreen: cannot connect to syslog socket /nonexistent/log: "
                                   "No such file or directory\n")


class StderrSink(unittest.TestCase):
    def test_same_layout_on_stderr(self):
        port = harness.free_port()
        gw = harness.Mxscreen(config(port, "{ sink: stderr }"))
        gw.start()
        client, _ = denied_client(port)
        time.sleep(0.3)
        stderr_path = gw.stderr_path
        text = read(stderr_path)
        gw.stop()
        lines = [LINE_FILE.match(l).group(2) for l in text.splitlines() if "postfix/postscreen" in l]
        self.assertEqual(lines, ["CONNECT from %s to [127.0.0.1]:%d" % (client, port),
                                 "DENYLISTED %s" % client, "DISCONNECT %s" % client])


if __name__ == "__main__":
    unittest.main()
