// Tests of the postscreen log parser and the `mxscreen stats` aggregation
// (core/log_stats.h) and the command's file handling (core/stats_cli.h):
// every line kind, both timestamp forms, program selection, IPv6 clients and
// /64 networks, malformed lines, the ranking of top lists, and the exact text
// and JSON reports.
#include "core/log_stats.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <deque>
#include <fstream>
#include <sstream>

#include "core/stats_cli.h"
#include "tests/support/stats_command_test.h"

namespace mxs {
namespace {

using Kind = LogLine::Kind;

const ProgramFilter kDefault;

// A LogLine's views point into its line: the lines parsed here stay alive
// for the whole test program.
LogLine Parse(std::string line) {
  static auto* kept = new std::deque<std::string>;
  kept->push_back(std::move(line));
  return ParseLogLine(kept->back(), kDefault);
}

std::string Ps(const std::string& msg) {
  return "Dec  6 19:39:42 mx postfix/postscreen[4242]: " + msg;
}

std::string Dnsblog(const std::string& msg) {
  return "Dec 06 19:39:42 mx postfix/dnsblog[4243]: " + msg;
}

struct OutcomeCase {
  std::string message;
  LogOutcome outcome;
  std::string client;
};

TEST(LogStatsParse, EveryOutcomeLine) {
  const OutcomeCase cases[] = {
      {"CONNECT from [192.0.2.1]:5678 to [127.0.0.1]:25", LogOutcome::kConnect, "192.0.2.1"},
      {"PASS NEW [192.0.2.1]:5678", LogOutcome::kPassNew, "192.0.2.1"},
      {"PASS OLD [192.0.2.1]:5678", LogOutcome::kPassOld, "192.0.2.1"},
      {"ALLOWLISTED [192.0.2.1]:5678", LogOutcome::kAllowlisted, "192.0.2.1"},
      {"WHITELISTED [192.0.2.1]:5678", LogOutcome::kAllowlisted, "192.0.2.1"},
      {"DENYLISTED [192.0.2.1]:5678", LogOutcome::kDenylisted, "192.0.2.1"},
      {"BLACKLISTED [192.0.2.1]:5678", LogOutcome::kDenylisted, "192.0.2.1"},
      {"PREGREET 23 after 0.15 from [192.0.2.1]:5678: EHLO pregreet.example\\r\\n",
       LogOutcome::kPregreet, "192.0.2.1"},
      {"DNSBL rank 3 for [192.0.2.1]:5678", LogOutcome::kDnsblRank, "192.0.2.1"},
      {"COMMAND PIPELINING from [192.0.2.1]:5678 after EHLO: MAIL FROM:<a@b>\\r\\n",
       LogOutcome::kPipelining, "192.0.2.1"},
      {"NON-SMTP COMMAND from [192.0.2.1]:5678 after CONNECT: GET / HTTP/1.0",
       LogOutcome::kNonSmtpCommand, "192.0.2.1"},
      {"BARE NEWLINE from [192.0.2.1]:5678 after EHLO", LogOutcome::kBareNewline, "192.0.2.1"},
      {"HANGUP after 0.5 from [192.0.2.1]:5678 in tests before SMTP handshake", LogOutcome::kHangup,
       "192.0.2.1"},
      {"HANGUP after 12 from [192.0.2.1]:5678 in tests after SMTP handshake", LogOutcome::kHangup,
       "192.0.2.1"},
      {"COMMAND TIME LIMIT from [192.0.2.1]:5678 after MAIL", LogOutcome::kCommandTimeLimit,
       "192.0.2.1"},
      {"COMMAND COUNT LIMIT from [192.0.2.1]:5678 after NOOP", LogOutcome::kCommandCountLimit,
       "192.0.2.1"},
      {"COMMAND LENGTH LIMIT from [192.0.2.1]:5678 after RCPT", LogOutcome::kCommandLengthLimit,
       "192.0.2.1"},
      {"DATA without valid RCPT from [192.0.2.1]:5678", LogOutcome::kDataWithoutRcpt, "192.0.2.1"},
      {"BDAT without valid RCPT from [192.0.2.1]:5678", LogOutcome::kDataWithoutRcpt, "192.0.2.1"},
      {"NOQUEUE: reject: CONNECT from [192.0.2.1]:5678: too many connections",
       LogOutcome::kTooManyConnections, "192.0.2.1"},
      {"NOQUEUE: reject: CONNECT from [192.0.2.1]:5678: all server ports busy",
       LogOutcome::kServerPortsBusy, "192.0.2.1"},
      {"reject: connect from [192.0.2.1]:5678: all screening ports busy",
       LogOutcome::kScreeningPortsBusy, "192.0.2.1"},
      {"DISCONNECT [2001:db8::1]:5678", LogOutcome::kDisconnect, "2001:db8::1"},
      {"ALLOWLIST VETO [192.0.2.1]:5678", LogOutcome::kAllowlistVeto, "192.0.2.1"},
      {"WHITELIST VETO [2001:db8::1]:5678", LogOutcome::kAllowlistVeto, "2001:db8::1"},
  };
  for (const auto& c : cases) {
    LogLine l = Parse(Ps(c.message));
    EXPECT_EQ(l.kind, Kind::kOutcome) << c.message;
    EXPECT_EQ(l.outcome, c.outcome) << c.message;
    EXPECT_EQ(l.client.ToString(), c.client) << c.message;
    EXPECT_EQ(l.program, "postfix/postscreen");
    bool connect_reject = c.outcome == LogOutcome::kTooManyConnections ||
                          c.outcome == LogOutcome::kServerPortsBusy ||
                          c.outcome == LogOutcome::kScreeningPortsBusy;
    EXPECT_EQ(l.code, connect_reject ? "421" : "") << c.message;
  }
}

TEST(LogStatsParse, NoqueueRejectKeepsCodeAndList) {
  LogLine l =
      Parse(Ps("NOQUEUE: reject: RCPT from [1.2.3.4]:5678: 550 5.7.1 Service unavailable; client "
               "[1.2.3.4] blocked using zen.spamhaus.org; from=<a@b.example>, to=<c@d.example>, "
               "proto=ESMTP, helo=<x>"));
  EXPECT_EQ(l.kind, Kind::kReject);
  EXPECT_EQ(l.client.ToString(), "1.2.3.4");
  EXPECT_EQ(l.code, "550");
  EXPECT_EQ(l.domain, "zen.spamhaus.org");

  l = Parse(
      Ps("NOQUEUE: reject: RCPT from [1.2.3.4]:5678: 450 4.3.2 Service currently unavailable; "
         "from=<a@b.example>, to=<c@d.example>, proto=SMTP, helo=<x>"));
  EXPECT_EQ(l.kind, Kind::kReject);
  EXPECT_EQ(l.code, "450");
  EXPECT_EQ(l.domain, "");

  // Not a reply code: not a reject.
  EXPECT_EQ(Parse(Ps("NOQUEUE: reject: RCPT from [1.2.3.4]:5678: 9999 x")).kind,
            Kind::kUnrecognized);
  EXPECT_EQ(Parse(Ps("NOQUEUE: reject: RCPT from [1.2.3.4]:5678: 650 x")).kind,
            Kind::kUnrecognized);
  EXPECT_EQ(Parse(Ps("NOQUEUE: reject: CONNECT from [1.2.3.4]:5678: something else")).kind,
            Kind::kUnrecognized);
}

TEST(LogStatsParse, DnsblLines) {
  LogLine l = Parse(Dnsblog("addr 192.0.2.9 listed by domain bl.test as 127.0.0.2"));
  EXPECT_EQ(l.kind, Kind::kDnsblHit);
  EXPECT_EQ(l.program, "postfix/dnsblog");
  EXPECT_EQ(l.client.ToString(), "192.0.2.9");
  EXPECT_EQ(l.domain, "bl.test");
  EXPECT_EQ(l.answer, "127.0.0.2");

  l = Parse(Dnsblog("addr 2001:db8::9 listed by domain bl6.test as 127.0.0.4"));
  EXPECT_EQ(l.kind, Kind::kDnsblHit);
  EXPECT_EQ(l.client.ToString(), "2001:db8::9");

  l = Parse(Ps("warning: dnsblog reply timeout 10s for slow.test"));
  EXPECT_EQ(l.kind, Kind::kDnsblTimeout);
  EXPECT_EQ(l.domain, "slow.test");

  l = Parse(Dnsblog(
      "warning: dnsblog_query: lookup error for DNS query 9.2.0.192.bl.test: Host or domain name "
      "not found. Name service error for name=9.2.0.192.bl.test type=A: Host not found, try "
      "again"));
  EXPECT_EQ(l.kind, Kind::kDnsblError);
  EXPECT_EQ(l.domain, "bl.test");

  std::string nibbles;
  for (int i = 0; i < 32; ++i) nibbles += "a.";
  l = Parse(Dnsblog("warning: dnsblog_query: lookup error for DNS query " + nibbles +
                    "bl6.test: timeout"));
  EXPECT_EQ(l.kind, Kind::kDnsblError);
  EXPECT_EQ(l.domain, "bl6.test");

  EXPECT_EQ(Parse(Ps("warning: haproxy read: EOF")).kind, Kind::kWarning);
  EXPECT_EQ(Parse(Dnsblog("addr nonsense listed by domain bl.test as 127.0.0.2")).kind,
            Kind::kUnrecognized);
}

TEST(LogStatsParse, CacheCleanupIsKnown) {
  EXPECT_EQ(Parse(Ps("cache btree:/var/lib/postfix/postscreen_cache full cleanup: retained=3 "
                     "dropped=1 entries"))
                .kind,
            Kind::kInfo);
}

TEST(LogStatsParse, StressLines) {
  EXPECT_EQ(Parse(Ps("entering STRESS mode with 90 connections")).kind, Kind::kStressOn);
  EXPECT_EQ(Parse(Ps("leaving STRESS mode with 70 connections")).kind, Kind::kStressOff);
}

TEST(LogStatsParse, TimestampForms) {
  const char* stamps[] = {
      "Dec  6 19:39:42",
      "Dec 06 19:39:42",
      "Dec 16 19:39:42",
      "Dec  6 19:39:42.123456",
      "2026-12-06T19:39:42.123456+00:00",
      "2026-12-06T19:39:42+01:00",
      "2026-12-06T19:39:42Z",
      "2026-12-06T19:39:42+0000",
  };
  for (const char* stamp : stamps) {
    LogLine l = Parse(std::string(stamp) + " mx postfix/postscreen[12]: PASS OLD [192.0.2.1]:5678");
    EXPECT_EQ(l.kind, Kind::kOutcome) << stamp;
    EXPECT_EQ(l.outcome, LogOutcome::kPassOld) << stamp;
  }
  // A syslog line without a pid.
  EXPECT_EQ(Parse("Dec  6 19:39:42 mx postscreen: PASS OLD [192.0.2.1]:5678").kind, Kind::kOutcome);
}

TEST(LogStatsParse, MalformedLines) {
  const char* lines[] = {
      "",
      "-- Journal begins at Sun 2026-12-06 00:00:00 UTC. --",
      "Dec  6 19:39:42",
      "Dec  6 19:39:42 mx",
      "Dec  6 19:39:42 mx postfix/postscreen[12] PASS OLD [192.0.2.1]:5678",
      "Dec  6 19:39:42 mx postfix/postscreen[x]: PASS OLD [192.0.2.1]:5678",
      "Dec  6 19:39:42 mx postfix/postscreen[]: PASS OLD [192.0.2.1]:5678",
      "Dec  6 19:39 mx postfix/postscreen[12]: PASS OLD [192.0.2.1]:5678",
      "Dec 123 19:39:42 mx postfix/postscreen[12]: PASS OLD [192.0.2.1]:5678",
      "2026-12-06 mx postfix/postscreen[12]: PASS OLD [192.0.2.1]:5678",
      "2026-12-06T19:39:42+zone mx postfix/postscreen[12]: PASS OLD [192.0.2.1]:5678",
  };
  for (const char* line : lines) EXPECT_EQ(Parse(line).kind, Kind::kMalformed) << line;
}

TEST(LogStatsParse, BadClientsAreUnrecognized) {
  const char* messages[] = {
      "PASS OLD 192.0.2.1:5678",         "PASS OLD [192.0.2.1]",
      "PASS OLD [192.0.2.1]:",           "PASS OLD [192.0.2.1]:123456",
      "PASS OLD [192.0.2.300]:25",       "PASS OLD [mx.example]:25",
      "DNSBL rank x for [192.0.2.1]:25", "PREGREET after 1 from [192.0.2.1]:25: x",
      "something else entirely",
  };
  for (const char* m : messages) EXPECT_EQ(Parse(Ps(m)).kind, Kind::kUnrecognized) << m;
}

TEST(LogStatsParse, ProgramSelection) {
  const std::string msg = ": PASS OLD [192.0.2.1]:5678";
  auto line = [&](const std::string& prog) { return "Dec  6 19:39:42 mx " + prog + "[1]" + msg; };
  EXPECT_EQ(Parse(line("postfix/postscreen")).kind, Kind::kOutcome);
  EXPECT_EQ(Parse(line("postfix-in/postscreen")).kind, Kind::kOutcome);
  EXPECT_EQ(Parse(line("postscreen")).kind, Kind::kOutcome);
  EXPECT_EQ(Parse(line("postfix/smtpd")).kind, Kind::kOtherProgram);
  EXPECT_EQ(Parse(line("postfix/postscreenx")).kind, Kind::kOtherProgram);
  EXPECT_EQ(Parse(line("mxscreen")).kind, Kind::kOtherProgram);

  ProgramFilter custom({"mx/screen"});
  EXPECT_EQ(ParseLogLine(line("mx/screen"), custom).kind, Kind::kOutcome);
  EXPECT_EQ(ParseLogLine(line("mx/dnsblog"), custom).kind, Kind::kOutcome);
  EXPECT_EQ(ParseLogLine(line("postfix/postscreen"), custom).kind, Kind::kOtherProgram);
  ProgramFilter bare({"gate"});
  EXPECT_EQ(ParseLogLine(line("gate"), bare).kind, Kind::kOutcome);
  EXPECT_EQ(ParseLogLine(line("dnsblog"), bare).kind, Kind::kOutcome);
  EXPECT_EQ(ParseLogLine(line("gate2"), bare).kind, Kind::kOtherProgram);
}

// A small log with one of everything, reused by the report tests.
std::vector<std::string> SampleLog() {
  return {
      Ps("CONNECT from [192.0.2.1]:1000 to [127.0.0.1]:25"),
      Ps("PASS NEW [192.0.2.1]:1000"),
      Ps("CONNECT from [192.0.2.1]:1001 to [127.0.0.1]:25"),
      Ps("PASS OLD [192.0.2.1]:1001"),
      Ps("CONNECT from [192.0.2.7]:1002 to [127.0.0.1]:25"),
      Ps("DENYLISTED [192.0.2.7]:1002"),
      Ps("DISCONNECT [192.0.2.7]:1002"),
      Ps("CONNECT from [198.51.100.3]:1003 to [127.0.0.1]:25"),
      Ps("PREGREET 11 after 0 from [198.51.100.3]:1003: HELO x\\r\\n"),
      Ps("NOQUEUE: reject: RCPT from [198.51.100.3]:1003: 550 5.5.1 Protocol error; "
         "from=<a@b>, to=<c@d>, proto=SMTP, helo=<x>"),
      Ps("DISCONNECT [198.51.100.3]:1003"),
      "2026-12-06T19:39:43.5+00:00 mx postfix/postscreen[4242]: CONNECT from "
      "[2001:db8:1:2::5]:1004 to [::1]:25",
      Dnsblog("addr 2001:db8:1:2::5 listed by domain bl.test as 127.0.0.2"),
      Ps("DNSBL rank 1 for [2001:db8:1:2::5]:1004"),
      Ps("NOQUEUE: reject: RCPT from [2001:db8:1:2::5]:1004: 550 5.7.1 Service unavailable; "
         "client [2001:db8:1:2::5] blocked using bl.test; from=<a@b>, to=<c@d>, proto=ESMTP, "
         "helo=<x>"),
      Ps("DISCONNECT [2001:db8:1:2::5]:1004"),
      "2026-12-06T19:39:44+00:00 mx postfix/postscreen[4242]: CONNECT from "
      "[2001:db8:1:2::6]:1005 to [::1]:25",
      Dnsblog("addr 2001:db8:1:2::6 listed by domain bl.test as 127.0.0.2"),
      Dnsblog("addr 2001:db8:1:2::6 listed by domain bl.test as 127.0.0.4"),
      Ps("HANGUP after 0.2 from [2001:db8:1:2::6]:1005 in tests before SMTP handshake"),
      Ps("DISCONNECT [2001:db8:1:2::6]:1005"),
      Ps("NOQUEUE: reject: CONNECT from [192.0.2.7]:1006: too many connections"),
      Ps("warning: dnsblog reply timeout 10s for slow.test"),
      Ps("warning: haproxy read: EOF"),
      Ps("entering STRESS mode with 90 connections"),
      Ps("some future message"),
      "Dec  6 19:39:42 mx postfix/smtpd[99]: connect from unknown[192.0.2.1]",
      "garbage",
      "",
  };
}

StatsReport SampleReport(size_t top = 10) {
  LogStats stats;
  for (const auto& l : SampleLog()) stats.AddLine(l);
  return stats.Report(top);
}

TEST(LogStatsReport, Counts) {
  StatsReport r = SampleReport();
  EXPECT_EQ(r.lines, 28u);  // the empty line is not counted
  EXPECT_EQ(r.counted, 25u);
  EXPECT_EQ(r.unrecognized, 1u);
  EXPECT_EQ(r.skipped, 2u);
  EXPECT_EQ(r.malformed, 1u);
  auto at = [&r](LogOutcome o) { return r.outcomes[static_cast<size_t>(o)]; };
  EXPECT_EQ(at(LogOutcome::kConnect).events, 6u);
  EXPECT_EQ(at(LogOutcome::kConnect).clients, 5u);
  EXPECT_EQ(at(LogOutcome::kDisconnect).events, 4u);
  EXPECT_EQ(at(LogOutcome::kDnsblRank).clients, 1u);
  EXPECT_EQ(r.rejects.events, 3u);
  EXPECT_EQ(r.rejects.clients, 3u);
  ASSERT_EQ(r.rejects_by_code.size(), 2u);
  EXPECT_EQ(r.rejects_by_code["550"].events, 2u);
  EXPECT_EQ(r.rejects_by_code["421"].events, 1u);
  ASSERT_EQ(r.dnsbl.size(), 2u);
  EXPECT_EQ(r.dnsbl[0].domain, "bl.test");
  EXPECT_EQ(r.dnsbl[0].hits, 3u);
  EXPECT_EQ(r.dnsbl[0].clients, 2u);
  EXPECT_EQ(r.dnsbl[0].rejects, 1u);
  EXPECT_EQ(r.dnsbl[1].domain, "slow.test");
  EXPECT_EQ(r.dnsbl[1].timeouts, 1u);
  EXPECT_EQ(r.total_clients, 5u);
  EXPECT_EQ(r.total_networks, 3u);  // 192.0.2.0/24, 198.51.100.0/24, 2001:db8:1:2::/64
}

TEST(LogStatsReport, TopListsRankAndLimit) {
  StatsReport r = SampleReport(2);
  ASSERT_EQ(r.top_clients.size(), 2u);
  // Ties on rejects (1 each) are broken by failures, then connects, then address.
  EXPECT_EQ(r.top_clients[0].name, "192.0.2.7");  // 1 reject, 1 failure, 1 connect
  EXPECT_EQ(r.top_clients[1].name, "198.51.100.3");
  r = SampleReport(0);
  ASSERT_EQ(r.top_clients.size(), 3u);  // 192.0.2.1 and ::6 have neither
  EXPECT_EQ(r.top_clients[2].name, "2001:db8:1:2::5");
  ASSERT_EQ(r.top_networks.size(), 3u);
  EXPECT_EQ(r.top_networks[0].name, "192.0.2.0/24");
  EXPECT_EQ(r.top_networks[0].clients, 2u);
  // 2 connects before 1.
  EXPECT_EQ(r.top_networks[1].name, "2001:db8:1:2::/64");
  EXPECT_EQ(r.top_networks[1].clients, 2u);
  EXPECT_EQ(r.top_networks[1].dnsbl_hits, 3u);
  EXPECT_EQ(r.top_networks[2].name, "198.51.100.0/24");
}

TEST(LogStatsReport, AllowlistVetoIsItsOwnOutcome) {
  // A backup MX session as the real postscreen logs it (postscreen_allowlist_
  // interfaces excludes the address the client reached): the veto, the
  // engine's 450 (the client can never be handed off there), the disconnect.
  LogStats stats;
  stats.AddLine(Ps("CONNECT from [192.0.2.9]:4000 to [192.0.2.25]:25"));
  stats.AddLine(Ps("ALLOWLIST VETO [192.0.2.9]:4000"));
  stats.AddLine(
      Ps("NOQUEUE: reject: RCPT from [192.0.2.9]:4000: 450 4.3.2 Service currently unavailable; "
         "from=<a@b>, to=<c@d>, proto=ESMTP, helo=<x>"));
  stats.AddLine(Ps("DISCONNECT [192.0.2.9]:4000"));
  stats.AddLine(Ps("CONNECT from [192.0.2.9]:4001 to [192.0.2.25]:25"));
  stats.AddLine(Ps("WHITELIST VETO [192.0.2.9]:4001"));  // older Postfix's word
  stats.AddLine(Ps("ALLOWLIST VETO [2001:db8::9]:4002"));
  // Not the line: unrecognized.
  stats.AddLine(Ps("ALLOWLIST VETOED [192.0.2.9]:4003"));
  stats.AddLine(Ps("ALLOWLIST VETO 192.0.2.9:4003"));
  stats.AddLine(Ps("WHITELIST VETO"));
  StatsReport r = stats.Report(10);
  auto at = [&r](LogOutcome o) { return r.outcomes[static_cast<size_t>(o)]; };
  EXPECT_EQ(at(LogOutcome::kAllowlistVeto).events, 3u);
  EXPECT_EQ(at(LogOutcome::kAllowlistVeto).clients, 2u);
  EXPECT_EQ(at(LogOutcome::kAllowlisted).events, 0u);
  EXPECT_EQ(at(LogOutcome::kConnect).events, 2u);
  EXPECT_EQ(r.lines, 10u);
  EXPECT_EQ(r.counted, 7u);
  EXPECT_EQ(r.unrecognized, 3u);
  // Neither a failed test nor a reject of its own: the client ranks by its
  // 450 alone.
  EXPECT_FALSE(IsTestFailure(LogOutcome::kAllowlistVeto));
  EXPECT_EQ(r.rejects.events, 1u);
  ASSERT_EQ(r.top_clients.size(), 1u);
  EXPECT_EQ(r.top_clients[0].name, "192.0.2.9");
  EXPECT_EQ(r.top_clients[0].failures, 0u);
  EXPECT_EQ(r.top_clients[0].outcomes[static_cast<size_t>(LogOutcome::kAllowlistVeto)], 2u);
  std::string text = FormatStatsText(r);
  EXPECT_NE(text.find("ALLOWLISTED                    0        0\n"
                      "ALLOWLIST VETO                 3        2\n"
                      "DENYLISTED "),
            std::string::npos)
      << text;
  std::string json = FormatStatsJson(r);
  EXPECT_NE(json.find("\"disconnect\":{\"events\":1,\"clients\":1},"
                      "\"allowlist_veto\":{\"events\":3,\"clients\":2}},"),
            std::string::npos)
      << json;
  EXPECT_EQ(std::string(LogOutcomeLabel(LogOutcome::kAllowlistVeto)), "ALLOWLIST VETO");
  EXPECT_EQ(std::string(LogOutcomeKey(LogOutcome::kAllowlistVeto)), "allowlist_veto");
}

TEST(LogStatsReport, ExactText) {
  EXPECT_EQ(FormatStatsText(SampleReport(2)),
            "lines: 28 read, 25 counted, 2 skipped (1 malformed), 1 unrecognized\n"
            "clients: 5 in 3 networks (/24, /64)\n"
            "\n"
            "outcome                   events  clients\n"
            "CONNECT                        6        5\n"
            "PASS NEW                       1        1\n"
            "PASS OLD                       1        1\n"
            "ALLOWLISTED                    0        0\n"
            "ALLOWLIST VETO                 0        0\n"
            "DENYLISTED                     1        1\n"
            "PREGREET                       1        1\n"
            "DNSBL rank                     1        1\n"
            "COMMAND PIPELINING             0        0\n"
            "NON-SMTP COMMAND               0        0\n"
            "BARE NEWLINE                   0        0\n"
            "HANGUP                         1        1\n"
            "COMMAND TIME LIMIT             0        0\n"
            "COMMAND COUNT LIMIT            0        0\n"
            "COMMAND LENGTH LIMIT           0        0\n"
            "DATA without valid RCPT        0        0\n"
            "too many connections           1        1\n"
            "all server ports busy          0        0\n"
            "all screening ports busy       0        0\n"
            "DISCONNECT                     4        4\n"
            "\n"
            "rejects by reply code  events  clients\n"
            "421                         1        1\n"
            "550                         2        2\n"
            "total                       3        3\n"
            "\n"
            "DNSBL list  hits  clients  rejects  timeouts  errors\n"
            "bl.test        3        2        1         0       0\n"
            "slow.test      0        0        0         1       0\n"
            "bl.test answered 127.0.0.2: 2\n"
            "bl.test answered 127.0.0.4: 1\n"
            "\n"
            "stress mode: entered 1, left 0; other warnings: 1\n"
            "\n"
            "top clients   rejects  failures  connects  dnsbl hits\n"
            "192.0.2.7           1         1         1           0\n"
            "198.51.100.3        1         1         1           0\n"
            "\n"
            "top networks       clients  rejects  failures  connects  dnsbl hits\n"
            "192.0.2.0/24             2        1         1         3           0\n"
            "2001:db8:1:2::/64        2        1         1         2           3\n");
}

TEST(LogStatsReport, ExactTextWhenEmpty) {
  LogStats stats;
  EXPECT_EQ(FormatStatsText(stats.Report(10)),
            "lines: 0 read, 0 counted, 0 skipped (0 malformed), 0 unrecognized\n"
            "clients: 0 in 0 networks (/24, /64)\n"
            "\n"
            "outcome                   events  clients\n"
            "CONNECT                        0        0\n"
            "PASS NEW                       0        0\n"
            "PASS OLD                       0        0\n"
            "ALLOWLISTED                    0        0\n"
            "ALLOWLIST VETO                 0        0\n"
            "DENYLISTED                     0        0\n"
            "PREGREET                       0        0\n"
            "DNSBL rank                     0        0\n"
            "COMMAND PIPELINING             0        0\n"
            "NON-SMTP COMMAND               0        0\n"
            "BARE NEWLINE                   0        0\n"
            "HANGUP                         0        0\n"
            "COMMAND TIME LIMIT             0        0\n"
            "COMMAND COUNT LIMIT            0        0\n"
            "COMMAND LENGTH LIMIT           0        0\n"
            "DATA without valid RCPT        0        0\n"
            "too many connections           0        0\n"
            "all server ports busy          0        0\n"
            "all screening ports busy       0        0\n"
            "DISCONNECT                     0        0\n"
            "\n"
            "rejects by reply code  events  clients\n"
            "(none)\n"
            "\n"
            "DNSBL list  hits  clients  rejects  timeouts  errors\n"
            "(none)\n"
            "\n"
            "stress mode: entered 0, left 0; other warnings: 0\n"
            "\n"
            "top clients  rejects  failures  connects  dnsbl hits\n"
            "(none)\n"
            "\n"
            "top networks  clients  rejects  failures  connects  dnsbl hits\n"
            "(none)\n");
}

TEST(LogStatsReport, ExactJson) {
  LogStats stats;
  stats.AddLine(Ps("CONNECT from [2001:db8:1:2::5]:1004 to [::1]:25"));
  stats.AddLine(Dnsblog("addr 2001:db8:1:2::5 listed by domain bl.test as 127.0.0.2"));
  stats.AddLine(Ps("DNSBL rank 1 for [2001:db8:1:2::5]:1004"));
  stats.AddLine(
      Ps("NOQUEUE: reject: RCPT from [2001:db8:1:2::5]:1004: 550 5.7.1 Service unavailable; "
         "client [2001:db8:1:2::5] blocked using bl.test; from=<a@b>, to=<c@d>, proto=ESMTP, "
         "helo=<x>"));
  stats.AddLine(Ps("CONNECT from [2001:db8:1:2::6]:1005 to [::1]:25"));
  stats.AddLine(Ps("PASS NEW [2001:db8:1:2::6]:1005"));
  stats.AddLine("Dec  6 19:39:42 mx postfix/smtpd[99]: x");
  std::string zero_outcomes_but =
      "\"pass_new\":%,\"pass_old\":0,\"allowlisted\":0,\"denylisted\":0,\"pregreet\":0,"
      "\"dnsbl_rank\":%,\"pipelining\":0,\"non_smtp_command\":0,\"bare_newline\":0,\"hangup\":0,"
      "\"command_time_limit\":0,\"command_count_limit\":0,\"command_length_limit\":0,"
      "\"data_without_rcpt\":0,\"too_many_connections\":0,\"server_ports_busy\":0,"
      "\"screening_ports_busy\":0,\"disconnect\":0,\"allowlist_veto\":0";
  auto fill = [](std::string s, const char* a, const char* b) {
    s.replace(s.find('%'), 1, a);
    s.replace(s.find('%'), 1, b);
    return s;
  };
  const std::string z = "{\"events\":0,\"clients\":0}";
  EXPECT_EQ(
      FormatStatsJson(stats.Report(10)),
      "{\"schema\":\"mxscreen-stats/1\","
      "\"lines\":{\"read\":7,\"counted\":6,\"unrecognized\":0,\"skipped\":1,\"malformed\":0},"
      "\"outcomes\":{\"connect\":{\"events\":2,\"clients\":2},"
      "\"pass_new\":{\"events\":1,\"clients\":1},\"pass_old\":" +
          z + ",\"allowlisted\":" + z + ",\"denylisted\":" + z + ",\"pregreet\":" + z +
          ",\"dnsbl_rank\":{\"events\":1,\"clients\":1},\"pipelining\":" + z +
          ",\"non_smtp_command\":" + z + ",\"bare_newline\":" + z + ",\"hangup\":" + z +
          ",\"command_time_limit\":" + z + ",\"command_count_limit\":" + z +
          ",\"command_length_limit\":" + z + ",\"data_without_rcpt\":" + z +
          ",\"too_many_connections\":" + z + ",\"server_ports_busy\":" + z +
          ",\"screening_ports_busy\":" + z + ",\"disconnect\":" + z + ",\"allowlist_veto\":" + z +
          "},"
          "\"rejects\":{\"events\":1,\"clients\":1,\"by_code\":{\"550\":{\"events\":1,"
          "\"clients\":1}}},"
          "\"dnsbl\":[{\"domain\":\"bl.test\",\"hits\":1,\"clients\":1,\"rejects\":1,"
          "\"timeouts\":0,\"errors\":0,\"answers\":{\"127.0.0.2\":1}}],"
          "\"stress\":{\"entered\":0,\"left\":0},\"warnings\":0,"
          "\"clients\":{\"total\":2,\"top\":[{\"address\":\"2001:db8:1:2::5\",\"rejects\":1,"
          "\"failures\":1,\"dnsbl_hits\":1,\"outcomes\":{\"connect\":1," +
          fill(zero_outcomes_but, "0", "1") +
          "}}]},"
          "\"networks\":{\"total\":1,\"top\":[{\"network\":\"2001:db8:1:2::/64\",\"clients\":2,"
          "\"rejects\":1,\"failures\":1,\"dnsbl_hits\":1,\"outcomes\":{\"connect\":2," +
          fill(zero_outcomes_but, "1", "1") + "}}]}}\n");
}

TEST(LogStatsReport, JsonEscapesOddBytes) {
  LogStats stats;
  stats.AddLine(Dnsblog("addr 192.0.2.1 listed by domain b\"l\\\x01\xff.test as 127.0.0.2"));
  std::string json = FormatStatsJson(stats.Report(10));
  EXPECT_NE(json.find("\"domain\":\"b\\\"l\\\\\\u0001\\u00ff.test\""), std::string::npos) << json;
}

TEST(LogStatsReport, MemoryFollowsClientsNotLines) {
  LogStats stats;
  for (int i = 0; i < 100000; ++i) {
    stats.AddLine(Ps("CONNECT from [192.0.2." + std::to_string(i % 50) +
                     "]:" + std::to_string(1024 + i % 60000) + " to [127.0.0.1]:25"));
  }
  EXPECT_EQ(stats.distinct_clients(), 50u);
  EXPECT_EQ(stats.Report(1).outcomes[0].events, 100000u);
}

// ---- the command: files, stdin, errors

using StatsCliTest = test::StatsCommandTest;

TEST_F(StatsCliTest, FilesAreAddedUp) {
  std::string a = Write("a.log", Ps("CONNECT from [192.0.2.1]:1 to [127.0.0.1]:25") + "\n");
  // No newline at the end, CRLF inside.
  std::string b = Write("b.log", Ps("CONNECT from [192.0.2.2]:1 to [127.0.0.1]:25") + "\r\n" +
                                     Ps("PASS NEW [192.0.2.2]:1"));
  StatsCliOptions o;
  o.files = {a, b};
  o.json = true;
  ASSERT_EQ(Run(o), 0) << err_.str();
  EXPECT_NE(out_.str().find("\"lines\":{\"read\":3,\"counted\":3,"), std::string::npos);
  EXPECT_NE(out_.str().find("\"connect\":{\"events\":2,\"clients\":2}"), std::string::npos);
  EXPECT_EQ(err_.str(), "");
}

TEST_F(StatsCliTest, StdinAndDash) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  std::string text = Ps("PASS OLD [192.0.2.1]:1") + "\n" + Ps("PASS OLD [192.0.2.1]:2") + "\n";
  ASSERT_EQ(write(fds[1], text.data(), text.size()), static_cast<ssize_t>(text.size()));
  close(fds[1]);
  StatsCliOptions o;
  o.stdin_fd = fds[0];
  o.json = true;
  ASSERT_EQ(Run(o), 0);
  EXPECT_NE(out_.str().find("\"pass_old\":{\"events\":2,\"clients\":1}"), std::string::npos);
  close(fds[0]);
}

TEST_F(StatsCliTest, UnreadableFileIsNamed) {
  StatsCliOptions o;
  o.files = {Write("ok.log", ""), dir_ + "/missing.log"};
  EXPECT_EQ(Run(o), 1);
  EXPECT_EQ(out_.str(), "");
  EXPECT_EQ(err_.str(), "mxscreen: " + dir_ + "/missing.log: No such file or directory\n");
  o.files = {dir_};
  EXPECT_EQ(Run(o), 1);
  EXPECT_EQ(err_.str(), "mxscreen: " + dir_ + ": Is a directory\n");
}

TEST_F(StatsCliTest, OverlongLineIsOneMalformedLine) {
  std::string text = Ps("PASS OLD [192.0.2.1]:1") + "\n" + std::string(3 << 20, 'x') + "\n" +
                     Ps("PASS OLD [192.0.2.1]:2") + "\n";
  StatsCliOptions o;
  o.files = {Write("long.log", text)};
  o.json = true;
  ASSERT_EQ(Run(o), 0);
  EXPECT_NE(out_.str().find("\"lines\":{\"read\":3,\"counted\":2,\"unrecognized\":0,"
                            "\"skipped\":1,\"malformed\":1}"),
            std::string::npos)
      << out_.str();
}

}  // namespace
}  // namespace mxs
