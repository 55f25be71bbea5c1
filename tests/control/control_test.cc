// Unit tests of the control plane's parts without a network: identities and
// rights (auth), change summaries and diffs (config_text), the durable store
// (reopened: nothing lost), and the hub's version fan-out and ACK tracking.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "control/auth.h"
#include "control/config_text.h"
#include "control/control_store.h"
#include "control/fleet_hub.h"
#include "core/gateway_config.h"

namespace mxs::control {
namespace {

using namespace std::chrono_literals;

config::v1::Bootstrap Parse(const std::string& yaml) { return ParseBootstrapText(yaml); }

TEST(Auth, PatternsMatchWholeLabels) {
  EXPECT_TRUE(Authorizer::Matches("mx1.eu.example", "mx1.eu.example"));
  EXPECT_TRUE(Authorizer::Matches("*.eu.example", "mx1.eu.example"));
  EXPECT_TRUE(Authorizer::Matches("*.eu.example", "a.b.eu.example"));
  EXPECT_FALSE(Authorizer::Matches("*.eu.example", "eu.example"));
  EXPECT_FALSE(Authorizer::Matches("*.eu.example", "mx1.neu.example"));
  EXPECT_FALSE(Authorizer::Matches("mx1.eu.example", "mx2.eu.example"));
}

TEST(Auth, GatewayFleetComesFromTheCertificate) {
  cp::ControlPlaneConfig c;
  c.mutable_tls()->set_cert_file("x");
  auto* eu = c.add_fleets();
  eu->set_fleet("eu");
  eu->add_identities("*.eu.example");
  Authorizer a(c);
  Caller gw{"mx1.eu.example", true, "peer"};
  std::string why;
  EXPECT_EQ(a.GatewayFleet(gw, "", &why), "eu");
  EXPECT_EQ(a.GatewayFleet(gw, "eu", &why), "eu");
  EXPECT_EQ(a.GatewayFleet(gw, "us", &why), "");
  EXPECT_EQ(why, "certificate mx1.eu.example belongs to fleet eu, not us");
  Caller stranger{"mx1.us.example", true, "peer"};
  EXPECT_EQ(a.GatewayFleet(stranger, "eu", &why), "");
  EXPECT_EQ(why, "certificate mx1.us.example is in no fleet");
  Caller anonymous{"", false, "peer"};
  EXPECT_EQ(a.GatewayFleet(anonymous, "eu", &why), "");
  EXPECT_EQ(why, "no verified client certificate");
}

TEST(Auth, OperatorsChangeOnlyTheirFleets) {
  cp::ControlPlaneConfig c;
  c.mutable_tls()->set_cert_file("x");
  auto* alice = c.add_operators();
  alice->set_identity("alice");
  alice->add_fleets("eu");
  auto* root = c.add_operators();
  root->set_identity("root");
  root->add_fleets("*");
  Authorizer a(c);
  EXPECT_TRUE(a.MayOperate({"alice", true, ""}, "eu"));
  EXPECT_FALSE(a.MayOperate({"alice", true, ""}, "us"));
  EXPECT_TRUE(a.MayOperate({"root", true, ""}, "us"));
  EXPECT_FALSE(a.IsOperator({"mallory", true, ""}));
  EXPECT_FALSE(a.IsOperator({"", false, ""}));
  // Plaintext (loopback): everyone is the local operator.
  Authorizer plain{cp::ControlPlaneConfig{}};
  EXPECT_TRUE(plain.MayOperate({"local", true, ""}, "us"));
  std::string why;
  EXPECT_EQ(plain.GatewayFleet({"local", true, ""}, "us", &why), "us");
}

const char* kV1 = R"(
workers: 2
listeners:
  - name: smtp
    address: 127.0.0.1:25
    filters:
      - name: access_cidr
        typed_config: { access_list: [ { permit_mynetworks: true } ] }
    handoff: { backends: ["127.0.0.1:10025"] }
)";

TEST(ConfigText, SummaryNamesWhatChanged) {
  auto v1 = Parse(kV1);
  EXPECT_EQ(SummarizeChange(nullptr, v1),
            "first version: 1 listener(s) (smtp on 127.0.0.1:25), 1 filter(s)");
  EXPECT_EQ(SummarizeChange(&v1, v1), "no change");
  auto v2 = v1;
  v2.set_workers(4);
  v2.mutable_listeners(0)->set_address("127.0.0.1:26");
  v2.mutable_listeners(0)->add_filters()->set_name("pregreet");
  v2.mutable_listeners(0)->mutable_handoff()->add_backends("127.0.0.1:10026");
  EXPECT_EQ(SummarizeChange(&v1, v2),
            "workers changed; listener smtp: moved 127.0.0.1:25 -> 127.0.0.1:26, handoff "
            "changed, filters added: pregreet");
  auto v3 = v1;
  v3.mutable_listeners(0)->set_name("submission");
  EXPECT_EQ(SummarizeChange(&v1, v3),
            "listener submission added on 127.0.0.1:25; listener smtp removed");
}

TEST(ConfigText, UnifiedDiff) {
  EXPECT_EQ(UnifiedDiff("a\nb\n", "a\nb\n", "x", "y"), "");
  std::string a = "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n";
  std::string b = "1\n2\n3\n4\nFIVE\n6\n7\n8\n9\n10\n11\n12\n13\n";
  EXPECT_EQ(UnifiedDiff(a, b, "v1", "v2"),
            "--- v1\n+++ v2\n"
            "@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+FIVE\n 6\n 7\n 8\n"
            "@@ -10,3 +10,4 @@\n 10\n 11\n 12\n+13\n");
  // A big table with one line changed in the middle: found without a
  // table of all lines against all.
  std::string big_a, big_b;
  for (int k = 0; k < 100000; ++k) {
    big_a += "line " + std::to_string(k) + "\n";
    big_b += (k == 50000 ? std::string("changed") : "line " + std::to_string(k)) + "\n";
  }
  EXPECT_EQ(UnifiedDiff(big_a, big_b, "a", "b"),
            "--- a\n+++ b\n@@ -49998,7 +49998,7 @@\n line 49997\n line 49998\n line 49999\n"
            "-line 50000\n+changed\n line 50001\n line 50002\n line 50003\n");
  // Middles too big for the table: all removed, then all added.
  std::string wide_a, wide_b;
  for (int k = 0; k < 5000; ++k) {
    wide_a += "a" + std::to_string(k) + "\n";
    wide_b += "b" + std::to_string(k) + "\n";
  }
  std::string d = UnifiedDiff(wide_a, wide_b, "a", "b");
  EXPECT_EQ(d.substr(0, 30), "--- a\n+++ b\n@@ -1,5000 +1,5000");
  EXPECT_NE(d.find("\n-a4999\n+b0\n"), std::string::npos);
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = ::testing::TempDir() + "/control-store-" +
           std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(StoreTest, VersionsNodesAndAuditSurviveReopen) {
  {
    ControlStore store(dir_);
    FleetHub hub(store);
    cp::ConfigVersion v;
    v.set_fleet("eu");
    *v.mutable_config() = Parse(kV1);
    cp::AuditRecord a;
    a.set_who("alice");
    a.set_action("push");
    a.set_fleet("eu");
    EXPECT_EQ(hub.Publish(v, a).version(), 1u);
    EXPECT_EQ(hub.Publish(v, a).version(), 2u);
    v.set_fleet("us");
    a.set_fleet("us");
    EXPECT_EQ(hub.Publish(v, a).version(), 1u);
    cp::Node n;
    n.set_id("gw1");
    uint64_t gen = hub.Connected(n, "eu", "ipv4:127.0.0.1:1", "");
    hub.Sent("eu", "gw1", 2);
    hub.Answered("eu", "gw1", 2, "1", "listeners[0]: bad");
    hub.Disconnected("eu", "gw1", gen);
  }
  ControlStore store(dir_);
  FleetHub hub(store);
  ASSERT_NE(hub.Newest("eu"), nullptr);
  EXPECT_EQ(hub.Newest("eu")->version(), 2u);
  EXPECT_EQ(hub.Newest("us")->version(), 1u);
  auto versions = store.ListVersions("eu", 0);
  ASSERT_EQ(versions.size(), 2u);
  EXPECT_EQ(versions[0].version(), 2u);
  EXPECT_EQ(store.ListVersions("eu", 1).size(), 1u);
  auto nodes = hub.Nodes("eu");
  ASSERT_EQ(nodes.size(), 1u);
  EXPECT_FALSE(nodes[0].connected());
  EXPECT_EQ(nodes[0].applied_version(), "1");
  EXPECT_EQ(nodes[0].nacked_version(), "2");
  EXPECT_EQ(nodes[0].nack_error(), "listeners[0]: bad");
  auto audit = store.Audit("", 0);
  ASSERT_EQ(audit.size(), 3u);
  EXPECT_EQ(audit[0].sequence(), 3u);
  EXPECT_EQ(audit[0].fleet(), "us");
  EXPECT_EQ(audit[2].version(), 1u);
  EXPECT_EQ(store.Audit("eu", 0).size(), 2u);
  // Sequences go on after a reopen.
  cp::ConfigVersion v;
  v.set_fleet("eu");
  cp::AuditRecord a;
  a.set_fleet("eu");
  hub.Publish(v, a);
  EXPECT_EQ(store.Audit("", 1)[0].sequence(), 4u);
}

TEST_F(StoreTest, HubWakesWaitersAndTracksAnswers) {
  ControlStore store(dir_);
  FleetHub hub(store);
  cp::Node n1, n2;
  n1.set_id("gw1");
  n2.set_id("gw2");
  hub.Connected(n1, "eu", "", "");
  uint64_t g2 = hub.Connected(n2, "eu", "", "");
  std::shared_ptr<const cp::ConfigVersion> got;
  std::thread waiter([&] {
    got = hub.WaitNewer(
        "eu", 0, [] { return false; }, 5s);
  });
  std::this_thread::sleep_for(50ms);
  cp::ConfigVersion v;
  v.set_fleet("eu");
  hub.Publish(v, {});
  waiter.join();
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->version(), 1u);
  // Nothing newer: the wait times out.
  EXPECT_EQ(hub.WaitNewer(
                "eu", 1, [] { return false; }, 20ms),
            nullptr);
  std::vector<cp::NodeStatus> nodes;
  auto never = [] { return false; };
  EXPECT_FALSE(hub.WaitAnswered("eu", 1, 20ms, never, &nodes));
  hub.Answered("eu", "gw1", 1, "1", "");
  EXPECT_FALSE(hub.WaitAnswered("eu", 1, 20ms, never, &nodes));
  // A cancelled wait ends long before its timeout.
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(hub.WaitAnswered(
      "eu", 1, 60s, [] { return true; }, &nodes));
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s);
  // A node that goes away no longer holds the wait up.
  hub.Disconnected("eu", "gw2", g2);
  EXPECT_TRUE(hub.WaitAnswered("eu", 1, 20ms, never, &nodes));
  EXPECT_EQ(nodes.size(), 2u);
  // A stale stream's end does not disconnect the node's newer stream.
  uint64_t old_gen = hub.Connected(n1, "eu", "", "1");
  hub.Connected(n1, "eu", "", "1");
  hub.Disconnected("eu", "gw1", old_gen);
  for (const auto& n : hub.Nodes("eu")) {
    if (n.node_id() == "gw1") {
      EXPECT_TRUE(n.connected());
    }
  }
  // The same id in another fleet is another node.
  hub.Connected(n1, "us", "", "");
  EXPECT_EQ(hub.Nodes("eu").size(), 2u);
  EXPECT_EQ(hub.Nodes("us").size(), 1u);
}

}  // namespace
}  // namespace mxs::control
