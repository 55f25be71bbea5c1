#!/usr/bin/env bash
# bazel-ci: the Bazel half of CI. Builds every Bazel target and runs the unit
# tests (always re-run: --nocache_test_results), fully offline against the
# system libraries, with plain console output.
#
# Usage: scripts/bazel-ci.sh [bazel options...] [target patterns...]
#   e.g. scripts/bazel-ci.sh --jobs=2          (.bazelrc defaults to --jobs=1)
#        scripts/bazel-ci.sh --config=opt //core/...
# Options (arguments starting with "-") go to both `bazel build` and
# `bazel test`; target patterns default to //...
#
# The integration tests (tests/integration, real Postfix) are not Bazel
# targets: ctest runs them (scripts/test.sh). Bazel's closing
# "Executed N out of N tests" line is not the CI test count; ctest's is.
set -euo pipefail
cd "$(dirname "$0")/.."

opts=()
targets=()
for a in "$@"; do
  case $a in
    -*) opts+=("$a") ;;
    *) targets+=("$a") ;;
  esac
done
[ ${#targets[@]} -eq 0 ] && targets=(//...)

# Debian's bazel-bootstrap (4.2.3); idempotent, quick when installed.
if ! command -v bazel >/dev/null 2>&1; then
  scripts/install-deps.sh bazel-bootstrap
fi

# CI-friendly console output: no curses redraws, no colour, progress at most
# every 30 s, full command lines of failed steps, and the .bazelrc in effect.
ci=(--curses=no --color=no --show_progress_rate_limit=30 --verbose_failures --announce_rc)

start=$(date +%s)
echo "bazel-ci: bazel-bootstrap $(dpkg-query -W -f='${Version}' bazel-bootstrap 2>/dev/null || echo "?"), targets: ${targets[*]}"

echo "bazel-ci: bazel build" "${opts[@]}" "${targets[@]}"
bazel build "${ci[@]}" "${opts[@]}" -- "${targets[@]}"

echo "bazel-ci: bazel test --nocache_test_results" "${opts[@]}" "${targets[@]}"
bazel test "${ci[@]}" --nocache_test_results --test_output=errors "${opts[@]}" -- "${targets[@]}"

echo "bazel-ci: build and tests passed in $(( $(date +%s) - start ))s"
