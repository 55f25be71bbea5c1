#!/usr/bin/env bash
# build-example-plugins: configures, builds and tests examples/plugins as its
# own CMake project (not part of the core build), against the public plugin
# header in api/. Usage: scripts/build-example-plugins.sh [BUILD_DIR]
# (default build/examples-plugins). The integration tests load the .so files
# from there.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${1:-build/examples-plugins}
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S examples/plugins -B "$BUILD_DIR" -G Ninja "${launcher[@]}" \
    -DMXSCREEN_PLUGIN_INCLUDE_DIR="$PWD/api"
fi
ninja -C "$BUILD_DIR" -j"${MXS_JOBS:-$(nproc)}"
(cd "$BUILD_DIR" && ctest --output-on-failure)
