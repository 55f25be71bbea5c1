// Tests of the non-SMTP command test: the exact NON-SMTP COMMAND line
// (expected strings are what Postfix 3.7's postscreen logged for the same
// input on loopback), forbidden names and patterns, header lines, known
// commands, the previous command in "after", pass at RCPT, one failure per
// session, config errors, and the Postfix importer.
#include "filters/non_smtp/non_smtp.h"

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <gtest/gtest.h>

#include <algorithm>

#include "core/config_error.h"
#include "core/filter_registry.h"
#include "core/gateway_config.h"
#include "core/import_postfix.h"
#include "core/smtp_engine.h"
#include "mxscreen/filters/non_smtp/v1/non_smtp.pb.h"
#include "tests/support/fake_session.h"
#include "tests/support/import_helpers.h"

namespace mxs::non_smtp {
namespace {

using test::FakeSession;

using ConfigProto = ::mxscreen::filters::non_smtp::v1::NonSmtp;
using Kind = Verdict::Kind;

class Ctx : public BuildContext {
 public:
  const std::string& path() const override { return path_; }
  std::string ResolvePath(const std::string& p) const override { return p; }
  std::string path_ = "listeners[0].filters[2].typed_config";
};

std::shared_ptr<const FilterFactory> Build(const ConfigProto& cfg) {
  const auto* f = FilterRegistry::Get().FindByName("non_smtp");
  EXPECT_NE(f, nullptr);
  Ctx ctx;
  return f->Build(cfg, ctx);
}

// One command line (without its ending) as the session hands it over.
Verdict Command(Filter& f, SessionCallbacks& cb, std::string_view line) {
  SmtpCommand cmd;
  SmtpEngine::SplitCommand(line, &cmd.verb, &cmd.argument);
  cmd.line = line;
  return f.OnCommand(cb, cmd);
}

// The log line of `line` sent after `before` (each line a command).
std::string LogOf(const std::vector<std::string>& before, std::string_view line) {
  auto f = Build({})->Create();
  FakeSession cb;
  for (const auto& b : before) Command(*f, cb, b);
  Verdict v = Command(*f, cb, line);
  if (v.kind != Kind::kFail) return "(no failure)";
  return cb.lines.size() == 1 ? cb.lines[0] : "(" + std::to_string(cb.lines.size()) + " lines)";
}

TEST(NonSmtp, RegisteredWithPostfixDefaults) {
  const auto* f = FilterRegistry::Get().FindByName("non_smtp");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->default_action(), Action::kDrop);
  EXPECT_EQ(f->default_ttl(), std::chrono::hours(24 * 30));
  EXPECT_EQ(f->config_type()->full_name(), "mxscreen.filters.non_smtp.v1.NonSmtp");
  auto factory = Build({});
  EXPECT_TRUE(factory->traits().cached);
  EXPECT_TRUE(factory->traits().needs_engine);
  EXPECT_NE(factory->Create(), factory->Create());
}

TEST(NonSmtp, HttpRequestFailsWithBothReplies) {
  auto f = Build({})->Create();
  FakeSession cb;
  Verdict v = Command(*f, cb, "GET / HTTP/1.0");
  EXPECT_EQ(v.kind, Kind::kFail);
  // enforce: RCPT gets "550 5.5.1 Protocol error"; drop: this 521 text.
  EXPECT_EQ(v.reply, "5.5.1 Protocol error");
  EXPECT_EQ(v.drop_reply, "5.7.0 Error: I can break rules, too. Goodbye.");
  EXPECT_EQ(cb.lines, std::vector<std::string>{
                          "NON-SMTP COMMAND from [192.0.2.1]:4000 after CONNECT: GET / HTTP/1.0"});
}

TEST(NonSmtp, AfterIsThePreviousCommand) {
  EXPECT_EQ(LogOf({"EHLO x"}, "CONNECT host:25"),
            "NON-SMTP COMMAND from [192.0.2.1]:4000 after EHLO: CONNECT host:25");
  EXPECT_EQ(LogOf({"EHLO x", "mail from:<a@b>"}, "Subject: hi"),
            "NON-SMTP COMMAND from [192.0.2.1]:4000 after MAIL: Subject: hi");
  // Commands postscreen does not know (HELP among them) are "UNIMPLEMENTED",
  // and so is an empty line.
  EXPECT_EQ(LogOf({"HELP"}, "POST /"),
            "NON-SMTP COMMAND from [192.0.2.1]:4000 after UNIMPLEMENTED: POST /");
  EXPECT_EQ(LogOf({"AUTH x"}, "GET"), "NON-SMTP COMMAND from [192.0.2.1]:4000 after AUTH: GET ");
  EXPECT_EQ(LogOf({""}, "GET"), "NON-SMTP COMMAND from [192.0.2.1]:4000 after UNIMPLEMENTED: GET ");
}

TEST(NonSmtp, WhatFails) {
  // Forbidden names in any case; a name that does not start with a letter;
  // header lines ("Name:" or "Name :", tabs allowed before the colon).
  EXPECT_EQ(LogOf({}, "get /"), "NON-SMTP COMMAND from [192.0.2.1]:4000 after CONNECT: get /");
  EXPECT_EQ(LogOf({}, "\x01junk"), "NON-SMTP COMMAND from [192.0.2.1]:4000 after CONNECT: ?junk ");
  EXPECT_EQ(LogOf({}, ":hi"), "NON-SMTP COMMAND from [192.0.2.1]:4000 after CONNECT: :hi ");
  EXPECT_EQ(LogOf({}, "Subject:hi"),
            "NON-SMTP COMMAND from [192.0.2.1]:4000 after CONNECT: Subject:hi ");
  EXPECT_EQ(LogOf({}, "X-Foo\t: y"),
            "NON-SMTP COMMAND from [192.0.2.1]:4000 after CONNECT: X-Foo?: y");
  EXPECT_EQ(LogOf({}, "  GET    /x"),
            "NON-SMTP COMMAND from [192.0.2.1]:4000 after CONNECT: GET    /x");
  // What does not: an unknown word, a name with a blank inside before the
  // colon, an empty line, and known commands whatever follows them.
  for (const char* ok :
       {"hello x", "Subject : x", "X-Foo\tbar: y", "", "   ", "EHLO x", "MAIL FROM:<a@b>",
        "rcpt to:<c@d>", "DATA", "BDAT 1", "STARTTLS", "XCLIENT NAME=x", "QUIT"}) {
    EXPECT_EQ(LogOf({}, ok), "(no failure)") << ok;
  }
}

TEST(NonSmtp, LogTextMatchesPostscreen) {
  // The name printable ('?' for control bytes, UTF-8 kept) and cut at 100;
  // the rest C-escaped from at most 100 bytes.
  std::string ones(130, '1');
  std::string ctl(130, '\x01');
  std::string escapes;
  for (int i = 0; i < 100; ++i) escapes += "\\001";
  EXPECT_EQ(LogOf({}, ones + " " + ctl), "NON-SMTP COMMAND from [192.0.2.1]:4000 after CONNECT: " +
                                             std::string(100, '1') + " " + escapes);
  EXPECT_EQ(LogOf({}, "GET /\x01x  y"),
            "NON-SMTP COMMAND from [192.0.2.1]:4000 after CONNECT: GET /\\001x  y");
  EXPECT_EQ(LogOf({}, std::string(60, '\x01')),
            "NON-SMTP COMMAND from [192.0.2.1]:4000 after CONNECT: " + std::string(60, '?') + " ");
  EXPECT_EQ(LogOf({},
                  "1\xc3\xa9\xa9\xe2\x82\xc0\x80\xfe\x80\xff\x80\xc2"
                  "a \xc3\xa9\xff"),
            "NON-SMTP COMMAND from [192.0.2.1]:4000 after CONNECT: "
            "1\xc3\xa9\xa9\xe2\x82??\xfe\x80???a \\303\\251\\377");
}

TEST(NonSmtp, PassesAtRcptAndCanFailLater) {
  auto f = Build({})->Create();
  FakeSession cb;
  EXPECT_EQ(Command(*f, cb, "EHLO x").kind, Kind::kContinue);
  EXPECT_EQ(Command(*f, cb, "MAIL FROM:<a@b>").kind, Kind::kContinue);
  EXPECT_EQ(Command(*f, cb, "RCPT TO:<c@d>").kind, Kind::kPass);
  EXPECT_EQ(Command(*f, cb, "RCPT TO:<e@f>").kind, Kind::kContinue);
  EXPECT_TRUE(cb.lines.empty());
  EXPECT_EQ(Command(*f, cb, "POST /x").kind, Kind::kFail);
  EXPECT_EQ(cb.lines,
            std::vector<std::string>{"NON-SMTP COMMAND from [192.0.2.1]:4000 after RCPT: POST /x"});
  // Skipped for the rest of the session: no second line.
  EXPECT_EQ(Command(*f, cb, "GET /").kind, Kind::kContinue);
  EXPECT_EQ(cb.lines.size(), 1u);
}

TEST(NonSmtp, NoPassAfterAFailure) {
  auto f = Build({})->Create();
  FakeSession cb;
  EXPECT_EQ(Command(*f, cb, "Subject: hi").kind, Kind::kFail);
  EXPECT_EQ(Command(*f, cb, "RCPT TO:<c@d>").kind, Kind::kContinue);
  // postscreen takes the name up to the first space: "RCPT\tTO:" is no RCPT.
  auto g = Build({})->Create();
  EXPECT_EQ(Command(*g, cb, "RCPT\tTO:<c@d>").kind, Kind::kContinue);
}

TEST(NonSmtp, ConfiguredNamesAndPatterns) {
  ConfigProto cfg;
  cfg.add_forbidden_commands("help");
  cfg.add_forbidden_commands("/^X-/");
  cfg.add_forbidden_commands("HELO");  // known: never fails
  auto factory = Build(cfg);
  auto fails = [&](std::string_view line) {
    auto f = factory->Create();
    FakeSession cb;
    return Command(*f, cb, line).kind == Kind::kFail;
  };
  EXPECT_TRUE(fails("HELP"));
  EXPECT_TRUE(fails("x-foo bar"));
  EXPECT_TRUE(fails("Subject: hi"));  // headers always
  EXPECT_FALSE(fails("HELO x"));
  EXPECT_FALSE(fails("GET /"));  // no longer in the list
  EXPECT_FALSE(fails("1x"));

  ConfigProto none;
  none.set_no_forbidden_commands(true);
  factory = Build(none);
  EXPECT_FALSE(fails("GET /"));
  EXPECT_FALSE(fails("\x01junk"));
  EXPECT_TRUE(fails("Subject: hi"));
}

TEST(NonSmtp, ConfigErrorsNameTheEntry) {
  auto error_of = [](const ConfigProto& cfg) {
    try {
      Build(cfg);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  ConfigProto bad_re;
  bad_re.add_forbidden_commands("GET");
  bad_re.add_forbidden_commands("/^[A-/");
  EXPECT_EQ(error_of(bad_re).rfind(
                "listeners[0].filters[2].typed_config.forbidden_commands[1]: \"/^[A-/\": ", 0),
            0u)
      << error_of(bad_re);
  ConfigProto spaced;
  spaced.add_forbidden_commands("MAIL FROM");
  EXPECT_EQ(error_of(spaced),
            "listeners[0].filters[2].typed_config.forbidden_commands[0]: \"MAIL FROM\": a command "
            "name has no spaces");
  ConfigProto slash;
  slash.add_forbidden_commands("/x");
  EXPECT_EQ(error_of(slash),
            "listeners[0].filters[2].typed_config.forbidden_commands[0]: \"/x\": expected a "
            "regular expression between slashes, e.g. \"/^[^A-Z]/\"");
  ConfigProto empty;
  empty.add_forbidden_commands("");
  EXPECT_EQ(error_of(empty),
            "listeners[0].filters[2].typed_config.forbidden_commands[0]: empty entry");
  ConfigProto both;
  both.add_forbidden_commands("GET");
  both.set_no_forbidden_commands(true);
  EXPECT_EQ(error_of(both),
            "listeners[0].filters[2].typed_config.no_forbidden_commands: true means an empty "
            "list: leave forbidden_commands out");
}

TEST(NonSmtp, HeaderShape) {
  EXPECT_TRUE(LooksLikeHeader("Subject:"));
  EXPECT_TRUE(LooksLikeHeader("Subject:x"));
  EXPECT_TRUE(LooksLikeHeader("X-A\t\t:"));
  EXPECT_FALSE(LooksLikeHeader(":"));
  EXPECT_FALSE(LooksLikeHeader("\tX:"));
  EXPECT_FALSE(LooksLikeHeader("X\tY:"));
  EXPECT_FALSE(LooksLikeHeader("Subject"));
  EXPECT_FALSE(LooksLikeHeader("Sub\x7fject:"));
  EXPECT_FALSE(LooksLikeHeader("Sub\xc3\xa9:"));
  EXPECT_FALSE(LooksLikeHeader(""));
}

// --- import-postfix

class NonSmtpImport : public test::PostfixImportTest {
 protected:
  NonSmtpImport() : PostfixImportTest("non_smtp") {}
};

TEST_F(NonSmtpImport, OffByDefault) {
  auto [entry, warnings] = Run("postscreen_forbidden_commands = GET\n");
  EXPECT_EQ(entry, "");
  EXPECT_EQ(warnings, "");
}

TEST_F(NonSmtpImport, PostfixDefaultsNeedNoTypedConfig) {
  auto [entry, warnings] = Run("postscreen_non_smtp_command_enable = yes\n");
  EXPECT_EQ(entry,
            "      - name: non_smtp\n"
            "        action: drop\n"
            "        ttl: 30d\n");
  EXPECT_EQ(warnings, "");
  const ChainEntry* e = Built();
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->action, Action::kDrop);
}

TEST_F(NonSmtpImport, ForbiddenCommandsCarryOver) {
  Write("forbidden.regexp", "# bots\n/^[^A-Z]/ Bogus\n\n/^X-/\n  header\nif /x/\n/^Y/i nope\n");
  auto [entry, warnings] =
      Run("postscreen_non_smtp_command_enable = yes\n"
          "postscreen_non_smtp_command_action = enforce\n"
          "postscreen_non_smtp_command_ttl = 2w\n"
          "smtpd_forbidden_commands = CONNECT, GET, POST, HELP inline:{ {EXPN = x} },\n"
          "  regexp:{ {/^\\// slash} } regexp:" +
          dir_ + "/forbidden.regexp hash:/etc/postfix/cmds\n");
  EXPECT_EQ(entry,
            "      - name: non_smtp\n"
            "        action: enforce\n"
            "        ttl: 2w\n"
            "        typed_config:\n"
            "          forbidden_commands:\n"
            "            - CONNECT\n"
            "            - GET\n"
            "            - POST\n"
            "            - HELP\n"
            "            - EXPN\n"
            "            - \"/^\\\\//\"\n"
            "            - \"/^[^A-Z]/\"\n"
            "            - \"/^X-/\"\n");
  std::string table = "regexp:" + dir_ + "/forbidden.regexp";
  EXPECT_EQ(warnings,
            "warning: postscreen_forbidden_commands: " + table +
                ": rule \"if /x/\" is an if/endif block (not supported), skipped\n"
                "warning: postscreen_forbidden_commands: " +
                table +
                ": rule \"/^Y/i nope\" has flags \"i\" (only the default, case-insensitive "
                "extended syntax), skipped\n"
                "warning: postscreen_forbidden_commands: hash:/etc/postfix/cmds is not supported "
                "(command names, regexp: and inline: tables only), skipped\n");
  const ChainEntry* e = Built();
  ASSERT_NE(e, nullptr);
  auto f = e->factory->Create();
  FakeSession quiet;
  EXPECT_EQ(Command(*f, quiet, "/etc/passwd").kind, Kind::kFail);
}

TEST_F(NonSmtpImport, Postfix36DefaultAndEmptyList) {
  auto [entry, warnings] =
      Run("postscreen_non_smtp_command_enable = yes\n"
          "postscreen_forbidden_commands = CONNECT GET POST\n");
  EXPECT_EQ(entry,
            "      - name: non_smtp\n"
            "        action: drop\n"
            "        ttl: 30d\n"
            "        typed_config:\n"
            "          forbidden_commands:\n"
            "            - CONNECT\n"
            "            - GET\n"
            "            - POST\n");
  std::tie(entry, warnings) =
      Run("postscreen_non_smtp_command_enable = yes\n"
          "postscreen_forbidden_commands =\n");
  EXPECT_EQ(entry,
            "      - name: non_smtp\n"
            "        action: drop\n"
            "        ttl: 30d\n"
            "        typed_config:\n"
            "          no_forbidden_commands: true\n");
  EXPECT_EQ(warnings, "");
  EXPECT_NE(Built(), nullptr);
}

}  // namespace
}  // namespace mxs::non_smtp
