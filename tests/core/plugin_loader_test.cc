// Tests of the plugin loader: SHA-256, the search path, the refusals (missing
// file, not a shared object, missing entry symbol, ABI mismatch, pinned hash)
// with their exact messages, identical bytes sharing one image and a new
// build at the same path really loading. The plugins come from
// tests/core/plugins, built into MXS_TEST_PLUGIN_DIR.
#include "core/plugin_loader.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "core/sha256.h"
#include "tests/support/test_plugin_dir.h"

namespace mxs {
namespace {

const std::string kDir = test::TestPluginDir();

std::string TempDir() {
  std::string d = ::testing::TempDir() + "/plugin-loader-" + std::to_string(getpid());
  ::mkdir(d.c_str(), 0700);
  return d;
}

void Copy(const std::string& from, const std::string& to) {
  std::ifstream in(from, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string tmp = to + ".tmp";
  std::ofstream(tmp, std::ios::binary) << ss.str();
  ASSERT_EQ(::rename(tmp.c_str(), to.c_str()), 0);  // as an installer replaces a file
}

std::string LoadError(const std::string& path, const std::string& sha = "") {
  try {
    LoadPlugin(path, sha);
  } catch (const PluginLoadError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Sha256, KnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(Sha256Hex(std::string(1000000, 'a')),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(PluginLoader, LoadsACPlugin) {
  auto image = LoadPlugin(kDir + "/c_plugin.so");
  ASSERT_NE(image, nullptr);
  EXPECT_STREQ(image->plugin->name, "c_plugin");
  EXPECT_EQ(image->abi_version, "1.0");
  EXPECT_EQ(image->path, kDir + "/c_plugin.so");
  EXPECT_EQ(image->sha256.size(), 64u);
  // The same bytes again: the same image.
  EXPECT_EQ(LoadPlugin(kDir + "/c_plugin.so")->plugin, image->plugin);
}

TEST(PluginLoader, RefusesWithClearMessages) {
  EXPECT_EQ(LoadError("/nonexistent/x.so"),
            "cannot read /nonexistent/x.so: No such file or directory");
  EXPECT_EQ(LoadError(kDir + "/abi_mismatch_plugin.so"),
            kDir +
                "/abi_mismatch_plugin.so was built for plugin ABI 2.0, this gateway has ABI "
                "1.0 (rebuild the plugin against this gateway's mxscreen_plugin.h)");
  // Remembered: the second refusal is the same, without mapping it again.
  EXPECT_EQ(LoadError(kDir + "/abi_mismatch_plugin.so"),
            kDir +
                "/abi_mismatch_plugin.so was built for plugin ABI 2.0, this gateway has ABI "
                "1.0 (rebuild the plugin against this gateway's mxscreen_plugin.h)");
  EXPECT_EQ(LoadError(kDir + "/no_symbol_plugin.so"),
            kDir +
                "/no_symbol_plugin.so does not export mxscreen_plugin_describe (not an "
                "mxscreen plugin, or built without MXSCREEN_PLUGIN)");
  std::string text = TempDir() + "/text.so";
  std::ofstream(text) << std::string(200, '#') << " not a shared object\n";
  EXPECT_EQ(LoadError(text), "cannot load " + text + ": " + text + ": invalid ELF header");
  std::string tiny = TempDir() + "/tiny.so";
  std::ofstream(tiny) << "ELF?\n";
  EXPECT_EQ(LoadError(tiny), "cannot load " + tiny + ": " + tiny + ": file too short");
  EXPECT_EQ(LoadError(TempDir()), TempDir() + " is not a regular file");
  std::string want(64, '0');
  std::string c = kDir + "/c_plugin.so";
  EXPECT_EQ(LoadError(c, want),
            c + " has SHA-256 " + LoadPlugin(c)->sha256 + ", the config expects " + want);
}

TEST(PluginLoader, NewBuildAtTheSamePathLoads) {
  std::string p = TempDir() + "/same_path.so";
  Copy(kDir + "/test_plugin.so", p);
  auto v1 = LoadPlugin(p);
  EXPECT_STREQ(v1->plugin->version, "1");
  Copy(kDir + "/test_plugin_v2.so", p);
  auto v2 = LoadPlugin(p);
  EXPECT_STREQ(v2->plugin->version, "2");
  EXPECT_NE(v1->plugin, v2->plugin);
  // The old image stays usable for whoever still holds it.
  EXPECT_STREQ(v1->plugin->version, "1");
  EXPECT_NE(v1->sha256, v2->sha256);
}

TEST(PluginLoader, SearchPath) {
  EXPECT_EQ(ResolvePluginPath("/abs/x.so", "/etc/mxscreen", {"/a"}), "/abs/x.so");
  EXPECT_EQ(ResolvePluginPath("sub/x.so", "/etc/mxscreen", {"/a"}), "/etc/mxscreen/sub/x.so");
  EXPECT_EQ(ResolvePluginPath("c_plugin.so", "", {"/nonexistent", kDir}), kDir + "/c_plugin.so");
  try {
    ResolvePluginPath("missing.so", "/etc/mxscreen", {"/nonexistent", "rel"});
    FAIL();
  } catch (const PluginLoadError& e) {
    EXPECT_STREQ(e.what(),
                 "no plugin \"missing.so\" in the plugin path (/nonexistent, /etc/mxscreen/rel, "
                 "/usr/lib/mxscreen/plugins)");
  }
}

}  // namespace
}  // namespace mxs
