// scratch_dir: the base fixture for unit tests that need files: a fresh
// folder per test under the framework's temp dir (TEST_TMPDIR under Bazel),
// removed with everything in it after the test, and Write() for the config
// files, tables and logs the test puts there.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

namespace mxs::test {

class ScratchDirTest : public ::testing::Test {
 protected:
  // `prefix` names the folder ("verdict_store" -> verdict_store_Ab12Cd), so
  // a folder left by a crashed test says which test left it.
  explicit ScratchDirTest(const std::string& prefix) {
    std::string tmpl = ::testing::TempDir() + prefix + "_XXXXXX";
    if (mkdtemp(tmpl.data()) == nullptr) ADD_FAILURE() << "mkdtemp " << tmpl << " failed";
    dir_ = tmpl;
  }
  // Runs after the derived fixture's members are gone, so stores and logs
  // they held are closed before their files are removed.
  ~ScratchDirTest() override {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }

  // Writes `text` (bytes as given) to `name` in the folder; returns its path.
  std::string Write(const std::string& name, const std::string& text) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << text;
    return path;
  }

  std::string dir_;
};

}  // namespace mxs::test
