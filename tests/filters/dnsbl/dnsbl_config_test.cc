// Tests of the dnsbl config (filters/dnsbl/config.cc) and the gateway's
// dns_resolver settings: defaults, and every refusal naming its field path
// and the bad entry.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include "core/config_error.h"
#include "core/gateway_config.h"

namespace mxs {
namespace {

std::string Config(const std::string& typed, const std::string& top = "") {
  return "hostname: mx.example\n" + top +
         "listeners:\n"
         "  - address: 127.0.0.1:2525\n"
         "    handoff: { backends: [\"127.0.0.1:10025\"] }\n"
         "    filters:\n"
         "      - name: dnsbl\n"
         "        typed_config: " +
         typed + "\n";
}

std::shared_ptr<const GatewayConfig> Build(const std::string& text) {
  std::string path = ::testing::TempDir() + "/dnsbl_cfg-" + std::to_string(getpid()) + ".yaml";
  FILE* f = fopen(path.c_str(), "w");
  fwrite(text.data(), 1, text.size(), f);
  fclose(f);
  return BuildGatewayConfig(LoadBootstrapFile(path), ".");
}

std::string ErrorOf(const std::string& text) {
  try {
    Build(text);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(DnsblConfig, DefaultsAndResolver) {
  auto c = Build(Config("{ sites: [\"bl.example\"] }",
                        "dns_resolver: { nameservers: [\"127.0.0.1:5353\", \"[::1]:53\"], "
                        "timeout: 3s, tries: 2 }\n"));
  const ChainEntry& e = c->listeners[0]->chain[0];
  EXPECT_EQ(e.name, "dnsbl");
  EXPECT_EQ(e.action, Action::kIgnore);
  EXPECT_EQ(e.ttl, Seconds(3600));
  EXPECT_TRUE(e.traits.cached);
  EXPECT_FALSE(e.traits.needs_engine);
  EXPECT_FALSE(e.traits.wants_teaser);
  ASSERT_EQ(c->dns.nameservers.size(), 2u);
  EXPECT_EQ(c->dns.nameservers[0].ToString(), "[127.0.0.1]:5353");
  EXPECT_EQ(c->dns.nameservers[1].port, 53);
  EXPECT_EQ(c->dns.try_timeout, std::chrono::seconds(3));
  EXPECT_EQ(c->dns.tries, 2);
}

TEST(DnsblConfig, RefusalsNameTheFieldAndEntry) {
  const std::string p = "listeners[0].filters[0].typed_config";
  EXPECT_EQ(ErrorOf(Config("{ sites: [] }")), p + ".sites: at least one site is required");
  EXPECT_EQ(ErrorOf(Config("{ sites: [\"a.example\", \"b.example=127.0.0\"] }")),
            p + ".sites[1]: bad DNSBL site \"b.example=127.0.0\": filter needs four octets");
  EXPECT_EQ(ErrorOf(Config("{ sites: [\"a.example\"], threshold: 0 }")),
            p + ".threshold: must be at least 1");
  EXPECT_EQ(ErrorOf(Config("{ sites: [\"a.example\"], allowlist_threshold: 2 }")),
            p + ".allowlist_threshold: must be negative (or 0 for off)");
  EXPECT_EQ(ErrorOf(Config("{ sites: [\"a.example\"], timeout: soon }")),
            p + ".timeout: bad time value \"soon\"");
  EXPECT_EQ(ErrorOf(Config("{ sites: [\"a.example\"], min_ttl: 2h }")),
            p + ".min_ttl: larger than max_ttl (2h > 1h)");
  EXPECT_EQ(ErrorOf(Config("{ sites: [\"a.example\"], reply_map: { lines: [\"lonely\"] } }")),
            p + ".reply_map.lines[0]: expected \"domain reply-domain\": lonely");
  EXPECT_EQ(ErrorOf(Config("{ sites: [\"a.example\"], reply_map: { path: /nonexistent/map } }")),
            p + ".reply_map.path: cannot read /nonexistent/map");
  EXPECT_EQ(ErrorOf(Config("{ sites: [\"a.example\"] }", "dns_resolver: { nameservers: [x] }\n")),
            "dns_resolver.nameservers[0]: expected \"address:port\" (\"[v6addr]:port\"), got "
            "\"x\"");
  EXPECT_EQ(ErrorOf(Config("{ sites: [\"a.example\"] }", "dns_resolver: { tries: 0 }\n")),
            "dns_resolver.tries: must be 1 to 10");
}

}  // namespace
}  // namespace mxs
