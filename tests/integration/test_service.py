"""test_service - mxscreen as a system service: the shipped unit files, the
readiness notification, the privilege drop, the SIGTERM drain and SIGUSR1

SYNOPSIS
    /usr/bin/python3 -m unittest -v tests/integration/test_service.py

DESCRIPTION
    Unit files (dist/systemd, dist/logrotate): `systemd-analyze verify` of the
    unit, alone and with the run-as-user drop-in, says nothing (a copy whose
    ExecStart points at the build's binary: verify wants it to exist; a copy
    with a misspelt key shows the check can fail); systemd-sysusers and
    systemd-tmpfiles apply the snippets to a scratch root; the real logrotate
    runs the snippet (paths and the signal command adapted) against a running
    gateway.

    Readiness: with $NOTIFY_SOCKET naming a datagram socket of the test (a
    path, or "@name" in the abstract namespace), the gateway sends READY=1
    once it listens, and STOPPING=1 when a drain starts.

    Privilege drop (as root): a user made with useradd for the test; the
    gateway binds a port below 1024, then every thread of it (read from
    /proc/PID/task/*/status) has that user's uid, gid and no other group and
    no capability; screening still works, and the verdict store goes on
    writing (new table files, owned by the user, from the periodic
    compaction); a store directory the user cannot write, an unknown user
    and a gateway not started as root are refused with exact messages; a
    gateway fed by a real mxscreen-control switches once its first pushed
    config serves, and ACKs (and caches) later pushes as the user.

    Drain (a real Postfix behind the gateway): after SIGTERM the listeners
    close at once (a connect is refused) while a session mid-transaction
    finishes its mail; a screened session in its greet wait is still handed
    off; a session that outlives drain_time is closed and the process exits
    soon after; a second signal ends the drain at once. The exact log lines.

    SIGUSR1: under a steady stream of clients the log file is renamed and
    the gateway signalled: every client's three lines are in exactly one of
    the two files, and the new file begins with "reopened log file PATH".
"""

import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (REPO_DIR, BUILD_DIR, Mxscreen, MxscreenTestCase, PostfixInstance,  # noqa: E402
                     SinkBackend, free_port, gateway_config, screening_config,
                     parse_maillog, wait_until_listening)
from control_peers import ControlPlane, FleetGateway, fleet_config  # noqa: E402

DIST = os.path.join(REPO_DIR, "dist")
UNIT = os.path.join(DIST, "systemd", "mxscreen.service")
MXSCREEN = os.path.join(BUILD_DIR, "mxscreen")
MX_HOSTNAME = "mx.test.example"
BACKEND_HOSTNAME = "backend.test.example"
BACKEND_BANNER = "220 %s ESMTP Postfix" % BACKEND_HOSTNAME
TEASER = "220-%s ESMTP Postfix" % MX_HOSTNAME
SINK_BANNER = "220 sink.test.example ESMTP"
IS_ROOT = os.geteuid() == 0


def with_top(config_text, *lines):
    """The config with top-level lines (e.g. "drain_time: 2s") in front."""
    return "".join(l + "\n" for l in lines) + config_text


def low_free_port():
    """Port 25 if nothing holds it, else a free port below 1024."""
    for port in [25] + list(range(1023, 600, -1)):
        s = socket.socket()
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    raise unittest.SkipTest("no free port below 1024")


def task_status(pid):
    """{tid: {field: value}} from /proc/PID/task/*/status."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        fields = {}
        try:
            with open("/proc/%d/task/%s/status" % (pid, tid)) as f:
                for line in f:
                    k, _, v = line.partition(":")
                    fields[k] = v.strip()
        except FileNotFoundError:
            continue
        out[int(tid)] = fields
    return out


def refused(port, timeout=2.0):
    """True when a connect to 127.0.0.1:port is refused."""
    s = socket.socket()
    s.settimeout(timeout)
    try:
        s.connect(("127.0.0.1", port))
        return False
    except ConnectionRefusedError:
        return True
    finally:
        s.close()


def read_text(path):
    with open(path, errors="replace") as f:
        return f.read()


def mxscreen_messages(mx):
    return [e.msg for e in mx.entries("mxscreen")]


# ---------------------------------------------------------------------------
# The shipped files
# ---------------------------------------------------------------------------

@unittest.skipUnless(shutil.which("systemd-analyze"), "systemd-analyze not installed")
class UnitFiles(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="mxs-unit-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def unit_copy(self, extra=""):
        """The unit with the build's binary in place of /usr/local/bin/mxscreen."""
        with open(UNIT) as f:
            text = f.read()
        self.assertEqual(text.count("/usr/local/bin/mxscreen"), 3)
        path = os.path.join(self.dir, "mxscreen.service")
        text = text.replace("/usr/local/bin/mxscreen", MXSCREEN)
        with open(path, "w") as f:
            f.write(text.replace("\n[Install]\n", "\n%s[Install]\n" % extra))
        return path

    def verify(self, path, env=None):
        return subprocess.run(["systemd-analyze", "verify", path], capture_output=True, text=True,
                              timeout=60, env=dict(os.environ, **(env or {})))

    def test_unit_verifies_without_a_word(self):
        r = self.verify(self.unit_copy())
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "", ""))

    def test_a_bad_key_is_reported(self):
        # The check above can fail: verify reports what it does not know.
        r = self.verify(self.unit_copy("NoNewPrivilege=yes\n"))
        self.assertIn("Unknown key 'NoNewPrivilege' in section [Service]", r.stdout + r.stderr)

    def test_run_as_user_drop_in_verifies(self):
        path = self.unit_copy()
        os.mkdir(path + ".d")
        shutil.copy(os.path.join(DIST, "systemd", "run-as-user.conf"), path + ".d")
        # The unit path makes verify load the drop-in directory next to the unit.
        r = self.verify(path, env={"SYSTEMD_UNIT_PATH": self.dir + ":"})
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "", ""))
        with open(os.path.join(path + ".d", "run-as-user.conf"), "a") as f:
            f.write("AmbientCapability=CAP_NET_BIND_SERVICE\n")
        r = self.verify(path, env={"SYSTEMD_UNIT_PATH": self.dir + ":"})
        self.assertIn("Unknown key 'AmbientCapability'", r.stdout + r.stderr)

    def test_unit_settings(self):
        with open(UNIT) as f:
            settings = [l.strip() for l in f if "=" in l and not l.startswith("#")]
        for expected in ["Type=notify", "ExecReload=/bin/kill -HUP $MAINPID",
                         "Restart=on-failure", "NoNewPrivileges=yes", "ProtectSystem=strict",
                         "ReadWritePaths=/var/lib/mxscreen -/var/log/mxscreen",
                         "PrivateTmp=yes", "LimitNOFILE=65536", "TimeoutStopSec=60s"]:
            self.assertIn(expected, settings)

    def test_sysusers_and_tmpfiles_in_a_scratch_root(self):
        root = os.path.join(self.dir, "root")
        os.makedirs(os.path.join(root, "etc"))
        shutil.copy("/etc/group", os.path.join(root, "etc", "group"))  # for "adm"
        r = subprocess.run(["systemd-sysusers", "--root=" + root,
                            os.path.join(DIST, "systemd", "mxscreen.sysusers")],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(root, "etc", "passwd")) as f:
            line = [l for l in f.read().splitlines() if l.startswith("mxscreen:")]
        self.assertEqual(len(line), 1)
        name, _, uid, gid, gecos, home, shell = line[0].split(":")
        self.assertEqual((gecos, home, shell), ("mxscreen SMTP connection screener",
                                                "/var/lib/mxscreen", "/usr/sbin/nologin"))
        r = subprocess.run(["systemd-tmpfiles", "--root=" + root, "--create",
                            os.path.join(DIST, "systemd", "mxscreen.tmpfiles")],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        import grp
        adm = grp.getgrnam("adm").gr_gid
        for rel, mode, owner in [("var/lib/mxscreen", 0o750, (int(uid), int(gid))),
                                 ("var/log/mxscreen", 0o750, (int(uid), adm)),
                                 ("etc/mxscreen", 0o755, (0, 0))]:
            st = os.stat(os.path.join(root, rel))
            self.assertEqual((st.st_mode & 0o7777, (st.st_uid, st.st_gid)), (mode, owner), rel)


# ---------------------------------------------------------------------------
# sd_notify
# ---------------------------------------------------------------------------

class Readiness(MxscreenTestCase):

    def notify_socket(self, abstract):
        rx = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = "mxs-notify-%s" % uuid.uuid4().hex
            rx.bind("\0" + name)
            env_value = "@" + name
        else:
            d = tempfile.mkdtemp(prefix="mxs-notify-")
            self.addCleanup(shutil.rmtree, d, True)
            env_value = os.path.join(d, "notify")
            rx.bind(env_value)
        rx.settimeout(10)
        self.addCleanup(rx.close)
        return rx, env_value

    def start_with_notify(self, env_value, config):
        old = os.environ.get("NOTIFY_SOCKET")
        os.environ["NOTIFY_SOCKET"] = env_value
        try:
            return self.start_gateway(config)
        finally:
            if old is None:
                del os.environ["NOTIFY_SOCKET"]
            else:
                os.environ["NOTIFY_SOCKET"] = old

    def check(self, abstract):
        rx, env_value = self.notify_socket(abstract)
        port = free_port()
        mx = self.start_with_notify(env_value, gateway_config(port, ["127.0.0.1:9"]))
        msg = rx.recv(4096).decode()
        self.assertEqual(msg, "READY=1\nSTATUS=serving 1 listener(s)\nMAINPID=%d" % mx.pid)
        mx.stop(drain=True)
        self.assertEqual(mx.returncode, 0)
        self.assertEqual(rx.recv(4096).decode(), "STOPPING=1\nSTATUS=draining 0 connection(s)")

    def test_ready_and_stopping_to_a_socket_path(self):
        self.check(abstract=False)

    def test_ready_to_an_abstract_socket(self):
        self.check(abstract=True)


# ---------------------------------------------------------------------------
# Dropping root
# ---------------------------------------------------------------------------

@unittest.skipUnless(IS_ROOT and shutil.which("useradd"), "needs root and useradd")
class PrivilegeDrop(MxscreenTestCase):

    @classmethod
    def setUpClass(cls):
        cls.user = "mxs-t%d" % os.getpid()
        subprocess.run(["useradd", "--system", "--no-create-home", "--user-group",
                        "--shell", "/usr/sbin/nologin", cls.user], check=True, timeout=30)
        cls.addClassCleanup(subprocess.run, ["userdel", cls.user], timeout=30)
        pw = pwd.getpwnam(cls.user)
        cls.uid, cls.gid = pw.pw_uid, pw.pw_gid
        cls.sink = SinkBackend(SINK_BANNER).start()
        cls.addClassCleanup(cls.sink.stop)

    def config(self, port, user=None, cleanup="1s"):
        text = screening_config(port, [self.sink.address], [{"name": "pregreet"}],
                                hostname=MX_HOSTNAME, greet_wait="1s", workers=2)
        # The store compacts every second: new table files after the drop.
        text = text.replace("store: { path: @DIR@/store }",
                            "store: { path: @DIR@/store, cleanup_interval: %s }" % cleanup)
        return with_top(text, "user: %s" % (user or self.user))

    def gateway(self, port, **kw):
        mx = Mxscreen(self.config(port, **kw))
        self.addCleanup(mx.stop)
        os.chmod(mx.dir, 0o755)     # the user must reach its store below it
        return mx

    def test_drop_after_binding_a_low_port(self):
        port = low_free_port()
        mx = self.gateway(port)
        mx.start()
        mx.wait_for_message("switched to user %s (uid %d, gid %d)" % (self.user, self.uid, self.gid),
                            "mxscreen")
        messages = mxscreen_messages(mx)
        self.assertEqual(messages[:2], [
            "listener smtp on [127.0.0.1]:%d with 1 filters, 2 workers" % port,
            "switched to user %s (uid %d, gid %d)" % (self.user, self.uid, self.gid)])
        # Every thread: the workers, RocksDB's, the store's.
        tasks = task_status(mx.pid)
        self.assertGreaterEqual(len(tasks), 4, tasks)
        for tid, st in tasks.items():
            self.assertEqual(st["Uid"].split(), [str(self.uid)] * 4, tid)
            self.assertEqual(st["Gid"].split(), [str(self.gid)] * 4, tid)
            self.assertEqual(st["Groups"], str(self.gid), tid)
            self.assertEqual(st["CapEff"], "0" * 16, tid)
            self.assertEqual(st["CapPrm"], "0" * 16, tid)
        store = os.path.join(mx.dir, "store")
        st = os.stat(store)
        self.assertEqual((st.st_uid, st.st_gid, st.st_mode & 0o777), (self.uid, self.gid, 0o750))

        # Screening still works: a silent client passes and is handed off...
        c = self.connect(port, "127.0.7.1")
        self.assertEqual(c.read_line(), TEASER)
        self.assertEqual(c.read_line(timeout=5), SINK_BANNER)
        mx.wait_for_log(r"PASS NEW \[127\.0\.7\.1\]:\d+$")
        # ...and its pass reaches the disk as table files the user made.
        deadline = time.monotonic() + 10
        owned = []
        while not owned and time.monotonic() < deadline:
            owned = [n for n in os.listdir(store) if n.endswith(".sst")
                     and os.stat(os.path.join(store, n)).st_uid == self.uid]
            time.sleep(0.1)
        self.assertTrue(owned, sorted(os.listdir(store)))
        c2 = self.connect(port, "127.0.7.1")
        self.assertEqual(c2.read_line(), SINK_BANNER)       # PASS OLD: no teaser
        mx.wait_for_log(r"PASS OLD \[127\.0\.7\.1\]:\d+$")
        self.assertEqual(mx.stop(), 0)
        self.assertNotIn("warning", mx.log())
        r = mx.verdict_get("127.0.7.1")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("pregreet", r.stdout)

    def test_reload_to_a_new_low_port_is_refused_with_the_reason(self):
        port = free_port()
        mx = self.gateway(port)
        mx.start()
        mx.wait_for_log(r"switched to user ")
        low = low_free_port()
        with open(mx.config_path, "w") as f:
            f.write(self.config(low).replace("@DIR@", mx.dir))
        mx.proc.send_signal(signal.SIGHUP)
        mx.wait_for_message(
            "warning: reload of %s refused: cannot listen on [127.0.0.1]:%d: Permission denied "
            "(the gateway runs as user %s since start-up: a new port below 1024, or a store or "
            "file only root may open, needs a restart)" % (mx.config_path, low, self.user),
            "mxscreen")
        c = self.connect(port, "127.0.7.2")
        self.assertEqual(c.read_line(), TEASER)

    def test_store_directory_the_user_cannot_write(self):
        port = free_port()
        mx = self.gateway(port)
        store = os.path.join(mx.dir, "store")
        os.mkdir(store, 0o755)       # root's
        mx.proc = subprocess.Popen([mx.binary, "run", "--config", mx.config_path],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        out, err = mx.proc.communicate(timeout=20)
        mx.returncode = mx.proc.returncode
        self.assertEqual(mx.returncode, 1, err)
        reason = ("verdict store of listener smtp: %s is not writable by user %s (Permission "
                  "denied): make the user its owner, e.g. chown %s: %s"
                  % (store, self.user, self.user, store))
        self.assertEqual(err, "mxscreen: %s\n" % reason)
        self.assertEqual(mxscreen_messages(mx)[-1], "fatal: " + reason)

    def test_unknown_user_is_a_config_error(self):
        mx = self.gateway(free_port(), user="no-such-user-mxs")
        r = subprocess.run([mx.binary, "run", "--config", mx.config_path], capture_output=True,
                           text=True, timeout=20)
        self.assertEqual((r.returncode, r.stderr),
                         (2, "mxscreen: %s: user: no such user: no-such-user-mxs\n"
                          % mx.config_path))
        # validate (the unit's ExecStartPre) says the same.
        r = subprocess.run([mx.binary, "validate", "--config", mx.config_path],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual((r.returncode, r.stderr),
                         (2, "mxscreen: %s: user: no such user: no-such-user-mxs\n"
                          % mx.config_path))

    def test_not_started_as_root(self):
        port = free_port()
        cfg = with_top(screening_config(port, [self.sink.address], [{"name": "pregreet"}],
                                        store=False).replace(
                                            "logging: { sink: file, path: @DIR@/mxscreen.log }",
                                            "logging: { sink: stderr }"),
                       "user: %s" % self.user)
        d = tempfile.mkdtemp(prefix="mxs-nonroot-")
        self.addCleanup(shutil.rmtree, d, True)
        path = os.path.join(d, "c.yaml")
        with open(path, "w") as f:
            f.write(cfg)
        os.chmod(d, 0o755)
        nobody = pwd.getpwnam("nobody")

        def as_nobody():
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
        r = subprocess.run([MXSCREEN, "run", "--config", path], capture_output=True, text=True,
                           timeout=20, preexec_fn=as_nobody)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertRegex(r.stderr.splitlines()[-1],
                         r"mxscreen\[\d+\]: fatal: cannot switch to user %s: not started as "
                         r"root \(uid %d\)$" % (re.escape(self.user), nobody.pw_uid))
        # Already that user (systemd's User=): nothing to switch, and it runs.
        with open(path, "w") as f:
            f.write(cfg.replace("user: %s" % self.user, "user: nobody"))
        p = subprocess.Popen([MXSCREEN, "run", "--config", path], stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True, preexec_fn=as_nobody)
        try:
            wait_until_listening("127.0.0.1", port, 10, alive=lambda: p.poll() is None)
        finally:
            p.send_signal(signal.SIGTERM)
            _, err = p.communicate(timeout=20)
        self.assertEqual(p.returncode, 0, err)
        self.assertIn("mxscreen[%d]: running as user nobody (uid %d, gid %d)"
                      % (p.pid, nobody.pw_uid, nobody.pw_gid), err)

    def test_log_reopen_after_the_switch(self):
        port = free_port()
        mx = self.gateway(port)
        mx.start()
        mx.wait_for_log(r"switched to user ")
        rotated = mx.log_path + ".1"
        # The log's directory is root's: the user cannot create the new file,
        # so the gateway stays on the old one and says so there.
        os.rename(mx.log_path, rotated)
        os.kill(mx.pid, signal.SIGUSR1)
        deadline = time.monotonic() + 10
        while "cannot reopen" not in read_text(rotated) and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertIn("mxscreen[%d]: warning: cannot reopen log file %s: Permission denied; "
                      "still writing to the old file\n" % (mx.pid, mx.log_path),
                      read_text(rotated))
        self.assertFalse(os.path.exists(mx.log_path))
        c = self.connect(port, "127.0.7.3")
        self.assertEqual(c.read_line(), TEASER)
        c.close()
        # As logrotate's "create 0640 USER GROUP" would: the file is there and
        # the user's, so the reopen works.
        with open(mx.log_path, "w"):
            pass
        os.chown(mx.log_path, self.uid, self.gid)
        os.kill(mx.pid, signal.SIGUSR1)
        mx.wait_for_message("reopened log file %s" % mx.log_path, "mxscreen")
        self.assertRegex(read_text(rotated), r"CONNECT from \[127\.0\.7\.3\]:\d+ to ")

    def test_control_plane_gateway_switches_once_it_serves(self):
        cp = ControlPlane()
        self.addCleanup(cp.stop)
        cp.start()
        port = free_port()
        gw = FleetGateway(cp, "gw1", "eu", port)
        gw.config_text = "user: %s\n" % self.user + gw.config_text
        with open(gw.config_path, "w") as f:
            f.write(gw.config_text)
        # Its directory holds the push cache and the store: the user's.
        os.chown(gw.dir, self.uid, self.gid)
        self.addCleanup(gw.stop)
        gw.start()
        gw.wait_for_log(r"waiting for the first config of fleet eu")
        path = os.path.join(cp.dir, "fleet.yaml")
        for version, wait in (("1", "1s"), ("2", "2s")):
            with open(path, "w") as f:
                f.write(fleet_config([{"name": "pregreet"}], [self.sink.address],
                                     greet_wait=wait, hostname=MX_HOSTNAME))
            r = cp.ctl("push", path, "--fleet", "eu")
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertIn("fleet eu version %s: 1 ACK, 0 NACK" % version, r.stdout)
            if version == "1":
                gw.wait_for_message("switched to user %s (uid %d, gid %d)"
                                    % (self.user, self.uid, self.gid), "mxscreen")
        for tid, st in task_status(gw.pid).items():
            self.assertEqual(st["Uid"].split(), [str(self.uid)] * 4, tid)
        # Version 2's cache was written after the switch, by the user.
        self.assertEqual(os.stat(os.path.join(gw.dir, "pushed-config.binpb")).st_uid, self.uid)
        c = self.connect(port, "127.0.7.9")
        self.assertEqual(c.read_line(), TEASER)
        self.assertEqual(c.read_line(timeout=5), SINK_BANNER)


# ---------------------------------------------------------------------------
# SIGTERM: the drain
# ---------------------------------------------------------------------------

class Drain(MxscreenTestCase):

    @classmethod
    def setUpClass(cls):
        cls.backend = PostfixInstance("backend", proxy=True, hostname=BACKEND_HOSTNAME)
        cls.addClassCleanup(cls.backend.stop)
        cls.backend.start()

    def allowlisting_gateway(self, drain_time):
        port = free_port()
        cfg = gateway_config(port, [self.backend.address], access_list=["permit_mynetworks"],
                             mynetworks=["127.0.0.1/32"], hostname=MX_HOSTNAME)
        return self.start_gateway(with_top(cfg, "drain_time: %s" % drain_time)), port

    def relayed(self, port):
        c = self.connect(port, "127.0.0.1")
        self.assertEqual(c.read_line(), BACKEND_BANNER)
        self.assertEqual(c.command("EHLO client.example")[-1], "250 CHUNKING")
        return c

    def drain_started(self, mx, sig, count, drain_time):
        return mx.wait_for_message(
            "terminating on signal %d: listeners closed, draining %d connection(s) for up to %ds"
            % (sig, count, drain_time), "mxscreen")

    def test_mail_in_flight_finishes_and_new_connections_are_refused(self):
        mx, port = self.allowlisting_gateway("20s")
        c = self.relayed(port)
        self.assertEqual(c.command("MAIL FROM:<a@b.example>"), ["250 2.1.0 Ok"])
        self.assertEqual(c.command("RCPT TO:<c@d.example>"), ["250 2.1.5 Ok"])
        t0 = time.monotonic()
        mx.proc.send_signal(signal.SIGTERM)
        self.drain_started(mx, signal.SIGTERM, 1, 20)
        self.assertTrue(refused(port), "a connect after SIGTERM was accepted")
        self.assertEqual(c.command("DATA"), ["354 End data with <CR><LF>.<CR><LF>"])
        for line in ["Subject: drain", "", "sent during the drain", "."]:
            c.send_line(line)
        reply = c.read_reply()
        self.assertRegex(reply[0], r"^250 2\.0\.0 Ok: queued as [0-9A-F]+$")
        qid = reply[0].rsplit(" ", 1)[1]
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.expect_closed()
        c.close()
        self.assertEqual(mx.proc.wait(15), 0)
        mx.returncode = 0
        self.assertLess(time.monotonic() - t0, 15)
        messages = mxscreen_messages(mx)
        self.assertRegex(messages[-1], r"^drain done after \d+\.\ds: no connections left$")
        self.backend.wait_for_log(r"postfix/discard\[\d+\]: %s: .*status=sent" % qid)

    def test_a_session_in_its_greet_wait_is_still_handed_off(self):
        port = free_port()
        cfg = screening_config(port, [self.backend.address], [{"name": "pregreet"}],
                               hostname=MX_HOSTNAME, greet_wait="2s")
        mx = self.start_gateway(with_top(cfg, "drain_time: 20s"))
        c = self.connect(port, "127.0.8.1")
        self.assertEqual(c.read_line(), TEASER)
        mx.proc.send_signal(signal.SIGTERM)
        self.drain_started(mx, signal.SIGTERM, 1, 20)
        self.assertTrue(refused(port))
        # Postfix's banner completes the teaser once the client has passed.
        self.assertEqual(c.read_line(timeout=10), BACKEND_BANNER)
        mx.wait_for_log(r"PASS NEW \[127\.0\.8\.1\]:\d+$")
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.close()
        self.assertEqual(mx.proc.wait(15), 0)
        mx.returncode = 0

    def test_a_session_that_outlives_drain_time_is_closed(self):
        mx, port = self.allowlisting_gateway("2s")
        c = self.relayed(port)
        t0 = time.monotonic()
        mx.proc.send_signal(signal.SIGTERM)
        self.drain_started(mx, signal.SIGTERM, 1, 2)
        self.assertEqual(mx.proc.wait(10), 0)
        mx.returncode = 0
        took = time.monotonic() - t0
        self.assertGreaterEqual(took, 1.9)
        self.assertLess(took, 2 + 3)    # generous: a loaded machine
        c.expect_closed(timeout=5)
        self.assertEqual(mxscreen_messages(mx)[-1], "drain time 2s is up: closing 1 connection(s)")

    def test_a_second_signal_ends_the_drain_at_once(self):
        mx, port = self.allowlisting_gateway("30s")
        c = self.relayed(port)
        mx.proc.send_signal(signal.SIGTERM)
        self.drain_started(mx, signal.SIGTERM, 1, 30)
        t0 = time.monotonic()
        mx.proc.send_signal(signal.SIGINT)
        self.assertEqual(mx.proc.wait(10), 0)
        mx.returncode = 0
        self.assertLess(time.monotonic() - t0, 3)
        c.expect_closed(timeout=5)
        self.assertEqual(mxscreen_messages(mx)[-1],
                         "signal 2 during the drain: closing 1 connection(s) now")

    def test_sighup_during_the_drain_is_refused(self):
        mx, port = self.allowlisting_gateway("30s")
        c = self.relayed(port)
        mx.proc.send_signal(signal.SIGTERM)
        self.drain_started(mx, signal.SIGTERM, 1, 30)
        mx.proc.send_signal(signal.SIGHUP)
        mx.wait_for_message("warning: reload of %s refused: the gateway is shutting down"
                            % mx.config_path, "mxscreen")
        self.assertTrue(refused(port))
        c.close()


# ---------------------------------------------------------------------------
# SIGUSR1: logrotate
# ---------------------------------------------------------------------------

class Rotation(MxscreenTestCase):
    """Denied clients (one CONNECT, DENYLISTED, DISCONNECT each) while the
    file is rotated; none of their lines may go missing."""

    def gateway(self):
        port = free_port()
        cfg = gateway_config(port, ["127.0.0.1:9"], access_list=[("lines", ["127.0.0.0/8 reject"])],
                             action="drop", hostname=MX_HOSTNAME)
        return self.start_gateway(cfg), port

    def stream_of_clients(self, port, stop):
        done = []

        def run():
            i = 0
            while not stop.is_set() and i < 2000:
                ip = "127.0.%d.%d" % (10 + i // 250, 1 + i % 250)
                c = socket.create_connection(("127.0.0.1", port), timeout=5,
                                             source_address=(ip, 0))
                c.recv(100)
                done.append("[%s]:%d" % c.getsockname())
                c.close()
                i += 1
                time.sleep(0.005)   # a steady stream across the rotation
        t = threading.Thread(target=run)
        t.start()
        return t, done

    def assert_nothing_lost(self, mx, files, clients):
        text = ""
        for p in files:
            with open(p) as f:
                text += f.read()
        entries, bad = parse_maillog(text)
        self.assertEqual(bad, [])
        msgs = [e.msg for e in entries if e.prog == "postfix/postscreen"]
        for client in clients:
            got = [m for m in msgs if m.endswith(" " + client) or (" %s " % client) in m]
            self.assertEqual(len(got), 3, (client, got))

    def test_rename_and_sigusr1_lose_nothing(self):
        mx, port = self.gateway()
        stop = threading.Event()
        t, clients = self.stream_of_clients(port, stop)
        time.sleep(0.5)
        os.rename(mx.log_path, mx.log_path + ".1")
        time.sleep(0.2)     # lines still go to the renamed file meanwhile
        os.kill(mx.pid, signal.SIGUSR1)
        mx.wait_for_log(r"reopened log file")
        time.sleep(0.5)
        stop.set()
        t.join(30)
        n = len(clients)
        mx.wait_for_log(r"DISCONNECT %s$" % re.escape(clients[-1]))
        with open(mx.log_path) as f:
            first = f.readline()
        self.assertRegex(first, r"mxscreen\[%d\]: reopened log file %s$"
                         % (mx.pid, re.escape(mx.log_path)))
        self.assertGreater(n, 20)
        with open(mx.log_path + ".1") as f:
            before = f.read()
        # Clients on both sides of the rotation.
        self.assertIn("DISCONNECT %s" % clients[0], before)
        self.assertNotIn("DISCONNECT %s" % clients[-1], before)
        self.assert_nothing_lost(mx, [mx.log_path + ".1", mx.log_path], clients)
        with open(mx.log_path + ".1") as f:
            self.assertNotIn("reopened", f.read())

    @unittest.skipUnless(shutil.which("logrotate"), "logrotate not installed")
    def test_the_shipped_logrotate_snippet(self):
        mx, port = self.gateway()
        with open(os.path.join(DIST, "logrotate", "mxscreen")) as f:
            snippet = f.read()
        self.assertIn("/var/log/mxscreen/mxscreen.log {", snippet)
        signal_cmd = ("systemctl kill --kill-whom=main --signal=USR1 mxscreen.service "
                      ">/dev/null 2>&1 || true")
        self.assertIn(signal_cmd, snippet)
        me = pwd.getpwuid(os.getuid()).pw_name
        import grp
        group = grp.getgrgid(os.getgid()).gr_name
        snippet = (snippet.replace("/var/log/mxscreen/mxscreen.log", mx.log_path)
                   .replace(signal_cmd, "kill -USR1 %d" % mx.pid)
                   .replace("create 0640 mxscreen adm", "create 0640 %s %s" % (me, group)))
        conf = mx.write_file("logrotate.conf", snippet)
        os.chmod(conf, 0o644)
        stop = threading.Event()
        t, clients = self.stream_of_clients(port, stop)
        time.sleep(0.5)
        r = subprocess.run(["logrotate", "--force", "--state", os.path.join(mx.dir, "lr.state"),
                            conf], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        mx.wait_for_log(r"reopened log file")
        time.sleep(0.3)
        stop.set()
        t.join(30)
        mx.wait_for_log(r"DISCONNECT %s$" % re.escape(clients[-1]))
        # delaycompress: the first rotation stays plain text.
        self.assertTrue(os.path.exists(mx.log_path + ".1"))
        self.assertEqual(os.stat(mx.log_path).st_mode & 0o777, 0o640)
        self.assert_nothing_lost(mx, [mx.log_path + ".1", mx.log_path], clients)


if __name__ == "__main__":
    unittest.main()
