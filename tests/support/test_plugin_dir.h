// test_plugin_dir: where the test plugins (tests/core/plugins, built into
// MXS_TEST_PLUGIN_DIR by CMake and Bazel) are, as an absolute path: Bazel
// gives one relative to the test's runfiles. Include it only from a test
// compiled with MXS_TEST_PLUGIN_DIR defined (core_tests).
#pragma once

#include <unistd.h>

#include <string>

namespace mxs::test {

inline std::string TestPluginDir() {
  std::string d = MXS_TEST_PLUGIN_DIR;
  if (!d.empty() && d[0] == '/') return d;
  char cwd[4096];
  return std::string(getcwd(cwd, sizeof cwd) ? cwd : ".") + "/" + d;
}

}  // namespace mxs::test
