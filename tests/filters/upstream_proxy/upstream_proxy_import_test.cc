// Tests of the upstream_proxy importer (filters/upstream_proxy/import.cc):
// postscreen_upstream_proxy_protocol/_timeout from main.cf, master.cf -o and
// Zimbra zmprov lines (zimbraMtaPostscreenUpstreamProxy* and a realistic
// zimbraMtaPostscreen* set, multi-valued attributes joined as Postfix
// lists), and that the output builds into a listener-phase entry.
#include <gtest/gtest.h>

#include <sstream>

#include "core/gateway_config.h"
#include "core/import_postfix.h"
#include "tests/support/import_helpers.h"

namespace mxs::upstream_proxy {
namespace {

class UpstreamProxyImport : public test::PostfixImportTest {
 protected:
  UpstreamProxyImport() : PostfixImportTest("upstream_proxy") {}

  // Runs the import with a zmprov file on top of a minimal main.cf.
  std::pair<std::string, std::string> RunZmprov(const std::string& zmprov) {
    ImportPostfixOptions o;
    o.main_cf = Write("main.cf",
                      "myhostname = mx.example.com\ncompatibility_level = 3.6\n"
                      "inet_protocols = ipv4\nmynetworks = 127.0.0.0/8\n");
    o.zmprov = Write("zmprov.txt", zmprov);
    std::ostringstream out;
    std::ostringstream err;
    EXPECT_EQ(RunImportPostfix(o, out, err), 0);
    yaml_ = out.str();
    return {yaml_, err.str()};
  }
};

TEST_F(UpstreamProxyImport, OffByDefault) {
  auto [entry, warnings] = Run("");
  EXPECT_EQ(entry, "");
  EXPECT_EQ(warnings, "");
  // Set but empty, or only a timeout: still off, and nothing warned about.
  std::tie(entry, warnings) =
      Run("postscreen_upstream_proxy_protocol =\npostscreen_upstream_proxy_timeout = 9s\n");
  EXPECT_EQ(entry, "");
  EXPECT_EQ(warnings, "");
}

TEST_F(UpstreamProxyImport, Haproxy) {
  auto [entry, warnings] = Run("postscreen_upstream_proxy_protocol = haproxy\n");
  EXPECT_EQ(entry,
            "      - name: upstream_proxy\n"
            "        typed_config:\n"
            "          protocol: haproxy\n");
  EXPECT_EQ(warnings, "");
  // First in the chain: the access list follows.
  EXPECT_NE(yaml_.find("    filters:\n      - name: upstream_proxy\n"), std::string::npos) << yaml_;
  const ChainEntry* e = Built();
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(e->traits.listener_phase);
  EXPECT_EQ(e->traits.listener_timeout, std::chrono::seconds(5));
}

TEST_F(UpstreamProxyImport, Timeout) {
  auto [entry, warnings] =
      Run("postscreen_upstream_proxy_protocol = haproxy\npostscreen_upstream_proxy_timeout = 10\n");
  EXPECT_EQ(entry,
            "      - name: upstream_proxy\n"
            "        typed_config:\n"
            "          protocol: haproxy\n"
            "          timeout: 10s\n");
  EXPECT_EQ(warnings, "");
  EXPECT_EQ(Built()->traits.listener_timeout, std::chrono::seconds(10));

  std::tie(entry, warnings) =
      Run("postscreen_upstream_proxy_protocol = haproxy\npostscreen_upstream_proxy_timeout = 0\n");
  EXPECT_EQ(entry,
            "      - name: upstream_proxy\n"
            "        typed_config:\n"
            "          protocol: haproxy\n");
  EXPECT_EQ(warnings,
            "warning: postscreen_upstream_proxy_timeout = 0: expected a non-zero time value, "
            "left at 5s\n");
}

TEST_F(UpstreamProxyImport, UnknownProtocol) {
  auto [entry, warnings] = Run("postscreen_upstream_proxy_protocol = nginx\n");
  EXPECT_EQ(entry, "");
  EXPECT_EQ(warnings,
            "warning: postscreen_upstream_proxy_protocol = nginx: expected haproxy or empty, "
            "no upstream_proxy filter written\n");
}

TEST_F(UpstreamProxyImport, Zmprov) {
  auto [yaml, warnings] = RunZmprov(
      "# Zimbra: zmprov lines as an administrator runs them\n"
      "zmprov mcf zimbraMtaPostscreenUpstreamProxyProtocol haproxy\n"
      "zmprov mcf zimbraMtaPostscreenUpstreamProxyTimeout 7s\n"
      "zmprov mcf zimbraMtaPostscreenGreetAction enforce\n"
      "zmprov mcf zimbraMtaPostscreenGreetTTL 2d\n"
      "zmprov mcf zimbraMtaPostscreenAccessList permit_mynetworks\n");
  EXPECT_EQ(warnings, "");
  EXPECT_NE(yaml.find("    filters:\n"
                      "      - name: upstream_proxy\n"
                      "        typed_config:\n"
                      "          protocol: haproxy\n"
                      "          timeout: 7s\n"
                      "      - name: access_cidr\n"),
            std::string::npos)
      << yaml;
  EXPECT_NE(yaml.find("      - name: pregreet\n"
                      "        action: enforce\n"
                      "        ttl: 2d\n"),
            std::string::npos)
      << yaml;
  const ChainEntry* e = Built();
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->traits.listener_timeout, std::chrono::seconds(7));
}

TEST_F(UpstreamProxyImport, ZmprovMultiValuedAndUntranslated) {
  // Several values of one attribute, in one mcf or several +NAME lines, are
  // one Postfix list; attributes no filter translates yet are warned about
  // with their file, line and attribute.
  auto [yaml, warnings] = RunZmprov(
      "zmprov mcf zimbraMtaPostscreenDnsblSites 'zen.example*2' "
      "zimbraMtaPostscreenDnsblSites b.example\n"
      "zmprov mcf +zimbraMtaPostscreenDnsblSites c.example\n"
      "zmprov mcf zimbraMtaPostscreenUpstreamProxyProtocol haproxy\n");
  EXPECT_NE(yaml.find("      - name: upstream_proxy\n"), std::string::npos) << yaml;
  // The joined list reaches the importer registry under its Postfix name
  // (the dnsbl importer translates it since issue 4).
  EXPECT_NE(yaml.find("          sites:\n"
                      "            - \"zen.example*2\"\n"
                      "            - b.example\n"
                      "            - c.example\n"),
            std::string::npos)
      << yaml;
  EXPECT_EQ(warnings.find("postscreen_dnsbl_sites"), std::string::npos) << warnings;
}

}  // namespace
}  // namespace mxs::upstream_proxy
