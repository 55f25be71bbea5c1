#!/usr/bin/env bash
# fuzz: builds the libFuzzer targets with clang (ASan+UBSan) and runs each
# over its seed corpus, then fuzzes each for FUZZ_SECONDS (default 60; --ci
# uses 15). New crashes land in build-fuzz/crashes/. Longer runs by hand:
#   FUZZ_SECONDS=600 scripts/fuzz.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_EACH=${FUZZ_SECONDS:-60}
[ "${1:-}" = "--ci" ] && SECONDS_EACH=15
scripts/install-deps.sh clang-14 libclang-rt-14-dev
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMXS_FUZZ=ON >/dev/null
fi
targets=(config cidr_table smtp_engine verdict_record proxy_header dnsbl_site dns_answer pushed_config log_line log_reader plugin_config admin_http)
ninja -C build-fuzz -j"${MXS_JOBS:-$(nproc)}" "${targets[@]/%/_fuzz}"
mkdir -p build-fuzz/crashes
for t in "${targets[@]}"; do
  corpus=tests/fuzz/corpus/$t
  work=build-fuzz/corpus-$t
  mkdir -p "$work"
  echo "fuzz: $t: replaying the seed corpus, then ${SECONDS_EACH}s of fuzzing"
  build-fuzz/tests/fuzz/${t}_fuzz -runs=0 "$corpus"
  # The whole log is kept; a crash prints its report (stack, input) in full.
  if ! build-fuzz/tests/fuzz/${t}_fuzz -max_total_time="$SECONDS_EACH" -max_len=4096 -timeout=10 \
    -artifact_prefix=build-fuzz/crashes/$t- "$work" "$corpus" >"build-fuzz/$t.log" 2>&1; then
    grep -v '^#[0-9]' "build-fuzz/$t.log" | tail -n 60
    echo "fuzz: $t: crash; reproduce with build-fuzz/tests/fuzz/${t}_fuzz build-fuzz/crashes/$t-*" >&2
    exit 1
  fi
  tail -n 2 "build-fuzz/$t.log"
done
# The example plugins' config reader: a target of their own project, built
# outside the core build like the plugins themselves.
if [ ! -f build-fuzz/examples-plugins/build.ninja ]; then
  CC=clang-14 CXX=clang++-14 cmake -S examples/plugins -B build-fuzz/examples-plugins -G Ninja \
    -DMXS_EXAMPLES_FUZZ=ON -DMXSCREEN_PLUGIN_INCLUDE_DIR="$PWD/api" >/dev/null
fi
ninja -C build-fuzz/examples-plugins -j"${MXS_JOBS:-$(nproc)}" json_config_fuzz
corpus=examples/plugins/tests/corpus/json_config
mkdir -p build-fuzz/corpus-json_config
echo "fuzz: json_config (examples/plugins): replaying the seed corpus, then ${SECONDS_EACH}s of fuzzing"
build-fuzz/examples-plugins/json_config_fuzz -runs=0 "$corpus"
if ! build-fuzz/examples-plugins/json_config_fuzz -max_total_time="$SECONDS_EACH" -max_len=4096 \
  -timeout=10 -artifact_prefix=build-fuzz/crashes/json_config- build-fuzz/corpus-json_config \
  "$corpus" >build-fuzz/json_config.log 2>&1; then
  grep -v '^#[0-9]' build-fuzz/json_config.log | tail -n 60
  echo "fuzz: json_config: crash; reproduce with build-fuzz/examples-plugins/json_config_fuzz build-fuzz/crashes/json_config-*" >&2
  exit 1
fi
tail -n 2 build-fuzz/json_config.log
echo "fuzz: no crashes"
