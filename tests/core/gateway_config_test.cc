// Tests of config loading: YAML and JSON, unknown fields and bad values
// refused with the field path, defaults, and the filter envelope.
#include "core/gateway_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "core/config_error.h"
#include "core/proto_yaml.h"

namespace mxs {
namespace {

const char* kMinimal = R"(
hostname: mx.example
listeners:
  - address: 127.0.0.1:2525
    handoff: { backends: ["127.0.0.1:10025"] }
)";

std::shared_ptr<const GatewayConfig> BuildText(const std::string& text) {
  config::v1::Bootstrap b;
  ParseConfigText(text, &b, nullptr);
  return BuildGatewayConfig(b, ".");
}

std::string ErrorOf(const std::string& text) {
  try {
    std::string path = ::testing::TempDir() + "/cfg-" + std::to_string(getpid()) + ".yaml";
    FILE* f = fopen(path.c_str(), "w");
    fwrite(text.data(), 1, text.size(), f);
    fclose(f);
    BuildGatewayConfig(LoadBootstrapFile(path), ".");
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(GatewayConfig, Defaults) {
  auto c = BuildText(kMinimal);
  ASSERT_EQ(c->listeners.size(), 1u);
  const auto& l = *c->listeners[0];
  EXPECT_EQ(l.name, "smtp");
  EXPECT_EQ(l.program_name, "postfix/postscreen");
  EXPECT_EQ(l.banner, "mx.example ESMTP Postfix");
  EXPECT_EQ(l.limits.client_connection_count_limit, 50u);
  EXPECT_EQ(l.limits.pre_queue_limit, 100u);
  EXPECT_EQ(l.limits.post_queue_limit, 100u);
  EXPECT_EQ(l.engine.command_count_limit, 20u);
  EXPECT_EQ(l.engine.command_time_limit, Seconds(300));
  EXPECT_EQ(l.handoff.proxy, ProxyVersion::kV2);
  EXPECT_EQ(l.handoff.connect_timeout, Seconds(5));
  EXPECT_TRUE(l.handoff.splice);
  EXPECT_TRUE(c->logging.respectful_logging);
}

TEST(GatewayConfig, EnvelopeAndListenerOverrides) {
  std::string err = ErrorOf(R"(
hostname: mx.example
limits: { client_connection_count_limit: 10 }
listeners:
  - name: mx
    address: "[::1]:2525"
    program_name: postfix-in/postscreen
    limits: { pre_queue_limit: 7 }
    filters:
      - name: access_cidr
        action: DROP
        typed_config:
          access_list: [ { permit_mynetworks: true } ]
    handoff: { backends: ["[::1]:10025", "127.0.0.1:10026"], proxy_protocol: v1, connect_timeout: 2s }
)");
  EXPECT_EQ(err, "no error");
}

TEST(GatewayConfig, JsonWorksToo) {
  EXPECT_EQ(ErrorOf(R"({"listeners": [{"address": "127.0.0.1:25",
      "filters": [{"name": "access_cidr", "typed_config": {
          "@type": "type.googleapis.com/mxscreen.filters.access_cidr.v1.AccessCidr",
          "mynetworks": ["192.0.2.0/24"]}}],
      "handoff": {"backends": ["127.0.0.1:10025"]}}]})"),
            "no error");
}

TEST(GatewayConfig, ErrorsNameTheField) {
  EXPECT_EQ(
      ErrorOf("listeners:\n  - adress: 127.0.0.1:25\n"),
      "listeners[0].adress: unknown field (known: name, address, program_name, banner, limits, "
      "filters, handoff, store, smtp, greet_wait, greet_wait_stress)");
  EXPECT_EQ(
      ErrorOf("listeners:\n  - address: 127.0.0.1\n    handoff: { backends: [\"127.0.0.1:1\"] }\n"),
      "listeners[0].address: expected an IP address and port (\"127.0.0.1:25\", \"[::1]:25\"), got "
      "\"127.0.0.1\"");
  EXPECT_EQ(ErrorOf("listeners:\n  - address: 127.0.0.1:25\n"),
            "listeners[0].handoff.backends: at least one backend MTA (host:port) is required");
  EXPECT_EQ(ErrorOf("workers: many\n"), "workers: expected an integer, got \"many\"");
  EXPECT_EQ(ErrorOf("limits: { pre_queue_limit: -3 }\n"),
            "limits.pre_queue_limit: expected a non-negative integer, got \"-3\"");
  EXPECT_EQ(ErrorOf("listeners: []\n"), "listeners: at least one listener is required");
  EXPECT_EQ(ErrorOf(std::string(kMinimal) + "    filters: [ { name: greylist } ]\n"),
            "listeners[0].filters[0].name: unknown filter \"greylist\" (known: access_cidr, "
            "bare_newline, dnsbl, "
            "non_smtp, pipelining, pregreet, "
            "upstream_proxy)");
  EXPECT_EQ(
      ErrorOf(std::string(kMinimal) + "    filters: [ { name: access_cidr, action: reject } ]\n"),
      "listeners[0].filters[0].action: expected one of ignore, enforce, drop, got \"reject\"");
  EXPECT_EQ(
      ErrorOf(std::string(kMinimal) + "    filters: [ { name: access_cidr, ttl: 1y } ]\n"),
      "listeners[0].filters[0].ttl: bad time value \"1y\" (a number with an optional unit s, m, h, "
      "d or w)");
  EXPECT_EQ(ErrorOf(std::string(kMinimal) +
                    "    filters: [ { name: access_cidr, typed_config: { mynets: [] } } ]\n"),
            "listeners[0].filters[0].typed_config.mynets: unknown field (known: access_list, "
            "mynetworks)");
  EXPECT_EQ(ErrorOf(std::string(kMinimal) +
                    "    filters: [ { name: access_cidr, typed_config: { access_list: [ { "
                    "permit_mynetworks: true, cidr: { lines: [] } } ] } } ]\n"),
            "listeners[0].filters[0].typed_config.access_list[0].cidr: only one of "
            "permit_mynetworks, cidr "
            "may be set");
  EXPECT_EQ(ErrorOf(std::string(kMinimal) +
                    "    filters: [ { name: access_cidr, typed_config: { \"@type\": "
                    "type.googleapis.com/mxscreen.config.v1.Store } } ]\n"),
            "listeners[0].filters[0].typed_config.@type: \"mxscreen.config.v1.Store\" is not the "
            "config type "
            "of this filter (mxscreen.filters.access_cidr.v1.AccessCidr)");
  EXPECT_EQ(ErrorOf("listeners: [ { address: 127.0.0.1:25\n"),
            "syntax error at line 2, column 1: end of map flow not found");
  EXPECT_EQ(ErrorOf(""), "the config is empty");
  EXPECT_EQ(ErrorOf(std::string(kMinimal) + "logging: { sink: file }\n"),
            "logging.path: a log file is required with sink: file");
}

}  // namespace
}  // namespace mxs
