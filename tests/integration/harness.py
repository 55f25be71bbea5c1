"""harness - real peers for the mxscreen integration tests

SYNOPSIS
    from harness import (PostfixInstance, Mxscreen, smtp_client, free_port,
                         gateway_config, MxscreenTestCase)

DESCRIPTION
    Helpers shared by the integration tests (Python 3 standard library only):

    PostfixInstance  a private, real Postfix instance in a temporary directory
                     (role "backend": an smtpd on 127.0.0.1:PORT that accepts
                     any mail from loopback and discards it; proxy=True makes it
                     read a PROXY v1/v2 header first).  Role "postscreen" runs
                     the real postscreen(8) in front of a local smtpd, as a
                     reference for what mxscreen must reproduce.
    Mxscreen         the gateway under test: BUILD/mxscreen run --config FILE,
                     BUILD from $MXSCREEN_BUILD_DIR (default /work/main/build).
    SmtpClient       a TCP client bound to a chosen 127.x.y.z source address,
                     with SMTP reply parsing (smtp_client() creates one).
    free_port()      a TCP port on 127.0.0.1 that nothing listens on right now.
    gateway_config() builds the mxscreen YAML config used by the tests
                     (one access_cidr filter); screening_config() takes any
                     filter chain, greet waits, engine settings and limits.
    SinkBackend      a one-thread backend for load tests: reads the PROXY v2
                     header (records the original client) and sends a banner.
    format_delay(), delay_candidates(), c_escape()
                     Postfix's delay format and escape(), for exact log lines.
    maillog parsing  both Postfix and mxscreen write the Postfix maillog_file
                     layout: "Mon DD HH:MM:SS HOST prog[PID]: MESSAGE".

    Every packet stays on loopback: all addresses used here are in
    127.0.0.0/8 (or ::1), and Postfix is configured not to do DNS lookups for
    clients (smtpd_peername_lookup = no) and to discard all mail.

    Set MXSCREEN_KEEP_TMP=1 to keep the temporary directories for a post-mortem.
"""

import atexit
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import uuid

REPO_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD_DIR = os.environ.get("MXSCREEN_BUILD_DIR", os.path.join(REPO_DIR, "build"))
KEEP_TMP = os.environ.get("MXSCREEN_KEEP_TMP", "") not in ("", "0")

POSTFIX = "/usr/sbin/postfix"
POSTFIX_DAEMON_DIR = "/usr/lib/postfix/sbin"


def _become_subreaper():
    """Adopt orphaned descendants (the daemonised Postfix master and its
    children) so that they can be reaped here: PID 1 in this VM does not reap
    zombies, and every Postfix stop would otherwise leave a dozen behind."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(36, 1, 0, 0, 0)          # PR_SET_CHILD_SUBREAPER
    except Exception:                     # not Linux, or no ctypes: harmless
        pass


_become_subreaper()


def reap_orphans(exclude=()):
    """Reap zombie children that no subprocess.Popen object owns."""
    me = os.getpid()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in exclude:
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        if fields[0] == "Z" and int(fields[1]) == me and int(name) not in _POPEN_PIDS:
            try:
                os.waitpid(int(name), os.WNOHANG)
            except ChildProcessError:
                pass


_POPEN_PIDS = set()     # pids of live Popen children (reaped by Popen itself)
_EXIT_DIRS = set()      # temporary directories removed when the process exits


@atexit.register
def _remove_exit_dirs():
    for d in list(_EXIT_DIRS):
        _remove_tree(d)

# One maillog_file line: "Nov 22 01:35:39 host postfix/postscreen[123]: text".
LOG_LINE_RE = re.compile(
    r"^(?P<time>[A-Z][a-z]{2} [ 0-3]\d \d\d:\d\d:\d\d) (?P<host>\S+) "
    r"(?P<prog>[A-Za-z0-9_./-]+)\[(?P<pid>\d+)\]: (?P<msg>.*)$")


# ---------------------------------------------------------------------------
# Small utilities
# ---------------------------------------------------------------------------

def free_port(host="127.0.0.1"):
    """Return a TCP port on host that is free at the time of the call."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _remove_tree(path):
    """Remove a temporary directory unless MXSCREEN_KEEP_TMP is set."""
    if path and os.path.isdir(path):
        if KEEP_TMP:
            print("harness: keeping %s" % path)
        else:
            shutil.rmtree(path, ignore_errors=True)


def _pid_alive(pid):
    """True while pid exists and is not a zombie (PID 1 here may not reap)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            stat = f.read()
    except OSError:
        return False
    # The state follows the parenthesised command name, which may hold spaces.
    return stat[stat.rindex(")") + 2] not in "ZX"


def _wait_pid_gone(pid, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            return True
        time.sleep(0.02)
    return not _pid_alive(pid)


def _group_members(pgid):
    """PIDs of live processes whose process group is pgid."""
    members = []
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % name) as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        # fields[0] = state, [1] = ppid, [2] = pgrp
        if fields[0] not in "ZX" and int(fields[2]) == pgid:
            members.append(int(name))
    return members


def _split_hostport(text):
    """'127.0.0.1:25' or '[::1]:25' -> (host, port)."""
    m = re.match(r"^\[([^\]]+)\]:(\d+)$", text) or re.match(r"^([^:]+):(\d+)$", text)
    if not m:
        raise ValueError("not host:port: %r" % text)
    return m.group(1), int(m.group(2))


def _listening_sockets_netlink(family):
    """[(packed local address, port)] of TCP sockets in LISTEN state, asked
    from the kernel with NETLINK_SOCK_DIAG (what `ss -lt` does).  Unlike
    reading /proc/net/tcp this costs the same with 100k TIME_WAIT sockets
    around (a benchmark on the same machine): /proc takes ~1.5 s then."""
    import struct
    NETLINK_SOCK_DIAG, SOCK_DIAG_BY_FAMILY = 4, 20
    NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
    NLMSG_ERROR, NLMSG_DONE = 2, 3
    TCP_LISTEN = 10
    req = struct.pack("=BBBBI", family, socket.IPPROTO_TCP, 0, 0, 1 << TCP_LISTEN) + bytes(48)
    msg = struct.pack("=IHHII", 16 + len(req), SOCK_DIAG_BY_FAMILY,
                      NLM_F_REQUEST | NLM_F_DUMP, 1, 0) + req
    out = []
    with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG) as nl:
        nl.settimeout(2.0)
        nl.sendto(msg, (0, 0))
        while True:
            data = nl.recv(1 << 16)
            off = 0
            while off + 16 <= len(data):
                length, mtype = struct.unpack_from("=IH", data, off)
                if length < 16:
                    raise OSError("bad netlink message")
                if mtype == NLMSG_DONE:
                    return out
                if mtype == NLMSG_ERROR:
                    raise OSError("sock_diag error")
                body = off + 16
                # inet_diag_msg: family, state, timer, retrans, then the
                # sockid: sport (be16), dport, src[16], dst[16], ...
                sport = struct.unpack_from("!H", data, body + 4)[0]
                src = data[body + 8:body + 8 + (4 if family == socket.AF_INET else 16)]
                out.append((src, sport))
                off += (length + 3) & ~3
            if not data:
                return out


def port_is_listening(host, port):
    """True if a TCP socket is in LISTEN state on host:port (asked from the
    kernel over netlink sock_diag; /proc/net as a fallback).

    Unlike a probe connection this has no side effects: connecting to
    mxscreen would create a session, a CONNECT log line and count against
    its limits.
    """
    try:
        if ":" not in host:
            packed = socket.inet_aton(host)
            if any(p == port and a in (packed, bytes(4))
                   for a, p in _listening_sockets_netlink(socket.AF_INET)):
                return True
        return any(p == port for _, p in _listening_sockets_netlink(socket.AF_INET6))
    except OSError:
        pass
    want_port = "%04X" % port
    files = ["/proc/net/tcp6"] if ":" in host else ["/proc/net/tcp", "/proc/net/tcp6"]
    packed = None
    if ":" not in host:
        packed = "%08X" % int.from_bytes(socket.inet_aton(host), "little")
    for path in files:
        try:
            with open(path) as f:
                next(f)
                for line in f:
                    parts = line.split()
                    addr, lport = parts[1].split(":")
                    if lport != want_port or parts[3] != "0A":
                        continue
                    if path.endswith("tcp") and packed not in (addr, "00000000"):
                        continue
                    return True
        except OSError:
            continue
    return False


def wait_until_listening(host, port, timeout=10.0, alive=None):
    """Wait until host:port is in LISTEN state; alive() False aborts early."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_is_listening(host, port):
            return
        if alive is not None and not alive():
            raise RuntimeError("process exited before %s:%d was listening" % (host, port))
        time.sleep(0.02)
    raise RuntimeError("nothing listens on %s:%d after %.1fs" % (host, port, timeout))


# ---------------------------------------------------------------------------
# maillog parsing (Postfix and mxscreen share the format)
# ---------------------------------------------------------------------------

class LogEntry:
    __slots__ = ("raw", "time", "host", "prog", "pid", "msg")

    def __init__(self, raw, m):
        self.raw = raw
        self.time, self.host, self.prog = m.group("time"), m.group("host"), m.group("prog")
        self.pid, self.msg = int(m.group("pid")), m.group("msg")

    def __repr__(self):
        return "LogEntry(%r)" % self.raw


def parse_maillog(text):
    """Split maillog text into (entries, unparsable_lines)."""
    entries, bad = [], []
    for line in text.splitlines():
        if not line:
            continue
        m = LOG_LINE_RE.match(line)
        if m:
            entries.append(LogEntry(line, m))
        else:
            bad.append(line)
    return entries, bad


def endpoint_re(endpoint):
    """Regex matching '[addr]:port' not followed by another digit."""
    return re.compile(re.escape(endpoint) + r"(?!\d)")


class _LogFile:
    """Mixin: log() / entries() / wait_for_log() on self.log_path."""

    log_path = None

    def log(self):
        """The whole log text ('' when the file does not exist yet)."""
        try:
            with open(self.log_path, "r", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def entries(self, prog=None):
        entries, _ = parse_maillog(self.log())
        if prog is not None:
            entries = [e for e in entries if e.prog == prog]
        return entries

    def messages(self, prog=None, endpoint=None):
        """Message texts, optionally only for prog and mentioning endpoint."""
        out = [e.msg for e in self.entries(prog)]
        if endpoint is not None:
            rx = endpoint_re(endpoint)
            out = [m for m in out if rx.search(m)]
        return out

    def wait_for_log(self, regex, timeout=10.0):
        """Wait until a log line matches regex (re.search, MULTILINE).

        Returns the match object; raises AssertionError with the log text.
        """
        rx = re.compile(regex, re.M) if isinstance(regex, str) else regex
        deadline = time.monotonic() + timeout
        while True:
            text = self.log()
            m = rx.search(text)
            if m:
                return m
            if time.monotonic() >= deadline:
                raise AssertionError("no log line matching %r within %.1fs in %s; log:\n%s"
                                     % (rx.pattern, timeout, self.log_path, text[-6000:]))
            time.sleep(0.05)

    def wait_for_message(self, message, prog=None, timeout=10.0):
        """Wait for a log entry whose message part is exactly message."""
        prog_rx = re.escape(prog) if prog else r"[A-Za-z0-9_./-]+"
        return self.wait_for_log(r"^\S.{14} \S+ %s\[\d+\]: %s$" % (prog_rx, re.escape(message)),
                                 timeout)


# ---------------------------------------------------------------------------
# A private real Postfix instance
# ---------------------------------------------------------------------------

# main.cf of a private instance: (name, value); {placeholders} filled in.
_MAIN_CF = [
    ("compatibility_level", "3.6"),           # no "backwards-compatible" warnings
    ("config_directory", "{conf}"),
    ("queue_directory", "{queue}"),
    ("data_directory", "{data}"),
    ("mail_owner", "postfix"),
    ("setgid_group", "postdrop"),
    ("myhostname", "{hostname}"),             # never ask the system (or DNS)
    ("mydomain", "test.example"),
    ("myorigin", "$myhostname"),
    ("mydestination", ""),
    ("relay_domains", ""),
    ("inet_interfaces", "127.0.0.1"),
    ("inet_protocols", "ipv4"),
    ("mynetworks", "127.0.0.0/8"),
    # "Accept any mail from anyone on loopback."  smtpd refuses to start
    # unless one of these two lists contains a working reject.
    ("smtpd_relay_restrictions", "permit_mynetworks, reject"),
    ("smtpd_recipient_restrictions", ""),
    # Nothing is delivered anywhere.
    ("default_transport", "discard:"),
    ("relay_transport", "discard:"),
    ("local_transport", "discard:"),
    ("virtual_transport", "discard:"),
    ("alias_maps", ""),
    ("alias_database", ""),
    ("local_recipient_maps", ""),
    # No DNS, no reverse lookups of the (loopback) clients.
    ("smtpd_peername_lookup", "no"),
    ("disable_dns_lookups", "yes"),
    ("smtp_dns_support_level", "disabled"),
    # Log the client port too, so a test can find its own session.
    ("smtpd_client_port_logging", "yes"),
    ("smtputf8_enable", "no"),
    ("biff", "no"),
    # Log to a file through postlogd; the file must be below a listed prefix
    # (default /var, /dev/stdout), or postlogd refuses it.
    ("maillog_file", "{maillog}"),
    ("maillog_file_prefixes", "{base}"),
]

# Internal services; "n" in the chroot column everywhere.
_MASTER_CF_COMMON = """\
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
proxywrite unix -       -       n       -       1       proxymap
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

# Queue subdirectories as post-install would create them: (name, group, mode).
_QUEUE_DIRS = [
    ("active", None, 0o700), ("bounce", None, 0o700), ("corrupt", None, 0o700),
    ("defer", None, 0o700), ("deferred", None, 0o700), ("flush", None, 0o700),
    ("hold", None, 0o700), ("incoming", None, 0o700), ("private", None, 0o700),
    ("saved", None, 0o700), ("trace", None, 0o700),
    ("maildrop", "postdrop", 0o730), ("public", "postdrop", 0o710),
]


class PostfixInstance(_LogFile):
    """A private Postfix instance under a temporary directory.

    role "backend": an inet smtpd on 127.0.0.1:port that accepts mail from
    any loopback client and discards it.  proxy=True adds
    -o smtpd_upstream_proxy_protocol=haproxy (PROXY v1 and v2).

    role "postscreen": the real postscreen(8) on 127.0.0.1:port in front of
    a pass-through smtpd configured like the backend, for reference runs;
    main_cf adds postscreen_* settings.  files {name: text} are written into
    the config directory (e.g. a cidr table: cidr:$config_directory/NAME).

    Layout of the temporary directory (mode 0755 so the postfix user can
    reach its queue): etc/ (main.cf, master.cf; root-owned), spool/ (the
    queue, root-owned top, postfix-owned subdirectories), data/ (postfix),
    maillog (written by postlogd).
    """

    def __init__(self, role="backend", port=None, proxy=False,
                 hostname="backend.test.example", main_cf=None, smtpd_options=None,
                 files=None):
        if role not in ("backend", "postscreen"):
            raise ValueError("unknown role %r" % role)
        self.role, self.proxy, self.hostname = role, proxy, hostname
        self.port = port if port is not None else free_port()
        self.main_cf_extra = main_cf or {}
        self.smtpd_options = dict(smtpd_options or {})
        self.files = dict(files or {})      # {name: text} written to the config dir
        self.base = None
        self.started = False
        self.master_pid = None

    # -- paths ---------------------------------------------------------------
    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def _paths(self):
        b = self.base
        self.conf = os.path.join(b, "etc")
        self.queue = os.path.join(b, "spool")
        self.data = os.path.join(b, "data")
        self.log_path = os.path.join(b, "maillog")

    # -- lifecycle -----------------------------------------------------------
    def start(self, timeout=10.0):
        """Create the instance and start it; stops and cleans up on failure."""
        if self.started:
            return self
        t0 = time.monotonic()
        self.base = tempfile.mkdtemp(prefix="mxs-postfix-")
        try:
            self._build()
            env = dict(os.environ, LANG="C", LC_ALL="C")
            env.pop("MAIL_CONFIG", None)
            r = subprocess.run([POSTFIX, "-c", self.conf, "start"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               timeout=timeout)
            if r.returncode != 0:
                raise RuntimeError("postfix start failed (%d): %s\nmaillog:\n%s"
                                   % (r.returncode, r.stdout.decode(errors="replace"), self.log()))
            self.started = True
            self.master_pid = self._read_master_pid()
            # master -w returns once its services are bound; check anyway.
            wait_until_listening("127.0.0.1", self.port,
                                 timeout=max(1.0, timeout - (time.monotonic() - t0)),
                                 alive=lambda: _pid_alive(self.master_pid))
            self.wait_for_log(r"postfix/master\[\d+\]: daemon started", timeout=5)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - t0
        return self

    def _build(self):
        os.chmod(self.base, 0o755)           # mkdtemp makes it 0700
        self._paths()
        pw = _getpwnam("postfix")
        postdrop_gid = _getgrnam("postdrop")
        os.mkdir(self.conf, 0o755)
        os.mkdir(self.queue, 0o755)          # root-owned, not group/other writable
        os.mkdir(self.data, 0o700)
        os.chown(self.data, pw.pw_uid, pw.pw_gid)
        # Create the queue tree ourselves (what "post-install create-missing"
        # does) and skip postfix-script's integrity checks with quick-start:
        # those walk /usr/lib/postfix and /etc/postfix and take ~1.5 s cold.
        for name, group, mode in _QUEUE_DIRS:
            p = os.path.join(self.queue, name)
            os.mkdir(p)
            os.chown(p, pw.pw_uid, postdrop_gid if group else 0)
            os.chmod(p, mode)
        os.mkdir(os.path.join(self.queue, "pid"), 0o755)
        open(os.path.join(self.queue, "quick-start"), "w").close()

        fill = dict(conf=self.conf, queue=self.queue, data=self.data, base=self.base,
                    hostname=self.hostname, maillog=self.log_path)
        params = dict((k, v.format(**fill)) for k, v in _MAIN_CF)
        params.update(self.main_cf_extra)        # later settings win, no duplicates
        with open(os.path.join(self.conf, "main.cf"), "w") as f:
            f.write("# Written by tests/integration/harness.py: private test instance.\n")
            f.write("".join("%s = %s\n" % kv for kv in params.items()))
        opts = dict(self.smtpd_options)
        if self.proxy:
            opts["smtpd_upstream_proxy_protocol"] = "haproxy"
        optstr = "".join("\n  -o %s=%s" % kv for kv in opts.items())
        if self.role == "backend":
            services = ("127.0.0.1:%d inet n       -       n       -       -       smtpd%s\n"
                        % (self.port, optstr))
        else:
            services = ("127.0.0.1:%d inet n       -       n       -       1       postscreen\n"
                        "smtpd     pass  -       -       n       -       -       smtpd%s\n"
                        "dnsblog   unix  -       -       n       -       0       dnsblog\n"
                        "tlsproxy  unix  -       -       n       -       0       tlsproxy\n"
                        % (self.port, optstr))
        with open(os.path.join(self.conf, "master.cf"), "w") as f:
            f.write(services + _MASTER_CF_COMMON)
        # Postfix re-reads a table or config file whose mtime is within the
        # last second, dozing 0.3 s per try (dict_load_file: the file may be
        # changing); every Postfix program would lose ~1.5 s at startup.
        for name, text in self.files.items():
            with open(os.path.join(self.conf, name), "w") as f:
                f.write(text)
        past = time.time() - 10
        for name in ["main.cf", "master.cf"] + list(self.files):
            os.utime(os.path.join(self.conf, name), (past, past))

    def _read_master_pid(self):
        with open(os.path.join(self.queue, "pid", "master.pid")) as f:
            return int(f.read().split()[0])

    def stop(self):
        """Stop the instance (idempotent) and remove its directory."""
        if self.base is None:
            return
        try:
            if self.started:
                subprocess.run([POSTFIX, "-c", self.conf, "stop"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, timeout=15)
            pid = self.master_pid
            if pid is None:
                try:
                    pid = self._read_master_pid()
                except (OSError, ValueError, AttributeError):
                    pid = None
            if pid is not None and not _wait_pid_gone(pid, 5):
                try:
                    os.killpg(pid, signal.SIGKILL)   # master is a group leader
                except OSError:
                    pass
                _wait_pid_gone(pid, 2)
            if pid is not None:
                # master SIGTERMs its process group; wait for the children.
                deadline = time.monotonic() + 3
                while _group_members(pid) and time.monotonic() < deadline:
                    time.sleep(0.02)
                for child in _group_members(pid):
                    try:
                        os.kill(child, signal.SIGKILL)
                    except OSError:
                        pass
        finally:
            self.started = False
            _remove_tree(self.base)
            self.base = None
            reap_orphans()

    # -- log helpers ---------------------------------------------------------
    def smtpd_messages(self):
        return [e.msg for e in self.entries() if e.prog == "postfix/smtpd"]


def _getpwnam(name):
    import pwd
    return pwd.getpwnam(name)


def _getgrnam(name):
    import grp
    return grp.getgrnam(name).gr_gid


# ---------------------------------------------------------------------------
# The gateway under test
# ---------------------------------------------------------------------------

class Mxscreen(_LogFile):
    """Run BUILD/mxscreen run --config FILE with the given YAML text.

    The text may contain @DIR@, replaced with the instance's temporary
    directory (for the store and the log file).  The log file is the
    logging.path of the config (default @DIR@/mxscreen.log).  start() waits
    until every listeners[].address is in LISTEN state (read from /proc/net,
    not by connecting: a probe would be a session, a log line and count
    against the limits).  stop() sends SIGTERM (and SIGINT, which ends the
    drain at once, unless drain=True) and waits (SIGKILL and an
    AssertionError after 10 s, or if processes of its group survive).  The
    directory stays readable after stop() and is removed at process exit
    (or by cleanup()).
    """

    def __init__(self, config_yaml_text, build_dir=None):
        self.build_dir = build_dir or BUILD_DIR
        self.binary = os.path.join(self.build_dir, "mxscreen")
        self.dir = tempfile.mkdtemp(prefix="mxs-gw-")
        _EXIT_DIRS.add(self.dir)
        self.config_text = config_yaml_text.replace("@DIR@", self.dir)
        self.config_path = os.path.join(self.dir, "mxscreen.yaml")
        with open(self.config_path, "w") as f:
            f.write(self.config_text)
        m = re.search(r"^\s*logging:.*\bpath:\s*\"?([^\s\",}]+)", self.config_text, re.M)
        self.log_path = m.group(1) if m else os.path.join(self.dir, "mxscreen.log")
        self.listen = [_split_hostport(a) for a in
                       re.findall(r"^\s*-?\s*address:\s*\"?([^\s\"]+?)\"?\s*$",
                                  self.config_text, re.M)]
        self.stdout_path = os.path.join(self.dir, "stdout")
        self.stderr_path = os.path.join(self.dir, "stderr")
        self.proc = None
        self.returncode = None

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def write_file(self, name, text):
        """Write a file (e.g. a cidr table) into the instance directory."""
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def start(self, timeout=10.0):
        if not os.access(self.binary, os.X_OK):
            raise RuntimeError("mxscreen binary not found: %s (set MXSCREEN_BUILD_DIR)"
                               % self.binary)
        self.returncode = None          # start() again after stop()/kill(): a restart
        with open(self.stdout_path, "ab") as out, open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen([self.binary, "run", "--config", self.config_path],
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                                         cwd=self.dir, start_new_session=True)
        _POPEN_PIDS.add(self.proc.pid)
        try:
            for host, port in self.listen:
                wait_until_listening(host, port, timeout,
                                     alive=lambda: self.proc.poll() is None)
        except RuntimeError as e:
            self.stop(check=False)
            raise RuntimeError("%s\n%s" % (e, self.diagnostics())) from None
        return self

    def diagnostics(self):
        def tail(p):
            try:
                with open(p, errors="replace") as f:
                    return f.read()[-4000:]
            except OSError:
                return "(none)"
        return ("mxscreen exit=%s\nstderr:\n%s\nstdout:\n%s\nlog:\n%s\nconfig:\n%s"
                % (self.proc.poll() if self.proc else None, tail(self.stderr_path),
                   tail(self.stdout_path), self.log()[-4000:], self.config_text))

    def stop(self, timeout=10.0, check=True, drain=False):
        """SIGTERM, wait; SIGKILL the group after timeout (then raise if check).

        SIGTERM alone starts a drain that waits up to the config's drain_time
        (default 30 s) for open sessions; unless drain=True a SIGINT follows
        at once, which ends the drain immediately (docs/operations.md,
        "Signals"), so tests that leave sessions open stop quickly."""
        problem = None
        if self.proc is not None and self.returncode is None:
            if self.proc.poll() is None:
                try:
                    self.proc.send_signal(signal.SIGTERM)
                    if not drain:
                        self.proc.send_signal(signal.SIGINT)
                except ProcessLookupError:
                    pass
            try:
                self.returncode = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                problem = "mxscreen did not exit within %.0fs of SIGTERM" % timeout
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except OSError:
                    pass
                self.returncode = self.proc.wait(5)
            leftovers = _group_members(self.proc.pid)
            for pid in leftovers:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            if leftovers and problem is None:
                problem = "mxscreen left processes behind: %s" % leftovers
            _POPEN_PIDS.discard(self.proc.pid)
            reap_orphans()
        if problem and check:
            raise AssertionError(problem + "\n" + self.diagnostics())
        # The directory (config, log, store) stays readable after stop(), so a
        # test can still look at the log; it goes when the test process exits
        # (atexit) or on cleanup().
        return self.returncode

    def kill(self, sig=signal.SIGKILL, timeout=10.0):
        """Send sig (default SIGKILL: a crash) and reap the process.

        The directory (config, store, log) is kept: start() runs the same
        config again, as a restart after a crash.  Returns the exit status
        (negative signal number).
        """
        if self.proc is None or self.returncode is not None:
            return self.returncode
        try:
            self.proc.send_signal(sig)
        except ProcessLookupError:
            pass
        self.returncode = self.proc.wait(timeout)
        for pid in _group_members(self.proc.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        _POPEN_PIDS.discard(self.proc.pid)
        reap_orphans()
        return self.returncode

    def run_cli(self, *args, timeout=30.0):
        """BUILD/mxscreen ARGS... (e.g. "verdict", "get", ADDR, "--config", PATH);
        returns the CompletedProcess (text stdout/stderr)."""
        return subprocess.run([self.binary] + list(args), stdin=subprocess.DEVNULL,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              timeout=timeout, cwd=self.dir)

    def verdict_get(self, address, timeout=30.0):
        """`mxscreen verdict get ADDR --config FILE` on this instance's config
        (the gateway must be stopped: the store allows one process)."""
        return self.run_cli("verdict", "get", address, "--config", self.config_path,
                            timeout=timeout)

    def cleanup(self):
        """Stop if needed and remove the temporary directory now."""
        self.stop(check=False)
        _EXIT_DIRS.discard(self.dir)
        _remove_tree(self.dir)

    def postscreen_messages(self, endpoint=None):
        return self.messages("postfix/postscreen", endpoint)


# ---------------------------------------------------------------------------
# mxscreen YAML config
# ---------------------------------------------------------------------------

def _yaml_list(items):
    return "[" + ", ".join('"%s"' % i for i in items) + "]"


def gateway_config(listen_port, backends, access_list=None, action=None,
                   mynetworks=None, proxy_protocol="v2", hostname="mx.test.example",
                   limits=None, listener_limits=None, connect_timeout="2s",
                   workers=2, listen_host="127.0.0.1", banner=None):
    """YAML text for one listener with an access_cidr filter and a hand-off.

    access_list: list of entries, each "permit_mynetworks", ("lines", [..])
    or ("path", "/file.cidr").  None omits the access_cidr filter's list
    (its default).  action: denylist action or None for the default.
    """
    out = ["hostname: %s" % hostname,
           "workers: %d" % workers,
           "store: { path: @DIR@/store }",
           "logging: { sink: file, path: @DIR@/mxscreen.log }"]
    if limits:
        out.append("limits: { %s }" % ", ".join("%s: %s" % kv for kv in limits.items()))
    out += ["listeners:",
            "  - name: smtp",
            "    address: %s:%d" % (listen_host, listen_port)]
    if banner is not None:
        out.append("    banner: %s" % banner)
    if listener_limits:
        out.append("    limits: { %s }" % ", ".join("%s: %s" % kv
                                                    for kv in listener_limits.items()))
    out += ["    filters:",
            "      - name: access_cidr"]
    if action is not None:
        out.append("        action: %s" % action)
    out.append("        typed_config:")
    if mynetworks is not None:
        out.append("          mynetworks: %s" % _yaml_list(mynetworks))
    if access_list is not None:
        out.append("          access_list:")
        for entry in access_list:
            if entry == "permit_mynetworks":
                out.append("            - permit_mynetworks: true")
            elif entry[0] == "lines":
                out.append("            - cidr: { lines: %s }" % _yaml_list(entry[1]))
            elif entry[0] == "path":
                out.append("            - cidr: { path: %s }" % entry[1])
            else:
                raise ValueError(entry)
    out += ["    handoff:",
            "      backends: %s" % _yaml_list(backends),
            "      proxy_protocol: %s" % proxy_protocol,
            "      connect_timeout: %s" % connect_timeout]
    return "\n".join(out) + "\n"


def _yaml_scalar(value):
    """A YAML flow value: JSON is valid YAML (strings quoted, lists, maps)."""
    import json
    return json.dumps(value)


def filter_chain_lines(filters):
    """The YAML lines of a listener's "filters:" list (indented for a listener
    under "listeners:"); filters as in screening_config. [] for none."""
    if not filters:
        return []
    out = ["    filters:"]
    for f in filters:
        out.append("      - name: %s" % f["name"])
        for key in ("action", "ttl", "enabled"):
            if key in f:
                out.append("        %s: %s" % (key, _yaml_scalar(f[key])))
        if "typed_config" in f:
            out.append("        typed_config: %s" % _yaml_scalar(f["typed_config"]))
        if "plugin" in f:
            out.append("        plugin: %s" % _yaml_scalar(f["plugin"]))
    return out


def screening_config(listen_port, backends, filters, hostname="mx.test.example",
                     workers=2, greet_wait=None, greet_wait_stress=None, smtp=None,
                     banner=None, limits=None, listener_limits=None, store=True,
                     proxy_protocol="v2", connect_timeout="2s", listen_host="127.0.0.1"):
    """YAML text for one listener with any filter chain and a hand-off.

    filters: list of dicts {"name": ..., "action": ..., "ttl": ...,
    "enabled": ..., "typed_config": {...}, "plugin": {...}} (only "name" is
    required; the typed_config and plugin dicts are written as JSON flow
    maps).  smtp: dict of the
    listener's engine settings, e.g. {"command_count_limit": 5}.  store:
    True puts the verdict store in @DIR@/store, False leaves it out.
    """
    out = ["hostname: %s" % hostname,
           "workers: %d" % workers]
    if store:
        out.append("store: { path: @DIR@/store }")
    out.append("logging: { sink: file, path: @DIR@/mxscreen.log }")
    if limits:
        out.append("limits: { %s }" % ", ".join("%s: %s" % kv for kv in limits.items()))
    out += ["listeners:",
            "  - name: smtp",
            "    address: %s:%d" % (listen_host, listen_port)]
    if banner is not None:
        out.append("    banner: %s" % _yaml_scalar(banner))
    if greet_wait is not None:
        out.append("    greet_wait: %s" % greet_wait)
    if greet_wait_stress is not None:
        out.append("    greet_wait_stress: %s" % greet_wait_stress)
    if smtp:
        out.append("    smtp: { %s }" % ", ".join("%s: %s" % (k, _yaml_scalar(v))
                                                 for k, v in smtp.items()))
    if listener_limits:
        out.append("    limits: { %s }" % ", ".join("%s: %s" % kv
                                                    for kv in listener_limits.items()))
    out += filter_chain_lines(filters)
    out += ["    handoff:",
            "      backends: %s" % _yaml_list(backends),
            "      proxy_protocol: %s" % proxy_protocol,
            "      connect_timeout: %s" % connect_timeout]
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------
# A minimal backend for load tests (no Postfix processes per connection)
# ---------------------------------------------------------------------------

PROXY_V2_SIGNATURE = b"\r\n\r\n\x00\r\nQUIT\n"


class SinkBackend:
    """A tiny TCP backend in a thread: reads the PROXY v2 header the gateway
    sends, records the original client ("ip", port), answers with banner
    and closes its side when the gateway closes.  For tests that hand off
    hundreds of clients at once, where a Postfix smtpd per client would cost
    too much CPU on a shared machine.  clients: list of (ip, port) in
    arrival order (read under .lock).
    """

    def __init__(self, banner="220 sink.test.example ESMTP", port=None):
        import threading
        self.banner = banner.encode() + b"\r\n"
        self.port = port if port is not None else free_port()
        self.clients = []
        self.lock = threading.Lock()
        self._stop = False
        self._thread = None
        self._lsock = None

    @property
    def address(self):
        return "127.0.0.1:%d" % self.port

    def start(self):
        import selectors
        import threading
        self._lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._lsock.bind(("127.0.0.1", self.port))
        self._lsock.listen(1024)
        self._lsock.setblocking(False)
        self._sel = selectors.DefaultSelector()
        self._sel.register(self._lsock, selectors.EVENT_READ, None)
        self._thread = threading.Thread(target=self._loop, name="sink-backend", daemon=True)
        self._thread.start()
        return self

    def _loop(self):
        import selectors
        bufs = {}
        while not self._stop:
            for key, _ in self._sel.select(0.1):
                if key.data is None:
                    try:
                        conn, _ = self._lsock.accept()
                    except OSError:
                        continue
                    conn.setblocking(False)
                    bufs[conn] = b""
                    self._sel.register(conn, selectors.EVENT_READ, "conn")
                    continue
                conn = key.fileobj
                try:
                    data = conn.recv(65536)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    data = b""
                if not data:
                    self._sel.unregister(conn)
                    bufs.pop(conn, None)
                    conn.close()
                    continue
                if bufs.get(conn) is None:
                    continue                      # header done: ignore the rest
                buf = bufs[conn] + data
                if len(buf) < 16:
                    bufs[conn] = buf
                    continue
                hlen = 16 + int.from_bytes(buf[14:16], "big")
                if len(buf) < hlen:
                    bufs[conn] = buf
                    continue
                bufs[conn] = None
                who = None
                if buf[:12] == PROXY_V2_SIGNATURE and buf[13] == 0x11 and hlen >= 28:
                    who = (socket.inet_ntoa(buf[16:20]), int.from_bytes(buf[24:26], "big"))
                with self.lock:
                    self.clients.append(who)
                try:
                    conn.sendall(self.banner)
                except OSError:
                    pass
        for key in list(self._sel.get_map().values()):
            try:
                key.fileobj.close()
            except OSError:
                pass
        self._sel.close()

    def stop(self):
        self._stop = True
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None


# ---------------------------------------------------------------------------
# Expected replies and log messages (postscreen-behaviour.md; the same strings
# the real postscreen(8) produces, see test_reference_postscreen.py)
# ---------------------------------------------------------------------------

REPLY_DENYLIST_DROP = "521 5.3.2 Service currently unavailable"
REPLY_DENYLIST_RCPT = "550 5.3.2 Service currently unavailable"
REPLY_TOO_MANY_CONNECTIONS = "421 4.7.0 Error: too many connections"
REPLY_SCREENING_BUSY = "421 4.3.2 All screening ports are busy"
REPLY_SERVER_BUSY = "421 4.3.2 All server ports are busy"


def pre_queue_capacity(pre_queue_limit):
    """How many clients under test fit before "all screening ports busy".

    The real postscreen compares the number of sessions *including the new
    one* with the limit (psc_check_queue_length - psc_post_queue_length >=
    var_psc_pre_queue_limit, after the new session was counted), so with a
    limit of N only N-1 clients are held and the Nth is refused.  Its
    per-client limit has no such offset (N held, the N+1th refused).
    Checked on Postfix 3.7.11 by test_reference_postscreen.py.
    """
    return pre_queue_limit - 1


def engine_ehlo(hostname, smtputf8=True):
    """postscreen's EHLO reply (never PIPELINING or AUTH)."""
    lines = [hostname, "SIZE 10240000", "VRFY", "ETRN", "ENHANCEDSTATUSCODES",
             "8BITMIME", "DSN"] + (["SMTPUTF8"] if smtputf8 else []) + ["CHUNKING"]
    return ["250-" + l for l in lines[:-1]] + ["250 " + lines[-1]]


def postfix_ehlo(hostname):
    """A PostfixInstance backend's EHLO reply (its smtpd offers PIPELINING,
    not SMTPUTF8)."""
    lines = [hostname, "PIPELINING", "SIZE 10240000", "VRFY", "ETRN", "ENHANCEDSTATUSCODES",
             "8BITMIME", "DSN", "CHUNKING"]
    return ["250-" + l for l in lines[:-1]] + ["250 " + lines[-1]]


def msg_connect(client):
    host, port = client.server
    return "CONNECT from %s to [%s]:%d" % (client.endpoint, host, port)


def msg_allowlisted(client):
    return "ALLOWLISTED %s" % client.endpoint


def msg_denylisted(client):
    return "DENYLISTED %s" % client.endpoint


def msg_disconnect(client):
    return "DISCONNECT %s" % client.endpoint


def msg_too_many_connections(client):
    return "NOQUEUE: reject: CONNECT from %s: too many connections" % client.endpoint


def msg_screening_busy(client):
    return "reject: connect from %s: all screening ports busy" % client.endpoint


def msg_pass_new(client):
    return "PASS NEW %s" % client.endpoint


def msg_pass_old(client):
    return "PASS OLD %s" % client.endpoint


def format_delay(seconds):
    """A delay as Postfix logs it (format_tv with 2 significant digits and at
    most 2 decimals, trailing zeros dropped): 0, 0.3, 0.15, 1.2, 12."""
    sec = int(seconds)
    usec = int(round((seconds - sec) * 1000000))
    if usec >= 1000000:
        sec, usec = sec + 1, usec - 1000000
    million, wid = 1000000, 100            # 2 significant digits
    ures = million // 100                   # 2 decimals at most
    if sec > 0:
        n = 1
        while sec >= n and n <= wid // 10:
            n *= 10
        ures = (million // wid) * n
    else:
        while usec >= wid * ures:
            ures *= 10
    if ures > 1:
        usec += ures // 2
        if usec >= million:
            sec, usec = sec + 1, usec - million
    out = "%d" % sec
    if usec >= ures:
        out += "."
        rem, n = usec, million // 10
        while rem >= ures and n > 0:
            out += "0123456789"[rem // n]
            rem %= n
            n //= 10
    return out


def delay_candidates(low, high, step=0.001):
    """Every string format_delay() gives for a delay in [low, high]."""
    out = set()
    x = max(0.0, low)
    while x <= high + 1e-9:
        out.add(format_delay(x))
        x += step
    return out


def c_escape(data):
    """Postfix escape(): printable ASCII as is (backslash doubled), \\a \\b \\f
    \\n \\r \\t \\v, any other byte as \\ooo."""
    named = {7: "\\a", 8: "\\b", 12: "\\f", 10: "\\n", 13: "\\r", 9: "\\t", 11: "\\v"}
    out = []
    for b in data:
        if b == 0x5c:
            out.append("\\\\")
        elif 0x20 <= b < 0x7f:
            out.append(chr(b))
        elif b in named:
            out.append(named[b])
        else:
            out.append("\\%03o" % b)
    return "".join(out)


def msg_rcpt_reject(client, reply, sender, rcpt, proto, helo):
    return ("NOQUEUE: reject: RCPT from %s: %s; from=<%s>, to=<%s>, proto=%s, helo=<%s>"
            % (client.endpoint, reply, sender, rcpt, proto, helo))


# ---------------------------------------------------------------------------
# SMTP client
# ---------------------------------------------------------------------------

class ConnectionClosed(AssertionError):
    """The peer closed the connection where a reply was expected."""


class SmtpClient:
    """A TCP client with a chosen source address and SMTP reply parsing."""

    def __init__(self, host, port, source_ip="127.0.0.1", timeout=10.0, source_port=0):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            self.sock.bind((source_ip, source_port))
            self.sock.settimeout(timeout)
            self.sock.connect((host, port))
        except BaseException:
            self.sock.close()
            raise
        self.timeout = timeout
        self.source_ip = source_ip
        self.source_port = self.sock.getsockname()[1]
        self.server = (host, port)
        self.buf = b""
        self.transcript = []          # ("<", line) / (">", line)
        self.closed = False

    @property
    def endpoint(self):
        """The client as postscreen logs it: [addr]:port."""
        return "[%s]:%d" % (self.source_ip, self.source_port)

    def _fill(self, timeout):
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise AssertionError("timeout (%.1fs) waiting for data from %s:%d; got so far: %r; "
                                 "transcript: %r" % (timeout, *self.server, self.buf,
                                                     self.transcript)) from None
        except ConnectionResetError:
            data = b""
        return data

    def read_line(self, timeout=None):
        """One line without its CRLF; ConnectionClosed on EOF."""
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("timeout waiting for a line; partial %r; transcript %r"
                                     % (self.buf, self.transcript))
            data = self._fill(left)
            if not data:
                raise ConnectionClosed("connection closed; unterminated data %r; transcript %r"
                                       % (self.buf, self.transcript))
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        text = line.decode("utf-8", errors="replace")
        if not text.endswith("\r"):
            raise AssertionError("line not terminated by CRLF: %r" % line)
        text = text[:-1]
        self.transcript.append(("<", text))
        return text

    def read_reply(self, timeout=None):
        """A (multi-line) SMTP reply: lines until one whose 4th char is a space."""
        lines = []
        while True:
            try:
                line = self.read_line(timeout)
            except ConnectionClosed as e:
                raise ConnectionClosed("%s (reply lines so far: %r)" % (e, lines)) from None
            if not re.match(r"^\d{3}[ -]", line):
                raise AssertionError("malformed reply line %r (after %r)" % (line, lines))
            lines.append(line)
            if line[3] == " ":
                return lines

    def send_line(self, line):
        self.transcript.append((">", line))
        self.sock.sendall(line.encode("utf-8") + b"\r\n")

    def send_raw(self, data):
        self.transcript.append((">", data))
        self.sock.sendall(data)

    def command(self, line, timeout=None):
        """send_line(line), then read_reply()."""
        self.send_line(line)
        return self.read_reply(timeout)

    def expect_closed(self, timeout=None):
        """Assert that the peer closes without sending anything more.

        Returns "eof" or "reset".
        """
        timeout = self.timeout if timeout is None else timeout
        if self.buf:
            raise AssertionError("unexpected data before close: %r" % self.buf)
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise AssertionError("connection still open after %.1fs; transcript %r"
                                 % (timeout, self.transcript)) from None
        except ConnectionResetError:
            return "reset"
        if data:
            raise AssertionError("unexpected data instead of close: %r" % data)
        return "eof"

    def is_open(self):
        """True if the peer has not closed (non-blocking check, no data consumed)."""
        r, _, _ = select.select([self.sock], [], [], 0)
        if not r:
            return True
        try:
            data = self.sock.recv(1, socket.MSG_PEEK)
        except OSError:
            return False
        return bool(data)

    def close(self):
        if not self.closed:
            self.closed = True
            try:
                self.sock.close()
            except OSError:
                pass


def smtp_client(host, port, source_ip="127.0.0.1", timeout=10.0):
    """Connect from source_ip (any 127.x.y.z, or ::1) to host:port."""
    return SmtpClient(host, port, source_ip, timeout)


# ---------------------------------------------------------------------------
# Test-case base class
# ---------------------------------------------------------------------------

class MxscreenTestCase(unittest.TestCase):
    """Helpers: start_gateway(), connect(), assert_reply(), assert_session_log()."""

    maxDiff = None
    POSTSCREEN = "postfix/postscreen"

    def start_gateway(self, config_text, files=None):
        """Start mxscreen; files {name: text} are written to @DIR@ first."""
        mx = Mxscreen(config_text)
        self.addCleanup(mx.stop)       # registered first, runs after client cleanups
        for name, text in (files or {}).items():
            mx.write_file(name, text)
        mx.start()
        self.mx = mx
        return mx

    def connect(self, port, source_ip, host="127.0.0.1", timeout=10.0):
        c = smtp_client(host, port, source_ip, timeout)
        self.addCleanup(c.close)
        return c

    def deliver_mail(self, client, helo, ehlo_reply, sender, rcpt, subject):
        """A whole mail transaction with a real Postfix backend behind the
        gateway, every reply exact; returns (queue id, message-id)."""
        self.assert_reply(client, "EHLO " + helo, ehlo_reply)
        self.assert_reply(client, "MAIL FROM:<%s>" % sender, ["250 2.1.0 Ok"])
        self.assert_reply(client, "RCPT TO:<%s>" % rcpt, ["250 2.1.5 Ok"])
        self.assert_reply(client, "DATA", ["354 End data with <CR><LF>.<CR><LF>"])
        msgid = "%s@test.example" % uuid.uuid4().hex
        for line in ["From: <%s>" % sender, "To: <%s>" % rcpt, "Subject: %s" % subject,
                     "Message-ID: <%s>" % msgid, "", "Hello from %s." % client.endpoint, "."]:
            client.send_line(line)
        reply = client.read_reply()
        self.assertEqual(len(reply), 1, reply)
        m = re.match(r"^250 2\.0\.0 Ok: queued as ([0-9A-F]+)$", reply[0])
        self.assertIsNotNone(m, reply)
        self.assert_reply(client, "QUIT", ["221 2.0.0 Bye"])
        client.expect_closed()
        # Close our end too, so that mxscreen's relay sees both directions
        # closed (a wrong DISCONNECT line for a handed-off session would only
        # be logged then).
        client.close()
        return m.group(1), msgid

    def assert_reply(self, client, command, expected, timeout=None):
        """Send command (None: just read) and compare the reply lines exactly."""
        if command is None:
            got = client.read_reply(timeout)
        else:
            got = client.command(command, timeout)
        self.assertEqual(got, expected, "reply to %r" % (command,))
        return got

    def assert_session_log(self, mx, client_or_endpoint, expected, timeout=10.0,
                           settle=0.0):
        """The postscreen log messages naming the client are exactly expected.

        Waits for the last expected message first; settle adds a pause to
        catch messages that should not be there (e.g. a late DISCONNECT).
        """
        endpoint = getattr(client_or_endpoint, "endpoint", client_or_endpoint)
        if expected:
            mx.wait_for_message(expected[-1], self.POSTSCREEN, timeout)
        if settle:
            time.sleep(settle)
        got = mx.postscreen_messages(endpoint)
        self.assertEqual(got, expected, "mxscreen log for %s; whole log:\n%s"
                         % (endpoint, mx.log()[-6000:]))

    def assert_log_format(self, mx):
        """Every line of the mxscreen log has the maillog layout."""
        _, bad = parse_maillog(mx.log())
        self.assertEqual(bad, [], "lines not in 'Mon DD HH:MM:SS host prog[pid]: msg' form")
