#!/usr/bin/env bash
# quickstart: THE run command. Installs what is missing, builds, starts a demo
# backend MTA on 127.0.0.1:2526 (Postfix's smtp-sink, which accepts and drops
# every message) and runs mxscreen in front of it on 127.0.0.1:2525 with
# examples/quickstart.yaml, logging to this terminal. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build
mkdir -p run/quickstart
SINK_USER=nobody
smtp-sink -u "$SINK_USER" 127.0.0.1:2526 100 &
SINK_PID=$!
trap 'kill $SINK_PID 2>/dev/null || true' EXIT
echo "quickstart: demo backend (smtp-sink) on 127.0.0.1:2526; mxscreen on 127.0.0.1:2525"
echo "quickstart: try  swaks --server 127.0.0.1:2525 --to you@example.com"
echo "quickstart: dashboard on http://127.0.0.1:9425/ (metrics: curl http://127.0.0.1:9425/metrics)"
./build/mxscreen run --config examples/quickstart.yaml
