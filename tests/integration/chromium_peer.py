"""chromium_peer - headless Debian chromium driven over the DevTools protocol

SYNOPSIS
    from chromium_peer import Chromium, CHROMIUM
    with Chromium() as browser:
        browser.navigate("http://127.0.0.1:PORT/")
        browser.wait_for("window.mxsDashboard && mxsDashboard.samples >= 1")
        value = browser.evaluate("document.title")
        browser.screenshot("/path/page.png")

DESCRIPTION
    A real browser for the dashboard test, with Python's standard library
    only: chromium runs with --remote-debugging-pipe, which speaks the
    DevTools protocol as NUL-terminated JSON messages on file descriptors
    3 (commands to the browser) and 4 (replies and events), so no websocket
    client and no debugging port are needed.

    The browser is started with everything that would talk to the network
    on its own switched off (component updates, sync, background
    networking, QUIC); the pages it loads are on 127.0.0.1 only.  Its
    profile lives in a temporary directory removed by close().
"""

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time

CHROMIUM = "/usr/bin/chromium"

_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--no-default-browser-check", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--disable-extensions",
    "--disable-default-apps", "--disable-breakpad", "--metrics-recording-only",
    "--disable-features=Translate,MediaRouter,OptimizationHints",
    "--hide-scrollbars", "--disable-dev-shm-usage", "--mute-audio", "--force-color-profile=srgb",
]


class ChromiumError(AssertionError):
    pass


def _move_high(fd, at_least):
    """fd duplicated to the lowest free descriptor >= at_least (fd closed)."""
    import fcntl
    high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, at_least)
    os.close(fd)
    return high


class Chromium:
    def __init__(self, width=1280, height=900, timeout=20.0):
        self.width, self.height, self.timeout = width, height, timeout
        self.profile = tempfile.mkdtemp(prefix="mxs-chromium-")
        self.stderr_path = os.path.join(self.profile, "stderr.txt")
        self.proc = None
        self._next_id = 0
        self._buf = b""
        self.session = None
        self.console = []           # console messages and exceptions of the page

    # -- process -----------------------------------------------------------------
    def start(self):
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()
        # The browser's ends move above 100 first, so that the shell below
        # can place them on 3 and 4 without overwriting one with the other.
        to_browser_r, from_browser_w = (_move_high(to_browser_r, 100),
                                        _move_high(from_browser_w, 101))
        cmd = [CHROMIUM] + _FLAGS + [
            "--user-data-dir=" + self.profile, "--remote-debugging-pipe",
            "--window-size=%d,%d" % (self.width, self.height), "about:blank"]
        # The pipe ends must be descriptors 3 and 4 in the browser: a shell
        # moves them there (subprocess keeps only their own numbers; dash cannot
        # name descriptors above 9, bash can).
        script = 'exec "$@" 3<&%d 4>&%d %d<&- %d>&-' % (to_browser_r, from_browser_w,
                                                        to_browser_r, from_browser_w)
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(["/bin/bash", "-c", script, "bash"] + cmd,
                                         pass_fds=(to_browser_r, from_browser_w),
                                         stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                         start_new_session=True)
        os.close(to_browser_r)
        os.close(from_browser_w)
        targets = self.call("Target.getTargets")["targetInfos"]
        page = next((t for t in targets if t["type"] == "page"), None)
        if page is None:
            page = {"targetId": self.call("Target.createTarget", url="about:blank")["targetId"]}
        self.session = self.call("Target.attachToTarget", targetId=page["targetId"],
                                 flatten=True)["sessionId"]
        self.call("Page.enable", session=True)
        self.call("Runtime.enable", session=True)
        self.call("Emulation.setDeviceMetricsOverride", session=True, width=self.width,
                  height=self.height, deviceScaleFactor=1, mobile=False)
        return self

    def close(self):
        if self.proc is not None and self.proc.poll() is None:
            try:
                self.call("Browser.close", timeout=5.0)
            except Exception:
                pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, 9)
                except OSError:
                    pass
                self.proc.wait(5)
        for fd in (getattr(self, "_to_browser", None), getattr(self, "_from_browser", None)):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._to_browser = self._from_browser = None
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    def stderr(self):
        try:
            with open(self.stderr_path, errors="replace") as f:
                return f.read()[-3000:]
        except OSError:
            return ""

    # -- protocol ----------------------------------------------------------------
    def _send(self, message):
        data = json.dumps(message).encode() + b"\0"
        while data:
            n = os.write(self._to_browser, data)
            data = data[n:]

    def _read_message(self, deadline):
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self._from_browser], [], [], left)
            if not r:
                return None
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise ChromiumError("chromium closed the DevTools pipe; stderr:\n" + self.stderr())
            self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def _note_event(self, msg):
        method = msg.get("method")
        params = msg.get("params", {})
        if method == "Runtime.consoleAPICalled":
            self.console.append("%s: %s" % (params.get("type"), " ".join(
                str(a.get("value", a.get("description", ""))) for a in params.get("args", []))))
        elif method == "Runtime.exceptionThrown":
            d = params.get("exceptionDetails", {})
            self.console.append("exception: %s" % d.get("exception", {}).get(
                "description", d.get("text")))

    def call(self, method, session=False, timeout=None, **params):
        """Send one command and return its result (ChromiumError on an error)."""
        self._next_id += 1
        msg = {"id": self._next_id, "method": method, "params": params}
        if session:
            msg["sessionId"] = self.session
        self._send(msg)
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            reply = self._read_message(deadline)
            if reply is None:
                raise ChromiumError("no answer to %s within %.0fs; stderr:\n%s"
                                    % (method, timeout or self.timeout, self.stderr()))
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise ChromiumError("%s: %s" % (method, reply["error"]))
                return reply.get("result", {})
            self._note_event(reply)

    # -- page helpers ------------------------------------------------------------
    def navigate(self, url):
        result = self.call("Page.navigate", session=True, url=url)
        if result.get("errorText"):
            raise ChromiumError("navigating to %s: %s" % (url, result["errorText"]))
        self.wait_for("document.readyState === 'complete'")

    def evaluate(self, expression):
        """The JSON value of a JavaScript expression (promises are awaited)."""
        result = self.call("Runtime.evaluate", session=True, expression=expression,
                           returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            d = result["exceptionDetails"]
            raise ChromiumError("%s: %s" % (expression, d.get("exception", {}).get(
                "description", d.get("text"))))
        return result["result"].get("value")

    def wait_for(self, expression, timeout=None):
        """Poll until the expression is truthy; returns its value."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() >= deadline:
                raise ChromiumError("still false after %.0fs: %s; console: %r"
                                    % (timeout or self.timeout, expression, self.console))
            time.sleep(0.05)

    def screenshot(self, path, full_page=True):
        """A PNG of the page (the whole document when full_page) into path."""
        params = {"format": "png"}
        if full_page:
            size = self.evaluate("[document.documentElement.scrollWidth,"
                                 " document.documentElement.scrollHeight]")
            params["clip"] = {"x": 0, "y": 0, "width": max(size[0], self.width),
                              "height": max(size[1], 1), "scale": 1}
            params["captureBeyondViewport"] = True
        data = self.call("Page.captureScreenshot", session=True, **params)["data"]
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path
