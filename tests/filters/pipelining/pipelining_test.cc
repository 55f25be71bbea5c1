// Tests of the pipelining test: the exact COMMAND PIPELINING line (expected
// strings are what Postfix 3.7's postscreen logged for the same input on
// loopback), the verdicts, pass at RCPT, one failure per session, the
// registration defaults and the Postfix importer.
#include "filters/pipelining/pipelining.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>

#include "core/filter_registry.h"
#include "core/gateway_config.h"
#include "core/import_postfix.h"
#include "core/smtp_engine.h"
#include "tests/support/fake_session.h"
#include "tests/support/import_helpers.h"

namespace mxs::pipelining {
namespace {

using test::FakeSession;

// Feeds `input` the way Session::ProcessInput does: one SmtpCommand per
// complete line, with what follows it in the buffer as the queued input.
std::vector<Verdict> Feed(Filter& f, SessionCallbacks& cb, const std::string& input) {
  std::vector<Verdict> out;
  size_t consumed = 0;
  for (size_t nl; (nl = input.find('\n', consumed)) != std::string::npos; consumed = nl + 1) {
    size_t end = nl > consumed && input[nl - 1] == '\r' ? nl - 1 : nl;
    std::string_view line(input.data() + consumed, end - consumed);
    SmtpCommand cmd;
    SmtpEngine::SplitCommand(line, &cmd.verb, &cmd.argument);
    cmd.line = line;
    cmd.more_input_queued = nl + 1 < input.size();
    cmd.queued = std::string_view(input).substr(nl + 1);
    out.push_back(f.OnCommand(cb, cmd));
  }
  return out;
}

std::shared_ptr<Filter> NewFilter() {
  const auto* f = FilterRegistry::Get().FindByName("pipelining");
  EXPECT_NE(f, nullptr);
  class Ctx : public BuildContext {
   public:
    const std::string& path() const override { return path_; }
    std::string ResolvePath(const std::string& p) const override { return p; }
    std::string path_ = "listeners[0].filters[0].typed_config";
  } ctx;
  std::unique_ptr<google::protobuf::Message> cfg(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(f->config_type())->New());
  return f->Build(*cfg, ctx)->Create();
}

using Kind = Verdict::Kind;

TEST(Pipelining, RegisteredWithPostfixDefaults) {
  const auto* f = FilterRegistry::Get().FindByName("pipelining");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->default_action(), Action::kEnforce);
  EXPECT_EQ(f->default_ttl(), std::chrono::hours(24 * 30));
  EXPECT_EQ(f->config_type()->full_name(), "mxscreen.filters.pipelining.v1.Pipelining");
  class Ctx : public BuildContext {
   public:
    const std::string& path() const override { return path_; }
    std::string ResolvePath(const std::string& p) const override { return p; }
    std::string path_;
  } ctx;
  std::unique_ptr<google::protobuf::Message> cfg(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(f->config_type())->New());
  auto factory = f->Build(*cfg, ctx);
  FilterTraits t = factory->traits();
  EXPECT_TRUE(t.cached);
  EXPECT_TRUE(t.needs_engine);
  EXPECT_FALSE(t.wants_teaser);
  // Per-session state: every session needs its own instance.
  EXPECT_NE(factory->Create(), factory->Create());
}

TEST(Pipelining, CommandSentBeforeOurReplyFails) {
  auto f = NewFilter();
  FakeSession cb;
  auto v = Feed(*f, cb, "EHLO x\r\nMAIL FROM:<a@b>\r\n");
  ASSERT_EQ(v.size(), 2u);
  EXPECT_EQ(v[0].kind, Kind::kFail);
  EXPECT_EQ(v[0].reply, "5.5.1 Protocol error");
  EXPECT_EQ(v[0].drop_reply, "");  // drop answers "521 5.5.1 Protocol error"
  EXPECT_EQ(v[1].kind, Kind::kContinue);
  EXPECT_EQ(cb.lines,
            std::vector<std::string>{"COMMAND PIPELINING from [192.0.2.1]:4000 after EHLO: "
                                     "MAIL FROM:<a@b>\\r\\n"});
}

TEST(Pipelining, OneCommandAtATimePassesAtRcpt) {
  auto f = NewFilter();
  FakeSession cb;
  EXPECT_EQ(Feed(*f, cb, "EHLO x\r\n")[0].kind, Kind::kContinue);
  EXPECT_EQ(Feed(*f, cb, "MAIL FROM:<a@b>\r\n")[0].kind, Kind::kContinue);
  // Any RCPT counts, also one the engine answers with a syntax error.
  EXPECT_EQ(Feed(*f, cb, "rcpt to <c@d>\r\n")[0].kind, Kind::kPass);
  EXPECT_EQ(Feed(*f, cb, "RCPT TO:<e@f>\r\n")[0].kind, Kind::kContinue);  // passes once
  EXPECT_TRUE(cb.lines.empty());
  // A later command can still fail the test, once.
  auto v = Feed(*f, cb, "QUIT\r\nx");
  EXPECT_EQ(v[0].kind, Kind::kFail);
  EXPECT_EQ(cb.lines,
            std::vector<std::string>{"COMMAND PIPELINING from [192.0.2.1]:4000 after QUIT: x"});
  EXPECT_EQ(Feed(*f, cb, "NOOP\r\nNOOP\r\n")[0].kind, Kind::kContinue);
  EXPECT_EQ(cb.lines.size(), 1u);
}

TEST(Pipelining, NoPassAfterAFailure) {
  auto f = NewFilter();
  FakeSession cb;
  auto v = Feed(*f, cb, "HELO x\r\nRCPT TO:<c@d>\r\n");
  EXPECT_EQ(v[0].kind, Kind::kFail);
  EXPECT_EQ(v[1].kind, Kind::kContinue);  // the test is skipped for the session
  EXPECT_EQ(cb.lines.size(), 1u);
}

TEST(Pipelining, PipelinedRcptFailsRatherThanPasses) {
  auto f = NewFilter();
  FakeSession cb;
  auto v = Feed(*f, cb, "RCPT TO:<c@d>\r\nQUIT\r\n");
  EXPECT_EQ(v[0].kind, Kind::kFail);
  EXPECT_EQ(cb.lines, std::vector<std::string>{
                          "COMMAND PIPELINING from [192.0.2.1]:4000 after RCPT: QUIT\\r\\n"});
}

TEST(Pipelining, SessionsDoNotShareState) {
  auto a = NewFilter();
  auto b = NewFilter();
  FakeSession ca;
  FakeSession cb;
  EXPECT_EQ(Feed(*a, ca, "HELO x\r\nQUIT\r\n")[0].kind, Kind::kFail);
  EXPECT_EQ(Feed(*b, cb, "RCPT TO:<c@d>\r\n")[0].kind, Kind::kPass);
}

// The name as postscreen prints it: up to the first space (a tab is part of
// it), non-printable bytes as '?'; the waiting input escaped, at most 100
// bytes of it (so up to 400 characters of escapes).
TEST(Pipelining, LogLineMatchesPostscreen) {
  {
    auto f = NewFilter();
    FakeSession cb;
    Feed(*f, cb,
         "\x01"
         "EHLO\x02 x\r\nMAIL  FROM:<a@b>\x03\r\n");
    EXPECT_EQ(cb.lines,
              std::vector<std::string>{"COMMAND PIPELINING from [192.0.2.1]:4000 after ?EHLO?: "
                                       "MAIL  FROM:<a@b>\\003\\r\\n"});
  }
  {
    auto f = NewFilter();
    FakeSession cb;
    Feed(*f, cb, "NOOP\r\n" + std::string(130, '\x01') + "\r\n");
    std::string escapes;
    for (int i = 0; i < 100; ++i) escapes += "\\001";
    EXPECT_EQ(cb.lines, std::vector<std::string>{
                            "COMMAND PIPELINING from [192.0.2.1]:4000 after NOOP: " + escapes});
  }
  {
    auto f = NewFilter();
    FakeSession cb;
    Feed(*f, cb, "HELO a\r\n\n");
    EXPECT_EQ(cb.lines,
              std::vector<std::string>{"COMMAND PIPELINING from [192.0.2.1]:4000 after HELO: \\n"});
  }
  {
    auto f = NewFilter();
    FakeSession cb;
    Feed(*f, cb, "  " + std::string(120, 'X') + "\tY z\r\n.");
    EXPECT_EQ(cb.lines, std::vector<std::string>{"COMMAND PIPELINING from [192.0.2.1]:4000 after " +
                                                 std::string(100, 'X') + ": ."});
  }
}

TEST(Pipelining, PrintableKeepsUtf8) {
  EXPECT_EQ(PrintableName("1\xc3\xa9\xa9\xe2\x82\xc0\x80\xfe\x80\xff\x80\xc2"
                          "a"),
            "1\xc3\xa9\xa9\xe2\x82??\xfe\x80???a");
  EXPECT_EQ(CommandName("  MAIL FROM:<a>"), "MAIL");
  EXPECT_EQ(CommandName("MAIL\tFROM:<a> x"), "MAIL\tFROM:<a>");
  EXPECT_EQ(CommandName("   "), "");
}

// --- import-postfix

class PipeliningImport : public test::PostfixImportTest {
 protected:
  PipeliningImport() : PostfixImportTest("pipelining") {}
};

TEST_F(PipeliningImport, OffByDefault) {
  auto [entry, warnings] = Run("postscreen_pipelining_action = drop\n");
  EXPECT_EQ(entry, "");
  EXPECT_EQ(warnings, "");  // the settings of a disabled test are not a loss
}

TEST_F(PipeliningImport, EnabledWithPostfixDefaults) {
  auto [entry, warnings] = Run("postscreen_pipelining_enable = yes\n");
  EXPECT_EQ(entry,
            "      - name: pipelining\n"
            "        action: enforce\n"
            "        ttl: 30d\n");
  EXPECT_EQ(warnings, "");
  std::string path = dir_ + "/mxscreen.yaml";
  std::ofstream(path) << yaml_;
  auto config = BuildGatewayConfig(LoadBootstrapFile(path), dir_);
  const auto& chain = config->listeners[0]->chain;
  auto it = std::find_if(chain.begin(), chain.end(),
                         [](const ChainEntry& e) { return e.name == "pipelining"; });
  ASSERT_NE(it, chain.end());
  EXPECT_EQ(it->action, Action::kEnforce);
  EXPECT_EQ(it->ttl, std::chrono::hours(24 * 30));
}

TEST_F(PipeliningImport, ActionAndTtl) {
  auto [entry, warnings] =
      Run("postscreen_pipelining_enable = YES\npostscreen_pipelining_action = Drop\n"
          "postscreen_pipelining_ttl = 12h\n");
  EXPECT_EQ(entry,
            "      - name: pipelining\n"
            "        action: drop\n"
            "        ttl: 12h\n");
  EXPECT_EQ(warnings, "");
  std::tie(entry, warnings) =
      Run("postscreen_pipelining_enable = yes\npostscreen_pipelining_ttl = 7\n");
  EXPECT_NE(entry.find("        ttl: 7d\n"), std::string::npos) << entry;
}

TEST_F(PipeliningImport, BadValuesAreWarned) {
  auto [entry, warnings] =
      Run("postscreen_pipelining_enable = yes\npostscreen_pipelining_action = reject\n"
          "postscreen_pipelining_ttl = 0\n");
  EXPECT_EQ(entry,
            "      - name: pipelining\n"
            "        action: enforce\n"
            "        ttl: 30d\n");
  EXPECT_EQ(warnings,
            "warning: postscreen_pipelining_action = reject: expected ignore, enforce or drop, "
            "imported as enforce\n"
            "warning: postscreen_pipelining_ttl = 0: expected a non-zero time value, imported as "
            "30d\n");
  std::tie(entry, warnings) = Run("postscreen_pipelining_enable = maybe\n");
  EXPECT_EQ(entry, "");
  EXPECT_EQ(warnings,
            "warning: postscreen_pipelining_enable = maybe: expected yes or no, imported as no\n");
}

}  // namespace
}  // namespace mxs::pipelining
