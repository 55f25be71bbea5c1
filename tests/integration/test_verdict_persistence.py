"""test_verdict_persistence - passes survive a restart and a kill -9 under load

SYNOPSIS
    /usr/bin/python3 -m unittest -v tests/integration/test_verdict_persistence.py

DESCRIPTION
    postscreen-behaviour.md section 7: the verdict store must survive
    restarts and process crashes (only a power failure may lose the last
    second of writes: the store writes its WAL without fsync, so a killed
    process loses nothing the kernel already has).

      - test_restart_keeps_pass: the full cycle with a restart in the
        middle: a new client passes pregreet and the deep tests (engine,
        RCPT 450, PASS NEW); the gateway is stopped (SIGTERM) and started
        again on the same store; the client's next connection is PASS OLD
        and is handed to a real Postfix smtpd (PROXY v2), which logs the
        original client.  `mxscreen verdict get` on the stopped gateway
        shows the four passes.
      - test_kill9_under_load_loses_no_logged_pass: 200 clients from
        distinct 127.x addresses pass pregreet concurrently while a second
        wave of 100 clients is still in its greet wait; the gateway gets
        SIGKILL the moment the 200th "PASS NEW" of the first wave is in the
        log.  After a restart every client whose PASS NEW was logged (first
        wave, and any of the second) gets PASS OLD: the backend's banner as
        the very first line (no teaser), "PASS OLD [ip]:port" in the log.
        The backend here is harness.SinkBackend (a thread that reads the
        PROXY v2 header and answers with a banner): hundreds of Postfix
        smtpd processes would load the shared machine for nothing.
"""

import asyncio
import calendar
import os
import re
import signal
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (PostfixInstance, SinkBackend, MxscreenTestCase, free_port,  # noqa: E402
                     screening_config, engine_ehlo, parse_maillog, endpoint_re,
                     msg_connect, msg_disconnect, msg_pass_new, msg_pass_old,
                     msg_rcpt_reject)

MX_HOSTNAME = "mx.test.example"
BANNER = "%s ESMTP Postfix" % MX_HOSTNAME
TEASER = "220-" + BANNER
ENGINE_BANNER = "220 " + BANNER
BACKEND_HOSTNAME = "backend.test.example"
BACKEND_BANNER = "220 %s ESMTP Postfix" % BACKEND_HOSTNAME
SINK_BANNER = "220 sink.test.example ESMTP"
REPLY_450 = "450 4.3.2 Service currently unavailable"
SENDER, RCPT, HELO = "a@b.example", "c@d.example", "client.example"

FIRST_WAVE = ["127.5.%d.%d" % (i // 200, i % 200 + 1) for i in range(200)]
SECOND_WAVE = ["127.6.%d.%d" % (i // 200, i % 200 + 1) for i in range(100)]


def parse_verdict_get(text):
    """'NAME 2026-11-23T03:00:00Z (in 23h59m)' lines -> {name: epoch}."""
    out = {}
    for line in text.splitlines():
        m = re.match(r"^(\S+) (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)( \(in \S+\)| expired)$", line)
        if not m:
            raise AssertionError("unexpected `verdict get` line %r in %r" % (line, text))
        out[m.group(1)] = calendar.timegm(time.strptime(m.group(2), "%Y-%m-%dT%H:%M:%SZ"))
    return out


def has_verdict_cli(mx):
    r = mx.run_cli("--help")
    return bool(re.search(r"^\s+verdict\s", r.stdout, re.M))


async def _screen(ip, port, timeout):
    """Connect from ip, read two lines, close: (source port, [lines] or error)."""
    sport = None
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection("127.0.0.1", port, local_addr=(ip, 0)), timeout)
    except Exception as e:                  # noqa: BLE001 - reported per client
        return ip, None, "connect: %r" % (e,)
    sport = writer.get_extra_info("sockname")[1]
    lines = []
    try:
        for _ in range(2):
            line = await asyncio.wait_for(reader.readline(), timeout)
            if not line:
                break
            lines.append(line.decode(errors="replace").rstrip("\r\n"))
            if lines[0] == SINK_BANNER:
                break                       # PASS OLD: the backend's banner alone
    except Exception as e:                  # noqa: BLE001
        lines.append("error: %r" % (e,))
    finally:
        writer.close()
    return ip, sport, lines


class PersistenceTest(MxscreenTestCase):

    def test_restart_keeps_pass(self):
        """New client -> engine -> 450 -> PASS NEW; restart (SIGTERM, start on
        the same store); reconnect -> PASS OLD -> real Postfix smtpd."""
        backend = PostfixInstance("backend", proxy=True, hostname=BACKEND_HOSTNAME)
        self.addCleanup(backend.stop)
        backend.start()
        port = free_port()
        filters = [{"name": "pregreet"}, {"name": "pipelining"}, {"name": "non_smtp"},
                   {"name": "bare_newline"}]
        mx = self.start_gateway(screening_config(port, [backend.address], filters,
                                                 hostname=MX_HOSTNAME, greet_wait="1s"))
        ip = "127.0.5.1"
        c = self.connect(port, ip)
        self.assertEqual(c.read_reply(timeout=5), [TEASER, ENGINE_BANNER])
        self.assertEqual(c.command("EHLO " + HELO), engine_ehlo(MX_HOSTNAME))
        self.assertEqual(c.command("MAIL FROM:<%s>" % SENDER), ["250 2.1.0 Ok"])
        self.assertEqual(c.command("RCPT TO:<%s>" % RCPT), [REPLY_450])
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.expect_closed()
        c.close()
        self.assert_session_log(mx, c, [
            msg_connect(c), msg_rcpt_reject(c, REPLY_450, SENDER, RCPT, "ESMTP", HELO),
            msg_pass_new(c), msg_disconnect(c)])

        self.assertEqual(mx.stop(), 0, mx.diagnostics())
        first_pid = mx.proc.pid
        if has_verdict_cli(mx):
            r = mx.verdict_get(ip)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            got = parse_verdict_get(r.stdout)
            now = time.time()
            for name, ttl in (("pregreet", 86400), ("pipelining", 30 * 86400),
                              ("non_smtp", 30 * 86400), ("bare_newline", 30 * 86400)):
                self.assertIn(name, got, r.stdout)
                self.assertAlmostEqual(got[name], now + ttl, delta=120, msg=r.stdout)
            r = mx.verdict_get("127.0.5.2")
            self.assertEqual((r.returncode, r.stdout), (1, "no record for 127.0.5.2\n"))

        mx.start()
        self.assertNotEqual(mx.proc.pid, first_pid)
        c2 = self.connect(port, ip)
        t0 = time.monotonic()
        self.assertEqual(c2.read_reply(), [BACKEND_BANNER])
        self.assertLess(time.monotonic() - t0, 0.8, "PASS OLD hands off at once")
        self.assertEqual(c2.command("QUIT"), ["221 2.0.0 Bye"])
        c2.expect_closed()
        c2.close()
        backend.wait_for_log(r"postfix/smtpd\[\d+\]: connect from %s$"
                             % re.escape("unknown[%s]:%d" % (ip, c2.source_port)))
        self.assert_session_log(mx, c2, [msg_connect(c2), msg_pass_old(c2)], settle=0.3)
        # A client the first run never saw is still tested.
        c3 = self.connect(port, "127.0.5.2")
        self.assertEqual(c3.read_line(), TEASER)

    def test_kill9_under_load_loses_no_logged_pass(self):
        sink = SinkBackend(SINK_BANNER).start()
        self.addCleanup(sink.stop)
        port = free_port()
        cfg = screening_config(port, [sink.address], [{"name": "pregreet"}],
                               hostname=MX_HOSTNAME, greet_wait="1s",
                               limits={"pre_queue_limit": 2000, "post_queue_limit": 2000})
        mx = self.start_gateway(cfg)

        async def first_run():
            watcher = asyncio.ensure_future(self._kill_after_pass_new(mx, len(FIRST_WAVE)))
            wave1 = [asyncio.ensure_future(_screen(ip, port, 15)) for ip in FIRST_WAVE]
            await asyncio.sleep(0.4)
            wave2 = [asyncio.ensure_future(_screen(ip, port, 15)) for ip in SECOND_WAVE]
            killed_at = await watcher
            return killed_at, await asyncio.gather(*wave1), await asyncio.gather(*wave2)

        t0 = time.monotonic()
        killed_at, wave1, wave2 = asyncio.run(first_run())
        status = mx.kill()
        self.assertEqual(status, -signal.SIGKILL, "the gateway must have died of SIGKILL")
        self.assertIsNotNone(killed_at, "not every first-wave client logged PASS NEW;\n%s"
                             % mx.log()[-4000:])
        log_before = mx.log()
        entries, bad = parse_maillog(log_before)
        passed = {}                     # ip -> endpoint of the connection that passed
        for e in entries:
            m = re.match(r"^PASS NEW \[([0-9.]+)\]:(\d+)$", e.msg)
            if m:
                passed[m.group(1)] = "[%s]:%s" % (m.group(1), m.group(2))
        self.assertTrue(set(FIRST_WAVE) <= set(passed), sorted(set(FIRST_WAVE) - set(passed)))
        # Sanity of the first run: each first-wave client saw the teaser, then
        # (unless the kill came first) the backend's banner.
        for ip, sport, lines in wave1:
            self.assertIsNotNone(sport, (ip, lines))
            self.assertEqual(lines[:1], [TEASER], (ip, lines))
        in_flight = [ip for ip, _, lines in wave2 if ip not in passed]
        print("\n  kill -9 %.2f s after the first connect; %d PASS NEW logged, %d clients "
              "still in their greet wait" % (killed_at - t0, len(passed), len(in_flight)),
              file=sys.stderr)

        # The store of the killed gateway, read with the CLI (a sample).
        if has_verdict_cli(mx):
            last = list(passed)[-1]
            for ip in [FIRST_WAVE[0], FIRST_WAVE[-1], last]:
                r = mx.verdict_get(ip)
                self.assertEqual(r.returncode, 0, "verdict get %s: %s%s" % (ip, r.stdout, r.stderr))
                self.assertIn("pregreet", parse_verdict_get(r.stdout), r.stdout)

        # Restart on the same store: every logged pass is still there.
        mx.start()
        sem = asyncio.Semaphore(50)

        async def limited(ip):
            async with sem:
                return await _screen(ip, port, 15)

        async def second_run():
            return await asyncio.gather(*[limited(ip) for ip in passed])

        results = asyncio.run(second_run())
        wrong = [(ip, lines) for ip, _, lines in results if lines != [SINK_BANNER]]
        if wrong:
            self.fail("%d of %d clients whose PASS NEW was logged were tested again after the "
                      "kill (the first line should be the backend's banner, no teaser), e.g. %r"
                      % (len(wrong), len(results), wrong[:5]))
        entries, _ = parse_maillog(mx.log()[len(log_before):])
        msgs = [e.msg for e in entries if e.prog == self.POSTSCREEN]
        lost = []
        for ip, sport, _ in results:
            endpoint = "[%s]:%d" % (ip, sport)
            rx = endpoint_re(endpoint)
            mine = [m for m in msgs if rx.search(m)]
            if mine != ["CONNECT from %s to [127.0.0.1]:%d" % (endpoint, port),
                        "PASS OLD " + endpoint]:
                lost.append((endpoint, mine))
        if lost:
            self.fail("%d of %d clients without exactly CONNECT, PASS OLD in the second run's "
                      "log, e.g. %r" % (len(lost), len(results), lost[:5]))
        with sink.lock:
            arrived = set(sink.clients)
        missing = [(ip, sport) for ip, sport, _ in results if (ip, sport) not in arrived]
        self.assertEqual(missing, [], "PROXY v2 headers at the backend")
        self.assert_log_format(mx)

    async def _kill_after_pass_new(self, mx, want, timeout=20.0):
        """SIGKILL the gateway as soon as `want` first-wave PASS NEW lines are
        in its log; returns the monotonic time of the kill (None: timeout)."""
        rx = re.compile(r"postfix/postscreen\[\d+\]: PASS NEW \[127\.5\.")
        deadline = time.monotonic() + timeout
        offset, count, tail = 0, 0, ""
        while time.monotonic() < deadline:
            try:
                with open(mx.log_path, "r", errors="replace") as f:
                    f.seek(offset)
                    chunk = f.read()
                    offset = f.tell()
            except FileNotFoundError:
                chunk = ""
            if chunk:
                text = tail + chunk
                lines = text.split("\n")
                tail = lines.pop()
                count += sum(1 for line in lines if rx.search(line))
                if count >= want:
                    os.kill(mx.proc.pid, signal.SIGKILL)
                    return time.monotonic()
            await asyncio.sleep(0.005)
        return None


if __name__ == "__main__":
    unittest.main()
