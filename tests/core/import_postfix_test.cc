// Tests of `mxscreen import-postfix`: Postfix's expansion rules (checked
// against `postconf -x` of Postfix 3.7), main.cf/master.cf/zmprov parsing, the
// exact YAML and warnings for realistic setups, the access_cidr importer, and
// that what is printed builds as a gateway config.
#include "core/import_postfix.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <tuple>

#include "core/config_error.h"
#include "core/gateway_config.h"
#include "core/postfix_conf.h"
#include "tests/support/scratch_dir.h"

namespace mxs {
namespace {

struct Result {
  int rc;
  std::string yaml;
  std::string warnings;
};

class ImportPostfixTest : public test::ScratchDirTest {
 protected:
  ImportPostfixTest() : ScratchDirTest("import_postfix") {}

  Result Run(const std::string& main_cf, const std::string& master_cf = "",
             const std::string& zmprov = "", const std::string& backend = "") {
    ImportPostfixOptions o;
    o.main_cf = Write("main.cf", main_cf);
    if (!master_cf.empty()) o.master_cf = Write("master.cf", master_cf);
    if (!zmprov.empty()) o.zmprov = Write("zmprov.txt", zmprov);
    if (!backend.empty()) o.backend = backend;
    std::ostringstream out;
    std::ostringstream err;
    int rc = RunImportPostfix(o, out, err);
    return {rc, out.str(), err.str()};
  }
};

const char kHeader[] =
    "# mxscreen configuration imported from Postfix by `mxscreen import-postfix`.\n"
    "# Passing clients are handed to 127.0.0.1:10025 with a PROXY v2 header: that MTA needs\n"
    "# smtpd_upstream_proxy_protocol = haproxy (see docs/migrating-from-postscreen.md).\n";

// The main.cf lines most tests start from: no host-dependent defaults.
const char kBase[] =
    "myhostname = mx.example.com\n"
    "compatibility_level = 3.6\n"
    "inet_protocols = ipv4\n"
    "mynetworks = 127.0.0.0/8\n";

const char kHandoff[] =
    "    handoff:\n"
    "      backends:\n"
    "        - 127.0.0.1:10025\n"
    "      proxy_protocol: v2\n";

// Postfix's pregreet test is on by default (postscreen_greet_action = ignore,
// postscreen_greet_ttl = 1d), so every listener gets it after the access list.
const char kPregreet[] =
    "      - name: pregreet\n"
    "        action: ignore\n"
    "        ttl: 1d\n";

std::string Expand(const std::string& text, const std::map<std::string, std::string>& params) {
  return postfix::Expand(text, [&](const std::string& n) -> std::optional<std::string> {
    auto it = params.find(n);
    if (it == params.end()) return std::nullopt;
    return it->second;
  });
}

// Expected values are what `postconf -x` prints for the same text.
TEST(ImportPostfixExpand, MatchesPostconf) {
  std::map<std::string, std::string> p = {
      {"a", "x"}, {"b", "$a$a"}, {"empty", ""}, {"compatibility_level", "3.6"}};
  EXPECT_EQ(Expand("$a ${a} $(a) $b $$a", p), "x x x xx $a");
  EXPECT_EQ(Expand("${a?{yes $a}:{no}} ${c:{C}} ${a?q:r}", p), "yes x C q:r");
  EXPECT_EQ(Expand("${a ? {sp} } ${a?{x} : {y} } ${c?{1}:2 3} ${empty:E}", p), "sp x 2 3 E");
  EXPECT_EQ(Expand("${{1}<{10}?{lt}:{ge}} ${{9a} < {10} ?{n}:{l}} ${{a}=={a}?{eq}:{ne}}", p),
            "lt l eq");
  EXPECT_EQ(Expand("${{$compatibility_level} <level {3.6} ? {no} : {yes}}", p), "yes");
  EXPECT_EQ(Expand("${{3.10} <level {3.6} ? {L}:{G}} ${{3.6}<=level{3.6}?{le}}", p), "G le");
  EXPECT_EQ(Expand("${undefined}<", p), "<");
}

TEST(ImportPostfixExpand, StressTakesTheFirstBranch) {
  std::map<std::string, std::string> p = {{"stress", ""}};
  EXPECT_EQ(Expand("${stress?{2}:{6}}s", p), "6s");
  p["stress"] = "yes";
  EXPECT_EQ(Expand("${stress?{2}:{6}}s", p), "2s");
}

TEST(ImportPostfixExpand, RefusesWhatPostfixRefuses) {
  std::map<std::string, std::string> p = {{"loop", "$loop"}};
  EXPECT_THROW(Expand("$loop", p), std::runtime_error);
  EXPECT_THROW(Expand("${a", p), std::runtime_error);
  EXPECT_THROW(Expand("x$", p), std::runtime_error);
  EXPECT_THROW(Expand("${a?{x}y}", p), std::runtime_error);
  EXPECT_THROW(Expand("${{1} ~ {2} ? {x}}", p), std::runtime_error);
}

TEST(ImportPostfixConf, MainCfContinuationCommentsLastWins) {
  auto s = postfix::ParseMainCf("# c\na = 1\nb = x  y\n  # inside\n   z \n\na=2\nc =\n", "main.cf");
  EXPECT_EQ(s.Find("a")->value, "2");
  EXPECT_EQ(s.Find("a")->origin, "main.cf, line 7");
  EXPECT_EQ(s.Find("b")->value, "x  y z");
  EXPECT_EQ(s.Find("c")->value, "");
  EXPECT_EQ(s.order(), (std::vector<std::string>{"b", "a", "c"}));
  EXPECT_THROW(postfix::ParseMainCf("a 1\n", "m"), postfix::ParseError);
  EXPECT_THROW(postfix::ParseMainCf("  a = 1\n", "m"), postfix::ParseError);
}

TEST(ImportPostfixConf, MasterCfOverridesBothForms) {
  auto services = postfix::ParseMasterCf(
      "smtp inet n - y - 1 postscreen\n"
      "[::1]:25 inet n - y - 1 /usr/lib/postfix/sbin/postscreen -v\n"
      "  -o { smtpd_banner = a  b } -o x=1=2 -o {y=}\n"
      "smtpd pass - - y - - smtpd -o { weird\n"
      "smtp inet n - y - 1 postscreen -o z=3\n",
      "master.cf");
  ASSERT_EQ(services.size(), 3u);
  EXPECT_EQ(services[0].name, "[::1]:25");
  EXPECT_EQ(services[0].command, "postscreen");
  EXPECT_EQ(services[0].overrides.Find("smtpd_banner")->value, "a  b");
  EXPECT_EQ(services[0].overrides.Find("x")->value, "1=2");
  EXPECT_EQ(services[0].overrides.Find("y")->value, "");
  EXPECT_EQ(services[1].command, "smtpd");  // its arguments are not ours to judge
  EXPECT_EQ(services[2].name, "smtp");      // the later line replaced the first
  EXPECT_EQ(services[2].overrides.Find("z")->value, "3");
  EXPECT_THROW(postfix::ParseMasterCf("smtp inet n - y - 1\n", "m"), postfix::ParseError);
  EXPECT_THROW(postfix::ParseMasterCf("smtp tcp n - y - 1 postscreen\n", "m"), postfix::ParseError);
  EXPECT_THROW(postfix::ParseMasterCf("smtp inet n - y - 1 postscreen -o\n", "m"),
               postfix::ParseError);
  EXPECT_THROW(postfix::ParseMasterCf("smtp inet n - y - 1 postscreen -o a\n", "m"),
               postfix::ParseError);
}

TEST(ImportPostfixConf, ZimbraNames) {
  EXPECT_EQ(postfix::ZimbraToPostfixName("zimbraMtaPostscreenAccessList"),
            "postscreen_access_list");
  EXPECT_EQ(postfix::ZimbraToPostfixName("zimbraMtaPostscreenDnsblSites"),
            "postscreen_dnsbl_sites");
  EXPECT_EQ(postfix::ZimbraToPostfixName("zimbraMtaPostscreenDnsblMinTTL"),
            "postscreen_dnsbl_min_ttl");
  EXPECT_EQ(postfix::ZimbraToPostfixName("zimbraMtaPostscreenNonSmtpCommandEnable"),
            "postscreen_non_smtp_command_enable");
  EXPECT_EQ(postfix::ZimbraToPostfixName("zimbraMtaPostscreenDenylistAction"),
            "postscreen_denylist_action");
  EXPECT_EQ(postfix::ZimbraToPostfixName("zimbraMtaPostscreenBlacklistAction"),
            "postscreen_denylist_action");
  EXPECT_EQ(postfix::ZimbraToPostfixName("zimbraMtaPostscreenDnsblWhitelistThreshold"),
            "postscreen_dnsbl_allowlist_threshold");
  EXPECT_EQ(postfix::ZimbraToPostfixName("zimbraMtaMyNetworks"), "mynetworks");
  EXPECT_EQ(postfix::ZimbraToPostfixName("zimbraMtaRestriction"), "");
}

TEST(ImportPostfixConf, ZmprovValues) {
  std::vector<std::string> notes;
  auto s = postfix::ParseZmprov(
      "zmprov mcf zimbraMtaPostscreenDnsblSites 'a.example*2' \\\n"
      "  zimbraMtaPostscreenDnsblSites \"b.example\"\n"
      "zimbraMtaPostscreenDnsblSites c.example\n"
      "zmprov mcf zimbraMtaPostscreenDnsblAction drop zimbraMtaPostscreenDnsblAction enforce\n"
      "zmprov mcf zimbraMtaPostscreenDnsblAction ignore +zimbraMtaPostscreenDnsblSites d.example\n"
      "zmprov mcf -zimbraMtaPostscreenDnsblSites b.example\n"
      "zimbraMtaPostscreenGreetTTL: 2d\n"
      "zmprov gacf\n",
      "z", &notes);
  EXPECT_EQ(s.Find("postscreen_dnsbl_sites")->value, "a.example*2, c.example, d.example");
  EXPECT_EQ(s.Find("postscreen_dnsbl_action")->value, "ignore");
  EXPECT_EQ(s.Find("postscreen_greet_ttl")->value, "2d");
  EXPECT_EQ(s.Find("postscreen_greet_ttl")->origin, "z, line 7 (zimbraMtaPostscreenGreetTTL)");
  EXPECT_EQ(notes, (std::vector<std::string>{"z, line 8: not a `zmprov mcf` command, skipped"}));
  EXPECT_THROW(postfix::ParseZmprov("zmprov mcf zimbraMtaPostscreenGreetTTL\n", "z", &notes),
               postfix::ParseError);
  EXPECT_THROW(postfix::ParseZmprov("zmprov mcf zimbraMtaPostscreenGreetTTL '1d\n", "z", &notes),
               postfix::ParseError);
}

TEST(ImportPostfixConf, Helpers) {
  EXPECT_EQ(SplitPostfixList("a, b\tc,,inline:{ x=1, y=2 } d"),
            (std::vector<std::string>{"a", "b", "c", "inline:{ x=1, y=2 }", "d"}));
  EXPECT_EQ(YamlScalar("drop"), "drop");
  EXPECT_EQ(YamlScalar("0.0.0.0:25"), "0.0.0.0:25");
  EXPECT_EQ(YamlScalar("[::1]:25"), "\"[::1]:25\"");
  EXPECT_EQ(YamlScalar("2525"), "\"2525\"");
  EXPECT_EQ(YamlScalar("no"), "\"no\"");
  EXPECT_EQ(YamlScalar("a \"b\"\\"), "\"a \\\"b\\\"\\\\\"");
  EXPECT_EQ(YamlScalar(""), "\"\"");
  EXPECT_EQ(PostfixTime("30", 'd'), "30d");
  EXPECT_EQ(PostfixTime("5m", 's'), "5m");
  EXPECT_EQ(PostfixTime("5x", 's'), std::nullopt);
  EXPECT_EQ(PostfixBool("YES"), true);
  EXPECT_EQ(PostfixBool("0"), std::nullopt);
}

TEST_F(ImportPostfixTest, DefaultsOnly) {
  auto r = Run("myhostname = mx.example.com\ncompatibility_level = 3.6\n");
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.yaml, std::string(kHeader) +
                        "hostname: mx.example.com\n"
                        "logging:\n"
                        "  sink: syslog\n"
                        "store:\n"
                        "  path: /var/lib/mxscreen/postscreen_cache\n"
                        "limits:\n"
                        "  client_connection_count_limit: 50\n"
                        "  pre_queue_limit: 100\n"
                        "  post_queue_limit: 100\n"
                        "listeners:\n"
                        "  - name: smtp\n"
                        "    address: 0.0.0.0:25\n" +
                        kHandoff +
                        "    filters:\n"
                        "      - name: access_cidr\n"
                        "        action: ignore\n"
                        "        typed_config:\n"
                        "          access_list:\n"
                        "            - permit_mynetworks: true\n"
                        "          mynetworks:\n"
                        "            - 127.0.0.0/8\n"
                        "            - \"::1/128\"\n" +
                        kPregreet);
  EXPECT_EQ(r.warnings,
            "warning: inet_protocols = all: listening on 0.0.0.0:25 (IPv4 only); use address "
            "\"[::]:25\" instead to accept IPv6 as well (dual-stack on Linux)\n"
            "warning: mynetworks is not set: Postfix uses mynetworks_style = host (this machine's "
            "own addresses), approximated as 127.0.0.0/8 and ::1/128; set mynetworks to permit "
            "more\n");
}

TEST_F(ImportPostfixTest, ReferencesAndPostfixDefaults) {
  // No compatibility_level: Postfix's backwards-compatible defaults apply
  // (respectful_logging = no, mynetworks_style = subnet).
  auto r =
      Run("myhostname = mx.$mydomain\n"
          "mydomain = example.org\n"
          "mail_name = Zorg\n"
          "inet_protocols = ipv4\n"
          "inet_interfaces = 192.0.2.10, [2001:db8::10]\n"
          "smtpd_client_connection_count_limit = 30\n"
          "default_process_limit = 40\n"
          "data_directory = /srv/postfix\n"
          "postscreen_cache_map = proxy:btree:${data_directory}/ps_cache\n"
          "postscreen_post_queue_limit = 0\n"
          "postscreen_access_list =\n");
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.yaml, std::string(kHeader) +
                        "hostname: mx.example.org\n"
                        "logging:\n"
                        "  sink: syslog\n"
                        "  respectful_logging: false\n"
                        "store:\n"
                        "  path: /var/lib/mxscreen/ps_cache\n"
                        "limits:\n"
                        "  client_connection_count_limit: 30\n"
                        "  pre_queue_limit: 40\n"
                        "listeners:\n"
                        "  - name: smtp@192.0.2.10:25\n"
                        "    address: 192.0.2.10:25\n"
                        "    banner: \"mx.example.org ESMTP Zorg\"\n" +
                        kHandoff + "    filters:\n" + kPregreet +
                        "  - name: \"smtp@[2001:db8::10]:25\"\n"
                        "    address: \"[2001:db8::10]:25\"\n"
                        "    banner: \"mx.example.org ESMTP Zorg\"\n" +
                        kHandoff + "    filters:\n" + kPregreet);
  EXPECT_EQ(r.warnings,
            "warning: postscreen_post_queue_limit = 0: mxscreen needs a positive number, left at "
            "its default\n");
}

TEST_F(ImportPostfixTest, StressFormsTakeNormalOperationWhereThereIsOneValue) {
  auto r = Run(std::string(kBase) +
               "postscreen_command_time_limit = ${stress?{5}:{60}}s\n"
               "postscreen_command_count_limit = ${stress?{5}:{30}}\n"
               "postscreen_helo_required = $smtpd_helo_required\n"
               "smtpd_helo_required = yes\n");
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.yaml.find("    smtp:\n"
                        "      command_count_limit: 30\n"
                        "      command_time_limit: 60s\n"
                        "      command_time_limit_stress: 5s\n"
                        "      helo_required: true\n"),
            std::string::npos)
      << r.yaml;
  // mxscreen has no command count under stress.
  EXPECT_EQ(r.warnings, "warning: " + dir_ +
                            "/main.cf, line 6: postscreen_command_count_limit: the value under "
                            "stress (5) is not imported, mxscreen uses 30 always\n");
}

// postscreen_greet_wait -> the listener's greet_wait (normal operation) and
// greet_wait_stress, each written only when it is not mxscreen's default (6s,
// 2s, Postfix's ${stress?{2}:{6}}s).
TEST_F(ImportPostfixTest, GreetWaitNormalAndUnderStress) {
  auto both = Run(std::string(kBase) + "postscreen_greet_wait = ${stress?{3}:{10}}s\n");
  EXPECT_EQ(both.rc, 0);
  EXPECT_NE(both.yaml.find("    address: 0.0.0.0:25\n"
                           "    greet_wait: 10s\n"
                           "    greet_wait_stress: 3s\n"
                           "    handoff:\n"),
            std::string::npos)
      << both.yaml;
  EXPECT_EQ(both.warnings, "");

  // A plain value holds under stress too, as in Postfix; seconds by default.
  auto plain = Run(std::string(kBase) + "postscreen_greet_wait = 4\n");
  EXPECT_NE(plain.yaml.find("    greet_wait: 4s\n"
                            "    greet_wait_stress: 4s\n"),
            std::string::npos)
      << plain.yaml;

  // Only the value that differs from the default.
  auto stress_only = Run(std::string(kBase) + "postscreen_greet_wait = ${stress?{1}:{6}}s\n");
  EXPECT_NE(stress_only.yaml.find("    address: 0.0.0.0:25\n"
                                  "    greet_wait_stress: 1s\n"
                                  "    handoff:\n"),
            std::string::npos)
      << stress_only.yaml;
  EXPECT_EQ(stress_only.yaml.find("greet_wait:"), std::string::npos);

  // Per service: only the listener whose service overrides it.
  auto per_service =
      Run(kBase,
          "smtp inet n - y - 1 postscreen\n"
          "127.0.0.1:2525 inet n - y - 1 postscreen -o postscreen_greet_wait=${stress?{1}:{1m}}\n");
  EXPECT_NE(per_service.yaml.find("  - name: smtp\n"
                                  "    address: 0.0.0.0:25\n"
                                  "    handoff:\n"),
            std::string::npos)
      << per_service.yaml;
  EXPECT_NE(per_service.yaml.find("    address: 127.0.0.1:2525\n"
                                  "    greet_wait: 1m\n"
                                  "    greet_wait_stress: 1s\n"),
            std::string::npos)
      << per_service.yaml;
  EXPECT_EQ(per_service.warnings, "");
}

// postscreen_command_time_limit -> smtp.command_time_limit and
// smtp.command_time_limit_stress (defaults 300s, 10s).
TEST_F(ImportPostfixTest, CommandTimeLimitNormalAndUnderStress) {
  auto normal = Run(std::string(kBase) + "postscreen_command_time_limit = ${stress?{10}:{120}}s\n");
  EXPECT_NE(normal.yaml.find("    smtp:\n"
                             "      command_time_limit: 120s\n"
                             "    handoff:\n"),
            std::string::npos)
      << normal.yaml;
  EXPECT_EQ(normal.warnings, "");

  auto stress = Run(std::string(kBase) + "postscreen_command_time_limit = ${stress?{30}:{5m}}\n");
  EXPECT_NE(stress.yaml.find("    smtp:\n"
                             "      command_time_limit_stress: 30s\n"
                             "    handoff:\n"),
            std::string::npos)
      << stress.yaml;
  EXPECT_EQ(stress.warnings, "");

  auto plain = Run(std::string(kBase) + "postscreen_command_time_limit = 2m\n");
  EXPECT_NE(plain.yaml.find("    smtp:\n"
                            "      command_time_limit: 2m\n"
                            "      command_time_limit_stress: 2m\n"),
            std::string::npos)
      << plain.yaml;
}

// postscreen_cache_retention_time (days by default) and
// postscreen_cache_cleanup_interval (hours by default; 0 disables) -> the
// store's retention_time and cleanup_interval. A listener with its own store
// carries them too: it does not inherit the gateway store's.
TEST_F(ImportPostfixTest, CacheRetentionAndCleanup) {
  auto r = Run(std::string(kBase) +
                   "postscreen_cache_retention_time = 30\n"
                   "postscreen_cache_cleanup_interval = 1\n",
               "smtp inet n - y - 1 postscreen\n"
               "127.0.0.1:2525 inet n - y - 1 postscreen\n"
               "  -o postscreen_cache_map=btree:$data_directory/test_cache\n"
               "  -o postscreen_cache_cleanup_interval=0\n");
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.yaml.find("store:\n"
                        "  path: /var/lib/mxscreen/postscreen_cache\n"
                        "  retention_time: 30d\n"
                        "  cleanup_interval: 1h\n"
                        "limits:\n"),
            std::string::npos)
      << r.yaml;
  EXPECT_NE(r.yaml.find("    store:\n"
                        "      path: /var/lib/mxscreen/test_cache\n"
                        "      retention_time: 30d\n"
                        "      cleanup_interval: 0\n"),
            std::string::npos)
      << r.yaml;
  EXPECT_EQ(r.warnings, "");
  std::string path = Write("mxscreen.yaml", r.yaml);
  auto config = BuildGatewayConfig(LoadBootstrapFile(path), dir_);
  ASSERT_EQ(config->listeners.size(), 2u);
  EXPECT_EQ(config->listeners[0]->store_retention, Seconds(30 * 86400));
  EXPECT_EQ(config->listeners[0]->store_cleanup_interval, Seconds(3600));
  EXPECT_EQ(config->listeners[1]->store_path, "/var/lib/mxscreen/test_cache");
  EXPECT_EQ(config->listeners[1]->store_retention, Seconds(30 * 86400));
  EXPECT_EQ(config->listeners[1]->store_cleanup_interval, Seconds(0));
}

// mxscreen opens one store per path, with one retention and cleanup: a
// service that shares the gateway's store but overrides them is told so.
TEST_F(ImportPostfixTest, SharedStoreKeepsOneRetention) {
  auto r = Run(std::string(kBase) + "postscreen_cache_retention_time = 3d\n",
               "smtp inet n - y - 1 postscreen\n"
               "127.0.0.1:2525 inet n - y - 1 postscreen -o postscreen_cache_retention_time=1d\n");
  EXPECT_EQ(r.rc, 0);
  EXPECT_EQ(r.yaml.find("    store:"), std::string::npos) << r.yaml;
  EXPECT_EQ(r.warnings, "warning: " + dir_ +
                            "/master.cf, line 2: postscreen_cache_retention_time = 1d: the "
                            "verdict store /var/lib/mxscreen/postscreen_cache is shared with the "
                            "gateway, whose retention_time (3d) is used: mxscreen has one per "
                            "store\n");
}

// Postfix's defaults, spelled out or in other units, write nothing.
TEST_F(ImportPostfixTest, TimeDefaultsWriteNothing) {
  auto baseline = Run(kBase);
  auto spelled = Run(std::string(kBase) +
                     "postscreen_greet_wait = ${stress?{2}:{6}}s\n"
                     "postscreen_command_time_limit = ${stress?{10s}:{5m}}\n"
                     "postscreen_cache_retention_time = 1w\n"
                     "postscreen_cache_cleanup_interval = 720m\n");
  EXPECT_EQ(spelled.rc, 0);
  EXPECT_EQ(spelled.yaml, baseline.yaml);
  EXPECT_EQ(spelled.warnings, "");
  EXPECT_EQ(baseline.yaml.find("greet_wait"), std::string::npos) << baseline.yaml;
  EXPECT_EQ(baseline.yaml.find("    smtp:"), std::string::npos) << baseline.yaml;
  EXPECT_EQ(baseline.yaml.find("retention_time"), std::string::npos) << baseline.yaml;
  EXPECT_EQ(baseline.yaml.find("cleanup_interval"), std::string::npos) << baseline.yaml;
}

// Values Postfix refuses (bad syntax, below its minimum) are warned about
// and left at mxscreen's default, so that the output still validates.
TEST_F(ImportPostfixTest, TimeValuesPostfixRefusesAreWarned) {
  auto r = Run(std::string(kBase) +
               "postscreen_greet_wait = ${stress?{0}:{8}}s\n"
               "postscreen_command_time_limit = 0\n"
               "postscreen_cache_retention_time = 0\n"
               "postscreen_cache_cleanup_interval = 1y\n");
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.yaml.find("    greet_wait: 8s\n    handoff:\n"), std::string::npos) << r.yaml;
  EXPECT_EQ(r.yaml.find("    smtp:"), std::string::npos) << r.yaml;
  EXPECT_EQ(r.yaml.find("retention_time"), std::string::npos) << r.yaml;
  EXPECT_EQ(r.yaml.find("cleanup_interval"), std::string::npos) << r.yaml;
  std::string main_cf = dir_ + "/main.cf";
  EXPECT_EQ(r.warnings,
            "warning: " + main_cf +
                ", line 7: postscreen_cache_retention_time = 0: expected a non-zero time value, "
                "left at 7d\n"
                "warning: " +
                main_cf +
                ", line 8: postscreen_cache_cleanup_interval = 1y: expected a time value, left "
                "at 12h\n"
                "warning: " +
                main_cf +
                ", line 5: postscreen_greet_wait under stress = 0s: expected a non-zero time "
                "value, left at 6s (2s under stress)\n"
                "warning: " +
                main_cf +
                ", line 6: postscreen_command_time_limit = 0: expected a non-zero time value, "
                "left at 300s (10s under stress)\n");
  std::string path = Write("mxscreen.yaml", r.yaml);
  EXPECT_NO_THROW(BuildGatewayConfig(LoadBootstrapFile(path), dir_));
}

TEST_F(ImportPostfixTest, MasterCfServicesBecomeListeners) {
  auto r = Run(std::string(kBase) + "postscreen_denylist_action = drop\n",
               "# postscreen on 25 and on a loopback test port\n"
               "smtp      inet  n       -       y       -       1       postscreen\n"
               "127.0.0.1:2525 inet n   -       y       -       1       postscreen\n"
               "   -o syslog_name=postfix-test\n"
               "   -o { smtpd_banner = $myhostname ESMTP test port }\n"
               "   -o postscreen_pre_queue_limit=5\n"
               "   -o postscreen_cache_map=btree:$data_directory/test_cache\n"
               "   -o postscreen_denylist_action=enforce\n"
               "smtpd     pass  -       -       y       -       -       smtpd\n"
               "submission inet n       -       y       -       -       smtpd\n"
               "  -o syslog_name=postfix/submission\n");
  EXPECT_EQ(r.rc, 0);
  const std::string access =
      "    filters:\n"
      "      - name: access_cidr\n"
      "        action: %s\n"
      "        typed_config:\n"
      "          access_list:\n"
      "            - permit_mynetworks: true\n"
      "          mynetworks:\n"
      "            - 127.0.0.0/8\n";
  auto with_action = [&](const std::string& a) {
    std::string s = access;
    return s.replace(s.find("%s"), 2, a) + kPregreet;
  };
  EXPECT_EQ(r.yaml, std::string(kHeader) +
                        "hostname: mx.example.com\n"
                        "logging:\n"
                        "  sink: syslog\n"
                        "store:\n"
                        "  path: /var/lib/mxscreen/postscreen_cache\n"
                        "limits:\n"
                        "  client_connection_count_limit: 50\n"
                        "  pre_queue_limit: 100\n"
                        "  post_queue_limit: 100\n"
                        "listeners:\n"
                        "  - name: smtp\n"
                        "    address: 0.0.0.0:25\n" +
                        kHandoff + with_action("drop") +
                        "  - name: 127.0.0.1:2525\n"
                        "    address: 127.0.0.1:2525\n"
                        "    program_name: postfix-test/postscreen\n"
                        "    banner: \"mx.example.com ESMTP test port\"\n"
                        "    limits:\n"
                        "      client_connection_count_limit: 50\n"
                        "      pre_queue_limit: 5\n"
                        "      post_queue_limit: 100\n"
                        "    store:\n"
                        "      path: /var/lib/mxscreen/test_cache\n" +
                        kHandoff + with_action("enforce"));
  EXPECT_EQ(r.warnings, "");
}

TEST_F(ImportPostfixTest, UnsupportedParametersAreWarnedNeverDropped) {
  auto r = Run(std::string(kBase) +
                   "postscreen_watchdog_timeout = 20s\n"
                   "postscreen_greet_action = enforce\n"
                   "smtpd_tls_security_level = may\n",
               "smtp inet n - y - 1 postscreen -o postscreen_tls_security_level=may\n"
               "  -o postscreen_greet_wait=${stress?{2}:{8}}s\n");
  EXPECT_EQ(r.rc, 0);
  std::string main_cf = dir_ + "/main.cf";
  std::string master_cf = dir_ + "/master.cf";
  // Only what nobody translates is warned about (not smtpd_*: those are
  // not postscreen's). The greet settings carried over.
  EXPECT_EQ(r.warnings, "warning: " + main_cf +
                            ", line 5: postscreen_watchdog_timeout = 20s: not "
                            "supported by mxscreen yet, ignored\n"
                            "warning: " +
                            master_cf +
                            ", line 1: -o postscreen_tls_security_level=may: not "
                            "supported by mxscreen yet, ignored\n");
  EXPECT_NE(r.yaml.find("    greet_wait: 8s\n"), std::string::npos) << r.yaml;
  EXPECT_NE(r.yaml.find("      - name: pregreet\n"
                        "        action: enforce\n"
                        "        ttl: 1d\n"),
            std::string::npos)
      << r.yaml;
}

TEST_F(ImportPostfixTest, ZmprovAttributesOverrideMainCf) {
  auto r = Run(std::string(kBase) + "postscreen_denylist_action = enforce\n", "",
               "zmprov mcf zimbraMtaPostscreenAccessList permit_mynetworks \\\n"
               "  zimbraMtaPostscreenAccessList cidr:/opt/zimbra/conf/postscreen_wblist\n"
               "zmprov mcf zimbraMtaPostscreenBlacklistAction drop\n"
               "zmprov mcf zimbraMtaPostscreenDnsblSites 'b.barracudacentral.org=127.0.0.2*7' \\\n"
               "  zimbraMtaPostscreenDnsblSites 'zen.spamhaus.org=127.0.0.[10;11]*8'\n"
               "zimbraMtaMyNetworks: 127.0.0.0/8 10.0.0.0/8\n");
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.yaml.find("      - name: access_cidr\n"
                        "        action: drop\n"
                        "        typed_config:\n"
                        "          access_list:\n"
                        "            - permit_mynetworks: true\n"
                        "            - cidr:\n"
                        "                path: /opt/zimbra/conf/postscreen_wblist\n"
                        "          mynetworks:\n"
                        "            - 127.0.0.0/8\n"
                        "            - 10.0.0.0/8\n"),
            std::string::npos)
      << r.yaml;
  // The multi-valued Zimbra attribute becomes the dnsbl entry's sites.
  EXPECT_NE(r.yaml.find("      - name: dnsbl\n"
                        "        action: ignore\n"
                        "        typed_config:\n"
                        "          sites:\n"
                        "            - \"b.barracudacentral.org=127.0.0.2*7\"\n"
                        "            - \"zen.spamhaus.org=127.0.0.[10;11]*8\"\n"),
            std::string::npos)
      << r.yaml;
  EXPECT_EQ(r.warnings, "");
}

TEST_F(ImportPostfixTest, AccessListTables) {
  Write("nets", "# more networks\n198.51.100.0/24\n");
  auto r =
      Run("myhostname = mx.example.com\n"
          "compatibility_level = 3.6\n"
          "inet_protocols = ipv4\n"
          "postscreen_blacklist_action = enforce\n"
          "mynetworks = 127.0.0.0/8 [::1]/128 " +
          dir_ +
          "/nets hash:/etc/postfix/nets 10.1.2.3/8\n"
          "postscreen_access_list = permit_mynetworks,\n"
          "  inline:{ 192.0.2.1=reject, { 2001:db8::1 = PERMIT } },\n"
          "  cidr:{ {203.0.113.0/24 reject}, {0.0.0.0/0 dunno} },\n"
          "  texthash:/etc/postfix/ps_access, inline:{ 192.0.2.0/24=reject }\n");
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.yaml.find("      - name: access_cidr\n"
                        "        action: enforce\n"
                        "        typed_config:\n"
                        "          access_list:\n"
                        "            - permit_mynetworks: true\n"
                        "            - cidr:\n"
                        "                lines:\n"
                        "                  - \"192.0.2.1 reject\"\n"
                        "                  - \"2001:db8::1 permit\"\n"
                        "            - cidr:\n"
                        "                lines:\n"
                        "                  - \"203.0.113.0/24 reject\"\n"
                        "                  - \"0.0.0.0/0 dunno\"\n"
                        "          mynetworks:\n"
                        "            - 127.0.0.0/8\n"
                        "            - \"::1/128\"\n"
                        "            - 198.51.100.0/24\n"),
            std::string::npos)
      << r.yaml;
  EXPECT_EQ(
      r.warnings,
      "warning: mynetworks: \"hash:/etc/postfix/nets\" is not supported (lookup tables are "
      "not read), skipped\n"
      "warning: mynetworks: \"10.1.2.3/8\" is not supported (non-null host address bits in "
      "\"10.1.2.3/8\", perhaps use \"10.0.0.0/8\" instead), skipped\n"
      "warning: postscreen_access_list: texthash:/etc/postfix/ps_access is not supported "
      "(only permit_mynetworks, cidr: and inline: tables), skipped\n"
      "warning: postscreen_access_list: inline:{ 192.0.2.0/24=reject }: \"192.0.2.0/24=reject\" "
      "is not \"address=permit|reject|dunno\" (an inline: table matches whole addresses "
      "only), skipped\n");
}

TEST_F(ImportPostfixTest, EmptyAccessListMeansNoFilter) {
  auto r = Run(std::string(kBase) + "postscreen_access_list = hash:/etc/postfix/x\n");
  EXPECT_EQ(r.rc, 0);
  // The access list is gone (and said so); the pregreet test stays.
  EXPECT_EQ(r.yaml.find("access_cidr"), std::string::npos) << r.yaml;
  EXPECT_NE(r.yaml.find(std::string("    filters:\n") + kPregreet), std::string::npos) << r.yaml;
  EXPECT_EQ(r.warnings,
            "warning: postscreen_access_list: hash:/etc/postfix/x is not supported (only "
            "permit_mynetworks, cidr: and inline: tables), skipped\n"
            "warning: postscreen_access_list: nothing could be imported, no access_cidr filter\n");
}

TEST_F(ImportPostfixTest, ErrorsAndExitCodes) {
  auto bad_master = Run(kBase, "smtp inet n - y - postscreen\n");
  EXPECT_EQ(bad_master.rc, 2);
  EXPECT_EQ(bad_master.yaml, "");
  EXPECT_EQ(bad_master.warnings,
            "mxscreen import-postfix: " + dir_ +
                "/master.cf, line 1: expected 8 fields (service "
                "type private unpriv chroot wakeup maxproc command), got \"smtp inet n - y - "
                "postscreen\"\n");

  auto bad_main = Run(std::string(kBase) + "smtpd_banner = ${myhostname\n");
  EXPECT_EQ(bad_main.rc, 2);
  EXPECT_EQ(bad_main.warnings, "mxscreen import-postfix: " + dir_ +
                                   "/main.cf, line 5: smtpd_banner: missing '}' in "
                                   "\"${myhostname\"\n");

  EXPECT_EQ(Run(kBase, "", "", "localhost:25").rc, 2);

  ImportPostfixOptions o;
  o.main_cf = dir_ + "/does-not-exist.cf";
  std::ostringstream out;
  std::ostringstream err;
  EXPECT_EQ(RunImportPostfix(o, out, err), 1);
  EXPECT_EQ(err.str(), "mxscreen import-postfix: cannot read " + o.main_cf + "\n");
}

TEST_F(ImportPostfixTest, MissingPostscreenServiceAndHostname) {
  auto r = Run("compatibility_level = 3.6\ninet_protocols = ipv4\nmynetworks = 127.0.0.0/8\n",
               "smtp inet n - y - - smtpd\n");
  EXPECT_EQ(r.rc, 0);
  EXPECT_NE(r.yaml.find("  - name: smtp\n    address: 0.0.0.0:25\n"), std::string::npos);
  std::istringstream lines(r.warnings);
  std::string first;
  std::string second;
  std::getline(lines, first);
  std::getline(lines, second);
  EXPECT_EQ(first.rfind("warning: myhostname is not set: Postfix uses this machine's name, "
                        "imported as ",
                        0),
            0u)
      << first;
  EXPECT_EQ(second, "warning: " + dir_ +
                        "/master.cf: no postscreen service (an inet line whose "
                        "command is postscreen); imported as one listener on port 25");
}

// What import-postfix prints must pass `mxscreen validate`.
TEST_F(ImportPostfixTest, OutputBuildsAsGatewayConfig) {
  std::string table = Write("access.cidr", "192.0.2.0/24 reject\n");
  auto r = Run(std::string(kBase) +
                   "smtpd_banner = $myhostname ESMTP \"quoted\" # not a comment: really\n"
                   "postscreen_access_list = permit_mynetworks, cidr:" +
                   table +
                   ", inline:{ 192.0.2.7=permit }\n"
                   "postscreen_denylist_action = drop\n"
                   "respectful_logging = no\n"
                   "postscreen_command_time_limit = 1m\n"
                   "syslog_facility = local3\n",
               "smtp inet n - y - 1 postscreen\n"
               "[::1]:2525 inet n - y - 1 postscreen -o syslog_name=postfix/v6\n"
               "  -o postscreen_client_connection_count_limit=7\n",
               "", "[::1]:10025");
  ASSERT_EQ(r.rc, 0) << r.warnings;
  std::string path = Write("mxscreen.yaml", r.yaml);
  std::shared_ptr<const GatewayConfig> config;
  try {
    config = BuildGatewayConfig(LoadBootstrapFile(path), dir_);
  } catch (const ConfigError& e) {
    FAIL() << e.what() << "\n" << r.yaml;
  }
  ASSERT_EQ(config->listeners.size(), 2u);
  EXPECT_TRUE(config->logging.sink == config::v1::Logging::SYSLOG);
  EXPECT_FALSE(config->logging.respectful_logging);
  const auto& v6 = *config->listeners[1];
  EXPECT_EQ(v6.name, "[::1]:2525");
  EXPECT_EQ(v6.address.ToString(), "[::1]:2525");
  EXPECT_EQ(v6.program_name, "postfix/v6/postscreen");
  EXPECT_EQ(v6.banner, "mx.example.com ESMTP \"quoted\" # not a comment: really");
  EXPECT_EQ(v6.limits.client_connection_count_limit, 7u);
  // A plain value applies under stress as well, as in Postfix.
  EXPECT_EQ(v6.engine.command_time_limit, Seconds(60));
  EXPECT_EQ(v6.engine.command_time_limit_stress, Seconds(60));
  EXPECT_EQ(v6.handoff.backends[0].ToString(), "[::1]:10025");
  ASSERT_EQ(v6.chain.size(), 2u);
  EXPECT_EQ(v6.chain[0].name, "access_cidr");
  EXPECT_EQ(v6.chain[0].action, Action::kDrop);
  EXPECT_EQ(v6.chain[1].name, "pregreet");
  EXPECT_EQ(v6.chain[1].action, Action::kIgnore);
}

// End to end: a realistic Postfix 3.7 MX with every postscreen parameter
// mxscreen supports (access list with a CIDR table, the pregreet test, the
// deep tests with their actions, cache and command settings, a second
// service with overrides) imports without a warning, and what is printed
// builds as the gateway config `mxscreen validate` accepts, with each value
// where it belongs.
TEST_F(ImportPostfixTest, FullPostscreenSetupImportsAndBuilds) {
  std::string table = Write("postscreen_access.cidr",
                            "# Local exceptions to the postscreen tests\n"
                            "192.0.2.128/25      permit\n"
                            "198.51.100.0/24     reject\n"
                            "203.0.113.7         dunno\n"
                            "[2001:db8:bad::]/48 reject\n");
  std::string main_cf =
      "# main.cf of a Postfix 3.7 MX with postscreen\n"
      "compatibility_level = 3.6\n"
      "myhostname = mx1.example.com\n"
      "inet_interfaces = all\n"
      "inet_protocols = ipv4\n"
      "mynetworks = 127.0.0.0/8 192.0.2.0/28\n"
      "smtpd_banner = $myhostname ESMTP\n"
      "\n"
      "postscreen_access_list = permit_mynetworks,\n"
      "    cidr:@TABLE@\n"
      "postscreen_denylist_action = drop\n"
      "\n"
      "postscreen_greet_banner = $smtpd_banner - hold on\n"
      "postscreen_greet_wait = ${stress?{3}:{8}}s\n"
      "postscreen_greet_action = enforce\n"
      "postscreen_greet_ttl = 2d\n"
      "\n"
      "postscreen_bare_newline_enable = yes\n"
      "postscreen_bare_newline_action = enforce\n"
      "postscreen_non_smtp_command_enable = yes\n"
      "postscreen_non_smtp_command_action = drop\n"
      "postscreen_forbidden_commands = $smtpd_forbidden_commands, HEAD\n"
      "postscreen_pipelining_enable = yes\n"
      "postscreen_pipelining_action = enforce\n"
      "postscreen_pipelining_ttl = 14d\n"
      "\n"
      "postscreen_cache_map = btree:$data_directory/postscreen_cache\n"
      "postscreen_cache_retention_time = 14d\n"
      "postscreen_cache_cleanup_interval = 6h\n"
      "\n"
      "postscreen_command_count_limit = 10\n"
      "postscreen_command_time_limit = ${stress?{10}:{120}}s\n"
      "postscreen_helo_required = yes\n"
      "postscreen_disable_vrfy_command = yes\n"
      "postscreen_client_connection_count_limit = 20\n"
      "postscreen_pre_queue_limit = 80\n"
      "postscreen_post_queue_limit = 80\n";
  main_cf.replace(main_cf.find("@TABLE@"), 7, table);
  auto r = Run(main_cf,
               "# service type  private unpriv  chroot  wakeup  maxproc command + args\n"
               "smtp      inet  n       -       y       -       1       postscreen\n"
               "smtpd     pass  -       -       y       -       -       smtpd\n"
               "dnsblog   unix  -       -       y       -       0       dnsblog\n"
               "tlsproxy  unix  -       -       y       -       0       tlsproxy\n"
               "127.0.0.1:2525 inet n   -       y       -       1       postscreen\n"
               "  -o syslog_name=postfix-test\n"
               "  -o postscreen_greet_wait=2s\n"
               "  -o postscreen_cache_map=btree:$data_directory/test_cache\n"
               "  -o postscreen_pipelining_enable=no\n"
               "submission inet n       -       y       -       -       smtpd\n"
               "  -o syslog_name=postfix/submission\n");
  ASSERT_EQ(r.rc, 0) << r.warnings;
  EXPECT_EQ(r.warnings, "");

  const std::string engine =
      "    smtp:\n"
      "      command_count_limit: 10\n"
      "      command_time_limit: 120s\n"
      "      helo_required: true\n"
      "      disable_vrfy: true\n";
  std::string filters =
      "    filters:\n"
      "      - name: access_cidr\n"
      "        action: drop\n"
      "        typed_config:\n"
      "          access_list:\n"
      "            - permit_mynetworks: true\n"
      "            - cidr:\n"
      "                path: @TABLE@\n"
      "          mynetworks:\n"
      "            - 127.0.0.0/8\n"
      "            - 192.0.2.0/28\n"
      "      - name: pregreet\n"
      "        action: enforce\n"
      "        ttl: 2d\n"
      "        typed_config:\n"
      "          banner: \"mx1.example.com ESMTP - hold on\"\n"
      "      - name: bare_newline\n"
      "        action: enforce\n"
      "        ttl: 30d\n"
      "      - name: non_smtp\n"
      "        action: drop\n"
      "        ttl: 30d\n"
      "        typed_config:\n"
      "          forbidden_commands:\n"
      "            - CONNECT\n"
      "            - GET\n"
      "            - POST\n"
      "            - \"/^[^A-Z]/\"\n"
      "            - HEAD\n";
  filters.replace(filters.find("@TABLE@"), 7, table);
  const std::string pipelining =
      "      - name: pipelining\n"
      "        action: enforce\n"
      "        ttl: 14d\n";
  EXPECT_EQ(r.yaml, std::string(kHeader) +
                        "hostname: mx1.example.com\n"
                        "logging:\n"
                        "  sink: syslog\n"
                        "store:\n"
                        "  path: /var/lib/mxscreen/postscreen_cache\n"
                        "  retention_time: 14d\n"
                        "  cleanup_interval: 6h\n"
                        "limits:\n"
                        "  client_connection_count_limit: 20\n"
                        "  pre_queue_limit: 80\n"
                        "  post_queue_limit: 80\n"
                        "listeners:\n"
                        "  - name: smtp\n"
                        "    address: 0.0.0.0:25\n"
                        "    banner: \"mx1.example.com ESMTP\"\n"
                        "    greet_wait: 8s\n"
                        "    greet_wait_stress: 3s\n" +
                        engine + kHandoff + filters + pipelining +
                        "  - name: 127.0.0.1:2525\n"
                        "    address: 127.0.0.1:2525\n"
                        "    program_name: postfix-test/postscreen\n"
                        "    banner: \"mx1.example.com ESMTP\"\n"
                        "    greet_wait: 2s\n" +
                        engine +
                        "    store:\n"
                        "      path: /var/lib/mxscreen/test_cache\n"
                        "      retention_time: 14d\n"
                        "      cleanup_interval: 6h\n" +
                        kHandoff + filters);

  std::string path = Write("mxscreen.yaml", r.yaml);
  std::shared_ptr<const GatewayConfig> config;
  try {
    config = BuildGatewayConfig(LoadBootstrapFile(path), dir_);
  } catch (const ConfigError& e) {
    FAIL() << e.what() << "\n" << r.yaml;
  }
  EXPECT_EQ(config->hostname, "mx1.example.com");
  ASSERT_EQ(config->listeners.size(), 2u);
  const ListenerConfig& smtp = *config->listeners[0];
  const ListenerConfig& test = *config->listeners[1];
  for (const ListenerConfig* l : {&smtp, &test}) {
    SCOPED_TRACE(l->name);
    EXPECT_EQ(l->banner, "mx1.example.com ESMTP");
    EXPECT_EQ(l->limits.client_connection_count_limit, 20u);
    EXPECT_EQ(l->limits.pre_queue_limit, 80u);
    EXPECT_EQ(l->limits.post_queue_limit, 80u);
    EXPECT_EQ(l->engine.command_count_limit, 10u);
    EXPECT_EQ(l->engine.command_time_limit, Seconds(120));
    EXPECT_EQ(l->engine.command_time_limit_stress, Seconds(10));
    EXPECT_TRUE(l->engine.helo_required);
    EXPECT_TRUE(l->engine.disable_vrfy);
    EXPECT_EQ(l->store_retention, Seconds(14 * 86400));
    EXPECT_EQ(l->store_cleanup_interval, Seconds(6 * 3600));
  }
  EXPECT_EQ(smtp.greet_wait, Seconds(8));
  EXPECT_EQ(smtp.greet_wait_stress, Seconds(3));
  EXPECT_EQ(smtp.store_path, "/var/lib/mxscreen/postscreen_cache");
  EXPECT_EQ(test.program_name, "postfix-test/postscreen");
  EXPECT_EQ(test.greet_wait, Seconds(2));
  EXPECT_EQ(test.greet_wait_stress, Seconds(2));
  EXPECT_EQ(test.store_path, "/var/lib/mxscreen/test_cache");

  auto chain = [](const ListenerConfig& l) {
    std::vector<std::tuple<std::string, Action, Seconds>> out;
    for (const auto& e : l.chain) out.emplace_back(e.name, e.action, e.ttl);
    return out;
  };
  using Entry = std::tuple<std::string, Action, Seconds>;
  const Seconds day(86400);
  std::vector<Entry> expected = {{"access_cidr", Action::kDrop, Seconds(0)},
                                 {"pregreet", Action::kEnforce, 2 * day},
                                 {"bare_newline", Action::kEnforce, 30 * day},
                                 {"non_smtp", Action::kDrop, 30 * day}};
  EXPECT_EQ(chain(test), expected);
  expected.emplace_back("pipelining", Action::kEnforce, 14 * day);
  EXPECT_EQ(chain(smtp), expected);
  EXPECT_EQ(smtp.chain[1].traits.teaser, "mx1.example.com ESMTP - hold on");
}

}  // namespace
}  // namespace mxs
