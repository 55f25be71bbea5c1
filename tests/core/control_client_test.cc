// Tests of the gateway's control-plane settings without a control plane:
// the control_plane section's checks, how a pushed config is merged with the
// local bootstrap, and the push cache file.
#include "core/control_client.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "core/config_error.h"
#include "core/proto_yaml.h"

namespace mxs {
namespace {

config::v1::Bootstrap Parse(const std::string& yaml) {
  config::v1::Bootstrap b;
  ParseConfigText(yaml, &b, nullptr);
  return b;
}

std::string ErrorOf(const std::string& yaml) {
  try {
    BuildControlPlaneConfig(Parse(yaml), "/etc/mxscreen");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(ControlPlaneConfig, Checked) {
  EXPECT_FALSE(BuildControlPlaneConfig(Parse("workers: 1"), ".").has_value());
  EXPECT_EQ(ErrorOf("control_plane: { address: 127.0.0.1:18000, fleet: eu }"),
            "node_id: a gateway fed by a control plane needs a node_id");
  EXPECT_EQ(ErrorOf("node_id: a\ncontrol_plane: { address: 127.0.0.1, fleet: eu }"),
            "control_plane.address: expected \"host:port\", got \"127.0.0.1\"");
  EXPECT_EQ(ErrorOf("node_id: a\ncontrol_plane: { address: 127.0.0.1:18000 }"),
            "control_plane.fleet: a fleet name is required");
  EXPECT_EQ(ErrorOf("node_id: a\ncontrol_plane: { address: cp.example:18000, fleet: eu }"),
            "control_plane.address: plaintext to a non-loopback control plane "
            "(cp.example:18000): set cert_file, key_file and ca_file, or allow_plaintext: true");
  EXPECT_EQ(ErrorOf("node_id: a\ncontrol_plane: { address: cp.example:18000, fleet: eu, "
                    "cert_file: c.pem }"),
            "control_plane: TLS needs cert_file, key_file and ca_file together");
  EXPECT_EQ(ErrorOf("node_id: a\ncontrol_plane: { address: 127.0.0.1:18000, fleet: eu }"),
            "control_plane.cache_path: required when store.path is not set");
  EXPECT_EQ(ErrorOf("node_id: a\nstore: { path: s }\ncontrol_plane: { address: "
                    "127.0.0.1:18000, fleet: eu, reconnect_initial: 10s, reconnect_max: 5s }"),
            "control_plane.reconnect_max: smaller than reconnect_initial");
  auto cp = BuildControlPlaneConfig(
      Parse("node_id: a\nstore: { path: /var/lib/mxscreen/verdicts/ }\ncontrol_plane: "
            "{ address: cp.example:18000, fleet: eu, cert_file: gw.pem, key_file: gw.key, "
            "ca_file: /etc/ssl/ca.pem }"),
      "/etc/mxscreen");
  ASSERT_TRUE(cp.has_value());
  EXPECT_TRUE(cp->tls());
  EXPECT_EQ(cp->cert_file, "/etc/mxscreen/gw.pem");
  EXPECT_EQ(cp->ca_file, "/etc/ssl/ca.pem");
  EXPECT_EQ(cp->cache_path, "/var/lib/mxscreen/pushed-config.binpb");
  EXPECT_EQ(cp->reconnect_initial.count(), 1);
  EXPECT_EQ(cp->reconnect_max.count(), 30);
}

TEST(ControlPlaneConfig, MergeKeepsHostLocalSettings) {
  auto local = Parse(R"(
node_id: gw7
logging: { sink: file, path: /var/log/mxscreen.log }
control_plane:
  address: 127.0.0.1:18000
  fleet: eu
  cache_path: /tmp/c
  listener_addresses: { smtp: "192.0.2.7:25" }
)");
  auto pushed = Parse(R"(
node_id: someone-else
workers: 3
logging: { sink: stderr }
listeners:
  - { name: smtp, address: "0.0.0.0:25" }
  - { name: submission, address: "0.0.0.0:587" }
)");
  auto merged = MergePushedConfig(local, pushed);
  EXPECT_EQ(merged.node_id(), "gw7");
  EXPECT_EQ(merged.workers(), 3u);
  EXPECT_EQ(merged.logging().path(), "/var/log/mxscreen.log");
  EXPECT_EQ(merged.control_plane().fleet(), "eu");
  EXPECT_EQ(merged.listeners(0).address(), "192.0.2.7:25");
  EXPECT_EQ(merged.listeners(1).address(), "0.0.0.0:587");
}

TEST(ControlPlaneConfig, PushCacheRoundTrip) {
  std::string path =
      ::testing::TempDir() + "/push-cache-test-" + std::to_string(getpid()) + ".binpb";
  std::remove(path.c_str());
  EXPECT_FALSE(LoadPushCache(path).has_value());
  PushCache c{"eu", "7", Parse("workers: 2")};
  EXPECT_EQ(SavePushCache(path, c), "");
  auto back = LoadPushCache(path);
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->fleet, "eu");
  EXPECT_EQ(back->version, "7");
  EXPECT_EQ(back->config.workers(), 2u);
  {
    std::ofstream out(path, std::ios::trunc);
    out << "\xff\xff\xff not a cache";
  }
  EXPECT_THROW(LoadPushCache(path), std::runtime_error);
  EXPECT_EQ(SavePushCache("/nonexistent-dir/x.binpb", c),
            "cannot write /nonexistent-dir/x.binpb.tmp");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace mxs
