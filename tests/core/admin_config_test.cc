// Tests of Bootstrap.admin (core/admin_config.h): the default address, the
// loopback rule, TLS file pairs, the token file read and trimmed, and every
// refusal naming its field. Also what /config_dump prints (core/config_dump.h).
#include "core/admin_config.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "core/config_dump.h"
#include "core/config_error.h"
#include "core/gateway_config.h"
#include "core/proto_yaml.h"
#include "tests/support/scratch_dir.h"

namespace mxs {
namespace {

class AdminConfigTest : public test::ScratchDirTest {
 protected:
  AdminConfigTest() : ScratchDirTest("admin_config") {}

  std::optional<AdminConfig> Build(const std::string& yaml) {
    config::v1::Bootstrap b;
    ParseConfigText(yaml, &b, nullptr);
    return BuildAdminConfig(b, dir_);
  }

  std::string ErrorOf(const std::string& yaml) {
    try {
      Build(yaml);
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "no error";
  }
};

TEST_F(AdminConfigTest, AbsentSectionMeansNoServer) { EXPECT_FALSE(Build("hostname: x\n")); }

TEST_F(AdminConfigTest, DefaultAddressIsLoopback) {
  auto a = Build("admin: {}\n");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->address.ToString(), "[127.0.0.1]:9425");
  EXPECT_TRUE(a->loopback());
  EXPECT_FALSE(a->tls());
  EXPECT_EQ(a->bearer_token, "");
}

TEST_F(AdminConfigTest, TokenFileIsReadAndTrimmed) {
  Write("token", "  abc123-XYZ\n\n");
  auto a = Build("admin: { address: \"[::1]:9000\", bearer_token_file: token }\n");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->loopback());
  EXPECT_EQ(a->bearer_token_file, dir_ + "/token");
  EXPECT_EQ(a->bearer_token, "abc123-XYZ");
}

TEST_F(AdminConfigTest, NonLoopbackNeedsAuthentication) {
  EXPECT_EQ(ErrorOf("admin: { address: \"0.0.0.0:9425\" }\n"),
            "admin.address: the admin server on a non-loopback address ([0.0.0.0]:9425) needs "
            "bearer_token_file or client_ca_file (with cert_file and key_file)");
  Write("token", "t0k\n");
  auto a = Build("admin: { address: \"0.0.0.0:9425\", bearer_token_file: token }\n");
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->loopback());
  Write("cert.pem", "x");
  Write("key.pem", "x");
  Write("ca.pem", "x");
  a = Build(
      "admin: { address: \"192.0.2.1:9425\", cert_file: cert.pem, key_file: key.pem, "
      "client_ca_file: ca.pem }\n");
  ASSERT_TRUE(a);
  EXPECT_TRUE(a->tls());
  EXPECT_EQ(a->client_ca_file, dir_ + "/ca.pem");
}

TEST_F(AdminConfigTest, Refusals) {
  EXPECT_EQ(ErrorOf("admin: { address: \"localhost:9425\" }\n"),
            "admin.address: expected an IP address and port (\"127.0.0.1:9425\", "
            "\"[::1]:9425\"), got \"localhost:9425\"");
  EXPECT_EQ(ErrorOf("admin: { address: \"127.0.0.1\" }\n"),
            "admin.address: expected an IP address and port (\"127.0.0.1:9425\", "
            "\"[::1]:9425\"), got \"127.0.0.1\"");
  EXPECT_EQ(ErrorOf("admin: { address: \"127.0.0.1:0\" }\n"),
            "admin.address: expected an IP address and port (\"127.0.0.1:9425\", "
            "\"[::1]:9425\"), got \"127.0.0.1:0\"");
  EXPECT_EQ(ErrorOf("admin: { bearer_token_file: missing }\n"),
            "admin.bearer_token_file: cannot read " + dir_ + "/missing");
  Write("empty", " \n");
  EXPECT_EQ(ErrorOf("admin: { bearer_token_file: empty }\n"),
            "admin.bearer_token_file: " + dir_ + "/empty is empty");
  Write("spaced", "two words\n");
  EXPECT_EQ(ErrorOf("admin: { bearer_token_file: spaced }\n"),
            "admin.bearer_token_file: the token must be printable ASCII without spaces");
  EXPECT_EQ(ErrorOf("admin: { cert_file: c.pem }\n"),
            "admin: HTTPS needs cert_file and key_file together");
  EXPECT_EQ(ErrorOf("admin: { client_ca_file: ca.pem }\n"),
            "admin.client_ca_file: client certificates need HTTPS: set cert_file and key_file "
            "too");
  EXPECT_EQ(ErrorOf("admin: { cert_file: c.pem, key_file: k.pem }\n"),
            "admin.cert_file: cannot read " + dir_ + "/c.pem");
  Write("c.pem", "x");
  EXPECT_EQ(ErrorOf("admin: { cert_file: c.pem, key_file: k.pem }\n"),
            "admin.key_file: cannot read " + dir_ + "/k.pem");
}

TEST_F(AdminConfigTest, GatewayConfigCarriesItAndDumpFillsDefaults) {
  Write("token", "secret-value\n");
  config::v1::Bootstrap b;
  ParseConfigText(
      "hostname: mx.example\n"
      "admin: { address: \"127.0.0.1:9555\", bearer_token_file: token }\n"
      "listeners:\n"
      "  - address: 127.0.0.1:2525\n"
      "    filters: [ { name: pregreet } ]\n"
      "    handoff: { backends: [\"127.0.0.1:10025\"] }\n",
      &b, nullptr);
  auto c = BuildGatewayConfig(b, dir_);
  ASSERT_TRUE(c->admin);
  EXPECT_EQ(c->admin->address.port, 9555);
  std::string dump = ConfigDumpJson(*c);
  // Paths, never a secret's bytes.
  EXPECT_NE(dump.find("\"bearer_token_file\": \"" + dir_ + "/token\""), std::string::npos) << dump;
  EXPECT_EQ(dump.find("secret-value"), std::string::npos);
  // What the builder filled in.
  EXPECT_NE(dump.find("\"name\": \"smtp\""), std::string::npos) << dump;
  EXPECT_NE(dump.find("\"program_name\": \"postfix/postscreen\""), std::string::npos);
  EXPECT_NE(dump.find("\"banner\": \"mx.example ESMTP Postfix\""), std::string::npos);
  EXPECT_NE(dump.find("\"greet_wait\": \"6s\""), std::string::npos);
  EXPECT_NE(dump.find("\"pre_queue_limit\": 100"), std::string::npos);
  EXPECT_NE(dump.find("\"action\": \"IGNORE\""), std::string::npos) << dump;
  EXPECT_NE(dump.find("\"ttl\": \"86400s\""), std::string::npos) << dump;
}

}  // namespace
}  // namespace mxs
