#!/usr/bin/env bash
# sanitize: the whole test suite (unit, fuzz replay, integration) against an
# ASan+UBSan build of mxscreen, in build-asan/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build-asan -DMXS_SANITIZE=ON
cd build-asan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --output-on-failure -j"${MXS_TEST_JOBS:-2}" -E '^bench'
