// Tests of the DNSBL filter (filters/dnsbl/dnsbl.cc) with a scripted resolver:
// scoring (weights adding up, filters, allowlists, the reply domain and map),
// TTL clamping, the exact log lines, timeouts and bad answers, the error-code
// warning, the greet wait ending first, and cancellation at session end.
#include "filters/dnsbl/dnsbl.h"

#include <gtest/gtest.h>

#include <map>

#include "tests/support/fake_session.h"

namespace mxs::dnsbl {
namespace {

// Records lookups; the test answers them by name.
class ScriptedResolver : public DnsResolver {
 public:
  struct Pending {
    std::string name;
    std::chrono::milliseconds timeout;
    DnsCallback done;
    bool cancelled = false;
  };
  class Lookup : public DnsLookup {
   public:
    explicit Lookup(std::shared_ptr<Pending> p) : p_(std::move(p)) {}
    ~Lookup() override { p_->cancelled = true; }

   private:
    std::shared_ptr<Pending> p_;
  };
  std::unique_ptr<DnsLookup> LookupA(const std::string& name, std::chrono::milliseconds timeout,
                                     DnsCallback done) override {
    auto p = std::make_shared<Pending>(Pending{name, timeout, std::move(done)});
    asked[name] = p;
    order.push_back(name);
    return std::make_unique<Lookup>(p);
  }
  // Delivers `a` to the lookup of `name` (unless it was cancelled).
  void Answer(const std::string& name, const DnsAnswer& a) {
    auto p = asked.at(name);
    if (!p->cancelled) p->done(a);
  }
  std::map<std::string, std::shared_ptr<Pending>> asked;
  std::vector<std::string> order;
};

DnsAnswer Found(std::vector<uint32_t> addrs, uint32_t ttl = 300) {
  DnsAnswer a;
  a.status = DnsAnswer::Status::kFound;
  a.ipv4 = std::move(addrs);
  a.ttl = ttl;
  a.ttl_known = true;
  return a;
}
DnsAnswer NotFound(std::optional<uint32_t> ttl = std::nullopt) {
  DnsAnswer a;
  a.status = DnsAnswer::Status::kNotFound;
  if (ttl) {
    a.ttl = *ttl;
    a.ttl_known = true;
  }
  return a;
}
uint32_t Ip(unsigned a, unsigned b, unsigned c, unsigned d) {
  return a << 24 | b << 16 | c << 8 | d;
}

std::shared_ptr<Settings> Make(std::vector<std::string> sites) {
  auto s = std::make_shared<Settings>();
  for (const auto& t : sites) s->sites.push_back(ParseSite(t));
  s->Index();
  return s;
}

class DnsblFilterTest : public ::testing::Test {
 protected:
  DnsblFilterTest() : session_("192.0.2.1", 4000, "[192.0.2.1]:4000") {
    session_.resolver = &resolver_;
  }
  // Starts the filter; expects it to go pending.
  void Start(std::shared_ptr<const Settings> s) {
    filter_ = std::make_unique<DnsblFilter>(std::move(s));
    EXPECT_EQ(filter_->OnBeforeGreeting(session_).kind, Verdict::Kind::kPending);
  }
  const Verdict& Resumed() {
    EXPECT_EQ(session_.resumed.size(), 1u);
    return session_.resumed.back().second;
  }
  test::FakeSession session_;
  ScriptedResolver resolver_;
  std::unique_ptr<DnsblFilter> filter_;
};

TEST_F(DnsblFilterTest, QueriesEveryDistinctDomainOnceInParallel) {
  Start(Make({"a.example=127.0.0.2", "a.example=127.0.0.3*2", "b.example"}));
  EXPECT_EQ(resolver_.order,
            (std::vector<std::string>{"1.2.0.192.a.example", "1.2.0.192.b.example"}));
  EXPECT_EQ(resolver_.asked.at("1.2.0.192.a.example")->timeout, std::chrono::seconds(10));
  EXPECT_TRUE(session_.resumed.empty());
}

TEST_F(DnsblFilterTest, ListedAboveThreshold) {
  auto s = Make({"bl.example=127.0.0.[2..11]*3"});
  s->threshold = 2;
  Start(s);
  resolver_.Answer("1.2.0.192.bl.example", Found({Ip(127, 0, 0, 4)}));
  const Verdict& v = Resumed();
  EXPECT_EQ(v.kind, Verdict::Kind::kFail);
  EXPECT_EQ(v.reply, "5.7.1 Service unavailable; client [192.0.2.1] blocked using bl.example");
  EXPECT_EQ(session_.lines, (std::vector<std::string>{
                                "dnsblog: addr 192.0.2.1 listed by domain bl.example as 127.0.0.4",
                                "DNSBL rank 3 for [192.0.2.1]:4000"}));
}

TEST_F(DnsblFilterTest, BelowThresholdPassesWithTheAnswerTtlAndLogsTheListing) {
  auto s = Make({"bl.example*1", "other.example*1"});
  s->threshold = 2;
  Start(s);
  resolver_.Answer("1.2.0.192.bl.example", Found({Ip(127, 0, 0, 2)}, 900));
  EXPECT_TRUE(session_.resumed.empty());
  resolver_.Answer("1.2.0.192.other.example", NotFound(1200));
  const Verdict& v = Resumed();
  EXPECT_EQ(v.kind, Verdict::Kind::kPass);
  EXPECT_EQ(v.ttl, std::chrono::seconds(900));
  EXPECT_EQ(session_.lines,
            (std::vector<std::string>{
                "dnsblog: addr 192.0.2.1 listed by domain bl.example as 127.0.0.2"}));
}

TEST_F(DnsblFilterTest, TwoListsAddUpAndTheLargestWeightNamesTheReply) {
  auto s = Make({"small.example*1", "big.example*2"});
  s->threshold = 3;
  s->reply_map["big.example"] = "big-public.example";
  Start(s);
  resolver_.Answer("1.2.0.192.small.example", Found({Ip(127, 0, 0, 2)}));
  resolver_.Answer("1.2.0.192.big.example", Found({Ip(127, 0, 0, 3)}));
  const Verdict& v = Resumed();
  EXPECT_EQ(v.kind, Verdict::Kind::kFail);
  EXPECT_EQ(v.reply,
            "5.7.1 Service unavailable; client [192.0.2.1] blocked using big-public.example");
  EXPECT_EQ(session_.lines.back(), "DNSBL rank 3 for [192.0.2.1]:4000");
}

TEST_F(DnsblFilterTest, CodeOutsideTheFilterIsLoggedButDoesNotCount) {
  Start(Make({"bl.example=127.0.0.[2..11]"}));
  resolver_.Answer("1.2.0.192.bl.example", Found({Ip(127, 0, 0, 20)}));
  EXPECT_EQ(Resumed().kind, Verdict::Kind::kPass);
  EXPECT_EQ(session_.lines,
            (std::vector<std::string>{
                "dnsblog: addr 192.0.2.1 listed by domain bl.example as 127.0.0.20"}));
}

TEST_F(DnsblFilterTest, AllowlistPassesOthers) {
  auto s = Make({"wl.example=127.0.[0..255].[2..3]*-4", "bl.example*2"});
  s->allowlist_threshold = -1;
  Start(s);
  resolver_.Answer("1.2.0.192.wl.example", Found({Ip(127, 0, 5, 2)}, 30));
  resolver_.Answer("1.2.0.192.bl.example", Found({Ip(127, 0, 0, 2)}, 7200));
  const Verdict& v = Resumed();
  EXPECT_EQ(v.kind, Verdict::Kind::kAllowOthers);  // -4 + 2 = -2 <= -1
  EXPECT_EQ(v.ttl, std::chrono::seconds(60));      // 30 clamped up to min_ttl
}

TEST_F(DnsblFilterTest, ErrorCodeIsWarnedOncePerListAndNeverCounts) {
  auto s = Make({"bl.example*5"});
  Start(s);
  resolver_.Answer("1.2.0.192.bl.example", Found({Ip(127, 255, 255, 254)}));
  EXPECT_EQ(Resumed().kind, Verdict::Kind::kPass);
  ASSERT_EQ(session_.lines.size(), 1u);
  EXPECT_EQ(session_.lines[0],
            "warning: dnsbl bl.example answered 127.255.255.254 for 192.0.2.1 (an error code, not "
            "a listing; is the list refusing this resolver? use a local caching resolver)");
  // A second session on the same config: not warned again.
  test::FakeSession other;
  other.resolver = &resolver_;
  DnsblFilter f2(s);
  f2.OnBeforeGreeting(other);
  resolver_.Answer("1.2.0.192.bl.example", Found({Ip(127, 255, 255, 254)}));
  EXPECT_TRUE(other.lines.empty());
}

TEST_F(DnsblFilterTest, ErrorCodeNamedByAFilterCounts) {
  Start(Make({"bl.example=127.255.255.254*2"}));
  resolver_.Answer("1.2.0.192.bl.example", Found({Ip(127, 255, 255, 254)}));
  EXPECT_EQ(Resumed().kind, Verdict::Kind::kFail);
}

TEST_F(DnsblFilterTest, TimeoutAndErrorScoreZeroWithAWarning) {
  auto s = Make({"slow.example*5", "bad.example*5"});
  s->timeout = std::chrono::seconds(3);
  Start(s);
  DnsAnswer timeout;
  timeout.status = DnsAnswer::Status::kTimeout;
  resolver_.Answer("1.2.0.192.slow.example", timeout);
  DnsAnswer bad;
  bad.status = DnsAnswer::Status::kError;
  bad.error = "malformed response: Misformatted DNS reply";
  resolver_.Answer("1.2.0.192.bad.example", bad);
  const Verdict& v = Resumed();
  EXPECT_EQ(v.kind, Verdict::Kind::kPass);
  EXPECT_EQ(v.ttl, std::chrono::seconds(3600));  // nothing carried a TTL: max_ttl
  EXPECT_EQ(session_.lines,
            (std::vector<std::string>{"warning: dnsblog reply timeout 3s for slow.example",
                                      "dnsblog: warning: dnsblog_query: lookup error for DNS query "
                                      "1.2.0.192.bad.example: malformed response: Misformatted DNS "
                                      "reply"}));
}

TEST_F(DnsblFilterTest, GreetWaitEndDecidesWithWhatAnsweredAndCancelsTheRest) {
  auto s = Make({"fast.example*2", "never.example*2"});
  s->threshold = 2;
  Start(s);
  resolver_.Answer("1.2.0.192.fast.example", Found({Ip(127, 0, 0, 2)}));
  Verdict v = filter_->OnGreetWaitEnd(session_);
  EXPECT_EQ(v.kind, Verdict::Kind::kFail);
  EXPECT_TRUE(resolver_.asked.at("1.2.0.192.never.example")->cancelled);
  EXPECT_TRUE(session_.resumed.empty());
}

TEST_F(DnsblFilterTest, SessionEndCancelsOutstandingLookups) {
  Start(Make({"a.example", "b.example"}));
  filter_->OnSessionEnd(session_);
  EXPECT_TRUE(resolver_.asked.at("1.2.0.192.a.example")->cancelled);
  EXPECT_TRUE(resolver_.asked.at("1.2.0.192.b.example")->cancelled);
  filter_.reset();
  EXPECT_TRUE(session_.resumed.empty());
}

TEST_F(DnsblFilterTest, Ipv6ClientUsesNibbles) {
  test::FakeSession v6("::1", 4000, "[::1]:4000");
  v6.resolver = &resolver_;
  DnsblFilter f(Make({"bl6.example"}));
  f.OnBeforeGreeting(v6);
  std::string name = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.bl6.example";
  resolver_.Answer(name, Found({Ip(127, 0, 0, 2)}));
  EXPECT_EQ(v6.lines,
            (std::vector<std::string>{"dnsblog: addr ::1 listed by domain bl6.example as 127.0.0.2",
                                      "DNSBL rank 1 for [::1]:4000"}));
  EXPECT_EQ(v6.resumed.back().second.reply,
            "5.7.1 Service unavailable; client [::1] blocked using bl6.example");
}

TEST(DnsblScore, TtlClamping) {
  EXPECT_EQ(ClampTtl(std::nullopt, std::chrono::seconds(60), std::chrono::seconds(3600)),
            std::chrono::seconds(3600));
  EXPECT_EQ(ClampTtl(0, std::chrono::seconds(60), std::chrono::seconds(3600)),
            std::chrono::seconds(60));
  EXPECT_EQ(ClampTtl(600, std::chrono::seconds(60), std::chrono::seconds(3600)),
            std::chrono::seconds(600));
  EXPECT_EQ(ClampTtl(0x7fffffff, std::chrono::seconds(60), std::chrono::seconds(3600)),
            std::chrono::seconds(3600));
}

TEST(DnsblScore, EachEntryCountsOnceAndTtlIsTheSmallest) {
  auto s = Make({"bl.example=127.0.0.[2..3]*2", "bl.example=127.0.0.3*5", "x.example"});
  DnsAnswer a = Found({Ip(127, 0, 0, 2), Ip(127, 0, 0, 3)}, 500);
  DnsAnswer b = NotFound(100);
  Score sc = ScoreAnswers(*s, {&a, &b});
  EXPECT_EQ(sc.score, 7);
  EXPECT_EQ(sc.reply_domain, "bl.example");
  EXPECT_EQ(sc.ttl, std::chrono::seconds(100));
  Score none = ScoreAnswers(*s, {nullptr, nullptr});
  EXPECT_EQ(none.score, 0);
  EXPECT_EQ(none.reply_domain, "");
}

}  // namespace
}  // namespace mxs::dnsbl
