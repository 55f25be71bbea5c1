#!/usr/bin/env bash
# test: THE test command. Installs what is missing, builds, and runs every
# test (unit tests and the integration tests with real Postfix on loopback).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build
# The example plugins are built the way a plugin author builds them: their
# own CMake project against the public header, outside the core build (the
# integration tests load the .so files from build/examples-plugins).
scripts/build-example-plugins.sh build/examples-plugins
cd build
ctest --output-on-failure -j"${MXS_TEST_JOBS:-2}" "$@"
