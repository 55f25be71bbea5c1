"""control_peers - the control plane, fleet gateways and certificates for tests

SYNOPSIS
    from control_peers import ControlPlane, FleetGateway, Pki, fleet_config

DESCRIPTION
    ControlPlane   BUILD/mxscreen-control on 127.0.0.1:PORT with its store in
                   a temporary directory; stop()/kill() and start() again is a
                   restart on the same store. ctl(*args) runs BUILD/mxscreenctl
                   against it (with the operator certificate given, if any).
    FleetGateway   a gateway whose local bootstrap names the control plane
                   (node id, fleet, its own listener address) and holds no
                   listeners: everything else comes from pushes. files
                   {relative path: text} are written next to the bootstrap
                   (pushed configs name tables relative to it).
    Pki            a CA and certificates made with openssl for a test (EC
                   P-256, valid one day): server, gateways and operators,
                   each identified by its subject CN.
    fleet_config() the YAML of a fleet's gateway config: one listener
                   "smtp" (its address is overridden on every gateway) with
                   the given filter chain and backends.

    Everything listens on 127.0.0.1; plaintext is used only there.
"""

import json
import os
import re
import signal
import subprocess
import tempfile
import time

from harness import (BUILD_DIR, Mxscreen, _EXIT_DIRS, _POPEN_PIDS, _group_members,
                     filter_chain_lines, free_port, reap_orphans, wait_until_listening,
                     port_is_listening, _LogFile)

CONTROL = os.path.join(BUILD_DIR, "mxscreen-control")
CTL = os.path.join(BUILD_DIR, "mxscreenctl")


def push_fleet(test, cp, text, expect_rc=0):
    """Writes text as the fleet file of cp and pushes it to fleet eu;
    asserts mxscreenctl's exit code. As a test class's `push = push_fleet`,
    it is the method self.push(cp, text, expect_rc)."""
    path = os.path.join(cp.dir, "fleet.yaml")
    with open(path, "w") as f:
        f.write(text)
    r = cp.ctl("push", path, "--fleet", "eu")
    test.assertEqual(r.returncode, expect_rc, "push: %s\n%s" % (r.stdout, r.stderr))
    return r


def fleet_config(filters, backends, proxy_protocol="v2", greet_wait=None,
                 hostname="mx.fleet.example", workers=1, address="127.0.0.1:1"):
    """A fleet's config (YAML text). filters: list of dicts as in
    harness.screening_config ({"name", "action", "ttl", "typed_config"})."""
    out = ["hostname: %s" % hostname,
           "workers: %d" % workers,
           "store: { path: store }",
           "listeners:",
           "  - name: smtp",
           "    address: %s" % address]
    if greet_wait is not None:
        out.append("    greet_wait: %s" % greet_wait)
    out += filter_chain_lines(filters)
    out += ["    handoff:",
            "      backends: %s" % json.dumps(backends),
            "      proxy_protocol: %s" % proxy_protocol,
            "      connect_timeout: 2s"]
    return "\n".join(out) + "\n"


def access_filter(lines, action="drop", mynetworks=("127.0.0.1/32",)):
    """An access_cidr filter entry: permit_mynetworks, then the CIDR lines."""
    return {"name": "access_cidr", "action": action,
            "typed_config": {"mynetworks": list(mynetworks),
                             "access_list": [{"permit_mynetworks": True},
                                             {"cidr": {"lines": list(lines)}}]}}


class Pki:
    """A throw-away CA in a temporary directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="mxs-pki-")
        _EXIT_DIRS.add(self.dir)
        self.ca = os.path.join(self.dir, "ca.crt")
        self._ca_key = os.path.join(self.dir, "ca.key")
        self._run("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                  "-nodes", "-keyout", self._ca_key, "-out", self.ca, "-days", "1",
                  "-subj", "/CN=mxscreen test CA")

    def _run(self, *args):
        subprocess.run(["openssl"] + list(args), check=True, stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=self.dir)

    def issue(self, cn, dns=None, with_cn=True):
        """A key and certificate for subject CN (and subjectAltName DNS names,
        default [cn]); with_cn=False leaves the CN out of the subject.
        Returns (cert_path, key_path)."""
        base = os.path.join(self.dir, re.sub(r"[^A-Za-z0-9.-]", "_", cn))
        key, csr, crt, ext = base + ".key", base + ".csr", base + ".crt", base + ".ext"
        self._run("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                  "-keyout", key, "-out", csr,
                  "-subj", "/CN=%s" % cn if with_cn else "/O=mxscreen tests")
        with open(ext, "w") as f:
            f.write("subjectAltName=%s\n" % ",".join("DNS:%s" % d for d in (dns or [cn])))
        self._run("x509", "-req", "-in", csr, "-CA", self.ca, "-CAkey", self._ca_key,
                  "-CAcreateserial", "-out", crt, "-days", "1", "-extfile", ext)
        return crt, key


class ControlPlane(_LogFile):
    """BUILD/mxscreen-control with a config in a temporary directory.

    tls: None (plaintext on loopback) or a dict {"pki": Pki, "fleets":
    {fleet: [identity patterns]}, "operators": {identity: [fleets]}}; the
    server certificate is issued for "control.test".
    """

    SERVER_NAME = "control.test"

    def __init__(self, tls=None):
        self.dir = tempfile.mkdtemp(prefix="mxs-cp-")
        _EXIT_DIRS.add(self.dir)
        self.port = free_port()
        self.address = "127.0.0.1:%d" % self.port
        self.log_path = os.path.join(self.dir, "control.log")
        self.tls = tls
        lines = ["listen: %s" % self.address,
                 "store_path: %s" % os.path.join(self.dir, "store"),
                 "log_file: %s" % self.log_path]
        if tls:
            crt, key = tls["pki"].issue(self.SERVER_NAME)
            lines.append("tls: { cert_file: %s, key_file: %s, ca_file: %s }"
                         % (crt, key, tls["pki"].ca))
            lines.append("fleets:")
            for fleet, ids in tls.get("fleets", {}).items():
                lines.append("  - { fleet: %s, identities: %s }" % (fleet, json.dumps(ids)))
            lines.append("operators:")
            for ident, fleets in tls.get("operators", {}).items():
                lines.append("  - { identity: %s, fleets: %s }"
                             % (json.dumps(ident), json.dumps(fleets)))
        self.config_path = os.path.join(self.dir, "control.yaml")
        with open(self.config_path, "w") as f:
            f.write("\n".join(lines) + "\n")
        self.proc = None
        self.operator = None        # (cert, key) for ctl() under TLS

    def start(self, timeout=10.0):
        with open(os.path.join(self.dir, "stderr"), "ab") as err:
            self.proc = subprocess.Popen([CONTROL, "--config", self.config_path],
                                         stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                         start_new_session=True)
        _POPEN_PIDS.add(self.proc.pid)
        wait_until_listening("127.0.0.1", self.port, timeout,
                             alive=lambda: self.proc.poll() is None)
        return self

    def _end(self, sig, timeout):
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
            raise AssertionError("mxscreen-control did not stop within %.0fs" % timeout)
        finally:
            for pid in _group_members(self.proc.pid):
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            _POPEN_PIDS.discard(self.proc.pid)
            reap_orphans()

    def stop(self, timeout=10.0):
        self._end(signal.SIGTERM, timeout)

    def kill(self):
        self._end(signal.SIGKILL, 5)

    def ctl(self, *args, operator=None, timeout=60.0):
        """BUILD/mxscreenctl --server ADDR [TLS options] ARGS...; returns the
        CompletedProcess (text)."""
        cmd = [CTL, "--server", self.address]
        op = operator or self.operator
        if self.tls and op:
            cmd += ["--cert", op[0], "--key", op[1], "--ca", self.tls["pki"].ca,
                    "--server-name", self.SERVER_NAME]
        return subprocess.run(cmd + list(args), stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=timeout, env={k: v for k, v in os.environ.items()
                                                    if not k.startswith("MXSCREENCTL_")})

    def status(self, fleet=None):
        """The parsed `mxscreenctl status --json`: {node_id: NodeStatus dict}."""
        args = ["--json", "status"] + (["--fleet", fleet] if fleet else [])
        r = self.ctl(*args)
        if r.returncode != 0:
            raise AssertionError("mxscreenctl status failed: %s" % r.stderr)
        out = {}
        for f in json.loads(r.stdout).get("fleets", []):
            for n in f.get("nodes", []):
                out[n["node_id"]] = n
        return out

    def wait_status(self, predicate, fleet=None, timeout=15.0):
        """Polls status until predicate(status dict) is true; returns it."""
        deadline = time.time() + timeout
        while True:
            st = self.status(fleet)
            if predicate(st):
                return st
            if time.time() > deadline:
                raise AssertionError("control plane status never matched: %s" % st)
            time.sleep(0.1)


class FleetGateway(Mxscreen):
    """A gateway fed by a control plane. listen: this gateway's address for
    the pushed listener "smtp". tls: (pki, cert, key) or None."""

    def __init__(self, control, node_id, fleet, listen_port, tls=None, files=None,
                 reconnect="1s"):
        lines = ["node_id: %s" % node_id,
                 "logging: { sink: file, path: @DIR@/mxscreen.log }",
                 "control_plane:",
                 "  address: %s" % control.address,
                 "  fleet: %s" % fleet,
                 "  cache_path: @DIR@/pushed-config.binpb",
                 "  reconnect_initial: %s" % reconnect,
                 "  reconnect_max: 2s",
                 "  listener_addresses: { smtp: \"127.0.0.1:%d\" }" % listen_port]
        if tls:
            pki, crt, key = tls
            lines += ["  cert_file: %s" % crt, "  key_file: %s" % key,
                      "  ca_file: %s" % pki.ca, "  server_name: %s" % ControlPlane.SERVER_NAME]
        super().__init__("\n".join(lines) + "\n")
        self.listen = []            # nothing to wait for at start: listeners come from pushes
        self.node_id = node_id
        self.port = listen_port
        for name, text in (files or {}).items():
            path = os.path.join(self.dir, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w") as f:
                f.write(text)

    def start(self, timeout=10.0):
        super().start(timeout)
        # The process is up once its log says where its config comes from.
        self.wait_for_log(r"waiting for the first config|starting from version|"
                          r"listener smtp on", timeout)
        return self

    def wait_listening(self, timeout=10.0):
        wait_until_listening("127.0.0.1", self.port, timeout,
                             alive=lambda: self.proc.poll() is None)

    def listening(self):
        return port_is_listening("127.0.0.1", self.port)
