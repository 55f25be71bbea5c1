// plugin_host_test: the examples' unit tests. Loads helo_policy.so and
// rate_limit.so with the fake host (no mxscreen code), drives their hooks
// through the C ABI and checks exact verdicts, replies, log lines and config
// errors; also tests the pieces behind the ABI (HELO name rules, the
// per-network table, the JSON reader) directly.
//
// Usage: plugin_host_test HELO_POLICY.so RATE_LIMIT.so
//        plugin_host_test --drive PLUGIN.so JSON CLIENT_IP COMMAND...
// The second form (used by the tutorial check) prints what the plugin did
// for a connection from CLIENT_IP that sends COMMANDs, one line each:
// "connect: pass", "EHLO localhost: fail", "reply: ...", "log: ...".
#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "common/json_config.h"
#include "helo_policy/helo_name.h"
#include "rate_limit/net_window.h"
#include "tests/fake_host.h"

namespace {

int g_failures = 0;
int g_checks = 0;

#define CHECK(cond)                                                                 \
  do {                                                                              \
    ++g_checks;                                                                     \
    if (!(cond)) {                                                                  \
      ++g_failures;                                                                 \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                                               \
  } while (0)

#define CHECK_EQ(a, b)                                                                           \
  do {                                                                                           \
    ++g_checks;                                                                                  \
    auto va = (a);                                                                               \
    auto vb = (b);                                                                               \
    if (!(va == vb)) {                                                                           \
      ++g_failures;                                                                              \
      std::fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s\n  got:      %s\n  expected: %s\n", \
                   __FILE__, __LINE__, #a, #b, Show(va).c_str(), Show(vb).c_str());              \
    }                                                                                            \
  } while (0)

std::string Show(const std::string& s) { return "\"" + s + "\""; }
template <typename T>
std::string Show(T v) {
  return std::to_string(v);
}

const char* VerdictName(int v) {
  switch (v) {
    case MXS_CONTINUE:
      return "continue";
    case MXS_PASS:
      return "pass";
    case MXS_FAIL:
      return "fail";
    case MXS_PENDING:
      return "pending";
  }
  return "unknown";
}

// A config that must be accepted.
struct Config {
  Config(const fake_host::Plugin& p, const std::string& json) : plugin(p) {
    std::string error;
    config = p.CreateConfig(json, &error);
    if (config == nullptr) {
      ++g_failures;
      std::fprintf(stderr, "config %s refused: %s\n", json.c_str(), error.c_str());
    }
  }
  ~Config() {
    if (config != nullptr) plugin.DestroyConfig(config);
  }
  const fake_host::Plugin& plugin;
  void* config = nullptr;
};

// The error a refused config gives ("" when it was accepted).
std::string ConfigError(const fake_host::Plugin& p, const std::string& json) {
  std::string error;
  void* c = p.CreateConfig(json, &error);
  if (c != nullptr) {
    p.DestroyConfig(c);
    return "";
  }
  return error;
}

// ---------------------------------------------------------------------------
// helo_policy

void TestHeloNames() {
  using helo_policy::Judge;
  struct Case {
    const char* name;
    bool bare_ip, invalid, non_fqdn;
  } cases[] = {
      {"mail.example.com", false, false, false},
      {"mail.example.com.", false, false, false},  // one trailing dot is fine
      {"mail.example.com..", false, true, true},
      {"mx-1.example.com", false, false, false},
      {"host_name.example", false, false, false},  // Postfix allows '_'
      {"[192.0.2.1]", false, false, false},
      {"[IPv6:2001:db8::1]", false, false, false},
      {"[ipv6:2001:db8::1]", false, false, false},
      {"[300.1.1.1]", false, true, true},
      {"[2001:db8::1]", false, true, true},  // IPv6 literals need the tag
      {"[]", false, true, true},
      {"192.0.2.1", true, true, true},
      {"2001:db8::1", true, true, true},
      {"::ffff:192.0.2.1", true, true, true},
      {"1.2.3", false, true, true},  // all digits: not a hostname
      {"localhost", false, false, true},
      {"localhost.", false, false, true},
      {"WIN-ABC123", false, false, true},
      {".example.com", false, true, true},
      {"bad..name.example", false, true, true},
      {"-bad.example", false, true, true},
      {"bad-.example", false, true, true},
      {"bad name.example", false, true, true},
      {"1.example", false, false, false},
      {"123.45.example", false, false, false},
  };
  for (const Case& c : cases) {
    helo_policy::Judgement j = Judge(c.name);
    if (j.bare_ip != c.bare_ip || j.invalid != c.invalid || j.non_fqdn != c.non_fqdn) {
      ++g_failures;
      std::fprintf(stderr, "Judge(\"%s\"): bare_ip=%d invalid=%d non_fqdn=%d, expected %d %d %d\n",
                   c.name, j.bare_ip, j.invalid, j.non_fqdn, c.bare_ip, c.invalid, c.non_fqdn);
    }
    ++g_checks;
  }
  std::string long_label = std::string(63, 'a') + ".example";
  CHECK(!Judge(long_label).invalid);
  CHECK(Judge(std::string(64, 'a') + ".example").invalid);
  std::string long_name;
  while (long_name.size() < 250) long_name += "abcdefghi.";
  long_name += "example";  // 257 bytes
  CHECK(Judge(long_name).invalid);
  CHECK(Judge(std::string("a\0b.example", 11)).invalid);
  CHECK_EQ(helo_policy::Printable(std::string("a\x01\x7f\xc3\xa9.example", 13)),
           std::string("a????.example"));
  CHECK_EQ(helo_policy::Printable(std::string(150, 'x')).size(), size_t{100});
}

void TestHeloPolicy(const std::string& path) {
  fake_host::Plugin p(path);
  if (p.plugin() == nullptr) {
    ++g_failures;
    std::fprintf(stderr, "%s: %s\n", path.c_str(), p.error().c_str());
    return;
  }
  const mxs_plugin_v1* d = p.plugin();
  CHECK_EQ(std::string(d->name), std::string("helo_policy"));
  CHECK_EQ(d->abi_major, uint32_t{MXS_PLUGIN_ABI_VERSION_MAJOR});
  CHECK_EQ(d->traits, uint32_t{MXS_TRAIT_CACHED | MXS_TRAIT_NEEDS_ENGINE});
  CHECK(d->on_command != nullptr);

  {
    Config c(p, "{}");
    // A bare IP: the first check that fails is bare_ip.
    fake_host::Session s(p, c.config, "127.0.0.1", 4000);
    CHECK_EQ(s.Command("EHLO 192.0.2.1"), MXS_FAIL);
    CHECK_EQ(
        s.fail_reply,
        std::string("5.7.1 <192.0.2.1>: Helo command rejected: need fully-qualified hostname"));
    CHECK_EQ(s.fail_log, std::string("BARE IP HELO from [127.0.0.1]:4000: EHLO 192.0.2.1"));
    // One failure per session: nothing more, not even a pass at RCPT.
    CHECK_EQ(s.Command("HELO localhost"), MXS_CONTINUE);
    CHECK_EQ(s.Command("MAIL FROM:<a@b.example>"), MXS_CONTINUE);
    CHECK_EQ(s.Command("RCPT TO:<c@d.example>"), MXS_CONTINUE);
    CHECK(s.protocol_errors.empty());
    CHECK(s.log.empty());  // the failure's line is logged by the gateway
  }
  {
    Config c(p, "{}");
    fake_host::Session s(p, c.config, "2001:db8::7", 25000);
    CHECK_EQ(s.Command("helo localhost"), MXS_FAIL);
    CHECK_EQ(
        s.fail_reply,
        std::string("5.7.1 <localhost>: Helo command rejected: need fully-qualified hostname"));
    CHECK_EQ(s.fail_log, std::string("NON-FQDN HELO from [2001:db8::7]:25000: HELO localhost"));
  }
  {
    Config c(p, "{}");
    fake_host::Session s(p, c.config, "127.0.0.1", 4001);
    CHECK_EQ(s.Command("EHLO bad..name.example"), MXS_FAIL);
    CHECK_EQ(s.fail_reply,
             std::string("5.7.1 <bad..name.example>: Helo command rejected: Invalid name"));
    CHECK_EQ(s.fail_log, std::string("INVALID HELO from [127.0.0.1]:4001: EHLO bad..name.example"));
  }
  {
    // A good name passes at the first RCPT, and only then.
    Config c(p, "{}");
    fake_host::Session s(p, c.config, "127.0.0.1", 4002);
    CHECK_EQ(s.Command("EHLO"), MXS_CONTINUE);  // the engine answers 501
    CHECK_EQ(s.Command("EHLO mail.example.com"), MXS_CONTINUE);
    CHECK_EQ(s.Command("EHLO [192.0.2.1]"), MXS_CONTINUE);
    CHECK_EQ(s.Command("MAIL FROM:<a@b.example>"), MXS_CONTINUE);
    CHECK_EQ(s.Command("RCPT TO:<c@d.example>"), MXS_PASS);
    CHECK_EQ(s.Command("RCPT TO:<e@d.example>"), MXS_CONTINUE);
    CHECK(s.fail_reply.empty());
    CHECK(s.protocol_errors.empty());
  }
  {
    // Only non_fqdn, as Postfix's reject_non_fqdn_helo_hostname alone: a
    // bare IP and an invalid name fail it too, under its own reply.
    Config c(
        p,
        R"({"checks": ["non_fqdn"], "reply_non_fqdn": "5.5.2 <{helo}>: need an FQDN, {helo} is not"})");
    fake_host::Session s(p, c.config, "127.0.0.1", 4003);
    CHECK_EQ(s.Command("EHLO 192.0.2.1"), MXS_FAIL);
    CHECK_EQ(s.fail_reply, std::string("5.5.2 <192.0.2.1>: need an FQDN, 192.0.2.1 is not"));
    CHECK_EQ(s.fail_log, std::string("NON-FQDN HELO from [127.0.0.1]:4003: EHLO 192.0.2.1"));
  }
  {
    // Only bare_ip: an unqualified name is fine.
    Config c(p, R"({"checks": ["bare_ip"]})");
    fake_host::Session s(p, c.config, "127.0.0.1", 4004);
    CHECK_EQ(s.Command("EHLO localhost"), MXS_CONTINUE);
    CHECK_EQ(s.Command("EHLO 2001:db8::1"), MXS_FAIL);
    CHECK_EQ(s.fail_log, std::string("BARE IP HELO from [127.0.0.1]:4004: EHLO 2001:db8::1"));
  }
  {
    // A name with bytes that may not go into a reply.
    Config c(p, "{}");
    fake_host::Session s(p, c.config, "127.0.0.1", 4005);
    CHECK_EQ(s.Command("EHLO caf\xc3\xa9"), MXS_FAIL);
    CHECK_EQ(s.fail_reply, std::string("5.7.1 <caf?"
                                       "?>: Helo command rejected: Invalid name"));
    CHECK(s.protocol_errors.empty());
  }
  // Config errors, exactly as `mxscreen validate` will show them.
  CHECK_EQ(
      ConfigError(p, "{\"checks\": [\"bare_ip\", \"rdns\"]}"),
      std::string("\"checks\": unknown check \"rdns\" (expected bare_ip, invalid or non_fqdn)"));
  CHECK_EQ(ConfigError(p, "{\"checks\": []}"),
           std::string("\"checks\": empty; name at least one of bare_ip, invalid, non_fqdn (or "
                       "disable the filter entry)"));
  CHECK_EQ(ConfigError(p, "{\"checks\": \"bare_ip\"}"),
           std::string("\"checks\": expected an array of strings"));
  CHECK_EQ(ConfigError(p, "{\"reply\": \"x\"}"),
           std::string("unknown key \"reply\" (expected checks, reply_bare_ip, reply_invalid or "
                       "reply_non_fqdn)"));
  CHECK_EQ(ConfigError(p, "{\"reply_invalid\": \"5.7.1 a\\r\\nb\"}"),
           std::string("\"reply_invalid\": only printable ASCII"));
  // A raw control byte in the JSON text, and the 500-byte bound of a reply
  // with a 100-byte name in each {helo}: 31 + 93 + 4 * 94 = 500 fits.
  CHECK_EQ(ConfigError(p, std::string("{\"reply_bare_ip\": \"a\0b\"}", 24)),
           std::string("config JSON, byte 20: control character in a string (write it as an "
                       "escape)"));
  const std::string four = "5.7.1 {helo}{helo}{helo}{helo} ";
  CHECK_EQ(ConfigError(p, "{\"reply_invalid\": \"" + four + std::string(93, 'x') + "\"}"),
           std::string(""));
  CHECK_EQ(
      ConfigError(p, "{\"reply_invalid\": \"" + four + std::string(94, 'x') + "\"}"),
      std::string("\"reply_invalid\": expected 1 to 500 characters (each {helo} counting 100)"));
  CHECK_EQ(ConfigError(p, "{\"reply_invalid\": 5}"),
           std::string("\"reply_invalid\": expected a string"));
  CHECK_EQ(ConfigError(p, "{\"checks\": [\"bare_ip\"],}"),
           std::string("config JSON, byte 23: expected a key in quotes"));
  CHECK_EQ(ConfigError(p, std::string(2000, '{')),
           std::string("config JSON, byte 1: expected a key in quotes"));
}

// ---------------------------------------------------------------------------
// rate_limit

void TestNetWindow() {
  nw_network a, b, c;
  char text[64];
  CHECK_EQ(nw_network_of("192.0.2.77", 24, 64, &a), 0);
  nw_format(&a, text, sizeof text);
  CHECK_EQ(std::string(text), std::string("192.0.2.0/24"));
  CHECK_EQ(nw_network_of("::ffff:192.0.2.1", 24, 64, &b), 0);  // the IPv4 client
  CHECK(std::memcmp(&a, &b, sizeof a) == 0);
  CHECK_EQ(nw_network_of("2001:db8:1:2:3:4:5:6", 24, 64, &c), 0);
  nw_format(&c, text, sizeof text);
  CHECK_EQ(std::string(text), std::string("2001:db8:1:2::/64"));
  CHECK_EQ(nw_network_of("2001:db8:1:2:3:4:5:6", 24, 48, &c), 0);
  nw_format(&c, text, sizeof text);
  CHECK_EQ(std::string(text), std::string("2001:db8:1::/48"));
  CHECK_EQ(nw_network_of("10.1.2.3", 12, 64, &c), 0);
  nw_format(&c, text, sizeof text);
  CHECK_EQ(std::string(text), std::string("10.0.0.0/12"));
  CHECK_EQ(nw_network_of("not an address", 24, 64, &c), -1);
  CHECK_EQ(nw_network_of("192.0.2.1", 33, 64, &c), -1);

  // Fixed windows from the first connection.
  nw_table* t = nw_create(1000, 60);
  uint64_t start = 0;
  CHECK_EQ(nw_count(t, &a, 1000, &start), uint64_t{1});
  CHECK_EQ(start, uint64_t{1000});
  CHECK_EQ(nw_count(t, &a, 1030, nullptr), uint64_t{2});
  CHECK_EQ(nw_count(t, &a, 1059, nullptr), uint64_t{3});
  CHECK_EQ(nw_count(t, &a, 1060, &start), uint64_t{1});  // the window ran out
  CHECK_EQ(start, uint64_t{1060});
  CHECK_EQ(nw_live(t, 1060), size_t{1});
  CHECK_EQ(nw_live(t, 1120), size_t{0});
  nw_destroy(t);

  // Bounded: 10000 networks into a table for 256; nothing grows, the newest
  // are counted right, and old windows make room.
  t = nw_create(256, 60);
  size_t cap = nw_capacity(t);
  CHECK_EQ(cap, size_t{256});
  for (int i = 0; i < 10000; ++i) {
    nw_network n;
    std::string addr = "10." + std::to_string(i / 256) + "." + std::to_string(i % 256) + ".1";
    nw_network_of(addr.c_str(), 24, 64, &n);
    CHECK_EQ(nw_count(t, &n, 5000 + static_cast<uint64_t>(i) / 1000, nullptr), uint64_t{1});
  }
  CHECK_EQ(nw_capacity(t), cap);
  CHECK(nw_live(t, 5009) <= cap);
  nw_network last;
  nw_network_of("10.39.15.1", 24, 64, &last);  // i = 9999
  CHECK_EQ(nw_count(t, &last, 5009, nullptr), uint64_t{2});
  nw_destroy(t);
}

void TestRateLimit(const std::string& path) {
  fake_host::Plugin p(path);
  if (p.plugin() == nullptr) {
    ++g_failures;
    std::fprintf(stderr, "%s: %s\n", path.c_str(), p.error().c_str());
    return;
  }
  const mxs_plugin_v1* d = p.plugin();
  CHECK_EQ(std::string(d->name), std::string("rate_limit"));
  CHECK_EQ(d->traits, uint32_t{0});
  CHECK(d->on_connect != nullptr);
  CHECK(d->on_command == nullptr);

  {
    Config c(p, R"({"limit": 3, "window": "1m"})");
    for (int i = 1; i <= 3; ++i) {
      fake_host::Session s(p, c.config, "192.0.2." + std::to_string(i), 4000);
      CHECK_EQ(s.Connect(), MXS_PASS);
    }
    {
      fake_host::Session s(p, c.config, "192.0.2.200", 4004);
      CHECK_EQ(s.Connect(), MXS_FAIL);
      CHECK_EQ(s.fail_reply,
               std::string("4.7.1 Too many connections from your network, try again later"));
      CHECK_EQ(s.fail_log, std::string("RATE LIMIT from [192.0.2.200]:4004: 4 connections from "
                                       "192.0.2.0/24 within 60s (limit 3)"));
      CHECK(s.protocol_errors.empty());
    }
    {
      fake_host::Session s(p, c.config, "::ffff:192.0.2.9", 4005);  // same /24
      CHECK_EQ(s.Connect(), MXS_FAIL);
    }
    {
      fake_host::Session s(p, c.config, "192.0.3.1", 4006);  // another /24
      CHECK_EQ(s.Connect(), MXS_PASS);
    }
    for (int i = 0; i < 3; ++i) {
      fake_host::Session s(p, c.config, "2001:db8:0:1::" + std::to_string(i + 1), 4000);
      CHECK_EQ(s.Connect(), MXS_PASS);
    }
    {
      fake_host::Session s(p, c.config, "2001:db8:0:1:ffff::2", 4010);
      CHECK_EQ(s.Connect(), MXS_FAIL);
      CHECK_EQ(s.fail_log, std::string("RATE LIMIT from [2001:db8:0:1:ffff::2]:4010: 4 "
                                       "connections from 2001:db8:0:1::/64 within 60s (limit 3)"));
    }
    {
      fake_host::Session s(p, c.config, "2001:db8:0:2::1", 4011);
      CHECK_EQ(s.Connect(), MXS_PASS);
    }
  }
  {
    // A new config counts afresh; a custom reply and prefix.
    Config c(p, R"({"limit": 1, "window": 90, "ipv4_prefix": 32, "reply": "5.7.1 Slow down"})");
    fake_host::Session s1(p, c.config, "192.0.2.1", 1);
    CHECK_EQ(s1.Connect(), MXS_PASS);
    fake_host::Session s2(p, c.config, "192.0.2.2", 2);
    CHECK_EQ(s2.Connect(), MXS_PASS);
    fake_host::Session s3(p, c.config, "192.0.2.2", 3);
    CHECK_EQ(s3.Connect(), MXS_FAIL);
    CHECK_EQ(s3.fail_reply, std::string("5.7.1 Slow down"));
    CHECK_EQ(s3.fail_log, std::string("RATE LIMIT from [192.0.2.2]:3: 2 connections from "
                                      "192.0.2.2/32 within 90s (limit 1)"));
  }
  {
    // Sessions on many threads share one table: exactly `limit` pass.
    Config c(p, R"({"limit": 4000})");
    std::atomic<int> pass{0}, fail{0}, other{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < 1000; ++i) {
          fake_host::Session s(p, c.config, "198.51.100." + std::to_string((t * 31 + i) % 256),
                               static_cast<uint16_t>(1024 + i));
          int v = s.Connect();
          (v == MXS_PASS ? pass : v == MXS_FAIL ? fail : other)++;
        }
      });
    }
    for (auto& th : threads) th.join();
    CHECK_EQ(pass.load(), 4000);
    CHECK_EQ(fail.load(), 4000);
    CHECK_EQ(other.load(), 0);
  }
  CHECK_EQ(ConfigError(p, R"({"limit": 0})"),
           std::string("\"limit\": expected a whole number from 1 to 1000000"));
  CHECK_EQ(
      ConfigError(p, R"({"window": "2d"})"),
      std::string("\"window\": expected a duration from 1s to 1d, e.g. \"60s\", \"5m\" or 60"));
  CHECK_EQ(
      ConfigError(p, R"({"window": "0s"})"),
      std::string("\"window\": expected a duration from 1s to 1d, e.g. \"60s\", \"5m\" or 60"));
  CHECK_EQ(
      ConfigError(p, R"({"window": "10 s"})"),
      std::string("\"window\": expected a duration from 1s to 1d, e.g. \"60s\", \"5m\" or 60"));
  CHECK_EQ(ConfigError(p, R"({"ipv4_prefix": 33})"),
           std::string("\"ipv4_prefix\": expected a whole number from 8 to 32"));
  CHECK_EQ(ConfigError(p, R"({"ipv6_prefix": 1.5})"),
           std::string("config JSON, byte 17: \"ipv6_prefix\": only whole numbers are accepted"));
  CHECK_EQ(ConfigError(p, R"({"reply": "4.7.1 \u0007"})"),
           std::string("\"reply\": only printable ASCII (byte 6 is not)"));
  CHECK_EQ(ConfigError(p, R"({"limits": 3})"),
           std::string("unknown key \"limits\" (expected limit, window, ipv4_prefix, ipv6_prefix, "
                       "max_networks or reply)"));
  CHECK_EQ(ConfigError(p, R"({"limit": 3, "limit": 4})"),
           std::string("config JSON, byte 13: \"limit\" is given twice"));
  CHECK_EQ(ConfigError(p, ""), std::string(""));  // no config: the defaults
}

// ---------------------------------------------------------------------------
// The JSON reader's corners not reached through the plugins.

void TestJson() {
  char err[200];
  jc_object o;
  const char* text = R"( {"s": "a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00", "n": -12, "t": true,
                          "f": false, "a": ["x", "y"], "e": []} )";
  CHECK_EQ(jc_parse(text, std::strlen(text), &o, err, sizeof err), 0);
  CHECK_EQ(o.n_fields, size_t{6});
  CHECK_EQ(std::string(jc_find(&o, "s")->string),
           std::string("a\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80"));
  CHECK_EQ(jc_find(&o, "n")->integer, -12LL);
  CHECK_EQ(jc_find(&o, "t")->boolean, 1);
  CHECK_EQ(jc_find(&o, "f")->boolean, 0);
  CHECK_EQ(jc_find(&o, "a")->n_items, size_t{2});
  CHECK_EQ(jc_find(&o, "e")->type, JC_STRING_ARRAY);
  CHECK(jc_find(&o, "zz") == nullptr);
  jc_free(&o);
  struct Bad {
    const char* text;
    const char* error;
  } bad[] = {
      {"[]", "config JSON, byte 0: expected an object ('{')"},
      {"{\"a\": {}}", "config JSON, byte 6: \"a\": nested objects are not supported"},
      {"{\"a\": null}", "config JSON, byte 6: \"a\": null is not a value here (leave the key out)"},
      {"{\"a\": \"x}", "config JSON, byte 9: unterminated string"},
      {"{\"a\": \"\\u0000\"}", "config JSON, byte 13: \\u0000 is not allowed in a string"},
      {"{\"a\": \"\\ud800\"}",
       "config JSON, byte 13: a high surrogate must be followed by a low one"},
      {"{\"a\": \"\\x\"}", "config JSON, byte 8: unknown escape \\x"},
      {"{\"a\": 01}", "config JSON, byte 6: \"a\": a number may not start with 0"},
      {"{\"a\": 99999999999999999999}", "config JSON, byte 6: \"a\": number out of range"},
      {"{\"a\": [1]}", "config JSON, byte 7: \"a\": expected an array of strings"},
      {"{\"a\": 1} x", "config JSON, byte 9: text after the object"},
      {"{\"a\" 1}", "config JSON, byte 5: expected ':' after \"a\""},
      {"{\"a\": tru}", "config JSON, byte 6: \"a\": expected a value"},
  };
  for (const Bad& b : bad) {
    int rc = jc_parse(b.text, std::strlen(b.text), &o, err, sizeof err);
    CHECK_EQ(rc, -1);
    CHECK_EQ(std::string(err), std::string(b.error));
    CHECK(o.n_fields == 0 && o.fields == nullptr);
  }
  // A NUL inside the input is a control character, not the end.
  std::string with_nul("{\"a\": \"x\0y\"}", 12);
  CHECK_EQ(jc_parse(with_nul.data(), with_nul.size(), &o, err, sizeof err), -1);
  CHECK_EQ(
      std::string(err),
      std::string("config JSON, byte 8: control character in a string (write it as an escape)"));
}

// --drive: what the plugin did, line by line, for the tutorial check.
int Drive(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: %s --drive PLUGIN.so JSON CLIENT_IP COMMAND...\n", argv[0]);
    return 2;
  }
  fake_host::Plugin p(argv[2]);
  if (p.plugin() == nullptr) {
    std::printf("load error: %s\n", p.error().c_str());
    return 1;
  }
  std::string error;
  void* config = p.CreateConfig(argv[3], &error);
  if (config == nullptr) {
    std::printf("config error: %s\n", error.c_str());
    return 1;
  }
  {
    fake_host::Session s(p, config, argv[4], 40000);
    auto report = [&s](const std::string& what, int v) {
      std::printf("%s: %s\n", what.c_str(), VerdictName(v));
      if (v == MXS_FAIL)
        std::printf("reply: %s\nlog: %s\n", s.fail_reply.c_str(), s.fail_log.c_str());
      for (const std::string& e : s.protocol_errors) std::printf("protocol error: %s\n", e.c_str());
      s.protocol_errors.clear();
    };
    report("connect", s.Connect());
    for (int i = 5; i < argc; ++i) report(argv[i], s.Command(argv[i]));
    for (const std::string& l : s.log) std::printf("logged: %s\n", l.c_str());
  }
  p.DestroyConfig(config);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 2 && std::strcmp(argv[1], "--drive") == 0) return Drive(argc, argv);
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s HELO_POLICY.so RATE_LIMIT.so\n", argv[0]);
    return 2;
  }
  TestHeloNames();
  TestHeloPolicy(argv[1]);
  TestNetWindow();
  TestRateLimit(argv[2]);
  TestJson();
  std::printf("%d checks, %d failed\n", g_checks, g_failures);
  return g_failures == 0 ? 0 : 1;
}
