#!/usr/bin/env bash
# install-deps: installs, from Debian's packages, everything mxscreen needs to
# build, test and run its real-peer tests. Idempotent and quick when all is
# there; needs root (or sudo) only when something is missing.
set -euo pipefail

BUILD_PKGS=(cmake ninja-build g++ pkg-config libprotobuf-dev protobuf-compiler
  libgrpc++-dev protobuf-compiler-grpc grpc-proto libboost-dev libc-ares-dev librocksdb-dev
  libyaml-cpp-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev libssl-dev zlib1g-dev)
# Real peers used by the tests and the quick start (systemd: systemd-analyze
# verify of the shipped unit; logrotate: the shipped snippet, run for real;
# chromium: the dashboard test, tests/integration/test_dashboard.py).
PEER_PKGS=(postfix swaks haproxy rbldnsd bind9-dnsutils python3 systemd logrotate chromium)
EXTRA_PKGS=("$@")

missing=()
for p in "${BUILD_PKGS[@]}" "${PEER_PKGS[@]}" "${EXTRA_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
# Postfix must not configure or start a system instance: tests run private ones.
echo "postfix postfix/main_mailer_type select No configuration" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
