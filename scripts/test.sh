#!/usr/bin/env bash
# test: THE test command. Installs what is missing, builds, and runs every
# test (unit tests and the integration tests with real Postfix on loopback).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build
cd build
ctest --output-on-failure -j"${MXS_TEST_JOBS:-2}" "$@"
