"""The command line: validate (ok and every kind of error with its field
path), run refusing a bad config (exit 2) and a port already in use (exit 1),
exit codes of bad usage."""
import os
import socket
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

BIN = os.path.join(harness.BUILD_DIR, "mxscreen")
REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(*args, config_text=None, timeout=10):
    with tempfile.TemporaryDirectory(prefix="mxs-cli-") as d:
        argv = [BIN] + list(args)
        if config_text is not None:
            path = os.path.join(d, "c.yaml")
            with open(path, "w") as f:
                f.write(config_text)
            argv += ["--config", path]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
        return r.returncode, r.stdout.replace(d + "/", ""), r.stderr.replace(d + "/", "")


class Validate(unittest.TestCase):
    def test_quickstart_example_is_valid(self):
        r = subprocess.run([BIN, "validate", "--config", os.path.join(REPO, "examples/quickstart.yaml")],
                           capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.endswith("quickstart.yaml: ok (1 listener(s), 1 filter(s))\n"), r.stdout)

    def test_errors_name_the_field(self):
        rc, out, err = run("validate", config_text=(
            "listeners:\n  - address: 127.0.0.1:25\n    handoff: { backends: [\"127.0.0.1:1\"] }\n"
            "    filters:\n      - name: access_cidr\n        typed_config:\n"
            "          access_list: [ { cidr: { lines: [\"192.0.2.0/24 allow\"] } } ]\n"))
        self.assertEqual(rc, 2)
        self.assertEqual(out, "")
        self.assertEqual(err, "mxscreen: c.yaml: listeners[0].filters[0].typed_config.access_list[0].cidr: "
                              "inline table, line 1: unknown action \"allow\" (expected permit, reject or dunno)\n")

    def test_table_file_errors_name_file_and_line(self):
        with tempfile.TemporaryDirectory() as d:
            table = os.path.join(d, "access.cidr")
            with open(table, "w") as f:
                f.write("# ok\n192.0.2.0/24 permit\n\n192.0.2.300/32 reject\n")
            rc, _, err = run("validate", config_text=(
                "listeners:\n  - address: 127.0.0.1:25\n    handoff: { backends: [\"127.0.0.1:1\"] }\n"
                "    filters: [ { name: access_cidr, typed_config: { access_list: [ { cidr: { path: %s } } ] } } ]\n"
                % table))
        self.assertEqual(rc, 2)
        self.assertEqual(err, "mxscreen: c.yaml: listeners[0].filters[0].typed_config.access_list[0].cidr: "
                              "%s, line 4: bad address \"192.0.2.300\"\n" % table)

    def test_control_plane_bootstrap_without_listeners(self):
        rc, out, err = run("validate", config_text=(
            "node_id: mx1\nstore: { path: /var/lib/mxscreen/verdicts }\n"
            "control_plane: { address: \"127.0.0.1:18000\", fleet: eu }\n"))
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(out, "c.yaml: ok (node mx1, fleet eu from the control plane "
                              "127.0.0.1:18000 in plaintext)\n")
        rc, out, err = run("validate", config_text=(
            "control_plane: { address: \"cp.example:18000\", fleet: eu }\n"))
        self.assertEqual(rc, 2)
        self.assertEqual(err, "mxscreen: c.yaml: node_id: a gateway fed by a control plane "
                              "needs a node_id\n")

    def test_unreadable_file(self):
        rc, _, err = run("validate", "--config", "/nonexistent/mxscreen.yaml")
        self.assertEqual(rc, 2)
        self.assertEqual(err, "mxscreen: /nonexistent/mxscreen.yaml: cannot read config file "
                              "/nonexistent/mxscreen.yaml\n")


class Run(unittest.TestCase):
    def test_bad_config_exits_2_without_listening(self):
        rc, _, err = run("run", config_text="listeners: [ { address: nowhere } ]\n")
        self.assertEqual(rc, 2)
        self.assertIn("listeners[0].address: expected an IP address and port", err)

    def test_port_in_use_exits_1(self):
        # Even a socket that set SO_REUSEPORT must not be shared silently.
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        self.addCleanup(s.close)
        rc, _, err = run("run", config_text=(
            "logging: { sink: stderr }\nlisteners: [ { address: \"127.0.0.1:%d\", "
            "handoff: { backends: [\"127.0.0.1:9\"] } } ]\n" % port))
        self.assertEqual(rc, 1)
        self.assertRegex(err, r"mxscreen\[\d+\]: fatal: cannot listen on \[127\.0\.0\.1\]:%d: "
                              r"Address already in use\n$" % port)


class Usage(unittest.TestCase):
    def test_no_subcommand_is_usage_error(self):
        rc, _, err = run()
        self.assertEqual(rc, 2)
        self.assertIn("A subcommand is required", err)

    def test_unknown_option(self):
        rc, _, _ = run("run", "--frobnicate")
        self.assertEqual(rc, 2)


if __name__ == "__main__":
    unittest.main()
