#!/usr/bin/env python3
"""check_tutorial - docs/plugins.md's tutorial, done exactly as written

SYNOPSIS
    check_tutorial.py --doc docs/plugins.md --include-dir api \\
        --host build/examples-plugins/plugin_host_test [--mxscreen build/mxscreen]

DESCRIPTION
    The tutorial marks its blocks with HTML comments (invisible when
    rendered):
      <!-- tutorial-file: NAME -->  the next code block is (appended to) file NAME
      <!-- tutorial-run -->         the next code block is shell, run as is
      <!-- tutorial-output -->      the next code block is the last run's stdout
      <!-- tutorial-log -->         the next code block is the log a session writes

    In a fresh directory this writes the files, runs the shell blocks with
    bash (MXSCREEN_API set to --include-dir; `mxscreen` on PATH when
    --mxscreen is given, else those blocks are skipped and said so) and
    compares each output block exactly. Then it drives the built plugin with
    the examples' fake host (plugin_host_test --drive) and checks that the
    failure's log line and reply are the ones the tutorial's log shows, and
    that a good name and an address literal pass. The session against a real
    gateway is tests/integration/test_plugin_tutorial.py (it imports
    extract() from here).

    Exit 0 when everything matched; 1 with the differences otherwise.
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

MARK = re.compile(r"^<!-- tutorial-(file|run|output|log)(?::\s*(\S+))?\s*-->\s*$")
FENCE = re.compile(r"^```")


def extract(doc_text):
    """The tutorial's steps, in order: (kind, name, text) tuples."""
    steps = []
    lines = doc_text.split("\n")
    i = 0
    while i < len(lines):
        m = MARK.match(lines[i])
        if not m:
            i += 1
            continue
        kind, name = m.group(1), m.group(2)
        i += 1
        if i >= len(lines) or not FENCE.match(lines[i]):
            raise ValueError("line %d: a tutorial-%s mark must be followed by a code block"
                             % (i, kind))
        i += 1
        body = []
        while i < len(lines) and not FENCE.match(lines[i]):
            body.append(lines[i])
            i += 1
        if i >= len(lines):
            raise ValueError("unterminated code block after a tutorial-%s mark" % kind)
        i += 1
        steps.append((kind, name, "\n".join(body) + "\n"))
    return steps


def write_files(steps, workdir):
    """Writes every tutorial-file block; returns {name: text}."""
    files = {}
    for kind, name, text in steps:
        if kind == "file":
            files[name] = files.get(name, "") + (("\n" if name in files else "") + text)
    for name, text in files.items():
        with open(os.path.join(workdir, name), "w") as f:
            f.write(text)
    return files


def run_steps(steps, workdir, include_dir, mxscreen=None):
    """Runs the shell blocks and checks the output blocks; returns problems."""
    problems = []
    env = dict(os.environ, MXSCREEN_API=os.path.abspath(include_dir))
    if mxscreen:
        env["PATH"] = os.path.dirname(os.path.abspath(mxscreen)) + os.pathsep + env["PATH"]
    last = None
    for kind, _, text in steps:
        if kind == "run":
            if "mxscreen " in text and not mxscreen:
                print("check_tutorial: skipped (no --mxscreen): %s" % text.strip())
                last = None
                continue
            r = subprocess.run(["bash", "-euo", "pipefail", "-c", text], cwd=workdir, env=env,
                               capture_output=True, text=True, timeout=300)
            print("check_tutorial: ran: %s -> exit %d" % (text.strip(), r.returncode))
            if r.returncode != 0:
                problems.append("%s\nexited %d\nstdout:\n%s\nstderr:\n%s"
                                % (text.strip(), r.returncode, r.stdout, r.stderr))
            last = r
        elif kind == "output" and last is not None:
            if last.stdout != text:
                problems.append("output differs:\n  doc: %r\n  got: %r" % (text, last.stdout))
    return problems


def log_lines(steps):
    for kind, _, text in steps:
        if kind == "log":
            return [l for l in text.split("\n") if l]
    return []


def drive(host, plugin, client, *commands):
    r = subprocess.run([host, "--drive", plugin, "{}", client] + list(commands),
                       capture_output=True, text=True, timeout=60)
    return r.stdout.split("\n")


def check_plugin(steps, workdir, host):
    """The built plugin does what the tutorial's log says."""
    problems = []
    sos = [n for k, n, _ in steps if k == "file" and n.endswith(".cc")]
    plugin = os.path.join(workdir, os.path.splitext(sos[0])[0] + ".so")
    log = log_lines(steps)
    fail_line = next((l for l in log if "HELO from" in l), None)
    reject = next((l for l in log if l.startswith("NOQUEUE: reject: RCPT")), None)
    if not fail_line or not reject:
        return ["the tutorial's log shows no HELO failure and NOQUEUE line"]
    # "NON-FQDN HELO from [127.0.0.1]:40000: localhost": the host's client
    # port is 40000 too, so the line must come out exactly.
    m = re.match(r"\S.* from \[([^\]]+)\]:\d+: (\S+)$", fail_line)
    client, name = m.group(1), m.group(2)
    reply = re.match(r"NOQUEUE: reject: RCPT from \S+: 550 (.*?); from=", reject).group(1)
    out = drive(host, plugin, client, "EHLO " + name, "MAIL FROM:<a@example.org>",
                "RCPT TO:<b@example.com>")
    expected = ["connect: continue", "EHLO %s: fail" % name, "reply: " + reply,
                "log: " + fail_line, "MAIL FROM:<a@example.org>: continue",
                "RCPT TO:<b@example.com>: continue", ""]
    if out != expected:
        problems.append("bad name:\n  expected %r\n  got      %r" % (expected, out))
    out = drive(host, plugin, client, "EHLO 192.0.2.1")
    expected = ["connect: continue", "EHLO 192.0.2.1: fail",
                "reply: 5.7.1 <192.0.2.1>: Helo command rejected: need fully-qualified hostname",
                "log: BARE IP HELO from [%s]:40000: 192.0.2.1" % client, ""]
    if out != expected:
        problems.append("bare IP:\n  expected %r\n  got      %r" % (expected, out))
    out = drive(host, plugin, client, "EHLO mail.example.com", "EHLO [192.0.2.1]",
                "MAIL FROM:<a@example.org>", "RCPT TO:<b@example.com>")
    expected = ["connect: continue", "EHLO mail.example.com: continue",
                "EHLO [192.0.2.1]: continue", "MAIL FROM:<a@example.org>: continue",
                "RCPT TO:<b@example.com>: pass", ""]
    if out != expected:
        problems.append("good names:\n  expected %r\n  got      %r" % (expected, out))
    # A config the tutorial's plugin refuses, with its message.
    r = subprocess.run([host, "--drive", plugin, '{"x": 1}', client], capture_output=True,
                       text=True, timeout=60)
    if r.stdout != "config error: my_helo takes no settings\n":
        problems.append("refused config: got %r" % r.stdout)
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--doc", required=True)
    ap.add_argument("--include-dir", required=True)
    ap.add_argument("--host", required=True)
    ap.add_argument("--mxscreen")
    args = ap.parse_args()
    with open(args.doc) as f:
        steps = extract(f.read())
    kinds = [k for k, _, _ in steps]
    if "file" not in kinds or "run" not in kinds or "log" not in kinds:
        print("check_tutorial: %s has no tutorial blocks" % args.doc)
        return 1
    with tempfile.TemporaryDirectory(prefix="mxs-tutorial-") as workdir:
        write_files(steps, workdir)
        problems = run_steps(steps, workdir, args.include_dir, args.mxscreen)
        if not problems:
            problems = check_plugin(steps, workdir, args.host)
    for p in problems:
        print("check_tutorial: " + p)
    print("check_tutorial: %s" % ("ok" if not problems else "%d problem(s)" % len(problems)))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
