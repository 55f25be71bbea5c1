// Tests of the built-in SMTP engine: every reply of spec section 5 that does
// not depend on a deep test, the NOQUEUE line, and the command limits.
#include "core/smtp_engine.h"

#include <gtest/gtest.h>

#include <cstdarg>

namespace mxs {
namespace {

class Host : public SmtpEngineHost {
 public:
  void Log(const char* fmt, ...) override {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    lines.push_back(buf);
  }
  const char* client_tag() const override { return "[192.0.2.1]:4000"; }
  std::string_view enforced_rcpt_reply() const override { return enforced; }
  std::vector<std::string> lines;
  std::string enforced;
};

class EngineTest : public ::testing::Test {
 protected:
  std::string Say(const std::string& line) {
    std::string out;
    last_next = engine.OnLine(line, &out);
    return out;
  }
  EngineConfig config;
  Host host;
  SmtpEngine engine{config, "mx.example", host};
  SmtpEngine::Next last_next = SmtpEngine::Next::kContinue;
};

TEST_F(EngineTest, HeloAndEhlo) {
  EXPECT_EQ(Say("HELO client.example"), "250 mx.example\r\n");
  EXPECT_EQ(
      Say("EHLO client.example"),
      "250-mx.example\r\n250-SIZE 10240000\r\n250-VRFY\r\n250-ETRN\r\n"
      "250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250-DSN\r\n250-SMTPUTF8\r\n250 CHUNKING\r\n");
  EXPECT_EQ(Say("ehlo"), "501 Syntax: EHLO hostname\r\n");
}

TEST_F(EngineTest, MailRcptAndTheNoqueueLine) {
  Say("EHLO client.example");
  EXPECT_EQ(Say("RCPT TO:<c@d.example>"), "503 5.5.1 Error: need MAIL command\r\n");
  EXPECT_EQ(Say("MAIL FROM:<a@b.example>"), "250 2.1.0 Ok\r\n");
  EXPECT_EQ(Say("MAIL FROM:<a@b.example>"), "503 5.5.1 Error: nested MAIL command\r\n");
  EXPECT_EQ(Say("RCPT c@d.example"), "501 5.5.4 Syntax: RCPT TO:<address>\r\n");
  EXPECT_EQ(Say("RCPT TO:<c@d.example>"), "450 4.3.2 Service currently unavailable\r\n");
  ASSERT_EQ(host.lines.size(), 1u);
  EXPECT_EQ(host.lines[0],
            "NOQUEUE: reject: RCPT from [192.0.2.1]:4000: 450 4.3.2 Service currently unavailable; "
            "from=<a@b.example>, to=<c@d.example>, proto=ESMTP, helo=<client.example>");
  host.enforced = "550 5.3.2 Service currently unavailable";
  EXPECT_EQ(Say("RCPT TO: <e@f.example>"), "550 5.3.2 Service currently unavailable\r\n");
  EXPECT_EQ(host.lines[1],
            "NOQUEUE: reject: RCPT from [192.0.2.1]:4000: 550 5.3.2 Service currently unavailable; "
            "from=<a@b.example>, to=<e@f.example>, proto=ESMTP, helo=<client.example>");
}

TEST_F(EngineTest, ProtoIsSmtpAfterHelo) {
  Say("HELO old.example");
  Say("MAIL FROM:<>");
  Say("RCPT TO:<x@y.example>");
  EXPECT_EQ(host.lines.back(),
            "NOQUEUE: reject: RCPT from [192.0.2.1]:4000: 450 4.3.2 Service currently unavailable; "
            "from=<>, to=<x@y.example>, proto=SMTP, helo=<old.example>");
}

TEST_F(EngineTest, OtherCommands) {
  EXPECT_EQ(Say("NOOP"), "250 2.0.0 Ok\r\n");
  EXPECT_EQ(Say("RSET"), "250 2.0.0 Ok\r\n");
  EXPECT_EQ(Say("VRFY root"), "450 4.3.2 Service currently unavailable\r\n");
  EXPECT_EQ(Say("ETRN example.com"), "458 Unable to queue messages\r\n");
  EXPECT_EQ(Say("STARTTLS"), "502 5.5.1 Error: command not implemented\r\n");
  for (const char* c : {"HELP", "AUTH PLAIN", "XCLIENT ADDR=1.2.3.4", "XFORWARD NAME=x", "FOO"}) {
    EXPECT_EQ(Say(c), "502 5.5.2 Error: command not recognized\r\n") << c;
  }
  EXPECT_EQ(Say("VRFY"), "501 5.5.4 Syntax: VRFY address\r\n");
  EXPECT_EQ(Say("ETRN"), "500 Syntax: ETRN domain\r\n");
  EXPECT_EQ(Say("DATA now"), "501 5.5.4 Syntax: DATA\r\n");
  EXPECT_EQ(last_next, SmtpEngine::Next::kContinue);
  Say("XCLIENT ADDR=1.2.3.4");
  EXPECT_STREQ(engine.where(), "XCLIENT");
  Say("HELP");
  EXPECT_EQ(last_next, SmtpEngine::Next::kContinue);
  EXPECT_STREQ(engine.where(), "UNIMPLEMENTED");
  EXPECT_EQ(Say("QUIT"), "221 2.0.0 Bye\r\n");
  EXPECT_EQ(last_next, SmtpEngine::Next::kClose);
}

TEST_F(EngineTest, DataBeforeMailOrRcptCloses) {
  EXPECT_EQ(Say("DATA"), "503 5.5.1 Error: need RCPT command\r\n");
  EXPECT_EQ(last_next, SmtpEngine::Next::kClose);
  EXPECT_EQ(host.lines, std::vector<std::string>{"DATA without valid RCPT from [192.0.2.1]:4000"});
}

TEST_F(EngineTest, DataWithoutValidRcptIsLogged) {
  Say("EHLO c.example");
  Say("MAIL FROM:<a@b.example>");
  EXPECT_EQ(Say("BDAT 100 LAST"), "554 5.5.1 Error: no valid recipients\r\n");
  EXPECT_EQ(last_next, SmtpEngine::Next::kClose);
  EXPECT_EQ(host.lines.back(), "BDAT without valid RCPT from [192.0.2.1]:4000");
}

TEST(EngineOptions, HeloRequiredAndVrfyDisabled) {
  EngineConfig config;
  config.helo_required = true;
  config.disable_vrfy = true;
  Host host;
  SmtpEngine engine(config, "mx.example", host);
  std::string out;
  engine.OnLine("MAIL FROM:<a@b.example>", &out);
  EXPECT_EQ(out, "503 5.5.1 Error: send HELO/EHLO first\r\n");
  out.clear();
  engine.OnLine("HELO c.example", &out);
  out.clear();
  engine.OnLine("VRFY root", &out);
  EXPECT_EQ(out, "502 5.5.1 VRFY command is disabled\r\n");
}

TEST(EngineLimits, CommandCountLimit) {
  EngineConfig config;
  config.command_count_limit = 3;
  Host host;
  SmtpEngine engine(config, "mx.example", host);
  std::string out;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(engine.OnLine("NOOP", &out), SmtpEngine::Next::kContinue);
  out.clear();
  // QUIT never trips the limit.
  EngineConfig c2 = config;
  Host h2;
  SmtpEngine e2(c2, "mx.example", h2);
  std::string o2;
  for (int i = 0; i < 3; ++i) e2.OnLine("NOOP", &o2);
  o2.clear();
  EXPECT_EQ(e2.OnLine("QUIT", &o2), SmtpEngine::Next::kClose);
  EXPECT_EQ(o2, "221 2.0.0 Bye\r\n");
  EXPECT_EQ(engine.OnLine("NOOP", &out), SmtpEngine::Next::kClose);
  EXPECT_EQ(out, "421 mx.example Service unavailable - try again later\r\n");
  EXPECT_EQ(host.lines.back(), "COMMAND COUNT LIMIT from [192.0.2.1]:4000 after NOOP");
}

TEST(EngineLimits, LengthAndTime) {
  EngineConfig config;
  Host host;
  SmtpEngine engine(config, "mx.example", host);
  std::string out;
  engine.OnLine("EHLO c.example", &out);
  out.clear();
  engine.OnLineTooLong(&out);
  EXPECT_EQ(out, "421 mx.example Service unavailable - try again later\r\n");
  EXPECT_EQ(host.lines.back(), "COMMAND LENGTH LIMIT from [192.0.2.1]:4000 after EHLO");
  out.clear();
  engine.OnTimeout(&out);
  EXPECT_EQ(out, "421 4.4.2 mx.example Error: timeout exceeded\r\n");
  EXPECT_EQ(host.lines.back(), "COMMAND TIME LIMIT from [192.0.2.1]:4000 after EHLO");
}

TEST(SplitCommand, VerbAndArgument) {
  std::string_view verb, arg;
  SmtpEngine::SplitCommand("  MAIL   FROM:<a@b>  ", &verb, &arg);
  EXPECT_EQ(verb, "MAIL");
  EXPECT_EQ(arg, "FROM:<a@b>");
  SmtpEngine::SplitCommand("RCPT\tTO:<a@b>", &verb, &arg);
  EXPECT_EQ(verb, "RCPT\tTO:<a@b>");
  EXPECT_TRUE(arg.empty());
  SmtpEngine::SplitCommand("", &verb, &arg);
  EXPECT_TRUE(verb.empty());
  EXPECT_TRUE(arg.empty());
}

}  // namespace
}  // namespace mxs
