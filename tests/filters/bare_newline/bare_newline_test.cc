// Tests of the bare newline test: the exact BARE NEWLINE line (expected
// strings are what Postfix 3.7's postscreen logged for the same input on
// loopback), pass at RCPT, one failure per session, the registration
// defaults and the Postfix importer.
#include "filters/bare_newline/bare_newline.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <gtest/gtest.h>

#include <fstream>

#include "core/filter_registry.h"
#include "core/gateway_config.h"
#include "core/import_postfix.h"
#include "core/smtp_engine.h"
#include "tests/support/fake_session.h"
#include "tests/support/import_helpers.h"

namespace mxs::bare_newline {
namespace {

using test::FakeSession;

using Kind = Verdict::Kind;

std::shared_ptr<const FilterFactory> Factory() {
  const auto* f = FilterRegistry::Get().FindByName("bare_newline");
  EXPECT_NE(f, nullptr);
  class Ctx : public BuildContext {
   public:
    const std::string& path() const override { return path_; }
    std::string ResolvePath(const std::string& p) const override { return p; }
    std::string path_;
  } ctx;
  std::unique_ptr<google::protobuf::Message> cfg(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(f->config_type())->New());
  return f->Build(*cfg, ctx);
}

// What the session does for one line: OnLine, then OnCommand; the verdicts
// of both hooks.
std::pair<Verdict, Verdict> Line(Filter& f, SessionCallbacks& cb, std::string_view line,
                                 std::string_view ending) {
  Verdict on_line = f.OnLine(cb, line, ending);
  SmtpCommand cmd;
  SmtpEngine::SplitCommand(line, &cmd.verb, &cmd.argument);
  cmd.line = line;
  return {on_line, f.OnCommand(cb, cmd)};
}

std::string LogOf(std::string_view line) {
  auto f = Factory()->Create();
  FakeSession cb;
  if (Line(*f, cb, line, "\n").first.kind != Kind::kFail) return "(no failure)";
  return cb.lines.size() == 1 ? cb.lines[0] : "(" + std::to_string(cb.lines.size()) + " lines)";
}

TEST(BareNewline, RegisteredWithPostfixDefaults) {
  const auto* f = FilterRegistry::Get().FindByName("bare_newline");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->default_action(), Action::kIgnore);
  EXPECT_EQ(f->default_ttl(), std::chrono::hours(24 * 30));
  EXPECT_EQ(f->config_type()->full_name(), "mxscreen.filters.bare_newline.v1.BareNewline");
  auto factory = Factory();
  EXPECT_TRUE(factory->traits().cached);
  EXPECT_TRUE(factory->traits().needs_engine);
  EXPECT_NE(factory->Create(), factory->Create());
}

TEST(BareNewline, LineEndingInLfAloneFails) {
  auto f = Factory()->Create();
  FakeSession cb;
  auto [on_line, on_command] = Line(*f, cb, "HELO a", "\n");
  EXPECT_EQ(on_line.kind, Kind::kFail);
  EXPECT_EQ(on_line.reply, "5.5.1 Protocol error");
  EXPECT_EQ(on_line.drop_reply, "");
  EXPECT_EQ(on_command.kind, Kind::kContinue);
  // postscreen's "after" here is the offending line itself.
  EXPECT_EQ(cb.lines, std::vector<std::string>{"BARE NEWLINE from [192.0.2.1]:4000 after HELO a"});
}

TEST(BareNewline, LogTextMatchesPostscreen) {
  EXPECT_EQ(LogOf("MAIL FROM:<a@b>\x01 x\tz"),
            "BARE NEWLINE from [192.0.2.1]:4000 after MAIL FROM:<a@b>\\001 x\\tz");
  EXPECT_EQ(LogOf("A\rB"), "BARE NEWLINE from [192.0.2.1]:4000 after A\\rB");
  EXPECT_EQ(LogOf(""), "BARE NEWLINE from [192.0.2.1]:4000 after ");
  EXPECT_EQ(LogOf("NOOP " + std::string(150, 'a')),
            "BARE NEWLINE from [192.0.2.1]:4000 after NOOP " + std::string(95, 'a'));
  std::string escapes;
  for (int i = 0; i < 100; ++i) escapes += "\\001";
  EXPECT_EQ(LogOf(std::string(130, '\x01')), "BARE NEWLINE from [192.0.2.1]:4000 after " + escapes);
}

TEST(BareNewline, PassesAtRcptAndCanFailLater) {
  auto f = Factory()->Create();
  FakeSession cb;
  EXPECT_EQ(Line(*f, cb, "EHLO x", "\r\n").second.kind, Kind::kContinue);
  EXPECT_EQ(Line(*f, cb, "MAIL FROM:<a@b>", "\r\n").second.kind, Kind::kContinue);
  EXPECT_EQ(Line(*f, cb, "RCPT TO:<c@d>", "\r\n").second.kind, Kind::kPass);
  EXPECT_EQ(Line(*f, cb, "RCPT TO:<e@f>", "\r\n").second.kind, Kind::kContinue);
  EXPECT_TRUE(cb.lines.empty());
  EXPECT_EQ(Line(*f, cb, "QUIT", "\n").first.kind, Kind::kFail);
  EXPECT_EQ(cb.lines, std::vector<std::string>{"BARE NEWLINE from [192.0.2.1]:4000 after QUIT"});
  // Skipped for the rest of the session.
  EXPECT_EQ(Line(*f, cb, "NOOP", "\n").first.kind, Kind::kContinue);
  EXPECT_EQ(cb.lines.size(), 1u);
}

TEST(BareNewline, NoPassAfterAFailure) {
  auto f = Factory()->Create();
  FakeSession cb;
  // A RCPT line that ends in a bare LF fails first and does not pass.
  auto [on_line, on_command] = Line(*f, cb, "RCPT TO:<c@d>", "\n");
  EXPECT_EQ(on_line.kind, Kind::kFail);
  EXPECT_EQ(on_command.kind, Kind::kContinue);
  EXPECT_EQ(Line(*f, cb, "RCPT TO:<c@d>", "\r\n").second.kind, Kind::kContinue);
}

// --- import-postfix

class BareNewlineImport : public test::PostfixImportTest {
 protected:
  BareNewlineImport() : PostfixImportTest("bare_newline") {}
};

TEST_F(BareNewlineImport, OffByDefault) {
  auto [entry, warnings] = Run("postscreen_bare_newline_action = enforce\n");
  EXPECT_EQ(entry, "");
  EXPECT_EQ(warnings, "");
}

TEST_F(BareNewlineImport, EnabledWithActionAndTtl) {
  auto [entry, warnings] = Run("postscreen_bare_newline_enable = yes\n");
  EXPECT_EQ(entry,
            "      - name: bare_newline\n"
            "        action: ignore\n"
            "        ttl: 30d\n");
  std::tie(entry, warnings) =
      Run("postscreen_bare_newline_enable = yes\npostscreen_bare_newline_action = enforce\n"
          "postscreen_bare_newline_ttl = 3600s\n");
  EXPECT_EQ(entry,
            "      - name: bare_newline\n"
            "        action: enforce\n"
            "        ttl: 3600s\n");
  EXPECT_EQ(warnings, "");
  // Order: the deep tests follow the access list and pregreet, bare_newline
  // first, as postscreen checks a line.
  std::tie(entry, warnings) =
      Run("postscreen_bare_newline_enable = yes\npostscreen_pipelining_enable = yes\n"
          "postscreen_non_smtp_command_enable = yes\n");
  size_t access = yaml_.find("- name: access_cidr");
  size_t pregreet = yaml_.find("- name: pregreet");
  size_t bare = yaml_.find("- name: bare_newline");
  size_t non_smtp = yaml_.find("- name: non_smtp");
  size_t pipelining = yaml_.find("- name: pipelining");
  EXPECT_LT(access, pregreet);
  EXPECT_LT(pregreet, bare);
  EXPECT_LT(bare, non_smtp);
  EXPECT_LT(non_smtp, pipelining);
  EXPECT_NE(pipelining, std::string::npos);
  std::ofstream(dir_ + "/mxscreen.yaml") << yaml_;
  auto config = BuildGatewayConfig(LoadBootstrapFile(dir_ + "/mxscreen.yaml"), dir_);
  std::vector<std::string> names;
  for (const auto& e : config->listeners[0]->chain) names.push_back(e.name);
  EXPECT_EQ(names, (std::vector<std::string>{"access_cidr", "pregreet", "bare_newline", "non_smtp",
                                             "pipelining"}));
}

}  // namespace
}  // namespace mxs::bare_newline
