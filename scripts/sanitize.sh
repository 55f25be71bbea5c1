#!/usr/bin/env bash
# sanitize: the whole test suite (unit, fuzz replay, integration) against an
# ASan+UBSan build of mxscreen, in build-asan/.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build-asan -DMXS_SANITIZE=ON
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# The example plugins with the same sanitizers, as their own project (their
# fake-host tests run here; the integration tests load these .so files).
san="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
if [ ! -f build-asan/examples-plugins/build.ninja ]; then
  cmake -S examples/plugins -B build-asan/examples-plugins -G Ninja \
    -DMXSCREEN_PLUGIN_INCLUDE_DIR="$PWD/api" -DCMAKE_C_FLAGS="$san" -DCMAKE_CXX_FLAGS="$san" \
    -DCMAKE_EXE_LINKER_FLAGS="$san" -DCMAKE_MODULE_LINKER_FLAGS="$san" >/dev/null
fi
ninja -C build-asan/examples-plugins -j"${MXS_JOBS:-$(nproc)}"
(cd build-asan/examples-plugins && ctest --output-on-failure)
cd build-asan
ctest --output-on-failure -j"${MXS_TEST_JOBS:-2}" -E '^bench'
