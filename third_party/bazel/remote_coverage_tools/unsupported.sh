#!/bin/sh
echo "mxscreen: 'bazel coverage' is not supported offline (@remote_coverage_tools is a stub); use the CMake build for coverage." >&2
exit 1
