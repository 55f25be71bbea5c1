"""test_plugin_tutorial - docs/plugins.md's tutorial against a real gateway

SYNOPSIS
    /usr/bin/python3 -m unittest -v tests/integration/test_plugin_tutorial.py

DESCRIPTION
    Takes the tutorial's blocks out of docs/plugins.md with the extractor of
    examples/plugins/tests/check_tutorial.py, writes its files into a fresh
    directory, runs its shell blocks as written (the one-command compile
    with MXSCREEN_API pointing at api/, and `mxscreen validate` with
    BUILD/mxscreen first on PATH) and compares the output the doc shows.
    Then it runs BUILD/mxscreen with the tutorial's config, changed only
    where a test must: a free port for 127.0.0.1:2525, a real Postfix (no
    PROXY header, as the config says) for 127.0.0.1:2526, and a log file
    for stderr. The session of the tutorial's swaks command (EHLO
    localhost, MAIL, RCPT, QUIT) gets the 550 the doc shows, and the log has
    exactly the doc's lines (with the client's real port).
"""

import importlib.util
import os
import re
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from harness import (BUILD_DIR, REPO_DIR, Mxscreen, MxscreenTestCase,  # noqa: E402
                     PostfixInstance, free_port, engine_ehlo)

DOC = os.path.join(REPO_DIR, "docs", "plugins.md")
CHECKER = os.path.join(REPO_DIR, "examples", "plugins", "tests", "check_tutorial.py")


def load_checker():
    spec = importlib.util.spec_from_file_location("check_tutorial", CHECKER)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class TutorialTest(MxscreenTestCase):

    def setUp(self):
        self.checker = load_checker()
        with open(DOC) as f:
            self.steps = self.checker.extract(f.read())
        self.work = tempfile.mkdtemp(prefix="mxs-tutorial-")
        self.addCleanup(shutil.rmtree, self.work, True)
        self.files = self.checker.write_files(self.steps, self.work)

    def test_tutorial_as_written(self):
        problems = self.checker.run_steps(self.steps, self.work, os.path.join(REPO_DIR, "api"),
                                          os.path.join(BUILD_DIR, "mxscreen"))
        self.assertEqual(problems, [])
        ran = [t for k, _, t in self.steps if k == "run"]
        self.assertTrue(any(t.startswith("c++ ") for t in ran), ran)
        self.assertTrue(any(t.startswith("mxscreen validate") for t in ran), ran)

        backend = PostfixInstance("backend", proxy=False, hostname="backend.test.example")
        self.addCleanup(backend.stop)
        backend.start()
        port = free_port()
        config = self.files["mxscreen.yaml"]
        for old, new in [("127.0.0.1:2525", "127.0.0.1:%d" % port),
                         ("127.0.0.1:2526", backend.address),
                         ("logging: { sink: stderr }",
                          "logging: { sink: file, path: @DIR@/mxscreen.log }")]:
            self.assertIn(old, config)
            config = config.replace(old, new)
        so = [n for n in self.files if n.endswith(".cc")][0].replace(".cc", ".so")
        # The config names ./my_helo.so next to itself: the plugin goes into
        # the gateway's directory, where its config file is written.
        mx = Mxscreen(config)
        self.addCleanup(mx.stop)
        shutil.copy(os.path.join(self.work, so), os.path.join(mx.dir, so))
        mx.start()

        log = self.checker.log_lines(self.steps)
        reject = next(l for l in log if l.startswith("NOQUEUE: reject: RCPT"))
        m = re.match(r"NOQUEUE: reject: RCPT from \S+: (550 .*?); from=<([^>]*)>, "
                     r"to=<([^>]*)>, proto=ESMTP, helo=<([^>]*)>$", reject)
        reply, sender, rcpt, helo = m.groups()
        c = self.connect(port, "127.0.0.1")
        self.assertEqual(c.read_reply(), ["220 mx.tutorial.example ESMTP Postfix"])
        self.assertEqual(c.command("EHLO " + helo), engine_ehlo("mx.tutorial.example"))
        self.assertEqual(c.command("MAIL FROM:<%s>" % sender), ["250 2.1.0 Ok"])
        self.assertEqual(c.command("RCPT TO:<%s>" % rcpt), [reply])
        self.assertEqual(c.command("QUIT"), ["221 2.0.0 Bye"])
        c.expect_closed()
        expected = [l.replace("[127.0.0.1]:40000", c.endpoint)
                     .replace("to [127.0.0.1]:2525", "to [127.0.0.1]:%d" % port) for l in log]
        self.assert_session_log(mx, c, expected, settle=0.2)


if __name__ == "__main__":
    unittest.main()
