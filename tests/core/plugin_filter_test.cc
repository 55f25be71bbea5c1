// Tests of plugin filter entries: the YAML syntax and envelope defaults, the
// plugin's config as JSON, config errors with their field paths, hooks
// driven through a fake session (verdicts, replies and the exact log lines),
// the hook budget (log line and metric), asynchronous verdicts through
// timers and resume, and a misbehaving plugin treated as no opinion. The
// fake session runs a real event loop (AsioSessionLoop), so timers and posted
// resumes go through the same code as in the gateway.
#include "core/plugin_filter.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <cstdarg>
#include <fstream>
#include <iterator>
#include <regex>

#include "core/asio_session_loop.h"
#include "core/config_error.h"
#include "core/gateway_config.h"
#include "core/metrics.h"
#include "core/proto_yaml.h"
#include "core/sha256.h"
#include "tests/support/test_plugin_dir.h"

namespace mxs {
namespace {

const std::string kDir = test::TestPluginDir();

std::string Config(const std::string& filters) {
  return "hostname: mx.example\nplugin_path: [\"" + kDir +
         "\"]\nlisteners:\n  - address: 127.0.0.1:2525\n    handoff: { backends: "
         "[\"127.0.0.1:10025\"] }\n    filters:\n" +
         filters;
}

config::v1::Bootstrap Parse(const std::string& text) { return ParseBootstrapText(text); }

std::shared_ptr<const GatewayConfig> Build(const std::string& filters, bool local = true) {
  return BuildGatewayConfig(Parse(Config(filters)), "/etc/mxscreen", local);
}

std::string ErrorOf(const std::string& filters, bool local = true) {
  try {
    Build(filters, local);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

// One plugin entry: name, the plugin's config (a YAML flow map) and more
// lines of the plugin block.
std::string Entry(const std::string& name, const std::string& cfg, const std::string& more = "",
                  const std::string& file = "test_plugin.so") {
  return "      - name: " + name + "\n        plugin:\n          path: " + file +
         "\n          config: " + cfg + "\n" + more;
}

class FakeSession : public SessionCallbacks {
 public:
  FakeSession() : loop_(io_) {}
  const Endpoint& client() const override { return client_; }
  const Endpoint& server() const override { return server_; }
  const char* client_tag() const override { return "[192.0.2.1]:5555"; }
  void Log(const char* fmt, ...) override {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    lines.push_back(buf);
  }
  bool respectful_logging() const override { return true; }
  void Resume(const void* filter, Verdict v) override {
    resumed_filter = filter;
    resumes.push_back(std::move(v));
  }
  SessionLoop* loop() override { return &loop_; }
  void RunFor(int ms) {
    io_.restart();
    io_.run_for(std::chrono::milliseconds(ms));
  }

  std::vector<std::string> lines;
  std::vector<Verdict> resumes;
  const void* resumed_filter = nullptr;

 private:
  boost::asio::io_context io_;
  AsioSessionLoop loop_;
  Endpoint client_{*IpAddress::Parse("192.0.2.1"), 5555};
  Endpoint server_{*IpAddress::Parse("198.51.100.7"), 25};
};

SmtpCommand Cmd(std::string_view verb, std::string_view arg, std::string_view line) {
  SmtpCommand c;
  c.verb = verb;
  c.argument = arg;
  c.line = line;
  return c;
}

// The first chain entry of a built config.
const ChainEntry& First(const std::shared_ptr<const GatewayConfig>& c) {
  return c->listeners[0]->chain[0];
}

TEST(PluginFilter, EntrySyntaxAndDefaults) {
  auto c = Build(Entry("helo_check", "{reject_helo: bad.example}"));
  const ChainEntry& e = First(c);
  EXPECT_EQ(e.name, "helo_check");
  EXPECT_EQ(e.action, Action::kEnforce);
  EXPECT_EQ(e.ttl, Seconds(86400));
  EXPECT_TRUE(e.traits.cached);
  EXPECT_TRUE(e.traits.needs_engine);
  EXPECT_FALSE(e.traits.wants_teaser);
  auto c2 = Build(Entry("helo_check", "{}") + "        action: drop\n        ttl: 2h\n");
  EXPECT_EQ(First(c2).action, Action::kDrop);
  EXPECT_EQ(First(c2).ttl, Seconds(7200));
  auto c3 = Build(Entry("helo_check", "{}") + "        enabled: false\n");
  EXPECT_TRUE(c3->listeners[0]->chain.empty());
  EXPECT_EQ(metrics::Registry::Get().Value("mxs_plugin_info", {{"plugin", "helo_check"},
                                                               {"abi_version", "1.0"},
                                                               {"path", kDir + "/test_plugin.so"}}),
            1);
}

TEST(PluginFilter, DescribesTheLoadedBuild) {
  auto c = Build(Entry("helo_check", "{}"));
  std::ifstream f(kDir + "/test_plugin.so", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  EXPECT_EQ(First(c).factory->Describe(), "plugin test_plugin 1 (ABI 1.0) from " + kDir +
                                              "/test_plugin.so, sha256 " + Sha256Hex(bytes));
  // A C plugin, and a built-in filter (which describes nothing).
  auto c2 = Build(Entry("c_check", "{}", "", "c_plugin.so") +
                  "      - name: pregreet\n        typed_config: { \"@type\": "
                  "type.googleapis.com/mxscreen.filters.pregreet.v1.Pregreet }\n");
  EXPECT_NE(c2->listeners[0]->chain[0].factory->Describe().find("plugin c_plugin "),
            std::string::npos);
  EXPECT_EQ(c2->listeners[0]->chain[1].factory->Describe(), "");
}

TEST(PluginFilter, ConfigIsAFreeFormMap) {
  auto b = Parse(Config(
      Entry("p", "{a: 1, b: x, c: true, d: [1, two], e: null, f: \"1\", g: {h: 2.5}, i: '-3'}")));
  const auto& s = b.listeners(0).filters(0).plugin().config().fields();
  EXPECT_EQ(s.at("a").number_value(), 1);
  EXPECT_EQ(s.at("b").string_value(), "x");
  EXPECT_TRUE(s.at("c").bool_value());
  EXPECT_EQ(s.at("d").list_value().values(0).number_value(), 1);
  EXPECT_EQ(s.at("d").list_value().values(1).string_value(), "two");
  EXPECT_TRUE(s.at("e").has_null_value());
  EXPECT_EQ(s.at("f").string_value(), "1");
  EXPECT_EQ(s.at("g").struct_value().fields().at("h").number_value(), 2.5);
  EXPECT_EQ(s.at("i").string_value(), "-3");
  EXPECT_EQ(ErrorOf(Entry("p", "[1, 2]")),
            "listeners[0].filters[0].plugin.config: expected a map, got a list");
}

TEST(PluginFilter, ConfigErrors) {
  EXPECT_EQ(ErrorOf(Entry("p", "{refuse: bad knob}")),
            "listeners[0].filters[0].plugin.config: refused by plugin test_plugin: bad knob");
  EXPECT_EQ(ErrorOf(Entry("p", "{}", "", "abi_mismatch_plugin.so")),
            "listeners[0].filters[0].plugin.path: " + kDir +
                "/abi_mismatch_plugin.so was built for plugin ABI 2.0, this gateway has ABI 1.0 "
                "(rebuild the plugin against this gateway's mxscreen_plugin.h)");
  EXPECT_EQ(ErrorOf(Entry("p", "{}", "", "no_symbol_plugin.so")),
            "listeners[0].filters[0].plugin.path: " + kDir +
                "/no_symbol_plugin.so does not export mxscreen_plugin_describe (not an mxscreen "
                "plugin, or built without MXSCREEN_PLUGIN)");
  EXPECT_EQ(ErrorOf(Entry("p", "{}", "", "nothere.so")),
            "listeners[0].filters[0].plugin.path: no plugin \"nothere.so\" in the plugin path (" +
                kDir + ", /usr/lib/mxscreen/plugins)");
  EXPECT_EQ(ErrorOf(Entry("p", "{}", "", "lib/nothere.so")),
            "listeners[0].filters[0].plugin.path: cannot read /etc/mxscreen/lib/nothere.so: No "
            "such file or directory");
  EXPECT_EQ(ErrorOf(Entry("p", "{}", "          hook_budget: 5 parsecs\n")),
            "listeners[0].filters[0].plugin.hook_budget: bad time value \"5 parsecs\" (a number "
            "with a unit us, ms or s, from 1us to 60s)");
  EXPECT_EQ(ErrorOf(Entry("p", "{}", "          sha256: abc\n")),
            "listeners[0].filters[0].plugin.sha256: expected 64 lowercase hex digits");
  EXPECT_EQ(ErrorOf(Entry("pregreet", "{}")),
            "listeners[0].filters[0].name: \"pregreet\" is a built-in filter; give the plugin "
            "filter a name of its own");
  EXPECT_EQ(ErrorOf("      - plugin: {path: test_plugin.so}\n"),
            "listeners[0].filters[0].name: a plugin filter needs a name (its verdict cache key, "
            "log and metric name)");
  EXPECT_EQ(ErrorOf("      - name: p\n        plugin: {}\n"),
            "listeners[0].filters[0].plugin.path: a plugin needs the path of its shared object");
  EXPECT_EQ(ErrorOf(Entry("p", "{}") + Entry("p", "{}")),
            "listeners[0].filters[1].name: filter \"p\" appears twice in this chain");
  // The control plane checks all but the file: each gateway loads it (or NACKs).
  EXPECT_EQ(ErrorOf(Entry("p", "{}", "", "nothere.so"), false), "no error");
  EXPECT_EQ(ErrorOf(Entry("p", "{}", "          hook_budget: 5 parsecs\n"), false),
            "listeners[0].filters[0].plugin.hook_budget: bad time value \"5 parsecs\" (a number "
            "with a unit us, ms or s, from 1us to 60s)");
}

TEST(PluginFilter, HookBudgetParsing) {
  EXPECT_EQ(ParseHookBudget("5ms"), std::chrono::microseconds(5000));
  EXPECT_EQ(ParseHookBudget("500us"), std::chrono::microseconds(500));
  EXPECT_EQ(ParseHookBudget("0.5s"), std::chrono::microseconds(500000));
  EXPECT_EQ(ParseHookBudget("1"), std::chrono::microseconds(1000000));
  EXPECT_FALSE(ParseHookBudget(""));
  EXPECT_FALSE(ParseHookBudget("ms"));
  EXPECT_FALSE(ParseHookBudget("0ms"));
  EXPECT_FALSE(ParseHookBudget("1.2.3ms"));
  EXPECT_FALSE(ParseHookBudget("61s"));
  EXPECT_FALSE(ParseHookBudget("-5ms"));
}

TEST(PluginFilter, FailsAHeloWithReplyAndLogLine) {
  auto c = Build(Entry("helo_check", "{reject_helo: bad.example}"));
  FakeSession s;
  auto f = First(c).factory->Create();
  EXPECT_EQ(f->OnConnect(s).kind, Verdict::Kind::kContinue);
  Verdict v = f->OnCommand(s, Cmd("HELO", "bad.example", "HELO bad.example"));
  EXPECT_EQ(v.kind, Verdict::Kind::kFail);
  EXPECT_EQ(v.reply, "5.7.1 HELO bad.example refused");
  ASSERT_EQ(s.lines.size(), 1u);
  EXPECT_EQ(s.lines[0], "test_plugin build 1 reject HELO bad.example from [192.0.2.1]:5555");
  EXPECT_EQ(f->OnCommand(s, Cmd("EHLO", "good.example", "EHLO good.example")).kind,
            Verdict::Kind::kPass);
  f->OnSessionEnd(s);
}

TEST(PluginFilter, CPluginReadsTheHeloThroughTheHost) {
  auto c = Build(Entry("dot", "{}", "", "c_plugin.so"));
  FakeSession s;
  auto f = First(c).factory->Create();
  Verdict v = f->OnCommand(s, Cmd("ehlo", "  nodot ", "ehlo   nodot "));
  EXPECT_EQ(v.kind, Verdict::Kind::kFail);
  EXPECT_EQ(v.reply, "5.7.1 HELO needs a dot");
  EXPECT_EQ(s.lines, std::vector<std::string>{"c_plugin: HELO without a dot"});
  EXPECT_EQ(f->OnCommand(s, Cmd("EHLO", "a.b", "EHLO a.b")).kind, Verdict::Kind::kPass);
  f->OnSessionEnd(s);
  EXPECT_EQ(ErrorOf(Entry("dot", "{lax: 1}", "", "c_plugin.so")),
            "listeners[0].filters[0].plugin.config: refused by plugin c_plugin: only "
            "{\"strict\": true} is known");
}

TEST(PluginFilter, SlowHookIsReportedWithLogLineAndMetric) {
  auto c = Build(Entry("slowpoke", "{sleep_ms: 20}", "          hook_budget: 5ms\n"));
  FakeSession s;
  auto f = First(c).factory->Create();
  f->OnCommand(s, Cmd("NOOP", "", "NOOP"));
  ASSERT_EQ(s.lines.size(), 1u);
  std::smatch m;
  ASSERT_TRUE(std::regex_match(
      s.lines[0], m,
      std::regex(R"(warning: plugin slowpoke: hook command took (\d+) ms \(budget 5 ms\))")))
      << s.lines[0];
  EXPECT_GE(std::stoi(m[1]), 20);
  auto& r = metrics::Registry::Get();
  EXPECT_EQ(
      r.Value("mxs_plugin_hook_overruns_total", {{"plugin", "slowpoke"}, {"hook", "command"}}), 1);
  EXPECT_EQ(
      r.Value("mxs_plugin_hook_duration_seconds", {{"plugin", "slowpoke"}, {"hook", "command"}}),
      1);
  EXPECT_EQ(
      r.Value("mxs_plugin_hook_overruns_total", {{"plugin", "slowpoke"}, {"hook", "connect"}}), 0);
  f->OnSessionEnd(s);
  // A budget under a millisecond is written exactly.
  auto c2 = Build(Entry("slowpoke2", "{sleep_ms: 2}", "          hook_budget: 250us\n"));
  auto f2 = First(c2).factory->Create();
  FakeSession s2;
  f2->OnCommand(s2, Cmd("NOOP", "", "NOOP"));
  ASSERT_EQ(s2.lines.size(), 1u);
  EXPECT_TRUE(std::regex_match(
      s2.lines[0],
      std::regex(R"(warning: plugin slowpoke2: hook command took \d\.\d ms \(budget 0\.25 ms\))")))
      << s2.lines[0];
  f2->OnSessionEnd(s2);
}

TEST(PluginFilter, AsynchronousVerdictThroughATimer) {
  auto c = Build(Entry("later", "{async_ms: 10, async_verdict: fail}"));
  FakeSession s;
  auto f = First(c).factory->Create();
  EXPECT_EQ(f->OnConnect(s).kind, Verdict::Kind::kPending);
  EXPECT_TRUE(s.resumes.empty());
  for (int i = 0; i < 100 && s.resumes.empty(); ++i) s.RunFor(10);
  ASSERT_EQ(s.resumes.size(), 1u);
  EXPECT_EQ(s.resumed_filter, f.get());
  EXPECT_EQ(s.resumes[0].kind, Verdict::Kind::kFail);
  EXPECT_EQ(s.resumes[0].reply, "5.7.1 async no");
  EXPECT_EQ(s.lines, std::vector<std::string>{"test_plugin async fail [192.0.2.1]:5555"});
  f->OnSessionEnd(s);

  auto c2 = Build(Entry("later2", "{async_ms: 5}"));
  FakeSession s2;
  auto f2 = First(c2).factory->Create();
  EXPECT_EQ(f2->OnConnect(s2).kind, Verdict::Kind::kPending);
  for (int i = 0; i < 100 && s2.resumes.empty(); ++i) s2.RunFor(10);
  ASSERT_EQ(s2.resumes.size(), 1u);
  EXPECT_EQ(s2.resumes[0].kind, Verdict::Kind::kPass);
  f2->OnSessionEnd(s2);
}

TEST(PluginFilter, TimersAndResumesAfterTheSessionEndedAreSafe) {
  auto c = Build(Entry("later", "{async_ms: 20}"));
  {
    // Ended before the timer fires: the timer is cancelled, nothing resumes.
    FakeSession s;
    auto f = First(c).factory->Create();
    EXPECT_EQ(f->OnConnect(s).kind, Verdict::Kind::kPending);
    f->OnSessionEnd(s);
    s.RunFor(60);
    EXPECT_TRUE(s.resumes.empty());
  }
  {
    // The filter is gone altogether (the session freed it) before the timer.
    FakeSession s;
    auto f = First(c).factory->Create();
    EXPECT_EQ(f->OnConnect(s).kind, Verdict::Kind::kPending);
    f->OnSessionEnd(s);
    f.reset();
    s.RunFor(60);
    EXPECT_TRUE(s.resumes.empty());
  }
  {
    // A resume posted but not yet applied when the session ends.
    auto cs = Build(Entry("sync", "{bad: resume_sync}"));
    FakeSession s;
    auto f = First(cs).factory->Create();
    EXPECT_EQ(f->OnConnect(s).kind, Verdict::Kind::kPending);
    f->OnSessionEnd(s);
    f.reset();
    s.RunFor(20);
    EXPECT_TRUE(s.resumes.empty());
  }
}

// The verdict and log lines of one connect hook of a misbehaving plugin.
struct Misbehaviour {
  Verdict::Kind kind;
  std::vector<std::string> lines;
};
Misbehaviour Connect(const std::string& bad, int run_ms = 0, FakeSession* out = nullptr) {
  auto c = Build(Entry("bad", "{bad: " + bad + "}"));
  FakeSession local;
  FakeSession& s = out ? *out : local;
  auto f = First(c).factory->Create();
  Misbehaviour m{f->OnConnect(s).kind, {}};
  if (run_ms > 0) s.RunFor(run_ms);
  f->OnSessionEnd(s);
  m.lines = s.lines;
  return m;
}

TEST(PluginFilter, MisbehavingPluginIsNoOpinion) {
  using K = Verdict::Kind;
  auto m = Connect("unknown_verdict");
  EXPECT_EQ(m.kind, K::kContinue);
  EXPECT_EQ(m.lines, std::vector<std::string>{
                         "warning: plugin bad: hook connect returned an unknown verdict 42 (no "
                         "opinion)"});
  m = Connect("fail_twice");
  EXPECT_EQ(m.kind, K::kContinue);
  EXPECT_EQ(m.lines, std::vector<std::string>{
                         "warning: plugin bad: hook connect reported a failure twice (ignored)"});
  m = Connect("null_reply");
  EXPECT_EQ(m.kind, K::kContinue);
  EXPECT_EQ(m.lines, std::vector<std::string>{
                         "warning: plugin bad: fail called with a NULL string (ignored)"});
  m = Connect("crlf_reply");
  EXPECT_EQ(m.kind, K::kContinue);
  EXPECT_EQ(m.lines, std::vector<std::string>{"warning: plugin bad: fail called with a reply "
                                              "that is not printable ASCII (ignored)"});
  m = Connect("huge_log");
  EXPECT_EQ(m.kind, K::kContinue);
  EXPECT_EQ(m.lines, std::vector<std::string>{"warning: plugin bad: log called with "
                                              "1099511627776 bytes (at most 65536; ignored)"});
  m = Connect("resume_no_pending");
  EXPECT_EQ(m.kind, K::kContinue);
  EXPECT_EQ(m.lines, std::vector<std::string>{"warning: plugin bad: resume called in hook "
                                              "connect, which did not return pending (ignored)"});
  m = Connect("late_resume", 30);
  EXPECT_EQ(m.kind, K::kContinue);
  EXPECT_EQ(m.lines, std::vector<std::string>{
                         "warning: plugin bad: resume called with no pending hook (ignored)"});
  m = Connect("throw");
  EXPECT_EQ(m.kind, K::kContinue);
  EXPECT_EQ(m.lines, std::vector<std::string>{"warning: exception in hook connect: boom"});
  m = Connect("null_session");
  EXPECT_EQ(m.kind, K::kContinue);
  EXPECT_TRUE(m.lines.empty());
}

TEST(PluginFilter, ResumeInsideTheHookIsDeferred) {
  FakeSession s;
  auto c = Build(Entry("sync", "{bad: resume_sync}"));
  auto f = First(c).factory->Create();
  EXPECT_EQ(f->OnConnect(s).kind, Verdict::Kind::kPending);
  // Not inside the hook: the session is in the middle of it.
  EXPECT_TRUE(s.resumes.empty());
  s.RunFor(20);
  ASSERT_EQ(s.resumes.size(), 1u);
  EXPECT_EQ(s.resumes[0].kind, Verdict::Kind::kFail);
  EXPECT_EQ(s.resumes[0].reply, "5.7.1 sync");
  EXPECT_EQ(s.lines, std::vector<std::string>{"test_plugin sync fail"});
  f->OnSessionEnd(s);

  FakeSession s2;
  auto m = Connect("resume_twice", 20, &s2);
  EXPECT_EQ(m.kind, Verdict::Kind::kPending);
  EXPECT_EQ(m.lines,
            std::vector<std::string>{
                "warning: plugin bad: resume called twice for one pending hook (ignored)"});
  ASSERT_EQ(s2.resumes.size(), 1u);
  EXPECT_EQ(s2.resumes[0].kind, Verdict::Kind::kPass);
}

}  // namespace
}  // namespace mxs
